"""GDAL's EEDAI driver (Debian's GDAL 3.6), unmodified, against the sandbox: ``EEDAI:`` datasets
open with their grid, subdatasets and overviews, and read the same pixels as the sandbox's
computePixels on the same grid, at full resolution and from overviews (the pyramid), in every
pixel encoding the driver requests."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _clients import pixel_grid, reference_pixels  # noqa: E402

from eeextract_plugin.sandbox.config import SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402

gdal = pytest.importorskip("osgeo.gdal")

DEM = "projects/earthengine-public/assets/SANDBOX/DEM"
S2 = "projects/earthengine-public/assets/SANDBOX/S2_SR/20240603T110329_20240603T110329_T29SNC"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with SandboxServer(SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("gdal-state"))) as running:
        yield running


@pytest.fixture()
def ee_client(server):
    import ee

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    return ee


@contextmanager
def eedai(server):
    """EEDA_URL pointing at the sandbox (the driver's high-volume endpoint, v1alpha paths) and a
    bearer token, as a user would set them."""
    options = {"EEDA_URL": server.url + "/v1alpha/", "EEDA_BEARER": "user-token", "GDAL_CACHEMAX": "64",
               "GDAL_HTTP_MAX_RETRY": "0"}
    previous = {k: gdal.GetConfigOption(k) for k in options}
    for k, v in options.items():
        gdal.SetConfigOption(k, v)
    gdal.UseExceptions()
    try:
        yield
    finally:
        for k, v in previous.items():
            gdal.SetConfigOption(k, v)


def _window_grid(ds, xoff, yoff, width, height, factor=1):
    gt = ds.GetGeoTransform()
    crs = "EPSG:" + ds.GetSpatialRef().GetAuthorityCode(None)
    transform = [gt[1] * factor, gt[2], gt[0] + gt[1] * factor * xoff, gt[4], gt[5] * factor,
                 gt[3] + gt[5] * factor * yoff]
    return pixel_grid(crs, transform, width, height)


def test_gdalinfo_of_an_asset(server):
    with eedai(server):
        ds = gdal.Open(f"EEDAI:{DEM}")
        assert (ds.RasterXSize, ds.RasterYSize) == (1296000, 648000)
        assert ds.GetGeoTransform() == pytest.approx((-180.0, 1 / 3600, 0.0, 90.0, 0.0, -1 / 3600))
        band = ds.GetRasterBand(1)
        assert band.DataType == gdal.GDT_Int16 and band.GetDescription() == "elevation"
        assert band.GetOverviewCount() >= 10
        info = gdal.Info(f"EEDAI:{S2}", format="json")
        names = [v for k, v in info["metadata"]["SUBDATASETS"].items() if k.endswith("_NAME")]
        assert f"EEDAI:{S2}:B2,B3,B4,B8" in names and f"EEDAI:{S2}:QA60" in names
        with pytest.raises(RuntimeError, match="not found|does not exist|404"):
            gdal.Open("EEDAI:projects/earthengine-public/assets/SANDBOX/NOPE")


@pytest.mark.parametrize("encoding", ["AUTO", "GEO_TIFF", "NPY"])
def test_reads_a_window_like_compute_pixels(server, ee_client, encoding):
    ee = ee_client
    with eedai(server):
        ds = gdal.OpenEx(f"EEDAI:{DEM}", open_options=[f"PIXEL_ENCODING={encoding}"])
        xoff, yoff = 618_100, 185_050  # not block-aligned: several getPixels
        data = ds.GetRasterBand(1).ReadAsArray(xoff, yoff, 300, 200)
    ref = reference_pixels(ee, ee.Image("SANDBOX/DEM"), _window_grid(ds, xoff, yoff, 300, 200))["elevation"]
    np.testing.assert_array_equal(data, ref)
    assert data.std() > 0


def test_reads_a_subdataset_of_a_scene(server, ee_client):
    ee = ee_client
    with eedai(server):
        ds = gdal.Open(f"EEDAI:{S2}:B2,B3,B4,B8")
        assert ds.RasterCount == 4 and ds.RasterXSize == 10980
        data = ds.ReadAsArray(6000, 7000, 200, 150)
    ref = reference_pixels(ee, ee.Image(S2.split("assets/")[1]), _window_grid(ds, 6000, 7000, 200, 150))
    for i, band in enumerate(["B2", "B3", "B4", "B8"]):
        np.testing.assert_array_equal(data[i], ref[band])


def test_overviews_are_the_pyramid(server, ee_client):
    """An overview read asks for a grid 2**k coarser: the sandbox answers from its pyramid, so a
    4x overview holds the means of 4 x 4 native blocks, as Earth Engine's MEAN pyramid does."""
    ee = ee_client
    with eedai(server):
        ds = gdal.Open(f"EEDAI:{DEM}")
        band = ds.GetRasterBand(1)
        overview = next(band.GetOverview(i) for i in range(band.GetOverviewCount())
                        if band.GetOverview(i).XSize == ds.RasterXSize // 4)
        xoff, yoff = 618_000 // 4, 185_000 // 4
        coarse = overview.ReadAsArray(xoff, yoff, 64, 48)
        native = band.ReadAsArray(xoff * 4, yoff * 4, 64 * 4, 48 * 4)
    block_means = np.round(native.reshape(48, 4, 64, 4).astype(np.float64).mean(axis=(1, 3)))
    np.testing.assert_array_equal(coarse, block_means)
    ref = reference_pixels(ee, ee.Image("SANDBOX/DEM"), _window_grid(ds, xoff, yoff, 64, 48, factor=4))
    np.testing.assert_array_equal(coarse, ref["elevation"])


def test_eeda_lists_a_collection_with_time_and_space_filters(server, ee_client):
    """GDAL's EEDA vector driver: listImages with the filter it builds from -where and -spat."""
    from osgeo import ogr

    ee = ee_client
    with eedai(server):
        ogr.UseExceptions()
        ds = ogr.Open("EEDA:projects/earthengine-public/assets/SANDBOX/S2_SR")
        layer = ds.GetLayer(0)
        layer.SetSpatialFilterRect(-8.5, 38.2, -8.3, 38.4)
        layer.SetAttributeFilter("startTime >= '2024-06-01' and startTime < '2024-06-20'")
        features = [(f.GetField("id"), f.GetField("gdal_dataset"), f.GetField("band_crs")) for f in layer]
    expected = (ee.ImageCollection("SANDBOX/S2_SR").filterDate("2024-06-01", "2024-06-20")
                .filterBounds(ee.Geometry.Rectangle([-8.5, 38.2, -8.3, 38.4]))
                .aggregate_array("system:index").getInfo())
    assert sorted(f[0] for f in features) == sorted(f"SANDBOX/S2_SR/{i}" for i in expected)
    assert len(features) >= 2
    assert all(f[1] == f"EEDAI:projects/earthengine-public/assets/{f[0]}" for f in features)
