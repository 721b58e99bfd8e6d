"""Zonal statistics (local) through processing.run: values checked against hand-made data."""

from __future__ import annotations

import csv

import numpy as np
import pytest


@pytest.fixture()
def raster_and_zones(tmp_path, helpers):
    # 10 × 10 pixels of 10 m, value = row index (0 at the top), origin (500000, 4600000).
    values = np.repeat(np.arange(10, dtype="float32")[:, None], 10, axis=1)
    raster = helpers.write_raster(tmp_path / "rows.tif", values)
    x0, y0 = 500000.0, 4600000.0
    zones = helpers.write_polygons(tmp_path / "zones.gpkg", {
        "top": helpers.box(x0, y0 - 20, x0 + 100, y0),          # rows 0 and 1: mean 0.5
        "bottom": helpers.box(x0, y0 - 100, x0 + 50, y0 - 70),   # rows 7, 8, 9: mean 8
        "away": helpers.box(x0 + 1000, y0 + 1000, x0 + 1100, y0 + 1100),  # outside
    })
    return raster, zones


@pytest.mark.parametrize("engine", ["exactextract", "rasterstats"])
def test_zonal_statistics_table_and_layer(eeextract_provider, raster_and_zones, tmp_path, engine):
    import processing
    from qgis.core import QgsVectorLayer

    from eeextract_plugin.core.zonal import rasterstats_problem

    if engine == "rasterstats" and rasterstats_problem():
        pytest.skip(f"rasterstats unusable here: {rasterstats_problem()}")
    raster, zones = raster_and_zones
    result = processing.run("eeextract:zonal_statistics", {
        "INPUT": raster,
        "ZONES": zones,
        "ID_FIELD": "zone",
        "STATISTICS": "count,mean,min,max",
        "ENGINE": engine,
        "OUTPUT_TABLE": str(tmp_path / f"stats_{engine}.csv"),
        "OUTPUT": str(tmp_path / f"zones_{engine}.gpkg"),
    })
    with open(result["OUTPUT_TABLE"], newline="") as handle:
        rows = {row["zone"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"top", "bottom", "away"}
    mean = [c for c in rows["top"] if c.endswith("_mean")][0]
    count = mean.replace("_mean", "_count")
    assert float(rows["top"][mean]) == pytest.approx(0.5)
    assert float(rows["top"][count]) == pytest.approx(20)
    assert float(rows["bottom"][mean]) == pytest.approx(8.0)
    assert float(rows["bottom"][mean.replace("_mean", "_max")]) == pytest.approx(9.0)
    assert rows["away"][count] in ("0", "0.0")
    assert result["ZONE_COUNT"] == 3 and result["ZONES_WITH_DATA"] == 2

    layer = QgsVectorLayer(result["OUTPUT"], "zones", "ogr")
    assert layer.isValid() and layer.featureCount() == 3
    by_id = {f["zone"]: f for f in layer.getFeatures()}
    assert by_id["bottom"][mean] == pytest.approx(8.0)
    assert not by_id["top"].geometry().isEmpty()


def test_zonal_statistics_unknown_statistic_is_a_processing_error(eeextract_provider, raster_and_zones, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    raster, zones = raster_and_zones
    with pytest.raises(QgsProcessingException, match="bogus"):
        processing.run("eeextract:zonal_statistics", {
            "INPUT": raster, "ZONES": zones, "ID_FIELD": "zone", "STATISTICS": "mean,bogus",
            "OUTPUT_TABLE": str(tmp_path / "s.csv"), "OUTPUT": str(tmp_path / "z.gpkg"),
        })
