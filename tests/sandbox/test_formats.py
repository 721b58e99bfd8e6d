"""The sandbox's output formats, decoded the way clients decode them (numpy.load, GDAL, zipfile)."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest
from osgeo import gdal

from eeextract_plugin.sandbox import encoding
from eeextract_plugin.sandbox.errors import EEError
from eeextract_plugin.sandbox.raster import BandData, PixelGrid, Raster

GRID = PixelGrid("EPSG:4326", (0.001, 0.0, 10.0, 0.0, -0.001, 50.0), 40, 30)
UTM = PixelGrid("EPSG:32633", (10.0, 0.0, 500000.0, 0.0, -10.0, 5500000.0), 16, 8)


def _band(name, dtype, grid=GRID, masked=None):
    values = (np.arange(grid.width * grid.height) % 200).reshape(grid.height, grid.width).astype(dtype)
    mask = np.ones((grid.height, grid.width), dtype=bool)
    if masked is not None:
        mask[masked] = False
    return BandData(name, values, mask)


def _open_tiff(data: bytes):
    path = "/vsimem/test-formats.tif"
    gdal.FileFromMemBuffer(path, data)
    ds = gdal.Open(path)
    gdal.Unlink(path)
    return ds


def test_npy_is_a_structured_array_with_one_field_per_band_in_its_own_type():
    raster = Raster(GRID, [_band("elevation", np.int16), _band("B4", np.uint16), _band("ndvi", np.float32)])
    array = np.load(io.BytesIO(encoding.encode(raster, "NPY").data))
    assert array.shape == (30, 40)
    assert array.dtype.names == ("elevation", "B4", "ndvi")
    assert array.dtype["elevation"] == np.int16 and array.dtype["B4"] == np.uint16
    assert array.dtype["ndvi"] == np.float32
    np.testing.assert_array_equal(array["B4"], raster.bands[1].values)


def test_npy_masked_pixels_are_zero():
    raster = Raster(GRID, [_band("b", np.int16, masked=(slice(0, 2), slice(None)))])
    array = np.load(io.BytesIO(encoding.to_npy(raster)))
    assert (array["b"][:2] == 0).all()
    assert array["b"][2, 5] == raster.bands[0].values[2, 5]


def test_geotiff_is_georeferenced_on_the_grid_with_named_bands():
    raster = Raster(UTM, [_band("B4", np.uint16, UTM), _band("B8", np.uint16, UTM)])
    ds = _open_tiff(encoding.encode(raster, "GEO_TIFF").data)
    assert ds.GetGeoTransform() == (500000.0, 10.0, 0.0, 5500000.0, 0.0, -10.0)
    assert "32633" in ds.GetProjection() or "UTM zone 33N" in ds.GetProjection()
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (16, 8, 2)
    assert [ds.GetRasterBand(i).GetDescription() for i in (1, 2)] == ["B4", "B8"]
    assert ds.GetRasterBand(1).DataType == gdal.GDT_UInt16
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray(), raster.bands[1].values)


def test_geotiff_accepts_a_wkt_crs():
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    grid = PixelGrid(srs.ExportToWkt(), (30.0, 0.0, 0.0, 0.0, -30.0, 0.0), 4, 4)
    ds = _open_tiff(encoding.to_geotiff(Raster(grid, [_band("b", np.float32, grid)])))
    got = osr.SpatialReference(wkt=ds.GetProjection())
    assert got.IsSame(srs)


def test_geotiff_same_masks_become_an_internal_mask():
    masked = (slice(0, 3), slice(0, 4))
    raster = Raster(GRID, [_band("a", np.int16, masked=masked), _band("b", np.int16, masked=masked)])
    ds = _open_tiff(encoding.to_geotiff(raster))
    band = ds.GetRasterBand(1)
    assert band.GetMaskFlags() == gdal.GMF_PER_DATASET
    mask = band.GetMaskBand().ReadAsArray()
    assert (mask[:3, :4] == 0).all() and (mask[3:] == 255).all()
    assert band.GetNoDataValue() is None


def test_geotiff_different_masks_use_a_nodata_value():
    raster = Raster(GRID, [_band("a", np.float32, masked=(0, 0)), _band("b", np.float32, masked=(1, 1))])
    ds = _open_tiff(encoding.to_geotiff(raster))
    assert math.isnan(ds.GetRasterBand(1).GetNoDataValue())
    assert math.isnan(ds.GetRasterBand(1).ReadAsArray()[0, 0])
    assert math.isnan(ds.GetRasterBand(2).ReadAsArray()[1, 1])
    assert not math.isnan(ds.GetRasterBand(2).ReadAsArray()[0, 0])


def test_geotiff_mixed_types_share_the_promoted_type():
    raster = Raster(GRID, [_band("a", np.int16), _band("b", np.float32)])
    ds = _open_tiff(encoding.to_geotiff(raster))
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32


def test_write_geotiff_to_disk_with_nodata_and_creation_options(tmp_path):
    raster = Raster(GRID, [_band("a", np.uint8, masked=(slice(0, 5), slice(None)))])
    path = tmp_path / "part.tif"
    encoding.write_geotiff(raster, str(path), nodata=255, COMPRESS="DEFLATE", TILED="YES")
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() == 255
    assert (band.ReadAsArray()[:5] == 255).all()
    assert ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION") == "DEFLATE"


def test_write_geotiff_cloud_optimized(tmp_path):
    grid = PixelGrid("EPSG:4326", (0.001, 0.0, 0.0, 0.0, -0.001, 0.0), 600, 600)
    path = tmp_path / "cog.tif"
    encoding.write_geotiff(Raster(grid, [_band("a", np.int16, grid)]), str(path), cloud_optimized=True)
    ds = gdal.Open(str(path))
    assert ds.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert ds.GetGeoTransform() == grid.gdal_geotransform


def test_png_has_alpha_where_masked_and_jpeg_is_rgb():
    masked = (slice(0, 2), slice(None))
    rgb = Raster(GRID, [_band(n, np.uint8, masked=masked) for n in ("vis-red", "vis-green", "vis-blue")])
    png = encoding.encode(rgb, "PNG")
    assert png.data.startswith(b"\x89PNG") and png.content_type == "image/png"
    ds = _open_tiff(png.data)
    assert ds.RasterCount == 4
    alpha = ds.GetRasterBand(4).ReadAsArray()
    assert (alpha[:2] == 0).all() and (alpha[2:] == 255).all()
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray()[2:], rgb.bands[0].values[2:])
    jpeg = encoding.encode(rgb, "JPEG")
    assert jpeg.data.startswith(b"\xff\xd8") and _open_tiff(jpeg.data).RasterCount == 3


def test_auto_jpeg_png_picks_jpeg_when_opaque_and_png_when_masked():
    opaque = Raster(GRID, [_band("grey", np.uint8)])
    masked = Raster(GRID, [_band("grey", np.uint8, masked=(0, 0))])
    assert encoding.encode(opaque, "AUTO_JPEG_PNG").file_format == "JPEG"
    assert encoding.encode(masked, None).file_format == "PNG"


def test_png_needs_one_or_three_bands():
    with pytest.raises(EEError) as err:
        encoding.encode(Raster(GRID, [_band("a", np.uint8), _band("b", np.uint8)]), "PNG")
    assert err.value.code == 400


def test_zipped_geotiff_and_per_band_names():
    raster = Raster(GRID, [_band("B4", np.uint16), _band("B8", np.uint16)])
    single = zipfile.ZipFile(io.BytesIO(encoding.encode(raster, "ZIPPED_GEO_TIFF", "scene").data))
    assert single.namelist() == ["scene.tif"]
    assert _open_tiff(single.read("scene.tif")).RasterCount == 2
    per_band = zipfile.ZipFile(io.BytesIO(encoding.encode(raster, "ZIPPED_GEO_TIFF_PER_BAND", "scene").data))
    assert per_band.namelist() == ["scene.B4.tif", "scene.B8.tif"]
    ds = _open_tiff(per_band.read("scene.B8.tif"))
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray(), raster.bands[1].values)


def test_unknown_format_is_invalid_argument():
    with pytest.raises(EEError) as err:
        encoding.normalize_format("BMP")
    assert err.value.status == "INVALID_ARGUMENT"


def test_same_raster_same_bytes():
    raster = Raster(GRID, [_band("a", np.int16, masked=(0, 0))])
    for fmt in ("NPY", "GEO_TIFF", "PNG", "ZIPPED_GEO_TIFF", "ZIPPED_GEO_TIFF_PER_BAND"):
        assert encoding.encode(raster, fmt).data == encoding.encode(raster, fmt).data


def test_payload_counts_one_mask_byte_per_band_per_pixel():
    raster = Raster(GRID, [_band("a", np.int16), _band("b", np.uint8)])
    assert encoding.payload_bytes(raster) == 40 * 30 * ((2 + 1) + (1 + 1))


def test_encoders_work_with_gdal_exceptions_on():
    """Any module may call gdal.UseExceptions() (process-wide): encoders must not then fail on
    cleaning up in-memory side files that GDAL did not create."""
    from osgeo import gdal

    from eeextract_plugin.sandbox import encoding
    from eeextract_plugin.sandbox.raster import BandData, PixelGrid, Raster

    was_on = gdal.GetUseExceptions()
    gdal.UseExceptions()
    try:
        grid = PixelGrid("EPSG:4326", (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), 4, 3)
        raster = Raster(grid, [BandData(n, np.full((3, 4), i * 50, np.uint8), np.ones((3, 4), bool))
                               for i, n in enumerate("rgb")])
        assert encoding.to_png(raster)[:8] == b"\x89PNG\r\n\x1a\n"
        assert encoding.to_jpeg(raster)[:2] == b"\xff\xd8"
        assert encoding.to_geotiff(raster)[:4] in (b"II*\x00", b"MM\x00*")
    finally:
        if not was_on:
            gdal.DontUseExceptions()
