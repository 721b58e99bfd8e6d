"""The sandbox's imagery: the lazy Image model, the synthetic catalog, pixel requests, algorithms.

Known answers throughout: values on a native grid are the generating function (or the file's
bytes), a region computed whole and in quarters is identical, reprojection takes the native pixel
that contains each output pixel centre, limits fail with Earth Engine's texts before computing.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError
from eeextract_plugin.sandbox.functions import implemented, lookup
from eeextract_plugin.sandbox.imagery import s2, synthetic
from eeextract_plugin.sandbox.imagery.catalog import ImageCatalog, parse_list_filter
from eeextract_plugin.sandbox.imagery.pixels import asset_pixels, check_limits, compute_pixels
from eeextract_plugin.sandbox.imagery.projection import transform_xy
from eeextract_plugin.sandbox.raster import PixelGrid

CONFIG = SandboxConfig()


@pytest.fixture(scope="module", autouse=True)
def _algorithms():
    from eeextract_plugin.sandbox.engine import load_algorithms

    load_algorithms()  # the evaluator's Filter, Reducer, Collection algorithms too
DEM_T = (1 / 3600, 0.0, -180.0, 0.0, -1 / 3600, 90.0)
# A land area (Luxembourg and Lorraine) on the boundary of UTM zones 31 and 32 (6°E).
LAND = box(5.8, 49.4, 6.2, 49.6)


def call(name, **kwargs):
    return lookup(name).function(**kwargs)


@pytest.fixture(scope="module")
def catalog():
    return ImageCatalog(CONFIG)


@pytest.fixture(scope="module")
def dem(catalog):
    return catalog.get_image("SANDBOX/DEM")


def dem_window(col, row, w, h):
    return PixelGrid("EPSG:4326", DEM_T, w, h).window(col, row, w, h)


def raster_bytes(raster):
    return b"".join(b.values.tobytes() + b.mask.tobytes() for b in raster.bands)


# ------------------------------------------------------------------------------ the contract


def test_registered_algorithms_use_the_clients_argument_names():
    import ee

    path = __import__("pathlib").Path(ee.__file__).parent / "tests" / "algorithms.json"
    signatures = {a["name"].split("/")[-1]: a for a in json.loads(path.read_text())["algorithms"]}
    mine = {n: a for n, a in implemented().items()
            if n.split(".")[0] in ("Image", "ImageCollection", "reduce", "Projection", "Terrain")}
    assert len(mine) > 60
    for name, alg in mine.items():
        assert name in signatures, f"{name} is not an Earth Engine algorithm"
        expected = [a["argumentName"] for a in signatures[name].get("arguments", [])]
        required = [a["argumentName"] for a in signatures[name].get("arguments", []) if not a.get("optional")]
        params = list(inspect.signature(alg.function).parameters)
        assert set(params) <= set(expected), (name, params, expected)
        assert set(required) <= set(params), (name, params, required)


def test_band_descriptions_have_the_getinfo_shape(dem, catalog):
    info = dem.info()
    assert info["type"] == "Image" and info["id"] == "SANDBOX/DEM"
    assert info["bands"] == [{
        "id": "elevation",
        "data_type": {"type": "PixelType", "precision": "int", "min": -32768, "max": 32767},
        "crs": "EPSG:4326", "crs_transform": list(DEM_T), "dimensions": [1296000, 648000],
    }]
    lc = catalog.get_image("SANDBOX/LANDCOVER").band_descriptions()[0]
    assert lc["data_type"] == {"type": "PixelType", "precision": "int", "min": 0, "max": 255}
    assert lc["crs_transform"] == [1 / 12000, 0.0, -180.0, 0.0, -1 / 12000, 90.0]


# ------------------------------------------------------------------------------ exactness


def test_a_native_window_is_the_generating_function(dem):
    """The DEM on its native grid is the elevation field at the pixel centres: its broad part
    interpolated between control points 4 pixels apart (so within a few metres of the exact
    field), its detail exact; and a pixel's value does not depend on the request around it."""
    col, row = (180 + 6) * 3600 + 17, (90 - 49) * 3600 + 3
    raster = dem.compute(dem_window(col, row, 64, 48))
    band = raster.bands[0]
    cols = np.arange(col, col + 64)[None, :]
    rows = np.arange(row, row + 48)[:, None]
    exact = synthetic.elevation(-180 + (cols + 0.5) / 3600, 90 - (rows + 0.5) / 3600)
    assert band.values.dtype == np.int16
    assert np.percentile(np.abs(band.values - exact), 99) < 10
    assert band.mask.all()
    assert (band.values > 0).all(), "the test area (Lorraine) is land"
    single = dem.compute(dem_window(col + 5, row + 7, 1, 1)).bands[0].values
    assert single[0, 0] == band.values[7, 5]


def test_terrain_is_plausible(dem):
    world = dem.compute(PixelGrid("EPSG:4326", (0.5, 0, -180, 0, -0.5, 90), 720, 360)).bands[0].values
    assert world.min() < -1000 and 3000 < world.max() <= synthetic.MAX_ELEVATION
    land = (world > 0).mean()
    assert 0.2 < land < 0.5
    # Smooth: neighbours at 1 arc-second rarely differ by more than 30 m.
    patch = dem.compute(dem_window((180 + 6) * 3600, (90 - 49) * 3600, 200, 200)).bands[0].values.astype(int)
    assert np.percentile(np.abs(np.diff(patch, axis=1)), 99) < 30


