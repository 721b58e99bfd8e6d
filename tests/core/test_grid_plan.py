"""Grids, snapping, reprojection before tiling, and the planner's limits (no server)."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import box

from eeextract_plugin.core.grid import PixelGrid, chip_grid, grid_for_region, reproject
from eeextract_plugin.core.plan import (
    PlanError,
    RequestLimits,
    UnitPlan,
    build_plan,
    bytes_per_pixel,
    check_region_inside,
    tile_side,
)
from eeextract_plugin.core.regions import RegionFeature
from eeextract_plugin.core.source import BandInfo, ImageRef, SourceInfo, dtype_from_ee
from eeextract_plugin.core.spec import JobSpec, SpecError

ARCSEC = 1 / 3600
DEM_NATIVE = PixelGrid("EPSG:4326", (ARCSEC, 0, -180.0, 0, -ARCSEC, 90.0), 1296000, 648000)


def dem_info(bands=1, dtype="int16"):
    return SourceInfo([BandInfo(f"b{i}", dtype, DEM_NATIVE) for i in range(bands)], DEM_NATIVE)


def spec(**over):
    d = {"version": 1, "name": "t", "kind": "mosaic",
         "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
         "region": {"type": "bbox", "bbox": [7.0, 46.0, 7.5, 46.25]}}
    d.update(over)
    return JobSpec.from_dict(d)


def test_snapped_to_native_grid():
    g = grid_for_region(box(7.00001, 46.00001, 7.49999, 46.24999), "EPSG:4326", native=DEM_NATIVE)
    sx, _, tx, _, sy, ty = g.transform
    assert sx == ARCSEC and sy == -ARCSEC
    # pixel edges fall on the native grid
    assert abs(round((tx + 180) / ARCSEC) - (tx + 180) / ARCSEC) < 1e-6
    assert abs(round((90 - ty) / ARCSEC) - (90 - ty) / ARCSEC) < 1e-6
    assert g.width == 1800 and g.height == 900


def test_zero_scale_rejected_by_spec():
    with pytest.raises(SpecError, match="grid.scale"):
        spec(grid={"scale": 0})


def test_region_reprojected_before_tiling():
    # A 0.5 x 0.25 degree box in UTM 32N at 30 m is about 1300 x 930 px, not degrees-sized.
    s = spec(grid={"crs": "EPSG:32632", "scale": 30})
    f = [RegionFeature("0", box(7.0, 46.0, 7.5, 46.25), "EPSG:4326")]
    plan = build_plan(s, dem_info(), f)
    g = plan.outputs[0].grid
    assert g.crs == "EPSG:32632"
    assert 1150 < g.width < 1400 and 900 < g.height < 1000
    assert g.transform[0] == 30 and g.transform[2] % 30 == 0  # snapped to multiples of the scale
    covered = sum(u.pixels for u in plan.units)
    assert covered <= g.pixels


def test_mask_byte_counted_in_tile_size():
    lim = RequestLimits(memory_budget_bytes=10**12)
    # Byte bands: 1 value byte + 1 mask byte → half the pixels of a count without mask.
    side = tile_side(bytes_per_pixel(["uint8"] * 3, mask=True), 3, lim, 32)
    assert side * side * 6 <= 48 * 2**20
    assert side * side * 3 > 48 * 2**20 / 2 * 0.9  # not wildly smaller
    # A single int16 band can reach a large side but never above 32768.
    assert tile_side(3, 2, lim, 1) <= 32768


def test_tile_requests_stay_under_limit_for_many_bands():
    s = spec(execution={"max_concurrent_requests": 1})
    plan = build_plan(s, dem_info(bands=12, dtype="float64"), [RegionFeature("0", box(7, 46, 9, 47), "EPSG:4326")],
                      RequestLimits(memory_budget_bytes=10**12))
    for u in plan.units:
        assert u.pixels * 12 * (8 + 1) <= 48 * 2**20
        assert u.width <= 32768 and u.height <= 32768
    # the units tile the output exactly
    assert sum(u.pixels for u in plan.units) == plan.outputs[0].grid.pixels


def test_polygon_region_skips_tiles_outside():
    tri = {"type": "Polygon", "coordinates": [[[7, 46], [8, 46], [7, 47], [7, 46]]]}
    s = spec(region={"type": "geometry", "geometry": tri}, execution={"tile_size": 256})
    f = [RegionFeature("0", reproject(box(0, 0, 1, 1), "EPSG:4326", "EPSG:4326"), "EPSG:4326")]
    from shapely.geometry import shape
    f = [RegionFeature("0", shape(tri), "EPSG:4326")]
    plan = build_plan(s, dem_info(), f)
    full = math.ceil(3600 / 256) ** 2
    assert len(plan.units) < 0.7 * full


def test_plan_summary_and_huge():
    s = spec()
    plan = build_plan(s, dem_info(), [RegionFeature("0", box(7, 46, 7.5, 46.25), "EPSG:4326")])
    summ = plan.summary()
    assert summ.pixels == 1800 * 900
    assert summ.bytes == summ.pixels * 2
    assert summ.request_bytes == summ.pixels * 3
    assert summ.files == 1 if hasattr(summ, "files") else summ.outputs == 1
    assert summ.lower_bound_s > 0 and not summ.huge
    assert any("time:" in line for line in summ.lines())


def test_chips_centred_and_one_unit_each():
    d = {"version": 1, "name": "c", "kind": "chips", "source": {"type": "asset", "asset_id": "X/Y"},
         "region": {"type": "geometry", "geometry": {"type": "MultiPoint", "coordinates": [[500000, 4640000], [510000, 4650000]]},
                    "crs": "EPSG:32633"},
         "grid": {"crs": "EPSG:32633", "scale": 10}, "output": {"chip_size": 256, "format": "GEO_TIFF"}}
    s = JobSpec.from_dict(d)
    feats = [RegionFeature("0", box(0, 0, 1, 1).centroid, "EPSG:32633")]
    from shapely.geometry import Point
    feats = [RegionFeature("a", Point(500000, 4640000), "EPSG:32633"), RegionFeature("b", Point(510000, 4650000), "EPSG:32633")]
    info = SourceInfo([BandInfo("B4", "uint16", None)], None)
    plan = build_plan(s, info, feats)
    assert len(plan.outputs) == 2 and len(plan.units) == 2
    g = plan.outputs[0].grid
    assert (g.width, g.height) == (256, 256)
    minx, miny, maxx, maxy = g.bounds
    assert (minx + maxx) / 2 == pytest.approx(500000, abs=10) and (miny + maxy) / 2 == pytest.approx(4640000, abs=10)


def test_collection_outputs_per_image():
    d = {"version": 1, "name": "s2", "kind": "collection",
         "source": {"type": "collection", "asset_id": "SANDBOX/S2_SR", "start": "2019-01-01", "end": "2019-02-01"},
         "region": {"type": "bbox", "bbox": [12.45, 41.88, 12.5, 41.91]}, "grid": {"crs": "EPSG:32633", "scale": 10}}
    s = JobSpec.from_dict(d)
    info = SourceInfo([BandInfo("B4", "uint16", None)], None,
                      [ImageRef("20190101", "SANDBOX/S2_SR/20190101"), ImageRef("20190106", "SANDBOX/S2_SR/20190106")])
    plan = build_plan(s, info, [RegionFeature("0", box(12.45, 41.88, 12.5, 41.91), "EPSG:4326")])
    assert [o.path.rsplit("/", 1)[-1] for o in plan.outputs] == ["s2_20190101.tif", "s2_20190106.tif"]
    assert plan.outputs[0].grid == plan.outputs[1].grid


def test_region_outside_source():
    nat = PixelGrid("EPSG:4326", (0.001, 0, 10, 0, -0.001, 50), 1000, 1000)  # 10..11 E, 49..50 N
    info = SourceInfo([BandInfo("b", "uint8", nat)], nat)
    with pytest.raises(PlanError, match="region: outside the source"):
        check_region_inside(info, [RegionFeature("0", box(20, 10, 21, 11), "EPSG:4326")])
    check_region_inside(info, [RegionFeature("0", box(10.5, 49.5, 12, 51), "EPSG:4326")])


def test_unit_split_covers_the_unit():
    u = UnitPlan("o/0-0", "o", 100, 200, 513, 257)
    parts = u.split()
    assert len(parts) == 4 and sum(p.pixels for p in parts) == u.pixels
    assert UnitPlan("o/x", "o", 0, 0, 8, 8).split() is None


def test_dtype_from_ee():
    assert dtype_from_ee({"precision": "INT", "range": {"min": -32768, "max": 32767}}) == "int16"
    assert dtype_from_ee({"precision": "INT", "range": {"min": 0, "max": 255}}) == "uint8"
    assert dtype_from_ee({"precision": "int", "min": 0, "max": 65535}) == "uint16"
    assert dtype_from_ee({"precision": "FLOAT"}) == "float32"
    assert dtype_from_ee({"precision": "DOUBLE"}) == "float64"


def test_chip_grid_snaps_to_native():
    nat = PixelGrid("EPSG:32633", (10, 0, 300000, 0, -10, 5000000), 10980, 10980)
    g = chip_grid(400003.0, 4900007.0, "EPSG:32633", 10, 64, 64, nat)
    assert (g.transform[2] - 300000) % 10 == 0 and (5000000 - g.transform[5]) % 10 == 0
