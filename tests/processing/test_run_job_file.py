"""Run a job file: the example 'one DEM raster per field, then zonal statistics' through
processing.run against the sandbox."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dem-per-feature.json"


def test_run_the_per_feature_example(eeextract_provider, sandbox_url, monkeypatch, tmp_path):
    import processing
    from osgeo import gdal

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    result = processing.run("eeextract:run_job_file", {"JOB": str(EXAMPLE), "OUTPUT_FOLDER": str(tmp_path)})
    rasters = sorted(p for p in result["OUTPUTS"] if p.endswith(".tif"))
    assert result["FOLDER"] == str(tmp_path)
    assert result["OUTPUT_COUNT"] == len(result["OUTPUTS"]) and len(rasters) >= 2
    assert all(Path(p).parent == tmp_path for p in rasters)
    for path in rasters:
        ds = gdal.Open(path)
        assert ds.ReadAsArray().std() > 0
    tables = sorted(tmp_path.glob("*zonal*.csv"))
    assert tables, sorted(p.name for p in tmp_path.iterdir())
    with open(tables[0], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and "field_id" in rows[0]


def test_a_broken_job_file_names_the_field(eeextract_provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    job = tmp_path / "bad.json"
    job.write_text('{"version": 1, "name": "x", "kind": "mosaic", "source": {"type": "asset", '
                   '"asset_id": "SANDBOX/DEM"}, "region": {"bbox": [7.5, 46, 7.0, 46.1]}}')
    with pytest.raises(QgsProcessingException, match="region.bbox"):
        processing.run("eeextract:run_job_file", {"JOB": str(job)})
