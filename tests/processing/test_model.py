"""The model tests/processing/data/extract_then_zonal.model3 (Extract image → Zonal statistics)
runs, and its table holds the statistics of the raster its first step extracted."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

MODEL = Path(__file__).parent / "data" / "extract_then_zonal.model3"


def test_model_extract_then_zonal_statistics(eeextract_provider, sandbox_url, monkeypatch, tmp_path, helpers):
    import processing
    from osgeo import gdal
    from qgis.core import QgsProcessingModelAlgorithm

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    zones = helpers.write_polygons(tmp_path / "fields.gpkg", {
        "west": helpers.box(7.000, 46.000, 7.010, 46.010),
        "east": helpers.box(7.020, 46.005, 7.030, 46.010),
    }, epsg=4326, id_field="field_id")

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL))
    result = processing.run(model, {
        "asset": "SANDBOX/DEM",
        "extent": "7.0,7.03,46.0,46.01 [EPSG:4326]",
        "scale": 0,
        "zones": zones,
        "id_field": "field_id",
        "extract:raster": str(tmp_path / "dem.tif"),
        "zonal:statistics": str(tmp_path / "stats.csv"),
        "zonal:zones_with_statistics": str(tmp_path / "fields_stats.gpkg"),
    })
    with open(result["zonal:statistics"], newline="") as handle:
        rows = {row["field_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"west", "east"}

    # The west field's pixels, read straight from the extracted raster: a 36 x 36 block of
    # whole 1" pixels (the field's edges fall on the native grid).
    ds = gdal.Open(result["extract:raster"])
    values = ds.ReadAsArray().astype("float64")
    gt = ds.GetGeoTransform()
    col0 = int(round((7.000 - gt[0]) / gt[1]))
    row0 = int(round((46.010 - gt[3]) / gt[5]))
    block = values[row0:row0 + 36, col0:col0 + 36]
    mean = next(k for k in rows["west"] if k.endswith("_mean"))
    assert float(rows["west"][mean]) == pytest.approx(block.mean(), rel=1e-6)
    assert float(rows["west"][mean.replace("_mean", "_max")]) == pytest.approx(block.max())
    assert float(rows["west"][mean.replace("_mean", "_count")]) == pytest.approx(36 * 36, rel=1e-3)
    assert np.isfinite(float(rows["east"][mean]))