@pytest.mark.parametrize("kind", ["native", "reprojected"])
def test_four_quarters_give_the_whole(dem, kind):
    if kind == "native":
        whole = dem_window((180 + 6) * 3600 + 5, (90 - 40) * 3600 + 7, 96, 80)
    else:  # DEM resampled onto a UTM grid
        whole = PixelGrid("EPSG:32632", (25.0, 0.0, 240000.0, 0.0, -25.0, 4440000.0), 96, 80)
    full = dem.compute(whole).bands[0]
    top = [dem.compute(whole.window(c, r, 48, 40)).bands[0] for r, c in ((0, 0), (0, 48), (40, 0), (40, 48))]
    stitched = np.block([[top[0].values, top[1].values], [top[2].values, top[3].values]])
    stitched_mask = np.block([[top[0].mask, top[1].mask], [top[2].mask, top[3].mask]])
    assert np.array_equal(stitched, full.values)
    assert np.array_equal(stitched_mask, full.mask)


def test_s2_quarters_and_same_bytes(catalog):
    scene = next(iter(s2.S2Collection().narrowed(s2._to_ms("2020-06-14"), s2._to_ms("2020-06-15"), LAND)
                      .iter_elements()))
    grid = scene.default_grid().window(4000, 5000, 64, 64)
    whole = compute_pixels(scene, grid.to_json(), ["B4", "B8", "QA60"], None, CONFIG)
    again = compute_pixels(s2.scene(*s2.parse_system_index(scene.get("system:index"))), grid.to_json(),
                           ["B4", "B8", "QA60"], None, CONFIG)
    assert raster_bytes(whole) == raster_bytes(again)
    for b in whole.bands:
        q = [compute_pixels(scene, grid.window(c, r, 32, 32).to_json(), [b.name], None, CONFIG).bands[0].values
             for r, c in ((0, 0), (0, 32), (32, 0), (32, 32))]
        assert np.array_equal(np.block([[q[0], q[1]], [q[2], q[3]]]), b.values), b.name


def test_same_request_same_bytes_across_catalogs(dem):
    grid = PixelGrid("EPSG:3857", (30.0, 0.0, 640000.0, 0.0, -30.0, 4870000.0), 70, 50)
    a = compute_pixels(dem, grid.to_json(), None, None, CONFIG)
    b = compute_pixels(ImageCatalog(CONFIG).get_image("SANDBOX/DEM"), grid.to_json(), None, None, CONFIG)
    assert raster_bytes(a) == raster_bytes(b)


# ------------------------------------------------------------------------------ GeoTIFF assets


