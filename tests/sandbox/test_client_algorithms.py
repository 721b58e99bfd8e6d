"""What the widely used clients ask of Earth Engine beyond the project's own calls, through the
real earthengine-api: reduceColumns with multi-input reducers (Xee), addBands of same-named bands
(Xee's stacking), Image.slice (geedim's tiles), system:id as a property, and band metadata with
the ``dimensions`` / ``origin`` of a fixed grid (geedim's and Xee's grid discovery)."""

from __future__ import annotations

import pytest

S2_ID = "SANDBOX/S2_SR/20240603T110329_20240603T110329_T29SNC"
REGION = [-8.45, 38.25, -8.40, 38.30]


@pytest.fixture()
def ee(ee_sandbox):
    return ee_sandbox


def scenes(ee):
    return (ee.ImageCollection("SANDBOX/S2_SR").filterDate("2024-06-01", "2024-06-20")
            .filterBounds(ee.Geometry.Point([-8.4, 38.3])))


def test_reduce_columns_with_to_list_repeat_and_tuples(ee):
    coll = scenes(ee)
    infos = coll.toList(50).getInfo()
    ids = [i["id"] for i in infos]
    starts = [i["properties"]["system:time_start"] for i in infos]
    out = coll.reduceColumns(ee.Reducer.toList().repeat(2), ["system:id", "system:time_start"]).getInfo()
    assert out == {"list": [ids, starts]}
    pairs = coll.reduceColumns(ee.Reducer.toList(2), ["system:index", "system:time_start"]).get("list").getInfo()
    assert pairs == [[i["properties"]["system:index"], t] for i, t in zip(infos, starts)]
    combined = coll.reduceColumns(ee.Reducer.min().combine(ee.Reducer.max(), "", True), ["system:time_start"])
    assert combined.getInfo() == {"min": min(starts), "max": max(starts)}
    with pytest.raises(ee.EEException, match="Need 2 input selectors, got 1"):
        coll.reduceColumns(ee.Reducer.toList().repeat(2), ["system:id"]).getInfo()


def test_add_bands_keeps_same_named_bands_and_slice_selects_by_position(ee):
    image = ee.Image(S2_ID)
    stacked = ee.Image(1).addBands(ee.Image(2)).addBands(ee.Image(3))
    assert stacked.bandNames().getInfo() == ["constant", "constant_1", "constant_2"]
    assert image.select("B4").addBands(image.select("B4")).bandNames().getInfo() == ["B4", "B4_1"]
    assert image.select("B4").addBands(image.select("B4"), None, True).bandNames().getInfo() == ["B4"]
    assert image.slice(1, 3).bandNames().getInfo() == ["B3", "B4"]
    assert image.slice(-2).bandNames().getInfo() == ["B11", "QA60"]


def test_system_id_and_version_are_properties(ee):
    image = ee.Image(S2_ID)
    assert image.get("system:id").getInfo() == S2_ID
    assert "system:id" in image.propertyNames().getInfo()
    renamed = image.set("system:id", "SANDBOX/S2_SR/renamed")
    assert renamed.getInfo()["id"] == "SANDBOX/S2_SR/renamed"
    assert "system:id" not in renamed.getInfo()["properties"]


def test_bands_report_the_dimensions_and_origin_of_their_fixed_grid(ee):
    image = ee.Image(S2_ID)
    native = image.select("B4").getInfo()["bands"][0]
    assert native["dimensions"] == [10980, 10980] and "origin" not in native
    # An MGRS tile: its upper-left corner 40 m west and 20 m north of its 100 km square.
    sx, hx, x0, hy, sy, y0 = native["crs_transform"]
    assert (sx, hx, hy, sy) == (10.0, 0.0, 0.0, -10.0) and x0 % 100000 == 99960 and y0 % 100000 == 20
    clipped = image.select("B4").clip(ee.Geometry.Rectangle(REGION)).getInfo()["bands"][0]
    ox, oy = clipped["origin"]
    width, height = clipped["dimensions"]
    assert clipped["crs_transform"] == native["crs_transform"]
    assert 0 < ox < 10980 and 0 < oy < 10980 and 400 < width < 500 and 500 < height < 600
    scaled = image.select("B4").clipToBoundsAndScale(geometry=ee.Geometry.Rectangle(REGION), scale=90)
    band = scaled.getInfo()["bands"][0]
    assert band["crs_transform"][0] == pytest.approx(90.0) and "origin" not in band
    assert band["dimensions"][0] in (48, 49, 50)
    # A computed image in the default projection has no fixed grid.
    assert "dimensions" not in ee.Image(1).getInfo()["bands"][0]
    assert "dimensions" not in scenes(ee).select("B4").median().getInfo()["bands"][0]
