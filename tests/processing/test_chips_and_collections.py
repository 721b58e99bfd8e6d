"""Chips at points, image collections, Earth Engine tables and time series, through
processing.run against the sandbox; outputs opened and their content checked."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


@pytest.fixture()
def sandbox_env(sandbox_url, monkeypatch):
    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    return sandbox_url


@pytest.fixture()
def points(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "points.gpkg", {
        "p1": "POINT(7.01 46.01)", "p2": "POINT(7.05 46.02)", "p3": "POINT(7.09 46.05)"},
        epsg=4326, id_field="pid", geometry="Point")


@pytest.fixture()
def fields(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "fields.gpkg", {
        "f1": helpers.box(2.30, 48.84, 2.31, 48.85),
        "f2": helpers.box(2.33, 48.85, 2.34, 48.86)}, epsg=4326, id_field="field_id")


def test_chips_at_points_geotiff_and_footprints(eeextract_provider, sandbox_env, points, tmp_path):
    import processing
    from osgeo import gdal
    from qgis.core import QgsPointXY, QgsVectorLayer

    folder = tmp_path / "chips"
    result = processing.run("eeextract:extract_chips", {
        "ASSET": "SANDBOX/DEM", "POINTS": points, "ID_FIELD": "pid", "CHIP_SIZE": 16,
        "FORMAT": "GEO_TIFF", "OUTPUT_FOLDER": str(folder), "FOOTPRINTS": str(tmp_path / "footprints.gpkg"),
    })
    assert result["CHIP_COUNT"] == 3
    chips = sorted(folder.glob("*.tif"))
    assert len(chips) == 3 and all(any(p in c.name for c in chips) for p in ("p1", "p2", "p3"))
    footprints = QgsVectorLayer(result["FOOTPRINTS"], "f", "ogr")
    assert footprints.featureCount() == 3
    for feature in footprints.getFeatures():
        ds = gdal.Open(feature["file"])
        assert (ds.RasterXSize, ds.RasterYSize) == (16, 16)
        gt = ds.GetGeoTransform()
        box = feature.geometry().boundingBox()
        assert box.xMinimum() == pytest.approx(gt[0]) and box.yMaximum() == pytest.approx(gt[3])
        assert box.width() == pytest.approx(16 * gt[1])
    p1 = next(f for f in footprints.getFeatures() if f["point_id"] == "p1")
    assert p1.geometry().boundingBox().contains(QgsPointXY(7.01, 46.01))


def test_chips_png_are_visualized(eeextract_provider, sandbox_env, points, tmp_path):
    import processing
    from osgeo import gdal

    folder = tmp_path / "png"
    result = processing.run("eeextract:extract_chips", {
        "ASSET": "SANDBOX/DEM", "POINTS": points, "CHIP_SIZE": 8, "FORMAT": "PNG",
        "VIS_MIN": "0", "VIS_MAX": "3000", "OUTPUT_FOLDER": str(folder), "FOOTPRINTS": "TEMPORARY_OUTPUT",
    })
    pngs = sorted(Path(result["OUTPUT_FOLDER"]).glob("*.png"))
    assert len(pngs) == 3
    ds = gdal.Open(str(pngs[0]))
    assert (ds.RasterXSize, ds.RasterYSize) == (8, 8) and ds.GetDriver().ShortName == "PNG"
    # PNG chips have no georeferencing of their own: their footprints come from the plan's grids,
    # in Processing's sink as in the engine's index file next to them (the dock loads that one).
    from qgis.core import QgsVectorLayer

    sink = result["FOOTPRINTS"]
    sink = sink if not isinstance(sink, str) else QgsVectorLayer(sink, "f", "ogr")
    assert sink.featureCount() == 3
    index = QgsVectorLayer(str(folder / "chip-index.gpkg"), "i", "ogr")
    assert sorted(f["file"] for f in index.getFeatures()) == sorted(str(p) for p in pngs)
    assert sorted(f["file"] for f in sink.getFeatures()) == sorted(str(p) for p in pngs)


def test_collection_one_raster_per_image_with_index(eeextract_provider, sandbox_env, ee_sandbox, tmp_path):
    import numpy as np
    import processing
    from osgeo import gdal
    from qgis.core import QgsVectorLayer

    result = processing.run("eeextract:extract_collection", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-06-21", "BANDS": "B4,B8",
        "MODE": "per_image", "EXTENT": "2.30,2.32,48.84,48.85 [EPSG:4326]", "CRS": "EPSG:32631", "SCALE": 20,
        "OUTPUT_FOLDER": str(tmp_path / "images"), "INDEX": str(tmp_path / "index.gpkg"),
    })
    index = QgsVectorLayer(result["INDEX"], "index", "ogr")
    files = [f["file"] for f in index.getFeatures()]
    assert result["RASTER_COUNT"] == len(files) >= 1
    for feature in index.getFeatures():
        assert feature["start"] and "2019-06" in feature["start"]
        ds = gdal.Open(feature["file"])
        assert ds.RasterCount == 2 and "32631" in ds.GetSpatialRef().GetAuthorityCode(None)
        assert ds.GetGeoTransform()[1] == pytest.approx(20)
    # The first image's pixels, asked of the sandbox directly on the raster's own grid.
    first = next(index.getFeatures())
    ds = gdal.Open(first["file"])
    gt = ds.GetGeoTransform()
    image_id = first["image_id"]
    image_id = image_id if "/" in image_id else f"SANDBOX/S2_SR/{image_id}"
    expected = ee_sandbox.data.computePixels({
        "expression": ee_sandbox.Image(image_id).select(["B4", "B8"]), "fileFormat": "NUMPY_NDARRAY",
        "grid": {"crsCode": "EPSG:32631", "dimensions": {"width": ds.RasterXSize, "height": ds.RasterYSize},
                 "affineTransform": {"scaleX": gt[1], "shearX": 0, "translateX": gt[0],
                                     "shearY": 0, "scaleY": gt[5], "translateY": gt[3]}}})
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray(), expected["B4"])
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray(), expected["B8"])


def test_collection_composites_per_window(eeextract_provider, sandbox_env, tmp_path):
    import processing
    from osgeo import gdal

    result = processing.run("eeextract:extract_collection", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-08-01", "BANDS": "B4,B8",
        "NORMALIZED_DIFFERENCE": "B8,B4", "MODE": "composite", "WINDOW_DAYS": 31, "REDUCER": "median",
        "EXTENT": "2.30,2.32,48.84,48.85 [EPSG:4326]", "CRS": "EPSG:32631", "SCALE": 20,
        "OUTPUT_FOLDER": str(tmp_path / "windows"), "INDEX": "TEMPORARY_OUTPUT",
    })
    assert result["RASTER_COUNT"] == 2  # June, July
    for path in Path(result["OUTPUT_FOLDER"]).glob("*.tif"):
        ds = gdal.Open(str(path))
        ndvi = ds.GetRasterBand(ds.RasterCount).ReadAsArray()
        assert ((ndvi >= -1) & (ndvi <= 1)).all()


def test_sample_values_at_points(eeextract_provider, sandbox_env, ee_sandbox, points, tmp_path):
    import processing
    from qgis.core import QgsVectorLayer

    result = processing.run("eeextract:sample_reduce", {
        "ASSET": "SANDBOX/DEM", "INPUT": points, "ID_FIELD": "pid", "OPERATION": "sample", "SCALE": 30,
        "OUTPUT": str(tmp_path / "samples.gpkg"),
    })
    layer = QgsVectorLayer(result["OUTPUT"], "s", "ogr")
    values = {f["pid"]: f["elevation"] for f in layer.getFeatures()}  # the layer's own id field
    assert set(values) == {"p1", "p2", "p3"}
    dem = ee_sandbox.Image("SANDBOX/DEM")
    for pid, (x, y) in {"p1": (7.01, 46.01), "p2": (7.05, 46.02)}.items():
        expected = dem.reduceRegion(ee_sandbox.Reducer.first(), ee_sandbox.Geometry.Point([x, y]), 30).getInfo()
        assert values[pid] == pytest.approx(expected["elevation"])


def test_time_series_per_region(eeextract_provider, sandbox_env, ee_sandbox, fields, tmp_path):
    import processing

    result = processing.run("eeextract:time_series", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-07-01", "BANDS": "B4,B8",
        "NORMALIZED_DIFFERENCE": "B8,B4", "REGIONS": fields, "ID_FIELD": "field_id", "SCALE": 20,
        "OUTPUT": str(tmp_path / "ts.csv"),
    })
    with open(result["OUTPUT"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["field_id"] for r in rows} == {"f1", "f2"}  # the regions' own id field
    per_region = {r["field_id"]: 0 for r in rows}
    for r in rows:
        per_region[r["field_id"]] += 1
        assert r["date"].startswith("2019-06")
        assert -1 <= float(r["NDVI"]) <= 1
    assert len(set(per_region.values())) == 1 and per_region["f1"] >= 1  # one row per image per region
    # One row recomputed with the ee client: mean NDVI of that image over field f1 at 20 m.
    row = next(r for r in rows if r["field_id"] == "f1")
    image_id = row["image_id"] if "/" in row["image_id"] else f"SANDBOX/S2_SR/{row['image_id']}"
    ndvi = ee_sandbox.Image(image_id).normalizedDifference(["B8", "B4"]).rename("NDVI")
    expected = ndvi.reduceRegion(ee_sandbox.Reducer.mean(),
                                 ee_sandbox.Geometry.Rectangle([2.30, 48.84, 2.31, 48.85]), 20).getInfo()
    assert float(row["NDVI"]) == pytest.approx(expected["NDVI"], rel=1e-6)


def test_reduce_regions_over_a_memory_layer(eeextract_provider, sandbox_env, ee_sandbox, tmp_path):
    """A layer that is not a file (memory) is handed to the engine as a copy QGIS writes."""
    import processing
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=name:string", "zones", "memory")
    zones = {"north": (7.00, 46.02, 7.02, 46.03), "south": (7.00, 46.00, 7.02, 46.01)}
    features = []
    for name, (x0, y0, x1, y1) in zones.items():
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name])
        feature.setGeometry(QgsGeometry.fromWkt(
            f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"))
        features.append(feature)
    layer.dataProvider().addFeatures(features)

    result = processing.run("eeextract:sample_reduce", {
        "ASSET": "SANDBOX/DEM", "INPUT": layer, "ID_FIELD": "name", "OPERATION": "reduce_regions", "REDUCER": "mean",
        "SCALE": 30, "OUTPUT": str(tmp_path / "means.gpkg"),
    })
    out = QgsVectorLayer(result["OUTPUT"], "means", "ogr")
    means = {f["name"]: f["elevation"] for f in out.getFeatures()}
    assert set(means) == {"north", "south"}
    dem = ee_sandbox.Image("SANDBOX/DEM")
    for name, bounds in zones.items():
        expected = dem.reduceRegion(ee_sandbox.Reducer.mean(), ee_sandbox.Geometry.Rectangle(list(bounds)),
                                    30).getInfo()["elevation"]
        assert means[name] == pytest.approx(expected, rel=1e-6)
    with open(tmp_path / "means.csv", newline="") as handle:  # the CSV lands next to the layer
        assert {r["name"] for r in csv.DictReader(handle)} == {"north", "south"}


def test_batch_rows_sharing_a_folder_never_overwrite(eeextract_provider, sandbox_env, tmp_path, helpers):
    import processing
    from qgis.core import QgsApplication, QgsProcessingException

    folder = tmp_path / "shared"
    first = helpers.write_polygons(tmp_path / "a.gpkg", {"a1": "POINT(7.01 46.01)", "a2": "POINT(7.02 46.01)"},
                                   epsg=4326, id_field="pid", geometry="Point")
    second = helpers.write_polygons(tmp_path / "b.gpkg", {"b1": "POINT(7.03 46.01)"},
                                    epsg=4326, id_field="pid", geometry="Point")

    def row(points):
        alg = QgsApplication.processingRegistry().createAlgorithmById("eeextract:extract_chips")
        return processing.run(alg, {
            "ASSET": "SANDBOX/DEM", "POINTS": points, "ID_FIELD": "pid", "CHIP_SIZE": 8, "FORMAT": "GEO_TIFF",
            "OUTPUT_FOLDER": str(folder), "FOOTPRINTS": "TEMPORARY_OUTPUT"})

    assert row(first)["CHIP_COUNT"] == 2
    assert row(second)["CHIP_COUNT"] == 1
    names = sorted(p.name for p in folder.glob("*.tif"))
    assert len(names) == 3 and all(any(i in n for n in names) for i in ("a1", "a2", "b1"))
    before = {p: p.stat().st_mtime_ns for p in folder.glob("*.tif")}
    with pytest.raises(QgsProcessingException, match="exists"):
        row(first)  # the same ids again: refused, nothing overwritten
    assert {p: p.stat().st_mtime_ns for p in folder.glob("*.tif")} == before


def test_one_raster_per_feature_with_index(eeextract_provider, sandbox_env, tmp_path, helpers):
    import numpy as np
    import processing
    from osgeo import gdal
    from qgis.core import QgsVectorLayer

    polygons = helpers.write_polygons(tmp_path / "parcels.gpkg", {
        "small": helpers.box(7.000, 46.000, 7.005, 46.005),
        "wide": helpers.box(7.010, 46.000, 7.030, 46.005)}, epsg=4326, id_field="parcel")
    result = processing.run("eeextract:extract_per_feature", {
        "ASSET": "SANDBOX/DEM", "POLYGONS": polygons, "ID_FIELD": "parcel",
        "OUTPUT_FOLDER": str(tmp_path / "rasters"), "INDEX": str(tmp_path / "index.gpkg"),
    })
    assert result["RASTER_COUNT"] == 2
    index = {f["parcel"]: f for f in QgsVectorLayer(result["INDEX"], "i", "ogr").getFeatures()}
    assert set(index) == {"small", "wide"}
    small, wide = gdal.Open(index["small"]["file"]), gdal.Open(index["wide"]["file"])
    assert small.RasterXSize == pytest.approx(18, abs=1) and wide.RasterXSize == pytest.approx(72, abs=1)
    assert small.RasterYSize == pytest.approx(18, abs=1)
    # The two rasters are windows of one grid: the same pixel has the same value in a direct extraction.
    direct = processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "EXTENT": "7.0,7.03,46.0,46.005 [EPSG:4326]",
        "OUTPUT": str(tmp_path / "all.tif")})["OUTPUT"]
    whole = gdal.Open(direct)
    col = int(round((wide.GetGeoTransform()[0] - whole.GetGeoTransform()[0]) / whole.GetGeoTransform()[1]))
    window = whole.ReadAsArray()[: wide.RasterYSize, col: col + wide.RasterXSize]
    valid = wide.ReadAsArray()
    assert np.array_equal(window[: valid.shape[0], : valid.shape[1]], valid[: window.shape[0], : window.shape[1]])
