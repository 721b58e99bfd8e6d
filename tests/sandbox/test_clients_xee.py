"""Xee 0.1.2, unmodified, against the sandbox: collections and images opened lazily, chunks read
through computePixels, the same pixels as the sandbox's computePixels on the same grid."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _clients import pixel_grid, reference_pixels, run_probe  # noqa: E402

from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402

# Southern Portugal (land in the sandbox): Sentinel-2 tile 29SNC, UTM 29N, 10 m.
POINT = [-8.4, 38.3]
UTM = "EPSG:32629"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # 0.3 s a request, as the service answers: Xee's parallel chunk reads must cope.
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("xee-state"), latency=LatencyModel(0.3))
    with SandboxServer(config) as running:
        yield running


@pytest.fixture()
def ee_client(server):
    import ee

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    return ee


def test_xee_opens_a_collection_lazily_and_reads_chunks_like_compute_pixels(server, ee_client, tmp_path):
    ee = ee_client
    collection = (ee.ImageCollection("SANDBOX/S2_SR").filterDate("2024-06-01", "2024-06-20")
                  .filterBounds(ee.Geometry.Point(POINT)))
    images = collection.toList(100).getInfo()
    assert len(images) >= 2
    # 150 x 130 pixels of 10 m, read in 75 x 65 chunks, one image a chunk: 4 computePixels an image.
    transform = [10.0, 0.0, 560000.0, 0.0, -10.0, 4240000.0]
    args = {"collection": "SANDBOX/S2_SR", "start": "2024-06-01", "end": "2024-06-20", "point": POINT,
            "crs": UTM, "crs_transform": transform, "shape_2d": [150, 130],
            "io_chunks": {"time": 1, "width": 75, "height": 65}, "bands": ["B4", "QA60"]}
    report = run_probe("xee_probe.py", server.url, tmp_path, "collection", args)

    assert report["dims"] == {"time": len(images), "y": 130, "x": 150}
    assert set(report["variables"]) >= {"B2", "B3", "B4", "B8", "QA60"}
    starts = [image["properties"]["system:time_start"] for image in images]
    assert [np.datetime64(t) for t in report["time"]] == [
        np.datetime64(int(ms), "ms") for ms in starts]
    assert report["x0"] == pytest.approx(560005.0) and report["y0"] == pytest.approx(4239995.0)
    assert report["native_grid"]["crs"] == UTM and tuple(report["native_grid"]["shape_2d"]) == (10980, 10980)

    grid = pixel_grid(UTM, transform, 150, 130)
    for band in ("B4", "QA60"):
        read = np.load(tmp_path / f"{band}.npy")
        assert read.shape == (len(images), 130, 150)
        for i, info in enumerate(images):
            ref = reference_pixels(ee, ee.Image(info["id"]).select(band), grid)[band].astype(np.float32)
            np.testing.assert_array_equal(read[i], ref, err_msg=f"{band} of image {i}")


def test_xee_reads_an_image_on_a_fitted_coarse_grid_like_compute_pixels(server, ee_client, tmp_path):
    """A 0.01-degree grid on the 1-arc-second DEM: Xee and computePixels both read the pyramid
    (block means), on the grid xee.helpers.fit_geometry made."""
    ee = ee_client
    args = {"image": "SANDBOX/DEM", "fit": {"bounds": [-8.6, 38.1, -8.2, 38.4], "crs": "EPSG:4326",
                                            "scale": [0.01, -0.01]}}
    report = run_probe("xee_probe.py", server.url, tmp_path, "image", args)
    grid = report["grid"]
    width, height = grid["shape_2d"]
    assert 40 <= width <= 41 and 30 <= height <= 31
    read = np.load(tmp_path / "elevation.npy")
    assert read.shape == (height, width)
    ref = reference_pixels(ee, ee.Image("SANDBOX/DEM"),
                           pixel_grid(grid["crs"], grid["crs_transform"], width, height))["elevation"]
    np.testing.assert_array_equal(read, ref.astype(np.float32))
    assert np.isfinite(read).all() and read.std() > 0
