"""ExportService with a fake engine: scheduling, parts, failures (no HTTP, no evaluator).

The protocol tests through the real ``ee`` client are in ``test_exports.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from eeextract_plugin.sandbox.config import ExportTiming, FaultInjection, SandboxConfig
from eeextract_plugin.sandbox.errors import EEError
from eeextract_plugin.sandbox.exports import ExportService
from eeextract_plugin.sandbox.raster import BandData, PixelGrid, Raster

BASE = PixelGrid("EPSG:32633", (10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0), 0, 0)


class FakeEngine:
    """Images are (width, height) of a grid anchored at BASE; pixel value = row * 100000 + col."""

    def __init__(self, gate=None):
        self.calls = 0
        self.gate = gate

    def image_for_export(self, expression):
        w, h = expression["values"]["0"]["constantValue"]
        return "image", PixelGrid(BASE.crs, BASE.transform, w, h)

    def compute_export_pixels(self, image, grid):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(5)
        col0 = round((grid.transform[2] - BASE.transform[2]) / 10.0)
        row0 = round((BASE.transform[5] - grid.transform[5]) / 10.0)
        rows, cols = np.mgrid[row0:row0 + grid.height, col0:col0 + grid.width]
        values = (rows * 100000 + cols).astype(np.int32)
        mask = (cols % 7) != 3
        return Raster(grid, [BandData("v", values, mask), BandData("w", -values, np.ones_like(mask))])


def expression(width, height):
    return {"result": "0", "values": {"0": {"constantValue": [width, height]}}}


def gcs_body(width, height, prefix="out/img", bucket="sandbox-private", dims=None, **extra):
    tiff = {}
    if dims:
        tiff["tileDimensions"] = {"width": dims, "height": dims}
        tiff["tileSize"] = {"value": 256}
    body = {"expression": expression(width, height), "description": "test",
            "fileExportOptions": {"fileFormat": "GEO_TIFF",
                                  "cloudStorageDestination": {"bucket": bucket, "filenamePrefix": prefix},
                                  "geoTiffOptions": tiff}}
    body.update(extra)
    return body


def make_service(tmp_path, engine=None, **overrides):
    config = SandboxConfig(port=0, state_dir=tmp_path,
                           export_timing=ExportTiming(startup_s=0.0, megapixels_per_s=1000.0))
    for key, value in overrides.items():
        setattr(config, key, value)
    return ExportService(config, engine or FakeEngine())


def wait_done(service, name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = service.get_operation(name)
        if op.get("done"):
            return op
        time.sleep(0.02)
    raise AssertionError(f"{name} not done: {op}")


def test_export_splits_parts_with_earth_engine_names(tmp_path):
    from osgeo import gdal

    service = make_service(tmp_path)
    try:
        op = service.start_export("sandbox", gcs_body(600, 300, dims=512))
        assert op["metadata"]["state"] == "PENDING" and not op.get("done")
        assert op["name"].startswith("projects/sandbox/operations/")
        done = wait_done(service, op["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert done["metadata"]["progress"] == 1.0
        names = service.buckets.names("sandbox-private")
        assert names == ["out/img-0000000000-0000000000.tif", "out/img-0000000000-0000000512.tif"]
        ds = gdal.Open(str(tmp_path / "buckets" / "sandbox-private" / names[1]))
        assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (88, 300, 2)
        assert ds.GetGeoTransform() == (500000.0 + 5120, 10.0, 0.0, 4000000.0, 0.0, -10.0)
        values = ds.GetRasterBand(1).ReadAsArray()
        rows, cols = np.mgrid[0:300, 512:600]
        expected = np.where(cols % 7 != 3, rows * 100000 + cols, 0)
        assert np.array_equal(values, expected)
        assert ds.GetRasterBand(1).GetDescription() == "v"
        assert ds.GetRasterBand(1).GetNoDataValue() is None
        assert done["metadata"]["destinationUris"] == [
            "https://console.developers.google.com/storage/browser/sandbox-private/out/"]
    finally:
        service.close()


def test_single_part_named_prefix_tif_and_cog_with_nodata(tmp_path):
    from osgeo import gdal

    service = make_service(tmp_path)
    try:
        body = gcs_body(100, 50, prefix="one", bucket="sandbox-public")
        body["fileExportOptions"]["geoTiffOptions"] = {"cloudOptimized": True, "noData": {"floatValue": -9999}}
        done = wait_done(service, service.start_export("sandbox", body)["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert service.buckets.names("sandbox-public") == ["one.tif"]
        ds = gdal.Open(str(tmp_path / "buckets" / "sandbox-public" / "one.tif"))
        assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
        assert ds.GetRasterBand(1).GetNoDataValue() == -9999
        assert ds.GetRasterBand(1).ReadAsArray()[0, 3] == -9999
    finally:
        service.close()


def test_drive_export_writes_folder(tmp_path):
    service = make_service(tmp_path)
    try:
        body = gcs_body(40, 40)
        body["fileExportOptions"] = {"fileFormat": "GEO_TIFF",
                                     "driveDestination": {"folder": "EEExtract", "filenamePrefix": "d"}}
        done = wait_done(service, service.start_export("sandbox", body)["name"])
        assert done["metadata"]["state"] == "SUCCEEDED", done
        assert (tmp_path / "drive" / "EEExtract" / "d.tif").is_file()
        folder = service.drive.ensure_folder("EEExtract")
        assert done["metadata"]["destinationUris"] == [f"https://drive.google.com/#folders/{folder.id}"]
    finally:
        service.close()


def test_request_validation(tmp_path):
    service = make_service(tmp_path)
    try:
        with pytest.raises(EEError, match="must be a multiple of shardSize"):
            body = gcs_body(10, 10)
            body["fileExportOptions"]["geoTiffOptions"] = {"tileDimensions": {"width": 1000, "height": 1024}}
            service.start_export("sandbox", body)
        with pytest.raises(EEError, match="does not exist"):
            service.start_export("sandbox", gcs_body(10, 10, bucket="nope"))
        with pytest.raises(EEError) as missing:
            service.start_export("sandbox", {"expression": expression(1, 1), "fileExportOptions": {}})
        assert missing.value.code == 400
    finally:
        service.close()


def test_too_many_pixels_fails_like_earth_engine(tmp_path):
    service = make_service(tmp_path)
    try:
        op = service.start_export("sandbox", gcs_body(2000, 1000, maxPixels={"value": "1000000"}))
        done = wait_done(service, op["name"])
        assert done["metadata"]["state"] == "FAILED"
        assert done["error"]["message"] == (
            "Export too large: specified 2000000 pixels (max: 1000000). "
            "Specify higher maxPixels value if you intend to export a large area.")
    finally:
        service.close()


def test_readonly_bucket_fails_the_task(tmp_path):
    service = make_service(tmp_path, readonly_buckets=("sandbox-readonly",))
    try:
        done = wait_done(service, service.start_export("sandbox", gcs_body(10, 10, bucket="sandbox-readonly"))["name"])
        assert done["metadata"]["state"] == "FAILED"
        assert "write access" in done["error"]["message"]
    finally:
        service.close()


def test_memory_failure_injection(tmp_path):
    service = make_service(tmp_path, faults=FaultInjection(seed=1, export_memory_failure=1.0))
    try:
        done = wait_done(service, service.start_export("sandbox", gcs_body(50, 50))["name"])
        assert done["metadata"]["state"] == "FAILED"
        assert done["error"]["message"] == "User memory limit exceeded."
        assert service.buckets.names("sandbox-private") == []
    finally:
        service.close()


def test_request_id_idempotent_and_pending_limit_and_listing(tmp_path):
    import threading

    gate = threading.Event()
    service = make_service(tmp_path, engine=FakeEngine(gate), max_pending_tasks=3, max_running_tasks=1)
    try:
        first = service.start_export("sandbox", gcs_body(10, 10, requestId="r-1"))
        assert service.start_export("sandbox", gcs_body(10, 10, requestId="r-1"))["name"] == first["name"]
        # Let the first task start running (it blocks on the gate), then fill the queue.
        deadline = time.monotonic() + 10
        while service.get_operation(first["name"])["metadata"]["state"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        names = [service.start_export("sandbox", gcs_body(10, 10, prefix=f"p{i}"))["name"] for i in range(3)]
        with pytest.raises(EEError) as full:
            service.start_export("sandbox", gcs_body(10, 10, prefix="p4"))
        assert full.value.code == 429
        assert full.value.message == ("Too many tasks already in the queue (3). "
                                      "Please wait for some of them to complete.")
        # Paged listing, newest first.
        page = service.list_operations("sandbox", page_size=3)
        assert [o["name"] for o in page["operations"]] == names[::-1]
        rest = service.list_operations("sandbox", page_size=3, page_token=page["nextPageToken"])
        assert [o["name"] for o in rest["operations"]] == [first["name"]]
        assert "nextPageToken" not in rest
        running = service.list_operations("sandbox", filter='metadata.state = "RUNNING"')
        assert [o["name"] for o in running["operations"]] == [first["name"]]
        # Cancel: a pending task at once, the running one through CANCELLING.
        service.cancel_operation(names[0])
        assert service.get_operation(names[0])["metadata"]["state"] == "CANCELLED"
        service.cancel_operation(first["name"])
        assert service.get_operation(first["name"])["metadata"]["state"] in ("CANCELLING", "CANCELLED")
        gate.set()
        assert wait_done(service, first["name"])["metadata"]["state"] == "CANCELLED"
        assert wait_done(service, first["name"])["error"] == {"code": 1, "message": "Cancelled."}
        for name in names[1:]:
            assert wait_done(service, name)["metadata"]["state"] == "SUCCEEDED"
        with pytest.raises(EEError) as unknown:
            service.get_operation("projects/sandbox/operations/NOPE")
        assert unknown.value.code == 404
    finally:
        gate.set()
        service.close()


def test_operations_survive_a_restart_and_unfinished_tasks_run_again(tmp_path):
    first = make_service(tmp_path)
    done = wait_done(first, first.start_export("sandbox", gcs_body(20, 20, prefix="a", requestId="rq"))["name"])
    first.close()

    slow = make_service(tmp_path, export_timing=ExportTiming(startup_s=60.0, megapixels_per_s=1.0))
    unfinished = slow.start_export("sandbox", gcs_body(20, 20, prefix="b"))["name"]
    slow.close()   # the sandbox stops while the task waits

    again = make_service(tmp_path)
    try:
        assert again.get_operation(done["name"]) == done
        assert again.start_export("sandbox", gcs_body(20, 20, prefix="a", requestId="rq"))["name"] == done["name"]
        assert wait_done(again, unfinished)["metadata"]["state"] == "SUCCEEDED"
        listed = [op["name"] for op in again.list_operations("sandbox")["operations"]]
        assert listed == [unfinished, done["name"]]
        assert again.buckets.names("sandbox-private") == ["a.tif", "b.tif"]
    finally:
        again.close()


def test_skip_empty_files(tmp_path):
    class EmptyEngine(FakeEngine):
        def compute_export_pixels(self, image, grid):
            raster = super().compute_export_pixels(image, grid)
            for band in raster.bands:
                band.mask = np.zeros_like(band.mask) if grid.transform[2] > BASE.transform[2] else band.mask
            return raster

    service = make_service(tmp_path, engine=EmptyEngine())
    try:
        body = gcs_body(512, 256, prefix="sk", dims=256)
        body["fileExportOptions"]["geoTiffOptions"]["skipEmptyFiles"] = True
        assert wait_done(service, service.start_export("sandbox", body)["name"])["metadata"]["state"] == "SUCCEEDED"
        assert service.buckets.names("sandbox-private") == ["sk-0000000000-0000000000.tif"]
    finally:
        service.close()
