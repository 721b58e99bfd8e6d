"""geedim 2.0.0, unmodified, against the sandbox: prepareForExport gives a fixed projection
(band ``dimensions`` / ``origin``), toNumPy and toGeoTIFF download the same pixels as the sandbox's
computePixels on the same grid (through getDownloadURL tiles), batch exports to a bucket created
through the API and to a Drive folder complete."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _clients import pixel_grid, reference_pixels, run_probe  # noqa: E402

from eeextract_plugin.sandbox.config import ExportTiming, SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402

UTM = "EPSG:32629"
REGION = [-8.45, 38.25, -8.40, 38.30]
S2_ID = "SANDBOX/S2_SR/20240603T110329_20240603T110329_T29SNC"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("geedim-state"),
                           export_timing=ExportTiming(startup_s=0.0))
    with SandboxServer(config) as running:
        yield running


@pytest.fixture()
def ee_client(server):
    import ee

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    return ee


def _read_geotiff(path):
    from osgeo import gdal

    ds = gdal.Open(str(path))
    bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    return ds, np.stack([b.ReadAsArray() for b in bands], axis=-1)


def test_prepare_for_export_then_to_numpy_and_geotiff_give_compute_pixels_values(server, ee_client, tmp_path):
    """Reprojected to UTM at 90 m (3 x the DEM's 1 arc-second: its pyramid), clipped to a region."""
    ee = ee_client
    report = run_probe("geedim_probe.py", server.url, tmp_path, "download",
                       {"image": "SANDBOX/DEM", "crs": UTM, "region": REGION, "scale": 90})
    assert report["crs"] == UTM and report["dtype"] == "int16" and report["bands"] == ["elevation"]
    height, width = report["shape"]
    assert 47 <= width <= 51 and 60 <= height <= 64
    assert report["band_info"][0]["dimensions"] == [width, height]
    transform = report["transform"]
    assert transform[0] == pytest.approx(90.0) and transform[4] == pytest.approx(-90.0)

    ref = reference_pixels(ee, ee.Image("SANDBOX/DEM"), pixel_grid(UTM, transform, width, height))["elevation"]
    array = np.load(tmp_path / "array.npy")
    assert array.shape == (height, width, 1)
    assert not np.load(tmp_path / "mask.npy").any()
    np.testing.assert_array_equal(array[..., 0], ref)

    ds, tif = _read_geotiff(report["geotiff"])
    np.testing.assert_array_equal(tif[..., 0], ref)
    assert ds.GetGeoTransform() == pytest.approx((transform[2], 90.0, 0.0, transform[5], 0.0, -90.0))
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "32629"
    assert ds.GetRasterBand(1).GetNoDataValue() == -32768


def test_an_exact_grid_of_a_clipped_scene_in_several_tiles(server, ee_client, tmp_path):
    """crs_transform + shape on the scene's own 10 m lattice; tiles of 0.05 MB force many
    getDownloadURL tiles; the clip masks part of it."""
    ee = ee_client
    transform = [10.0, 0.0, 560000.0, 0.0, -10.0, 4240000.0]
    clip = [[[-8.31, 38.30], [-8.29, 38.28], [-8.31, 38.27], [-8.31, 38.30]]]
    report = run_probe("geedim_probe.py", server.url, tmp_path, "download",
                       {"image": S2_ID, "select": ["B4", "B8"], "clip": clip, "crs": UTM,
                        "crs_transform": transform, "shape": [120, 100], "max_tile_size": 0.05})
    assert report["shape"] == [120, 100] and report["transform"] == transform
    assert report["dtype"] == "uint16" and report["bands"] == ["B4", "B8"]
    image = ee.Image(S2_ID).select(["B4", "B8"]).clip(ee.Geometry.Polygon(clip))
    grid = pixel_grid(UTM, transform, 100, 120)
    ref = reference_pixels(ee, image, grid)
    ref_mask = reference_pixels(ee, image.mask().gt(0), grid)
    array, mask = np.load(tmp_path / "array.npy"), np.load(tmp_path / "mask.npy")
    for i, band in enumerate(("B4", "B8")):
        valid = ref_mask[band] == 1
        assert 0 < valid.sum() < valid.size
        np.testing.assert_array_equal(mask[..., i], ~valid)
        np.testing.assert_array_equal(array[..., i][valid], ref[band][valid])


def test_batch_exports_to_a_created_bucket_and_to_drive(server, ee_client, tmp_path, monkeypatch):
    from google.cloud import storage
    from google.oauth2.credentials import Credentials

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    gcs = storage.Client(project="my-project", credentials=Credentials(token="t"))
    gcs.create_bucket("geedim-out")
    args = {"image": "SANDBOX/DEM", "crs": UTM, "region": REGION, "scale": 90}
    cloud = run_probe("geedim_probe.py", server.url, tmp_path / "gcs", "export",
                      {**args, "type": "cloud", "folder": "geedim-out/dem", "filename": "elevation"})
    assert cloud["operation"]["metadata"]["state"] == "SUCCEEDED"
    assert [b.name for b in gcs.list_blobs("geedim-out")] == ["dem/elevation.tif"]
    part = tmp_path / "part.tif"
    part.write_bytes(gcs.bucket("geedim-out").blob("dem/elevation.tif").download_as_bytes())
    _, exported = _read_geotiff(part)
    height, width = cloud["shape"]
    ref = reference_pixels(ee_client, ee_client.Image("SANDBOX/DEM"),
                           pixel_grid(UTM, cloud["transform"], width, height))["elevation"]
    np.testing.assert_array_equal(exported[..., 0], ref)

    drive = run_probe("geedim_probe.py", server.url, tmp_path / "drive", "export",
                      {**args, "type": "drive", "folder": "geedim", "filename": "elevation"})
    assert drive["operation"]["metadata"]["state"] == "SUCCEEDED"
    assert (server.exports.drive.folder_path("geedim") / "elevation.tif").is_file()
