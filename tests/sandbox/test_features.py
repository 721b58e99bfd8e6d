"""The sandbox's non-pixel model seen through the real client: geometries, features,
collections, filters, tables (SANDBOX/REGIONS and --data files), table:computeFeatures, and region
reductions (reduceRegion, reduceRegions, sampleRegions) checked against known answers and
against the same pixels fetched with computePixels."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.engine import Engine
from eeextract_plugin.sandbox.errors import EEError

DEG = 1.0 / 3600.0  # SANDBOX/DEM's native pixel (1 arc-second)


def encode(obj):
    from ee import serializer

    return serializer.encode(obj, for_cloud_api=True)


# ---------------------------------------------------------------------------------- geometry


def test_geometry_constructors_give_earth_engine_geojson(ee_sandbox):
    ee = ee_sandbox
    assert ee.Geometry.Point([1.5, 2]).getInfo() == {"type": "Point", "coordinates": [1.5, 2]}
    assert ee.Geometry.MultiPoint([[0, 0], [1, 1]]).getInfo() == {
        "type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}
    assert ee.Geometry.LineString([[0, 0], [1, 1]]).getInfo() == {
        "type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    polygon = ee.Geometry.Polygon([[0, 0], [2, 0], [2, 1], [0, 1]]).getInfo()
    assert polygon == {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}
    # Clockwise input comes back counter-clockwise (exterior rings), closed.
    cw = ee.Geometry.Polygon([[0, 0], [0, 1], [2, 1], [2, 0]]).getInfo()["coordinates"][0]
    assert cw[0] == cw[-1] and len(cw) == 5
    assert sum((b[0] - a[0]) * (b[1] + a[1]) for a, b in zip(cw, cw[1:])) < 0
    multi = ee.Geometry.MultiPolygon([[[[0, 0], [1, 0], [1, 1]]], [[[5, 5], [6, 5], [6, 6]]]]).getInfo()
    assert multi["type"] == "MultiPolygon" and len(multi["coordinates"]) == 2
    bbox = ee.Geometry.BBox(-10, -5, 10, 5).getInfo()
    assert bbox["geodesic"] is False
    assert sorted(map(tuple, bbox["coordinates"][0][:4])) == [(-10, -5), (-10, 5), (10, -5), (10, 5)]
    projected = ee.Geometry.Polygon([[0, 0], [10, 0], [10, 10]], "EPSG:3857", False).getInfo()
    assert projected["crs"] == {"type": "name", "properties": {"name": "EPSG:3857"}}
    assert projected["geodesic"] is False


def test_geometry_measures(ee_sandbox):
    ee = ee_sandbox
    one_degree = ee.Geometry.Rectangle([0, 0, 1, 1])
    # WGS 84 ellipsoid area of the 1°×1° cell at the equator.
    assert one_degree.area().getInfo() == pytest.approx(12308778361.47, rel=1e-9)
    assert one_degree.area(1, "EPSG:3857").getInfo() == pytest.approx(111319.49 * 111325.14, rel=1e-5)
    circle = ee.Geometry.Point([10, 45]).buffer(1000)
    assert circle.area().getInfo() == pytest.approx(math.pi * 1e6, rel=0.01)
    assert ee.Geometry.LineString([[0, 0], [0, 1]]).length().getInfo() == pytest.approx(110574.4, rel=1e-5)
    centroid = ee.Geometry.Rectangle([0, 0, 2, 2]).centroid().getInfo()
    assert centroid["type"] == "Point"
    assert centroid["coordinates"] == pytest.approx([1, 1], abs=1e-3)
    bounds = ee.Geometry.Polygon([[0, 0], [3, 1], [1, 2]]).bounds().getInfo()
    xs = [c[0] for c in bounds["coordinates"][0]]
    ys = [c[1] for c in bounds["coordinates"][0]]
    assert (min(xs), min(ys), max(xs), max(ys)) == (0, 0, 3, 2)
    moved = ee.Geometry.Point([1, 0]).transform("EPSG:3857").getInfo()
    assert moved["coordinates"] == pytest.approx([111319.49079327357, 0.0])
    assert moved["crs"]["properties"]["name"] == "EPSG:3857"
    assert ee.Geometry.Point([0.5, 0.5]).intersects(one_degree).getInfo() is True
    assert ee.Geometry.Point([1.5, 0.5]).intersects(one_degree).getInfo() is False
    assert ee.Geometry.Point([0, 0]).distance(ee.Geometry.Point([0, 1])).getInfo() == pytest.approx(110574, rel=2e-3)


def test_geometry_errors_are_400(ee_sandbox):
    ee = ee_sandbox
    with pytest.raises(ee.EEException, match="LinearRing requires at least 3 points"):
        ee.Geometry.Polygon([[0, 0], [1, 1]]).getInfo()
    with pytest.raises(ee.EEException, match="Unknown or invalid"):
        ee.Geometry.Point([0, 0], "EPSG:999999").getInfo()


# ---------------------------------------------------------------------------------- features


def test_feature_and_literal_collection(ee_sandbox):
    ee = ee_sandbox
    feature = ee.Feature(ee.Geometry.Point([1, 2]), {"name": "a", "n": 1})
    assert feature.getInfo() == {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                                 "properties": {"name": "a", "n": 1}}
    fc = ee.FeatureCollection([feature, ee.Feature(None, {"name": "b", "n": 2.5})])
    info = fc.getInfo()
    assert info["type"] == "FeatureCollection"
    assert info["columns"] == {"n": "Float", "name": "String", "system:index": "String"}
    assert [f["id"] for f in info["features"]] == ["0", "1"]
    assert info["features"][1]["geometry"] is None
    assert ee.Feature(ee.Geometry.Rectangle([0, 0, 1, 1])).area().getInfo() == pytest.approx(12308778361.47)


@pytest.fixture()
def people(ee_sandbox):
    ee = ee_sandbox
    rows = [("ann", 31, "2020-01-05", [0.5, 0.5]), ("bob", 25, "2020-02-10", [5.5, 5.5]),
            ("cid", 47, "2020-03-15", [0.2, 0.8]), ("dee", 25, "2021-01-01", [20, 20])]
    return ee.FeatureCollection([
        ee.Feature(ee.Geometry.Point(xy), {"name": n, "age": a, "system:time_start": ee.Date(d).millis(),
                                           "tags": ["x", n]})
        for n, a, d, xy in rows
    ])


def test_filters(ee_sandbox, people):
    ee = ee_sandbox

    def names(fc):
        return fc.aggregate_array("name").getInfo()

    assert names(people.filter(ee.Filter.eq("age", 25))) == ["bob", "dee"]
    assert names(people.filter(ee.Filter.neq("age", 25))) == ["ann", "cid"]
    assert names(people.filter(ee.Filter.lt("age", 31))) == ["bob", "dee"]
    assert names(people.filter(ee.Filter.lte("age", 31))) == ["ann", "bob", "dee"]
    assert names(people.filter(ee.Filter.gt("age", 31))) == ["cid"]
    assert names(people.filter(ee.Filter.And(ee.Filter.gt("age", 20), ee.Filter.lt("age", 40)))) == [
        "ann", "bob", "dee"]
    assert names(people.filter(ee.Filter.Or(ee.Filter.eq("name", "ann"), ee.Filter.eq("age", 47)))) == ["ann", "cid"]
    assert names(people.filter(ee.Filter.inList("name", ["cid", "ann", "zed"]))) == ["ann", "cid"]
    assert names(people.filter(ee.Filter.listContains("tags", "bob"))) == ["bob"]
    assert names(people.filter(ee.Filter.stringContains("name", "e"))) == ["dee"]
    assert names(people.filter(ee.Filter.stringStartsWith("name", "c"))) == ["cid"]
    assert names(people.filter(ee.Filter.rangeContains("age", 25, 31))) == ["ann", "bob", "dee"]
    assert names(people.filterDate("2020-01-01", "2020-03-01")) == ["ann", "bob"]
    assert names(people.filter(ee.Filter.date("2020-03-15", "2020-03-16"))) == ["cid"]
    assert names(people.filterBounds(ee.Geometry.Rectangle([0, 0, 1, 1]))) == ["ann", "cid"]
    no_geometry = people.merge(ee.FeatureCollection([ee.Feature(None, {"name": "eve"})]))
    assert names(no_geometry.filterBounds(ee.Geometry.Rectangle([-180, -90, 180, 90]))) == [
        "ann", "bob", "cid", "dee"]
    assert names(people.filter(ee.Filter.eq("missing", 1))) == []
    assert names(people.filter(ee.Filter.notNull(["age"]))) == ["ann", "bob", "cid", "dee"]
    assert names(people.filter(ee.Filter.calendarRange(2, 3, "month"))) == ["bob", "cid"]


def test_collection_methods(ee_sandbox, people):
    ee = ee_sandbox
    assert people.size().getInfo() == 4
    assert people.first().get("name").getInfo() == "ann"
    assert people.limit(2).aggregate_array("name").getInfo() == ["ann", "bob"]
    assert people.sort("age").aggregate_array("name").getInfo() == ["bob", "dee", "ann", "cid"]
    assert people.sort("age", False).aggregate_array("name").getInfo() == ["cid", "ann", "bob", "dee"]
    assert people.limit(1, "age", False).first().get("name").getInfo() == "cid"
    listed = people.toList(2, 1).getInfo()
    assert [f["properties"]["name"] for f in listed] == ["bob", "cid"]
    assert people.aggregate_sum("age").getInfo() == 128
    assert people.aggregate_mean("age").getInfo() == 32
    assert people.aggregate_max("age").getInfo() == 47
    assert people.aggregate_count_distinct("age").getInfo() == 3
    assert people.distinct("age").size().getInfo() == 3
    older = people.map(lambda f: f.set("age", ee.Number(f.get("age")).add(1)))
    assert older.aggregate_array("age").getInfo() == [32, 26, 48, 26]
    merged = people.merge(people.limit(1))
    assert merged.size().getInfo() == 5
    geometry = people.limit(2).geometry().getInfo()
    assert geometry["type"] == "MultiPoint"


# ------------------------------------------------------------------------------------ tables


def test_regions_table(ee_sandbox):
    ee = ee_sandbox
    regions = ee.FeatureCollection("SANDBOX/REGIONS")
    # Cells of the eight areas that are on land (real coastlines and lakes): 335.
    assert regions.size().getInfo() == 335
    first = regions.first().getInfo()
    assert first["id"] == "00001"
    assert set(first["properties"]) == {"region_id", "name", "area", "continent", "area_km2"}
    assert first["geometry"]["type"] == "Polygon"
    ids = regions.aggregate_array("region_id").getInfo()
    assert ids == list(range(1, 336))
    continents = set(regions.aggregate_array("continent").getInfo())
    assert continents == {"Africa", "Asia", "Europe", "North America", "Oceania", "South America"}
    # area_km2 is the polygon's geodesic area.
    one = regions.filter(ee.Filter.eq("region_id", 7)).first()
    assert one.geometry().area().divide(1e6).getInfo() == pytest.approx(one.get("area_km2").getInfo(), abs=1e-2)
    # Polygons tile their area: a point lies in exactly one.
    assert regions.filterBounds(ee.Geometry.Point([-92.3, 39.1])).size().getInfo() == 1
    assert regions.filterBounds(ee.Geometry.Point([-30, 0])).size().getInfo() == 0


def test_regions_lie_on_land(ee_sandbox):
    ee = ee_sandbox
    regions = ee.FeatureCollection("SANDBOX/REGIONS")
    points = regions.map(lambda f: ee.Feature(f.geometry().centroid(1)))
    sampled = ee.Image("SANDBOX/DEM").reduceRegions(points, ee.Reducer.first(), 1000)
    elevations = sampled.aggregate_array("first").getInfo()
    assert len(elevations) == 335
    assert min(elevations) > 0


def test_missing_table_is_404(ee_sandbox):
    ee = ee_sandbox
    with pytest.raises(ee.EEException, match="Collection asset 'SANDBOX/NOPE' not found"):
        ee.FeatureCollection("SANDBOX/NOPE").size().getInfo()


def test_table_assets_get_and_list(ee_sandbox):
    ee = ee_sandbox
    asset = ee.data.getAsset("SANDBOX/REGIONS")
    assert asset["type"] == "TABLE"
    assert asset["name"] == "projects/earthengine-public/assets/SANDBOX/REGIONS"
    listed = ee.data.listAssets({"parent": "projects/earthengine-public/assets/SANDBOX"})
    assert "projects/earthengine-public/assets/SANDBOX/REGIONS" in {a["name"] for a in listed["assets"]}


def test_compute_features_pages(ee_sandbox):
    ee = ee_sandbox
    regions = ee.FeatureCollection("SANDBOX/REGIONS")
    page = ee.data.computeFeatures({"expression": regions, "pageSize": 100})
    assert page["type"] == "FeatureCollection"
    assert len(page["features"]) == 100
    assert page["features"][0]["id"] == "00001"
    assert page["nextPageToken"]
    seen = [f["id"] for f in page["features"]]
    token = page["nextPageToken"]
    while token:
        page = ee.data.computeFeatures({"expression": regions, "pageSize": 100, "pageToken": token})
        seen += [f["id"] for f in page["features"]]
        token = page.get("nextPageToken")
    assert seen == [f"{i:05d}" for i in range(1, 336)]


def _write_tables(directory):
    from osgeo import ogr, osr

    ogr.UseExceptions()
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"name": "north", "value": 1.5},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 1], [1, 1], [1, 2], [0, 2], [0, 1]]]}},
        {"type": "Feature", "id": 2, "properties": {"name": "south", "value": 2},
         "geometry": {"type": "Point", "coordinates": [0.5, -0.5]}},
    ]}
    (directory / "fields.geojson").write_text(json.dumps(geojson))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(directory / "plots.gpkg"))
    layer = ds.CreateLayer("plots", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("code", ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("code", "P1")
    feature.SetGeometry(ogr.CreateGeometryFromWkt(
        "POLYGON ((0 0, 111319.49079327357 0, 111319.49079327357 111325.1428663851, 0 111325.1428663851, 0 0))"))
    layer.CreateFeature(feature)
    feature = None
    layer = None
    ds = None


def test_data_dir_tables(ee_sandbox, tmp_path):
    ee = ee_sandbox
    _write_tables(tmp_path)
    engine = Engine(SandboxConfig(data_dir=tmp_path))
    fields = engine.compute_value(encode(ee.FeatureCollection("projects/sandbox/assets/fields")))
    assert [f["properties"] for f in fields["features"]] == [{"name": "north", "value": 1.5},
                                                             {"name": "south", "value": 2}]
    assert fields["features"][1]["geometry"] == {"type": "Point", "coordinates": [0.5, -0.5]}
    plots = engine.compute_value(encode(ee.FeatureCollection("projects/sandbox/assets/plots").first()))
    assert plots["properties"] == {"code": "P1"}
    # Stored in EPSG:3857, served in EPSG:4326 (as Earth Engine ingests tables).
    ring = np.array(plots["geometry"]["coordinates"][0])
    assert ring.min(axis=0) == pytest.approx([0, 0], abs=1e-9)
    assert ring.max(axis=0) == pytest.approx([1, 1], abs=1e-6)
    assert engine.get_asset("projects/sandbox/assets/fields")["type"] == "TABLE"
    names = {a["name"] for a in engine.list_assets("projects/sandbox/assets")["assets"]}
    assert {"projects/sandbox/assets/fields", "projects/sandbox/assets/plots"} <= names
    page = engine.compute_features(encode(ee.FeatureCollection("projects/sandbox/assets/fields")), 1, None)
    assert len(page["features"]) == 1 and page["nextPageToken"] == "1"
    with pytest.raises(EEError) as info:
        engine.get_asset("projects/sandbox/assets/none")
    assert info.value.code == 404


# ---------------------------------------------------------------------------- region pixels


def _dem_pixels(ee, west, north, width, height):
    grid = {"crsCode": "EPSG:4326", "dimensions": {"width": width, "height": height},
            "affineTransform": {"scaleX": DEG, "shearX": 0, "translateX": west,
                                "shearY": 0, "scaleY": -DEG, "translateY": north}}
    array = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                                   "grid": grid})
    return np.asarray(array["elevation"], dtype=np.float64)


def test_reduce_region_matches_compute_pixels(ee_sandbox):
    """A rectangle on native pixel edges: reduceRegion sees exactly the computePixels pixels."""
    ee = ee_sandbox
    west, north, n = -92.5, 39.05, 120
    pixels = _dem_pixels(ee, west, north, n, n)
    region = ee.Geometry.Rectangle([west, north - n * DEG, west + n * DEG, north])
    dem = ee.Image("SANDBOX/DEM")
    stats = dem.reduceRegion(
        ee.Reducer.mean().combine(ee.Reducer.minMax(), "", True).combine(ee.Reducer.count(), "", True),
        region).getInfo()
    assert stats["elevation_count"] == n * n
    assert stats["elevation_mean"] == pytest.approx(pixels.mean(), rel=1e-12)
    assert stats["elevation_min"] == pixels.min()
    assert stats["elevation_max"] == pixels.max()
    assert dem.reduceRegion(ee.Reducer.median(), region).getInfo() == {"elevation": float(np.median(pixels))}
    p = dem.reduceRegion(ee.Reducer.percentile([10, 90]), region).getInfo()
    assert p == {"elevation_p10": pytest.approx(np.percentile(pixels, 10)),
                 "elevation_p90": pytest.approx(np.percentile(pixels, 90))}
    # Masks are respected.
    threshold = float(np.median(pixels))
    masked = dem.updateMask(dem.gt(threshold)).reduceRegion(ee.Reducer.count(), region).getInfo()
    assert masked == {"elevation": int((pixels > threshold).sum())}


def test_pixel_centre_rule(ee_sandbox):
    ee = ee_sandbox
    one = ee.Image.constant(1)
    lattice = dict(crs="EPSG:4326", crsTransform=[0.1, 0, 0, 0, -0.1, 0])

    def count(x1):
        return one.reduceRegion(ee.Reducer.count(), ee.Geometry.Rectangle([0, 0, x1, 1]), **lattice).getInfo()

    assert count(1.0) == {"constant": 100}
    assert count(1.04) == {"constant": 100}  # the 11th column's centre (1.05) is outside
    assert count(1.06) == {"constant": 110}
    tiny = one.reduceRegion(ee.Reducer.mean(), ee.Geometry.Rectangle([0.01, 0.01, 0.02, 0.02]), **lattice)
    assert tiny.getInfo() == {"constant": None}
    point = one.reduceRegion(ee.Reducer.count(), ee.Geometry.Point([0.33, 0.77]), **lattice)
    assert point.getInfo() == {"constant": 1}


def test_reduce_region_limits(ee_sandbox):
    ee = ee_sandbox
    dem = ee.Image("SANDBOX/DEM")
    big = ee.Geometry.Rectangle([10, 10, 11.2, 11])
    with pytest.raises(ee.EEException) as info:
        dem.reduceRegion(ee.Reducer.mean(), big).getInfo()
    assert str(info.value).startswith(
        "Image.reduceRegion: Too many pixels in the region. Found 15552000, but maxPixels allows only 10000000.")
    fine = dem.reduceRegion(ee.Reducer.count(), big, maxPixels=2e5, bestEffort=True).getInfo()
    assert 0.5e5 < fine["elevation"] <= 2e5
    with pytest.raises(ee.EEException, match="unbounded image"):
        ee.Image.constant(1).reduceRegion(ee.Reducer.mean()).getInfo()


def test_reduce_regions_and_sample_regions(ee_sandbox):
    ee = ee_sandbox
    dem = ee.Image("SANDBOX/DEM")
    points = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([-92.5 + 0.5 * DEG, 39 - 0.5 * DEG]), {"k": 1}),
                                   ee.Feature(ee.Geometry.Point([-92.4 + 0.5 * DEG, 39 - 0.5 * DEG]), {"k": 2})])
    pixels = _dem_pixels(ee, -92.5, 39, 361, 1)
    expected = [pixels[0, 0], pixels[0, 360]]
    one_band = dem.reduceRegions(points, ee.Reducer.mean()).getInfo()
    assert [f["properties"] for f in one_band["features"]] == [{"k": 1, "mean": expected[0]},
                                                               {"k": 2, "mean": expected[1]}]
    two_bands = dem.addBands(dem.rename("e2")).reduceRegions(points, ee.Reducer.first(), 30)
    assert two_bands.first().toDictionary().getInfo() == {"k": 1, "elevation": expected[0], "e2": expected[0]}
    min_max = dem.reduceRegions(points, ee.Reducer.minMax()).first().toDictionary().getInfo()
    assert min_max == {"k": 1, "min": expected[0], "max": expected[0]}
    samples = dem.sampleRegions(points, ["k"], geometries=True).getInfo()["features"]
    assert [(f["id"], f["properties"]) for f in samples] == [
        ("0_0", {"k": 1, "elevation": expected[0]}), ("1_0", {"k": 2, "elevation": expected[1]})]
    assert samples[0]["geometry"]["coordinates"] == pytest.approx([-92.5 + 0.5 * DEG, 39 - 0.5 * DEG])
    area = dem.sampleRegions(ee.FeatureCollection([ee.Feature(
        ee.Geometry.Rectangle([-92.5, 39 - 3 * DEG, -92.5 + 4 * DEG, 39]), {"k": 3})]))
    assert area.size().getInfo() == 12
    drawn = dem.sample(ee.Geometry.Rectangle([-92.5, 39 - 10 * DEG, -92.5 + 10 * DEG, 39]), numPixels=7, seed=3)
    assert drawn.size().getInfo() == 7
    assert drawn.aggregate_array("elevation").getInfo() == drawn.aggregate_array("elevation").getInfo()


def test_reduce_region_of_zones_via_histogram(ee_sandbox):
    ee = ee_sandbox
    region = ee.Geometry.Rectangle([-92.5, 39.0, -92.4, 39.1])
    histogram = ee.Image("SANDBOX/LANDCOVER").reduceRegion(ee.Reducer.frequencyHistogram(), region, 100).getInfo()
    counts = histogram["landcover"]
    total = ee.Image("SANDBOX/LANDCOVER").reduceRegion(ee.Reducer.count(), region, 100).getInfo()["landcover"]
    assert sum(counts.values()) == total > 0
    assert all(key in {"10", "20", "30", "40", "50", "60", "70", "80", "90", "100"} for key in counts)


def test_collection_aggregates_and_columns(ee_sandbox, people):
    ee = ee_sandbox
    stats = people.aggregate_stats("age").getInfo()
    assert (stats["min"], stats["max"], stats["sum"], stats["total_count"], stats["mean"]) == (25, 47, 128, 4, 32)
    assert stats["total_sd"] == pytest.approx(float(np.std([31, 25, 47, 25])))
    assert people.aggregate_histogram("age").getInfo() == {"25": 2, "31": 1, "47": 1}
    assert people.reduceColumns(ee.Reducer.minMax(), ["age"]).getInfo() == {"min": 25, "max": 47}
    assert people.iterate(lambda f, acc: ee.Number(acc).add(f.get("age")), 0).getInfo() == 128
    assert people.select(["name"]).first().getInfo()["properties"] == {"name": "ann"}
    assert people.set("owner", "me").get("owner").getInfo() == "me"


def test_image_date_and_geometry(ee_sandbox):
    ee = ee_sandbox
    scene = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2020-06-01", "2020-06-06").filterBounds(
        ee.Geometry.Point([2.35, 48.85])).first()
    assert scene.date().millis().getInfo() == scene.get("system:time_start").getInfo()
    footprint = scene.geometry()
    assert footprint.contains(ee.Geometry.Point([2.35, 48.85])).getInfo() is True
    assert 5e9 < footprint.area().getInfo() < 2e10  # a ~100 km scene


def test_list_features_of_a_table():
    engine = Engine(SandboxConfig())
    region = json.dumps({"type": "Point", "coordinates": [-92.3, 39.1]})
    page = engine.list_features("projects/earthengine-public/assets/SANDBOX/REGIONS", 10, None, region, None)
    assert len(page["features"]) == 1 and "nextPageToken" not in page
    page = engine.list_features("projects/earthengine-public/assets/SANDBOX/REGIONS", 300, "300", None, None)
    assert [f["id"] for f in page["features"]] == [f"{i:05d}" for i in range(301, 336)]
    filtered = engine.list_features("projects/earthengine-public/assets/SANDBOX/REGIONS", None, None, None,
                                    'properties.continent = "Europe"')
    assert {f["properties"]["continent"] for f in filtered["features"]} == {"Europe"}


def test_geometry_in_a_projection_with_a_transform_is_in_pixel_units(ee_sandbox):
    ee = ee_sandbox
    proj = ee.Projection("EPSG:32632", [30, 0, 240000, 0, -30, 4440000])
    info = ee.Geometry.Rectangle([0, 0, 10, 8], proj, False).getInfo()
    assert info["crs"] == {"type": "name", "properties": {"name": "EPSG:32632"}}
    ring = np.array(info["coordinates"][0])
    assert ring.min(axis=0).tolist() == [240000, 4439760]
    assert ring.max(axis=0).tolist() == [240300, 4440000]
    point = ee.Geometry.Point([0.5, 0.5], proj).getInfo()
    assert point["coordinates"] == [240015, 4439985]


def test_reducers_on_several_inputs_are_refused_not_guessed(ee_sandbox):
    ee = ee_sandbox
    region = ee.Geometry.Rectangle([0, 0, 1, 1])
    lattice = dict(crs="EPSG:4326", crsTransform=[0.5, 0, 0, 0, -0.5, 0])
    combined = ee.Reducer.mean().combine(ee.Reducer.stdDev())  # sharedInputs defaults to false
    with pytest.raises(ee.EEException, match="use sharedInputs=true"):
        ee.Image.constant(2).reduceRegion(combined, region, **lattice).getInfo()
    shared = ee.Reducer.mean().combine(ee.Reducer.stdDev(), "s_", True)
    assert ee.Image.constant(2).reduceRegion(shared, region, **lattice).getInfo() == {
        "constant_mean": 2, "constant_s_stdDev": 0}
    renamed = ee.Reducer.minMax().setOutputs(["lo", "hi"])
    assert ee.Image.constant(2).reduceRegion(renamed, region, **lattice).getInfo() == {
        "constant_lo": 2, "constant_hi": 2}
