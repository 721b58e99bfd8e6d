"""Real geography in the sandbox (issue 11 item 2): land and water from real coastlines and
lakes (GSHHG, shipped), Sentinel-2 over every real land area at the real MGRS tiling and a
5-day revisit, land cover and DEM consistent with that land.

Known answers are places: Rome, Paris, southern Portugal and Lorraine are land; the open
Atlantic, the Mediterranean between Sardinia and the Balearics, the Caspian Sea and Lake Victoria
are water; Paris is in tile 31UDQ, whose real upper-left corner is (399960, 5500020).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.imagery import geography, s2, synthetic
from eeextract_plugin.sandbox.imagery.catalog import ImageCatalog
from eeextract_plugin.sandbox.raster import PixelGrid

LAND = {"Rome": (12.5, 41.9), "Paris": (2.35, 48.85), "southern Portugal": (-8.4, 38.3),
        "Lorraine": (6.0, 49.5), "Nairobi": (36.82, -1.29), "Denver": (-104.99, 39.74),
        "Tasmania": (146.8, -42.0), "Iceland": (-19.0, 64.8)}
WATER = {"Atlantic": (-30.0, 40.0), "Mediterranean": (6.0, 40.0), "Caspian Sea": (50.5, 42.0),
         "Lake Victoria": (33.0, -1.0), "Lake Superior": (-87.5, 47.6), "Pacific": (-150.0, 0.0)}


@pytest.fixture(scope="module")
def catalog():
    from eeextract_plugin.sandbox.engine import load_algorithms

    load_algorithms()
    return ImageCatalog(SandboxConfig())


def test_the_data_ships_with_its_licence_and_the_script_that_derives_it():
    data = Path(geography.DATA_FILE)
    assert data.is_file() and data.stat().st_size < 4_000_000
    with zipfile.ZipFile(data) as zf:
        assert sorted(zf.namelist()) == ["block_index.npy", "blocks.npy", "s2_tiles.npy"]
    folder = data.parent
    readme = (folder / "README.md").read_text()
    assert "GSHHG" in readme and "Lesser General Public License" in readme
    assert (folder / "LICENSE-GSHHG-LGPL-3.txt").read_text().startswith("                   GNU LESSER GENERAL PUBLIC LICENSE")
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_sandbox_geography.py"
    assert "grdlandmask" in script.read_text()


@pytest.mark.parametrize("name", sorted(LAND))
def test_real_land_is_land_with_a_dem_above_sea_level(name):
    lon, lat = LAND[name]
    assert synthetic.is_land(lon, lat)
    assert synthetic.elevation(lon, lat) > 0
    assert synthetic.landcover(lon, lat) != synthetic.WATER or synthetic.elevation(lon, lat) > 0


@pytest.mark.parametrize("name", sorted(WATER))
def test_real_seas_and_lakes_are_water(name):
    lon, lat = WATER[name]
    assert not synthetic.is_land(lon, lat)
    assert synthetic.elevation(lon, lat) <= -1
    assert synthetic.landcover(lon, lat) == synthetic.WATER


def test_land_share_of_the_globe_is_the_earths():
    lon = np.arange(-180, 180, 0.5) + 0.25
    lat = np.arange(90, -90, -0.5) - 0.25
    weights = np.cos(np.radians(lat))[:, None] * np.ones((1, lon.size))
    land = synthetic.is_land(lon[None, :], lat[:, None])
    share = float((land * weights).sum() / weights.sum())
    assert 0.27 < share < 0.31  # the Earth: 29 %


def test_dem_and_landcover_agree_on_the_coast(catalog):
    """Around Lisbon (sea, estuary, land): water in LANDCOVER where the DEM is at or below 0,
    land classes where it is above, on the same grid, apart from a few pixels where their two
    native lattices meet the coastline differently, and small synthetic lakes."""
    grid = PixelGrid("EPSG:4326", (0.0005, 0.0, -9.5, 0.0, -0.0005, 38.9), 400, 400)
    dem = catalog.get_image("SANDBOX/DEM").compute(grid).bands[0].values
    cover = catalog.get_image("SANDBOX/LANDCOVER").compute(grid).bands[0].values
    assert 0.1 < (dem <= 0).mean() < 0.8
    agree = (dem <= 0) == (cover == synthetic.WATER)
    assert agree.mean() > 0.97
    assert ((dem <= 0) & (cover != synthetic.WATER)).mean() < 0.01


def test_s2_over_rome_exists_with_real_tile_names(ee_sandbox):
    ee = ee_sandbox
    rome = ee.Geometry.Point([12.5, 41.9])
    coll = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2021-07-01", "2021-08-01").filterBounds(rome)
    tiles = set(coll.aggregate_array("MGRS_TILE").getInfo())
    assert "33TTG" in tiles
    # Filtering on the tile name works as on the real collection.
    one = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2021-07-01", "2021-08-01") \
        .filter(ee.Filter.eq("MGRS_TILE", "33TTG"))
    assert one.size().getInfo() == 6  # every 5 days: 1, 6, 11, 16, 21, 26 July
    image = one.first()
    assert image.get("system:index").getInfo().endswith("_T33TTG")
    band = image.select("B4").getInfo()["bands"][0]
    assert band["crs"] == "EPSG:32633"
    assert band["crs_transform"] == [10.0, 0.0, 199960.0, 0.0, -10.0, 4700020.0]
    assert band["dimensions"] == [10980, 10980]
    assert image.geometry().contains(rome).getInfo()
    listed = ee.data.listImages({"parent": "SANDBOX/S2_SR", "startTime": "2021-07-01T00:00:00Z",
                                 "endTime": "2021-08-01T00:00:00Z", "properties": ['MGRS_TILE="33TTG"']})
    assert len(listed["images"]) == 6
    assert all(i["id"].endswith("_T33TTG") for i in listed["images"])


def test_real_mgrs_geometry_of_paris():
    tile = s2.tiles()[1]["31UDQ"]
    assert (tile.epsg, tile.x0, tile.y1) == ("EPSG:32631", 399960.0, 5500020.0)
    assert tile.footprint.contains(__import__("shapely.geometry", fromlist=["Point"]).Point(2.35, 48.85))


def test_tile_names_are_mgrs_names_of_their_squares():
    """Zone, latitude band of the square's centre, column letter (sets by zone), row letter
    (offset by 5 in even zones): checked against squares whose names are well known."""
    names = s2.tiles()[1]
    for name, zone, i, j in (("31UDQ", 31, 4, 54), ("33TTG", 33, 2, 46), ("32TLT", 32, 3, 52),
                             ("18TWL", 18, 5, 45), ("29SNC", 29, 5, 42)):
        tile = names[name]
        assert (tile.zone, tile.i, tile.j, tile.north) == (zone, i, j, True)


def test_no_s2_over_the_open_ocean_and_none_beyond_84_north(ee_sandbox):
    ee = ee_sandbox
    for lon, lat in (WATER["Atlantic"], WATER["Pacific"]):
        point = ee.Geometry.Point([lon, lat])
        assert ee.ImageCollection("SANDBOX/S2_SR").filterDate("2021-07-01", "2021-07-11") \
            .filterBounds(point).size().getInfo() == 0
    assert max(t.bbox[1] for t in s2.tiles()[0]) < 84.0
    assert min(t.bbox[3] for t in s2.tiles()[0]) > -56.5


def test_every_land_area_has_s2(ee_sandbox):
    ee = ee_sandbox
    for name, (lon, lat) in LAND.items():
        n = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2022-03-01", "2022-03-11") \
            .filterBounds(ee.Geometry.Point([lon, lat])).size().getInfo()
        assert n >= 2, name  # two dates, at least one tile


def test_revisit_is_five_days_alternating_the_two_satellites():
    tile = s2.tiles()[1]["31UDQ"]
    coll = s2.S2Collection(s2._to_ms("2021-01-01"), s2._to_ms("2021-02-01"), tile.footprint.centroid)
    scenes = [i for i in coll.iter_elements() if i.get("MGRS_TILE") == "31UDQ"]
    times = [i.get("system:time_start") for i in scenes]
    assert np.all(np.diff(times) == 5 * 86400000)
    crafts = [i.get("SPACECRAFT_NAME") for i in scenes]
    assert set(crafts) == {"Sentinel-2A", "Sentinel-2B"}
    assert all(a != b for a, b in zip(crafts, crafts[1:]))


def test_s2_surfaces_follow_the_land_cover(catalog):
    """A clear scene over the Tagus estuary: water in LANDCOVER is dark in NIR in the scene,
    vegetation bright, with land cover classes resolved the same way (to a pixel or two)."""
    coll = s2.S2Collection(s2._to_ms("2019-06-01"), s2._to_ms("2019-09-01"),
                           __import__("shapely.geometry", fromlist=["box"]).box(-9.2, 38.6, -8.9, 38.8))
    scene = next(i for i in coll.iter_elements() if i.get("CLOUDY_PIXEL_PERCENTAGE") == 0)
    grid = PixelGrid("EPSG:4326", (0.0005, 0.0, -9.15, 0.0, -0.0005, 38.78), 400, 300)
    nir = scene.compute(grid, ["B8"]).bands[0]
    classes = catalog.get_image("SANDBOX/LANDCOVER").compute(grid).bands[0].values
    ok = nir.mask
    water = (classes == synthetic.WATER) & ok
    green = np.isin(classes, (synthetic.TREE, synthetic.CROP, synthetic.GRASS)) & ok
    assert water.mean() > 0.1 and green.mean() > 0.1
    assert np.median(nir.values[water]) < 500 < 1500 < np.median(nir.values[green])
