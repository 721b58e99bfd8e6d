"""Imagery end to end: the unmodified ``ee`` client against the session's sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.imagery.catalog import ImageCatalog
from eeextract_plugin.sandbox.raster import PixelGrid

DEM_GRID = {
    "crsCode": "EPSG:4326",
    "affineTransform": {"scaleX": 1 / 3600, "shearX": 0, "translateX": 6.0, "shearY": 0,
                        "scaleY": -1 / 3600, "translateY": 49.5},
    "dimensions": {"width": 64, "height": 32},
}
# Luxembourg and Lorraine, across the boundary of UTM zones 31 and 32.
REGION = [5.8, 49.4, 6.2, 49.6]


def expected_dem(grid):
    """The DEM computed in this process, pixel by pixel on its own (not through the server)."""
    at, dims = grid["affineTransform"], grid["dimensions"]
    band = ImageCatalog(SandboxConfig()).get_image("SANDBOX/DEM").bands[0]
    col0 = round((at["translateX"] + 180) * 3600)
    row0 = round((90 - at["translateY"]) * 3600)
    out = np.zeros((dims["height"], dims["width"]), np.int16)
    for r in range(dims["height"]):
        for c in range(0, dims["width"], 16):
            one = PixelGrid("EPSG:4326", (1 / 3600, 0, -180, 0, -1 / 3600, 90), 1, 1).window(col0 + c, row0 + r, 1, 1)
            out[r, c] = band.compute(one)[0][0, 0]
    return out


def test_compute_pixels_npy_on_the_native_grid(ee_sandbox):
    ee = ee_sandbox
    arr = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                                 "grid": DEM_GRID})
    assert arr.dtype.names == ("elevation",) and arr.shape == (32, 64)
    assert np.array_equal(arr["elevation"][:, ::16], expected_dem(DEM_GRID)[:, ::16])
    assert (arr["elevation"] > 0).all()  # Lorraine is land


def test_compute_pixels_geotiff_is_georeferenced_on_the_grid(ee_sandbox, tmp_path):
    from osgeo import gdal

    ee = ee_sandbox
    data = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "GEO_TIFF",
                                  "grid": DEM_GRID})
    path = tmp_path / "dem.tif"
    path.write_bytes(data)
    ds = gdal.Open(str(path))
    assert (ds.RasterXSize, ds.RasterYSize) == (64, 32)
    assert ds.GetGeoTransform() == pytest.approx((6.0, 1 / 3600, 0.0, 49.5, 0.0, -1 / 3600))
    assert np.array_equal(ds.GetRasterBand(1).ReadAsArray()[:, ::16], expected_dem(DEM_GRID)[:, ::16])


def test_get_pixels_of_the_dem_asset_equals_compute_pixels(ee_sandbox):
    ee = ee_sandbox
    pixels = ee.data.getPixels({"assetId": "SANDBOX/DEM", "fileFormat": "NUMPY_NDARRAY", "grid": DEM_GRID})
    computed = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                                      "grid": DEM_GRID})
    assert np.array_equal(pixels["elevation"], computed["elevation"])
    assert np.array_equal(pixels["elevation"][:, ::16], expected_dem(DEM_GRID)[:, ::16])


def test_quarters_through_the_client_equal_the_whole(ee_sandbox):
    ee = ee_sandbox
    image = ee.Image("SANDBOX/DEM").reproject("EPSG:32632", [30, 0, 240000, 0, -30, 4440000])
    grid = {"crsCode": "EPSG:32632", "affineTransform": {"scaleX": 30, "shearX": 0, "translateX": 240000,
                                                         "shearY": 0, "scaleY": -30, "translateY": 4440000},
            "dimensions": {"width": 40, "height": 30}}
    whole = ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid})["elevation"]
    parts = []
    for dy in (0, 15):
        row = []
        for dx in (0, 20):
            g = {**grid, "dimensions": {"width": 20, "height": 15},
                 "affineTransform": {**grid["affineTransform"], "translateX": 240000 + 30 * dx,
                                     "translateY": 4440000 - 30 * dy}}
            row.append(ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": g})["elevation"])
        parts.append(row)
    assert np.array_equal(np.block(parts), whole)


def test_payload_limit_counts_the_mask_byte(ee_sandbox):
    ee = ee_sandbox
    grid = {**DEM_GRID, "dimensions": {"width": 4096, "height": 4097}}
    with pytest.raises(ee.EEException, match=r"^Total request size \(50343936 bytes\) must be less than or equal "
                                             r"to 50331648 bytes\.$"):
        ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY", "grid": grid})


def test_s2_collection_filters_composite_and_listing(ee_sandbox):
    ee = ee_sandbox
    region = ee.Geometry.Rectangle(REGION)
    coll = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2020-06-01", "2020-07-01").filterBounds(region)
    assert 0 < coll.size().getInfo() < 40
    scene = coll.first().getInfo()
    assert [b["id"] for b in scene["bands"]] == ["B2", "B3", "B4", "B8", "B11", "QA60"]
    assert scene["bands"][0]["crs"] in ("EPSG:32631", "EPSG:32632")
    assert {"system:time_start", "system:index", "CLOUDY_PIXEL_PERCENTAGE", "MGRS_TILE"} <= set(scene["properties"])

    def mask_clouds(image):
        return image.updateMask(image.select("QA60").bitwiseAnd(3072).eq(0))

    ndvi = coll.map(mask_clouds).median().normalizedDifference(["B8", "B4"])
    grid = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": 0.004, "shearX": 0, "translateX": 5.8, "shearY": 0,
                                                        "scaleY": -0.004, "translateY": 49.6},
            "dimensions": {"width": 100, "height": 50}}
    nd = ee.data.computePixels({"expression": ndvi, "fileFormat": "NUMPY_NDARRAY", "grid": grid})["nd"]
    assert nd.shape == (50, 100) and -1 <= nd.min() and nd.max() <= 1 and nd.mean() > 0.3

    listed = ee.data.listImages({"parent": "SANDBOX/S2_SR", "startTime": "2020-06-01T00:00:00Z",
                                 "endTime": "2020-06-11T00:00:00Z", "region": region.getInfo()})["images"]
    assert listed and all(i["id"].startswith("SANDBOX/S2_SR/2020060") for i in listed)
    with pytest.raises(ee.EEException, match="Collection query aborted after accumulating over 5000 elements."):
        ee.ImageCollection("SANDBOX/S2_SR").getInfo()


def test_download_with_crs_transform_and_dimensions_is_exactly_that_grid(ee_sandbox, tmp_path):
    """The client turns crs + crs_transform + dimensions into reproject + clipToBoundsAndScale of a
    pixel-unit Rectangle (image.py _apply_crs_and_affine); exports take the same path."""
    import requests
    from osgeo import gdal

    ee = ee_sandbox
    url = ee.Image("SANDBOX/DEM").getDownloadURL({
        "format": "GEO_TIFF", "crs": "EPSG:32632", "crs_transform": [30, 0, 240000, 0, -30, 4440000],
        "dimensions": [10, 8]})
    path = tmp_path / "grid.tif"
    path.write_bytes(requests.get(url, timeout=60).content)
    ds = gdal.Open(str(path))
    assert (ds.RasterXSize, ds.RasterYSize) == (10, 8)
    assert ds.GetGeoTransform() == pytest.approx((240000, 30, 0, 4440000, 0, -30))


def test_image_expression_through_the_client(ee_sandbox):
    ee = ee_sandbox
    dem = ee.Image("SANDBOX/DEM")
    scaled = dem.expression("elevation * k + b(0)", {"k": ee.Image(2)})
    arr = ee.data.computePixels({"expression": scaled, "fileFormat": "NUMPY_NDARRAY", "grid": DEM_GRID})
    dem_values = ee.data.computePixels({"expression": dem, "fileFormat": "NUMPY_NDARRAY", "grid": DEM_GRID})
    assert np.array_equal(arr[arr.dtype.names[0]], dem_values["elevation"].astype(np.int64) * 3)
