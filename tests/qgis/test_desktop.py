"""The real QGIS desktop under Xvfb: plugin loaded from a temporary profile, a job run against the
embedded sandbox, layers on the map (the README screenshots). About a minute: run it with
``EEEXTRACT_DESKTOP_TESTS=1``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("desktop_screenshot.sh")

pytestmark = [
    pytest.mark.qgis_desktop,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("EEEXTRACT_DESKTOP_TESTS") != "1",
                       reason="needs the QGIS desktop under Xvfb: set EEEXTRACT_DESKTOP_TESTS=1"),
]


def test_the_desktop_runs_a_job_and_shows_its_layers(tmp_path):
    env = {**os.environ, "EEX_SHOT_OUT": str(tmp_path)}
    run = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=400)
    assert "job state: completed" in run.stdout, run.stdout + run.stderr
    from osgeo import gdal

    for name in ("screenshot-dock.png", "screenshot-jobs.png"):
        ds = gdal.Open(str(tmp_path / name))
        assert ds is not None and ds.RasterXSize >= 1000
        # Not a black screen: the window was drawn.
        assert ds.GetRasterBand(1).ComputeRasterMinMax(False)[1] > 200
