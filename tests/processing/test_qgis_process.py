"""``qgis_process run eeextract:<algorithm> -- …`` from a shell: the plugin found in a temporary
profile (QGIS_CUSTOM_CONFIG_PATH), enabled with ``qgis_process plugins enable``, and the sandbox
(started by this test session) given through EEEXTRACT_URL."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "eeextract_plugin"


def _qgis_process() -> str:
    # Debian's /usr/bin/qgis_process wrapper adds --noversioncheck, which 3.22's binary rejects.
    for candidate in ("/usr/bin/qgis_process.bin", shutil.which("qgis_process") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("qgis_process is not installed")


@pytest.fixture(scope="module")
def qgis_process_env(tmp_path_factory):
    """A fresh QGIS profile with EE Extract installed (symlink) and enabled."""
    root = tmp_path_factory.mktemp("qgis-profile")
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "eeextract_plugin").symlink_to(PACKAGE, target_is_directory=True)
    # The project's Python packages (earthengine-api, shapely, ...) live in the virtualenv;
    # appended (not prepended, as PYTHONPATH would) so that QGIS's own numpy/pyproj come first.
    startup = root / "startup.py"
    site = [p for p in dict.fromkeys((sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]))]
    startup.write_text("import sys\n" + "".join(f"sys.path.append({p!r})\n" for p in site))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_PRELOAD")}
    env.update({
        "QGIS_CUSTOM_CONFIG_PATH": str(root),
        "PYQGIS_STARTUP": str(startup),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    # No LD_PRELOAD and no isolation: the plugin loads no wheel that carries its own GEOS / PROJ
    # / GDAL into qgis_process (zonal statistics run QGIS's own when exactextract would).
    binary = _qgis_process()
    enabled = subprocess.run([binary, "plugins", "enable", "eeextract_plugin"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    return binary, env


def run_qgis_process(qgis_process_env, algorithm, parameters, extra_env=None):
    binary, env = qgis_process_env
    env = dict(env, **(extra_env or {}))
    target = algorithm if algorithm.endswith(".model3") else f"eeextract:{algorithm}"
    args = [binary, "--json", "run", target, "--"]
    args += [f"{key}={value}" for key, value in parameters.items()]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    start = done.stdout.index("{")
    return json.loads(done.stdout[start:])


def test_the_provider_is_listed(qgis_process_env):
    binary, env = qgis_process_env
    listing = subprocess.run([binary, "list"], env=env, capture_output=True, text=True, timeout=120)
    assert "eeextract:extract_image" in listing.stdout
    assert "eeextract:zonal_statistics" in listing.stdout


def test_qgis_process_runs_zonal_statistics(qgis_process_env, tmp_path, helpers):
    import numpy as np

    raster = helpers.write_raster(tmp_path / "r.tif", np.full((10, 10), 7.0, dtype="float32"))
    zones = helpers.write_polygons(tmp_path / "z.gpkg", {
        "a": helpers.box(500000, 4599900, 500050, 4600000)})
    out = run_qgis_process(qgis_process_env, "zonal_statistics", {
        "INPUT": raster, "ZONES": zones, "ID_FIELD": "zone", "STATISTICS": "count,mean",
        "ENGINE": "exactextract", "OUTPUT_TABLE": tmp_path / "s.csv", "OUTPUT": tmp_path / "z_out.gpkg",
    })
    with open(out["results"]["OUTPUT_TABLE"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["zone"] == "a"
    assert float(next(v for k, v in rows[0].items() if k.endswith("_mean"))) == pytest.approx(7.0)


def test_qgis_process_extracts_an_image_from_the_sandbox(qgis_process_env, sandbox_url, tmp_path):
    from osgeo import gdal

    out = run_qgis_process(qgis_process_env, "extract_image", {
        "ASSET": "SANDBOX/DEM", "EXTENT": "7.0,7.02,46.0,46.01 [EPSG:4326]", "OUTPUT": tmp_path / "dem.tif",
    }, extra_env={"EEEXTRACT_URL": sandbox_url, "EEEXTRACT_PROJECT": "sandbox"})
    assert out["results"]["OUTPUT"] == str(tmp_path / "dem.tif")
    ds = gdal.Open(str(tmp_path / "dem.tif"))
    assert (ds.RasterXSize, ds.RasterYSize) == pytest.approx((72, 36), abs=2)
    values = ds.ReadAsArray()
    assert values.std() > 0


def test_qgis_process_runs_the_model(qgis_process_env, sandbox_url, tmp_path, helpers):
    model = Path(__file__).parent / "data" / "extract_then_zonal.model3"
    zones = helpers.write_polygons(tmp_path / "fields.gpkg", {
        "west": helpers.box(7.000, 46.000, 7.010, 46.010)}, epsg=4326, id_field="field_id")
    out = run_qgis_process(qgis_process_env, str(model), {
        "asset": "SANDBOX/DEM", "extent": "7.0,7.02,46.0,46.01 [EPSG:4326]", "scale": 0,
        "zones": zones, "id_field": "field_id",
        "extract:raster": tmp_path / "dem.tif", "zonal:statistics": tmp_path / "stats.csv",
        "zonal:zones_with_statistics": tmp_path / "zones.gpkg",
    }, extra_env={"EEEXTRACT_URL": sandbox_url, "EEEXTRACT_PROJECT": "sandbox"})
    with open(out["results"]["zonal:statistics"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["field_id"] for r in rows] == ["west"]
    assert float(next(v for k, v in rows[0].items() if k.endswith("_count"))) == pytest.approx(36 * 36, rel=1e-3)