@pytest.fixture()
def tif_catalog(tmp_path):
    from osgeo import gdal, osr

    w, h = 60, 40
    ds = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "ids.tif"), w, h, 2, gdal.GDT_Int32)
    ds.SetGeoTransform((500000.0, 30.0, 0.0, 4430000.0, 0.0, -30.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds.SetProjection(srs.ExportToWkt())
    ids = np.arange(w * h, dtype=np.int32).reshape(h, w)
    ds.GetRasterBand(1).WriteArray(ids)
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds.GetRasterBand(2).WriteArray(ids * 2 + 2)  # GeoTIFF nodata (0) is per file
    ds.GetRasterBand(2).SetDescription("double")
    ds = None
    return ImageCatalog(SandboxConfig(data_dir=tmp_path)), ids


def test_geotiff_asset_aligned_request_returns_the_file(tif_catalog):
    catalog, ids = tif_catalog
    image = catalog.get_image("projects/sandbox/assets/ids")
    assert image.band_names() == ["b1", "double"]
    desc = catalog.asset_description("projects/sandbox/assets/ids")
    assert desc["type"] == "IMAGE" and desc["bands"][0]["grid"]["crsCode"] == "EPSG:32631"
    assert desc["bands"][0]["dataType"] == {"precision": "INT", "range": {"min": -2147483648, "max": 2147483647}}
    raster = compute_pixels(image, None, None, None, CONFIG)
    assert (raster.grid.width, raster.grid.height) == (60, 40)
    assert np.array_equal(raster.bands[0].values, ids)
    assert np.array_equal(raster.bands[1].values, ids * 2 + 2) and raster.bands[1].mask.all()
    assert not raster.bands[0].mask[0, 0] and raster.bands[0].mask[0, 1]  # nodata 0 masked
    # A window partly outside the file: the outside is masked and zero.
    grid = PixelGrid("EPSG:32631", (30.0, 0, 500000.0 + 30 * 50, 0, -30.0, 4430000.0), 20, 5)
    part = compute_pixels(image, grid.to_json(), ["double"], None, CONFIG).bands[0]
    assert part.mask[:, :10].all() and not part.mask[:, 10:].any()
    assert np.array_equal(part.values[:, :10], ids[:5, 50:] * 2 + 2) and not part.values[:, 10:].any()
    assert [d["id"] for d in catalog.list_children("projects/sandbox/assets")] == ["projects/sandbox/assets/ids"]


def test_reprojection_takes_the_native_pixel_containing_each_centre(tif_catalog):
    catalog, ids = tif_catalog
    image = catalog.get_image("projects/sandbox/assets/ids")
    lon0, lat0 = transform_xy("EPSG:32631", "EPSG:4326", np.array([500000.0]), np.array([4430000.0]))
    grid = PixelGrid("EPSG:4326", (0.0002, 0.0, float(lon0[0]) - 0.001, 0.0, -0.0002, float(lat0[0]) + 0.001), 120, 80)
    band = compute_pixels(image, grid.to_json(), ["double"], None, CONFIG).bands[0]
    assert band.mask.sum() > 1000 and not band.mask.all()
    # Round trip: the chosen native pixel's centre is within half a pixel of the output centre.
    cols, rows = np.meshgrid(np.arange(120) + 0.5, np.arange(80) + 0.5)
    lon = grid.transform[2] + cols * grid.transform[0]
    lat = grid.transform[5] + rows * grid.transform[4]
    x, y = transform_xy("EPSG:4326", "EPSG:32631", lon, lat)
    chosen = (band.values[band.mask] - 2) // 2
    cx = 500000.0 + (chosen % 60 + 0.5) * 30.0
    cy = 4430000.0 - (chosen // 60 + 0.5) * 30.0
    assert np.abs(cx - x[band.mask]).max() <= 15.0 + 1e-6
    assert np.abs(cy - y[band.mask]).max() <= 15.0 + 1e-6
    # Outside the file's extent: masked.
    inside = (x >= 500000) & (x < 501800) & (y <= 4430000) & (y > 4428800)
    assert np.array_equal(band.mask, inside)


# ------------------------------------------------------------------------------ masks, maths


def test_s2_scene_is_masked_outside_its_tile():
    scene = next(iter(s2.S2Collection().narrowed(s2._to_ms("2020-06-14"), s2._to_ms("2020-06-15"), LAND)
                      .iter_elements()))
    proj = scene.bands[0].projection
    grid = proj.grid(10980 - 20, 100, 40, 10)  # half inside, half beyond the tile's east edge
    band = compute_pixels(scene, grid.to_json(), ["B8"], None, CONFIG).bands[0]
    assert band.mask[:, :20].all() and not band.mask[:, 20:].any()
    assert not band.values[:, 20:].any()


def test_clip_and_update_mask(dem):
    grid = dem_window((180 + 6) * 3600, (90 - 40) * 3600, 40, 40)
    x0, _, _, y1 = 6.0, None, None, 40.0
    triangle = Polygon([(x0, y1), (x0 + 40.25 / 3600, y1), (x0, y1 - 40.25 / 3600)])
    clipped = call("Image.clip", input=dem, geometry=triangle)
    m = clipped.compute(grid).bands[0].mask
    r, c = np.mgrid[0:40, 0:40]
    assert np.array_equal(m, (r + c + 1) < 40.25)  # pixels whose centre is inside the triangle
    high = call("Image.updateMask", image=dem, mask=call("Image.gt", image1=dem, image2=call("Image.constant", value=500)))
    v = dem.compute(grid).bands[0].values
    assert np.array_equal(high.compute(grid).bands[0].mask, v > 500)
    filled = call("Image.unmask", input=high, value=-1, sameFootprint=False).compute(grid).bands[0]
    assert filled.mask.all() and np.array_equal(filled.values, np.where(v > 500, v, -1))


def test_type_promotion_and_saturation():
    c = lambda v: call("Image.constant", value=v)  # noqa: E731
    grid = PixelGrid("EPSG:4326", (1.0, 0, 0, 0, -1.0, 0), 2, 2)
    u8 = call("Image.toUint8", value=c(200))
    total = call("Image.add", image1=u8, image2=call("Image.toUint8", value=c(100)))
    assert total.bands[0].pixel_type.to_info() == {"type": "PixelType", "precision": "int", "min": 0, "max": 255}
    assert total.compute(grid).bands[0].values[0, 0] == 255
    assert c(1).info()["bands"][0]["data_type"] == {"type": "PixelType", "precision": "int", "min": 1, "max": 1}
    half = call("Image.divide", image1=call("Image.toInt16", value=c(7)), image2=c(2)).compute(grid).bands[0]
    assert half.values.dtype == np.int16 and half.values[0, 0] == 3
    assert call("Image.divide", image1=c(7), image2=c(0)).compute(grid).bands[0].values[0, 0] == 0
    scaled = call("Image.multiply", image1=call("Image.toUint16", value=c(1234)), image2=c(0.0001))
    assert scaled.bands[0].pixel_type.precision == "double"
    assert scaled.compute(grid).bands[0].values[0, 0] == pytest.approx(0.1234)
    eq = call("Image.eq", image1=c(3), image2=c(3)).compute(grid).bands[0]
    assert eq.values.dtype == np.uint8 and eq.values.all()


def test_band_selection_renaming_and_errors(dem):
    img = call("Image.addBands", dstImg=dem, srcImg=call("Image.constant", value=[1, 2]))
    assert img.band_names() == ["elevation", "constant_0", "constant_1"]
    assert call("Image.select", input=img, bandSelectors=["constant_.*"]).band_names() == ["constant_0", "constant_1"]
    assert call("Image.select", input=img, bandSelectors=[2, 0], newNames=["b", "e"]).band_names() == ["b", "e"]
    assert call("Image.rename", input=dem, names=["h"]).band_names() == ["h"]
    with pytest.raises(EEError, match="Image.select: Pattern 'nope' did not match any bands."):
        call("Image.select", input=dem, bandSelectors=["nope"])
    with pytest.raises(EEError, match="not found"):
        call("Image.load", id="SANDBOX/NOPE")
    with pytest.raises(EEError, match="different projections"):
        call("Image.projection", image=img.with_bands([img.bands[0], call("Image.reproject", image=dem, crs="EPSG:32631", scale=30).bands[0]]))


def test_projection_algorithms(dem):
    proj = call("Image.projection", image=dem)
    assert proj.to_info() == {"type": "Projection", "crs": "EPSG:4326", "transform": list(DEM_T)}
    assert call("Projection.nominalScale", proj=proj) == pytest.approx(30.92, abs=0.01)
    utm = call("Projection", crs="EPSG:32631", transform=[10, 0, 500000, 0, -10, 4500000])
    assert call("Projection.atScale", projection=utm, meters=30).transform == (30.0, 0.0, 500000.0, 0.0, -30.0, 4500000.0)
    assert call("Projection.crs", projection=utm) == "EPSG:32631"


# ------------------------------------------------------------------------------ grids


def test_reproject_then_export_rectangle_is_exactly_the_grid(dem):
    """The client's export path: reproject(crs, crsTransform) then clipToBoundsAndScale with
    Rectangle([0, 0, w, h], proj=image.projection()) — the rectangle is in pixel units."""
    t = [30.0, 0.0, 560000.0, 0.0, -30.0, 4430000.0]
    rep = call("Image.reproject", image=dem, crs="EPSG:32631", crsTransform=t)
    proj = call("Image.projection", image=rep)
    rect = proj.pixel_shape_to_crs(box(0, 0, 50, 40))
    from eeextract_plugin.sandbox.model.geometry import Geometry

    out = call("Image.clipToBoundsAndScale", input=rep, geometry=Geometry(rect, "EPSG:32631", False))
    grid = out.default_grid()
    assert grid == PixelGrid("EPSG:32631", tuple(t), 50, 40)
    raster = compute_pixels(out, None, None, None, CONFIG)
    assert raster.bands[0].mask.all()
    assert np.array_equal(raster.bands[0].values, dem.compute(grid).bands[0].values)


def test_clip_to_bounds_and_scale_with_scale(dem):
    out = call("Image.clipToBoundsAndScale", input=dem, geometry=box(6.0, 40.0, 6.1, 40.05), scale=1000)
    grid = out.default_grid()
    assert grid.crs == "EPSG:4326" and grid.transform[2] == 6.0 and grid.transform[5] == 40.05
    assert (grid.width, grid.height) == (12, 6)


def test_asset_pixels_region_picks_the_native_window(dem):
    region = {"type": "Polygon", "coordinates": [[[6.0, 40.0], [6.01, 40.0], [6.01, 40.01], [6.0, 40.01], [6.0, 40.0]]]}
    raster = asset_pixels(dem, None, region, None, None, CONFIG)
    assert (raster.grid.width, raster.grid.height) == (36, 36)
    assert raster.grid.transform[2] == pytest.approx(6.0) and raster.grid.transform[5] == pytest.approx(40.01)
    assert raster.bands[0].mask.all()
    with pytest.raises(EEError, match=r"Pixel grid dimensions \(1296000x648000\)"):
        asset_pixels(dem, None, None, None, None, CONFIG)  # the whole globe at 1"


def test_unbounded_image_needs_a_grid():
    with pytest.raises(EEError, match="unbounded"):
        compute_pixels(call("Image.constant", value=1), None, None, None, CONFIG)


# ------------------------------------------------------------------------------ limits


def test_limits_count_one_mask_byte_per_band_and_fail_before_computing(dem, monkeypatch):
    monkeypatch.setattr(type(dem.bands[0]), "sample", lambda *a, **k: pytest.fail("computed"))
    grid = dem_window(0, 0, 4096, 4097).to_json()
    with pytest.raises(EEError) as err:
        compute_pixels(dem, grid, None, None, CONFIG)
    assert err.value.code == 400
    assert err.value.message == "Total request size (50343936 bytes) must be less than or equal to 50331648 bytes."
    check_limits(dem_window(0, 0, 4096, 4096), 1, 3 * 4096 * 4096, CONFIG)  # exactly the limit: fine
    with pytest.raises(EEError, match=r"^Pixel grid dimensions \(32769x1\) must be less than or equal to 32768\.$"):
        compute_pixels(dem, dem_window(0, 0, 32769, 1).to_json(), None, None, CONFIG)
    three = call("Image.addBands", dstImg=dem, srcImg=call("Image.constant", value=[1, 2]))
    with pytest.raises(EEError, match=r"Number of bands \(3\) must be less than or equal to 2"):
        compute_pixels(three, dem_window(0, 0, 4, 4).to_json(), None, None, SandboxConfig(max_bands=2))


def test_landcover_payload_is_two_bytes_per_pixel(catalog):
    lc = catalog.get_image("SANDBOX/LANDCOVER")
    grid = PixelGrid("EPSG:4326", lc.bands[0].projection.transform, 5000, 5034).to_json()
    with pytest.raises(EEError, match=r"\(50340000 bytes\)"):
        compute_pixels(lc, grid, None, None, CONFIG)


# ------------------------------------------------------------------------------ S2 collection


def test_unfiltered_s2_counts_without_generating_and_refuses_to_list():
    coll = s2.S2Collection()
    n_tiles = len(s2.tiles()[0])
    assert 5000 < n_tiles < 40000
    assert coll.count() == s2.N_DATES * n_tiles
    with pytest.raises(EEError, match="Collection query aborted after accumulating over 5000 elements."):
        coll.elements()


def test_s2_filters_are_pushed_down_into_generation():
    from eeextract_plugin.sandbox.model.date import DateRange
    from eeextract_plugin.sandbox.model.geometry import Geometry

    start, end = s2._to_ms("2020-06-01"), s2._to_ms("2020-07-01")
    date_f = call("Filter.dateRangeContains", leftValue=DateRange(start, end), rightField="system:time_start")
    bounds_f = call("Filter.intersects", leftField=".all", rightValue=Geometry(LAND))
    coll = s2.S2Collection().apply_filter(call("Filter.and", filters=[date_f, bounds_f]))
    assert isinstance(coll.base, s2.S2Collection) and coll.base.region is not None
    assert coll.base.count() < 100
    images = coll.elements()
    assert len(images) == coll.count() > 0
    tiles = {i.get("MGRS_TILE") for i in images}
    assert len(tiles) >= 2 and {t[:2] for t in tiles} == {"31", "32"}  # both UTM zones
    for image in images:
        assert start <= image.get("system:time_start") < end
        assert image.footprint().intersects(LAND)
        assert image.bands[0].projection.crs in ("EPSG:32631", "EPSG:32632")
    # Each scene comes back from its id.
    first = images[0]
    again = ImageCatalog(CONFIG).get_image("SANDBOX/S2_SR/" + first.get("system:index"))
    assert again.properties == first.properties
    assert [b["dimensions"] for b in again.band_descriptions()] == [[10980, 10980]] * 4 + [[5490, 5490], [1830, 1830]]


def test_list_children_understands_the_clients_filter():
    from ee import _cloud_api_utils

    params = _cloud_api_utils.convert_list_images_params_to_list_assets_params({
        "parent": "projects/earthengine-public/assets/SANDBOX/S2_SR",
        "startTime": "2020-06-01T00:00:00.000Z", "endTime": "2020-06-11T00:00:00.000Z",
        "region": json.dumps(json.loads(json.dumps(LAND.__geo_interface__))),
        "properties": ["CLOUDY_PIXEL_PERCENTAGE<50"],
    })
    terms = parse_list_filter(params["filter"])
    assert [t[0] for t in terms] == ["startTime", "endTime", "intersects", "properties.CLOUDY_PIXEL_PERCENTAGE"]
    listed = ImageCatalog(CONFIG).list_children(params["parent"], params["filter"])
    assert listed and all(a["type"] == "IMAGE" and a["id"].startswith("SANDBOX/S2_SR/") for a in listed)
    assert all("2020-06-01" <= a["startTime"][:10] < "2020-06-11" for a in listed)
    assert all(a["properties"]["CLOUDY_PIXEL_PERCENTAGE"] < 50 for a in listed)
    assert all(set(a["bands"][0]["grid"]) == {"crsCode", "affineTransform", "dimensions"} for a in listed)
    page = ImageCatalog(CONFIG).list_children(params["parent"], params["filter"], 1, 1)
    assert page == listed[1:2]


def test_clouds_agree_with_qa60_and_the_cloudy_percentage():
    coll = s2.S2Collection().narrowed(s2._to_ms("2020-01-01"), s2._to_ms("2020-12-31"), LAND)
    cloudy = next(i for i in coll.iter_elements() if 30 < i.get("CLOUDY_PIXEL_PERCENTAGE") < 70)
    band = cloudy.bands[0]
    grid = band.projection.grid(0, 0, 10980, 10980)
    coarse = PixelGrid(grid.crs, (1830.0, 0.0, grid.transform[2], 0.0, -1830.0, grid.transform[5]), 60, 60)
    r = cloudy.compute(coarse, ["B2", "B8", "QA60"])
    qa = r.bands[2].values
    flagged = (qa & 3072) != 0
    assert abs(flagged.mean() * 100 - cloudy.get("CLOUDY_PIXEL_PERCENTAGE")) < 10
    opaque = (qa & 1024) != 0
    assert r.bands[0].values[opaque].mean() > 4000 > r.bands[0].values[~flagged].mean()


def test_ndvi_composite_across_two_utm_zones_is_plausible(catalog):
    from eeextract_plugin.sandbox.model.date import DateRange
    from eeextract_plugin.sandbox.model.geometry import Geometry

    coll = call("ImageCollection.load", id="SANDBOX/S2_SR")
    f = call("Filter.and", filters=[
        call("Filter.dateRangeContains", leftValue=DateRange(s2._to_ms("2020-06-01"), s2._to_ms("2020-09-01")),
             rightField="system:time_start"),
        call("Filter.intersects", leftField=".all", rightValue=Geometry(LAND))])
    coll = call("Collection.filter", collection=coll, filter=f)

    def mask_clouds(image):
        qa = call("Image.select", input=image, bandSelectors=["QA60"])
        clear = call("Image.eq", image1=call("Image.bitwiseAnd", image1=qa, image2=call("Image.constant", value=3072)),
                     image2=call("Image.constant", value=0))
        return call("Image.updateMask", image=image, mask=clear)

    median = call("reduce.median", collection=coll.map(mask_clouds))
    assert median.band_names() == ["B2", "B3", "B4", "B8", "B11", "QA60"]
    assert median.bands[2].pixel_type.precision == "double"
    ndvi = call("Image.normalizedDifference", input=median, bandNames=["B8", "B4"])
    grid = PixelGrid("EPSG:4326", (0.002, 0.0, 5.8, 0.0, -0.002, 49.6), 200, 100)  # straddles 6°E
    nd = compute_pixels(ndvi, grid.to_json(), None, None, CONFIG).bands[0]
    assert nd.values.dtype == np.float32 and nd.mask.all()
    assert nd.values.min() >= -1 and nd.values.max() <= 1
    classes = catalog.get_image("SANDBOX/LANDCOVER").compute(grid).bands[0].values
    vegetated = np.isin(classes, (10, 30, 40))
    assert vegetated[:, :100].any() and vegetated[:, 100:].any()
    assert np.median(nd.values[vegetated]) > 0.5
    if (classes == 80).any():
        assert np.median(nd.values[classes == 80]) < 0.1
    # A mosaic and ImageCollection.reduce with the evaluator's Reducer work on the same grid.
    mosaic = call("ImageCollection.mosaic", collection=coll).compute(grid, ["B8"]).bands[0]
    assert mosaic.mask.all()
    reduced = call("ImageCollection.reduce", collection=coll, reducer=call("Reducer.mean"))
    assert reduced.band_names()[:2] == ["B2_mean", "B3_mean"]
    small = grid.window(90, 40, 20, 20)
    mean_b8 = reduced.compute(small, ["B8_mean"]).bands[0]
    shortcut = call("reduce.mean", collection=coll).compute(small, ["B8"]).bands[0]
    assert mean_b8.mask.all() and np.allclose(mean_b8.values, shortcut.values)


def test_visualize_palette_and_gray():
    c = call("Image.constant", value=50)
    grid = PixelGrid("EPSG:4326", (1.0, 0, 0, 0, -1.0, 0), 1, 1)
    rgb = call("Image.visualize", image=c, min=0, max=100, palette=["000000", "ff0000", "#ffffff"])
    r = rgb.compute(grid)
    assert [b.name for b in r.bands] == ["vis-red", "vis-green", "vis-blue"]
    assert [int(b.values[0, 0]) for b in r.bands] == [255, 0, 0]
    gray = call("Image.visualize", image=c, min=0, max=200)
    assert [(b.name, int(b.values[0, 0])) for b in gray.compute(grid).bands] == [("vis-gray", 64)]
    vis = compute_pixels(c, grid.to_json(), None, {"ranges": [{"min": 0, "max": 100}], "paletteColors": ["black", "white"]},
                         CONFIG)
    assert [int(b.values[0, 0]) for b in vis.bands] == [128, 128, 128]


def test_landcover_has_coherent_patches_of_ten_classes(catalog):
    lc = catalog.get_image("SANDBOX/LANDCOVER")
    # The world at 1° (a coarse view reads the land cover's mode pyramid): all ten classes.
    world = lc.compute(PixelGrid("EPSG:4326", (1.0, 0, -180, 0, -1.0, 84), 360, 140)).bands[0].values
    assert set(np.unique(world)) == set(range(10, 101, 10))
    patch = lc.compute(PixelGrid("EPSG:4326", lc.bands[0].projection.transform, 300, 300)
                       .window(186 * 12000, 41 * 12000, 300, 300)).bands[0].values
    assert (patch[:, 1:] == patch[:, :-1]).mean() > 0.9  # neighbours mostly share a class
    assert len(np.unique(patch)) >= 2


def test_geometry_date_lonlat_area_blend_and_to_bands(dem):
    scene = next(iter(s2.S2Collection().narrowed(s2._to_ms("2020-06-14"), s2._to_ms("2020-06-15"), LAND)
                      .iter_elements()))
    geometry = call("Image.geometry", feature=scene)
    assert geometry.to_wgs84().equals(scene.footprint())
    assert call("Image.geometry", feature=dem).to_wgs84().bounds == (-180, -90, 180, 90)
    assert call("Image.date", image=scene).millis == scene.get("system:time_start")
    grid = PixelGrid("EPSG:4326", (1.0, 0, 10, 0, -1.0, 1), 2, 2)
    ll = call("Image.pixelLonLat").compute(grid)
    assert ll.bands[0].values.tolist() == [[10.5, 11.5]] * 2 and ll.bands[1].values.tolist() == [[0.5] * 2, [-0.5] * 2]
    area = call("Image.pixelArea").compute(grid).bands[0].values
    assert area[0, 0] == pytest.approx(111195 ** 2 * 0.99996, rel=1e-3)
    masked = call("Image.updateMask", image=call("Image.constant", value=5), mask=call("Image.constant", value=0))
    blended = call("Image.blend", bottom=call("Image.constant", value=1), top=masked).compute(grid).bands[0]
    assert blended.values.tolist() == [[1, 1], [1, 1]] and blended.mask.all()
    coll = call("ImageCollection.fromImages", images=[scene, scene])
    assert call("ImageCollection.toBands", collection=coll).band_names()[:2] == [
        scene.get("system:index") + "_B2", scene.get("system:index") + "_B3"]


def test_invalid_grids_are_refused(dem):
    bad = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": 0, "scaleY": -1}, "dimensions": {"width": 2, "height": 2}}
    with pytest.raises(EEError, match="invertible"):
        compute_pixels(dem, bad, None, None, CONFIG)
    with pytest.raises(EEError, match="CRS"):
        compute_pixels(dem, {**bad, "crsCode": "EPSG:999999", "affineTransform": {"scaleX": 1}}, None, None, CONFIG)
    with pytest.raises(EEError, match="Image.select: Pattern 'B4' did not match any bands."):
        compute_pixels(dem, dem_window(0, 0, 2, 2).to_json(), ["B4"], None, CONFIG)


def test_thumbnail_of_a_global_image_without_region(dem):
    thumb = call("Image.clipToBoundsAndScale", input=dem, maxDimension=64)
    grid = thumb.default_grid()
    assert (grid.width, grid.height) == (64, 32) and grid.transform[2] == -180 and grid.transform[5] == 90


def test_a_composite_of_an_unbounded_filter_only_generates_scenes_over_the_grid(monkeypatch):
    """ImageCollection.filterDate(...).sort(...).median() with no filterBounds: the requested grid's
    bounds are pushed into generation (else a month of the whole world would be ~150000 scenes)."""
    from eeextract_plugin.sandbox.model.date import DateRange

    coll = call("ImageCollection.load", id="SANDBOX/S2_SR")
    f = call("Filter.dateRangeContains", leftValue=DateRange(s2._to_ms("2020-06-01"), s2._to_ms("2020-06-16")),
             rightField="system:time_start")
    coll = call("Collection.limit", collection=call("Collection.filter", collection=coll, filter=f),
                key="system:time_start")
    generated = []
    real_scene = s2.scene
    monkeypatch.setattr(s2, "scene", lambda k, t: generated.append((k, t.name)) or real_scene(k, t))
    median = call("reduce.median", collection=coll)
    grid = PixelGrid("EPSG:4326", (0.01, 0.0, 5.9, 0.0, -0.01, 49.55), 20, 10)
    band = median.compute(grid, ["B8"]).bands[0]
    assert band.mask.all()
    assert len(generated) < 40


def test_image_expression(dem):
    grid = dem_window((180 + 6) * 3600, (90 - 40) * 3600, 8, 4)
    elev = dem.compute(grid).bands[0].values.astype(np.float64)
    run = call("Image.parseExpression", expression="(b('elevation') - x) / 2.0 + elevation % 7 - -1",
               argName="DEFAULT_EXPRESSION_IMAGE", vars=["DEFAULT_EXPRESSION_IMAGE", "x"])
    out = run(DEFAULT_EXPRESSION_IMAGE=dem, x=call("Image.constant", value=100)).compute(grid).bands[0]
    assert np.allclose(out.values, (elev - 100) / 2.0 + np.fmod(elev, 7) + 1)
    run = call("Image.parseExpression", expression="img.elevation > 300 && !(img[0] > 9000) ? 1 : img['elevation'] * 0",
               argName="DEFAULT_EXPRESSION_IMAGE", vars=["DEFAULT_EXPRESSION_IMAGE", "img"])
    out = run(DEFAULT_EXPRESSION_IMAGE=dem, img=dem).compute(grid).bands[0]
    assert np.array_equal(out.values, (elev > 300).astype(out.values.dtype))
    run = call("Image.parseExpression", expression="max(sqrt(abs(elevation)), 2) ** 2",
               argName="DEFAULT_EXPRESSION_IMAGE", vars=["DEFAULT_EXPRESSION_IMAGE"])
    assert np.allclose(run(DEFAULT_EXPRESSION_IMAGE=dem).compute(grid).bands[0].values, np.maximum(np.abs(elev), 4))
    for bad, message in (("elevation +", "Unexpected"), ("nope * 2", "not defined"), ("frob(1)", "Unknown function")):
        with pytest.raises(EEError, match=message):
            call("Image.parseExpression", expression=bad, argName="D", vars=["D"])(D=dem)


def test_quality_mosaic_takes_each_pixel_from_the_best_image():
    grid = PixelGrid("EPSG:4326", (1.0, 0, 0, 0, -1.0, 0), 2, 1)
    lon = call("Image.select", input=call("Image.pixelLonLat"), bandSelectors=["longitude"])

    def image(value, quality):
        return call("Image.addBands", dstImg=call("Image.rename", input=call("Image.constant", value=value), names=["v"]),
                    srcImg=call("Image.rename", input=quality, names=["q"]))

    a = image(1, lon)  # quality 0.5, 1.5
    b = image(2, call("Image.subtract", image1=call("Image.constant", value=2), image2=lon))  # 1.5, 0.5
    mosaic = call("ImageCollection.qualityMosaic", collection=call("ImageCollection.fromImages", images=[a, b]),
                  qualityBand="q").compute(grid)
    assert mosaic.band_names == ["v", "q"]
    assert mosaic.bands[0].values.tolist() == [[2, 1]] and mosaic.bands[1].values.tolist() == [[1.5, 1.5]]


def test_renamed_bands_keep_their_pixels():
    scene = next(iter(s2.S2Collection().narrowed(s2._to_ms("2020-06-14"), s2._to_ms("2020-06-15"), LAND)
                      .iter_elements()))
    grid = scene.bands[0].projection.grid(100, 100, 8, 8)
    renamed = call("Image.select", input=scene, bandSelectors=["B8", "QA60"], newNames=["nir", "qa"])
    a = renamed.compute(grid)
    b = scene.compute(grid, ["B8", "QA60"])
    assert a.band_names == ["nir", "qa"]
    assert all(np.array_equal(x.values, y.values) for x, y in zip(a.bands, b.bands))
    lonlat = call("Image.rename", input=call("Image.pixelLonLat"), names=["x", "y"]).compute(grid)
    assert lonlat.bands[0].values.max() < 10 < 30 < lonlat.bands[1].values.min()


def test_large_grids_are_computed_in_strips_that_join_exactly(dem, monkeypatch):
    from eeextract_plugin.sandbox.imagery import image as image_module

    grid = PixelGrid("EPSG:32632", (25.0, 0.0, 240000.0, 0.0, -25.0, 4440000.0), 50, 40)
    whole = dem.compute(grid).bands[0]
    monkeypatch.setattr(image_module, "STRIP_PIXELS", 50 * 7)  # strips of 7 rows, the last one shorter
    strips = dem.compute(grid).bands[0]
    assert np.array_equal(whole.values, strips.values) and np.array_equal(whole.mask, strips.mask)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_resample_interpolates_between_native_pixel_centres(tif_catalog, mode):
    catalog, ids = tif_catalog
    image = call("Image.select", input=catalog.get_image("projects/sandbox/assets/ids"), bandSelectors=["double"])
    smooth = call("Image.resample", image=image, mode=mode)
    native = compute_pixels(image, None, None, None, CONFIG).grid
    assert np.array_equal(smooth.compute(native).bands[0].values, ids * 2 + 2)  # the native grid: native values
    # Half a pixel off the native lattice, in the middle of the file: a linear ramp stays linear.
    grid = PixelGrid("EPSG:32631", (30.0, 0, 500000.0 + 15 + 30 * 10, 0, -30.0, 4430000.0 - 15 - 30 * 10), 8, 8)
    out = smooth.compute(grid).bands[0]
    expected = (ids[10:18, 10:18] + ids[11:19, 11:19]) + 2  # mean of the 4 neighbours of a linear ramp, ×2, +2
    assert out.mask.all() and np.array_equal(out.values, expected)
    with pytest.raises(EEError, match="Unknown resampling mode"):
        call("Image.resample", image=image, mode="lanczos")


def test_a_wkt_grid_is_the_same_as_its_epsg_code(dem):
    from pyproj import CRS

    grid = PixelGrid("EPSG:32632", (30.0, 0.0, 240000.0, 0.0, -30.0, 4440000.0), 16, 8)
    as_wkt = {**grid.to_json(), "crsWkt": CRS.from_epsg(32632).to_wkt()}
    del as_wkt["crsCode"]
    a = compute_pixels(dem, grid.to_json(), None, None, CONFIG)
    b = compute_pixels(dem, as_wkt, None, None, CONFIG)
    assert raster_bytes(a) == raster_bytes(b)


def test_terrain_on_a_known_plane(tif_catalog, dem):
    catalog, ids = tif_catalog
    plane = call("Image.select", input=catalog.get_image("projects/sandbox/assets/ids"), bandSelectors=["double"])
    grid = compute_pixels(plane, None, None, None, CONFIG).grid.window(5, 5, 20, 10)
    # z = 2 * (60 r + c) + 2 on 30 m pixels: east gradient 2/30, north gradient +120/30 (rows go south).
    products = call("Terrain.products", input=plane).compute(grid)
    assert products.band_names == ["double", "slope", "aspect", "hillshade"]
    slope, aspect, shade = products.bands[1], products.bands[2], products.bands[3]
    assert slope.mask.all() and aspect.mask.all()
    assert np.allclose(slope.values, np.degrees(np.arctan(np.hypot(2 / 30, 4))), atol=1e-4)
    assert np.allclose(aspect.values, np.degrees(np.arctan2(-2 / 30, 4)) % 360, atol=1e-3)  # faces north
    assert shade.values.dtype == np.uint8
    # Tiles join exactly (each pixel reads its neighbours on the same lattice).
    whole = call("Terrain.slope", input=dem).compute(dem_window((180 + 6) * 3600, (90 - 40) * 3600, 40, 20)).bands[0]
    left = call("Terrain.slope", input=dem).compute(dem_window((180 + 6) * 3600, (90 - 40) * 3600, 20, 20)).bands[0]
    assert np.array_equal(whole.values[:, :20], left.values) and whole.values.max() < 90
    # Beside the edge of a stored image: masked.
    edge = call("Terrain.slope", input=plane).compute(compute_pixels(plane, None, None, None, CONFIG).grid).bands[0]
    assert not edge.mask[0].any() and edge.mask[1:-1, 1:-1].all()
    assert call("Image.metadata", image=dem.with_properties({"k": 3}), property="k").compute(grid).bands[0].values[0, 0] == 3
