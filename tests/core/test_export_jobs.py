"""Batch export jobs end to end against the sandbox: the real ``ee`` client submits and tracks,
``google-cloud-storage`` / ``googleapiclient`` fetch the parts, GDAL mosaics them.

Every test checks content: the exported mosaic equals the same job run by the direct method.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.export import naming
from eeextract_plugin.core.export.execution import ExportExecution
from eeextract_plugin.core.runner import JobRunner
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec, SpecError
from eeextract_plugin.sandbox.config import ExportTiming, FaultInjection, SandboxConfig
from eeextract_plugin.sandbox.server import SandboxServer

gdal.UseExceptions()
FAST = ExportTiming(startup_s=0.05, megapixels_per_s=200.0)
REPO = Path(__file__).resolve().parents[2]


def _server(tmp_path: Path, **overrides) -> SandboxServer:
    config = SandboxConfig(port=0, state_dir=tmp_path / "sandbox-state", export_timing=FAST)
    for key, value in overrides.items():
        setattr(config, key, value)
    return SandboxServer(config).start()


@pytest.fixture(scope="module")
def export_server(tmp_path_factory):
    server = _server(tmp_path_factory.mktemp("export-jobs"))
    try:
        yield server
    finally:
        server.stop()


def _session(url: str):
    return initialise(SessionConfig(url=url, credentials="none", project="sandbox"))


def _spec(outdir: Path, method: dict, *, name: str = "dem-export", bbox=(-8.5, 38.3, -8.35, 38.38),
          kind: str = "mosaic", region: dict | None = None, fmt: str = "COG") -> JobSpec:
    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": kind,
        "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": region or {"type": "bbox", "bbox": list(bbox), "crs": "EPSG:4326"},
        "output": {"directory": str(outdir), "format": fmt, "name": name, "overwrite": True},
        "method": method,
    })


def _two_fields(directory: Path, first=(-8.5, 38.3, -8.45, 38.33), second=(-8.2, 38.1, -8.16, 38.14)) -> dict:
    """A region file with two polygons: a ``features`` job makes one raster (one export) each."""
    def poly(b):
        return {"type": "Polygon", "coordinates": [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]],
                                                    [b[0], b[3]], [b[0], b[1]]]]}
    path = directory / "fields.geojson"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"fid": "north"}, "geometry": poly(first)},
        {"type": "Feature", "properties": {"fid": "south"}, "geometry": poly(second)}]}))
    return {"type": "file", "path": str(path), "id_field": "fid"}


def _fast_runner(session, workdir: Path, **kwargs) -> JobRunner:
    return JobRunner(session, workdir, **kwargs)


def _run(runner: JobRunner, spec: JobSpec, **exec_kwargs):
    job_id = runner.create(spec)
    job = runner.registry.job(job_id)
    runner.registry.clear_cancel(job_id)
    execution = ExportExecution(runner.context(), job.id, JobSpec.from_dict(job.spec), poll_min_s=0.1,
                                poll_max_s=0.5, **exec_kwargs)
    return execution, execution.run()


def _pixels(path) -> np.ndarray:
    ds = gdal.Open(str(path))
    arr = ds.ReadAsArray()
    geo = ds.GetGeoTransform()
    ds = None
    return arr, geo


@pytest.fixture(scope="module")
def direct_reference(export_server, tmp_path_factory):
    """The same job by the direct method: what every export must reproduce exactly."""
    out = tmp_path_factory.mktemp("direct")
    session = _session(export_server.url)
    runner = JobRunner(session, out / ".eeextract")
    try:
        spec = _spec(out, {"type": "direct"})
        result = runner.run(runner.create(spec))
    finally:
        runner.close()
    assert result.ok, result.message
    return _pixels(result.outputs[0])


def test_export_to_private_bucket_equals_direct_and_deletes_parts(export_server, direct_reference, tmp_path):
    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private", "file_dimensions": 256,
                            "shard_size": 256, "delete_after_download": True})
    execution, result = _run(runner, spec)
    assert result.state == reg.COMPLETED, result.message
    arr, geo = _pixels(result.outputs[0])
    ref, ref_geo = direct_reference
    assert arr.shape == ref.shape and arr.shape[0] * arr.shape[1] > 256 * 256  # really split
    np.testing.assert_array_equal(arr, ref)
    np.testing.assert_allclose(geo, ref_geo)
    ds = gdal.Open(result.outputs[0])
    assert ds.GetRasterBand(1).GetOverviewCount() >= 0 and ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    ds = None
    # The parts were exported under an internal prefix unique to the job, and deleted after the
    # verified download.
    unit = runner.registry.units(result.job_id)[0]
    prefix = unit.params["export"]["prefix"]
    assert result.job_id in prefix and prefix.startswith("eeextract/")
    bucket_dir = Path(export_server.config.state_dir) / "buckets" / "sandbox-private"
    assert not [p for p in bucket_dir.rglob("*.tif") if result.job_id in str(p)]
    # One listOperations sweep per poll for the job, never one request per task.
    assert result.export.get_requests == 0
    runner.close()


def test_export_to_public_bucket_reads_anonymously(export_server, direct_reference, tmp_path):
    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-public", "file_dimensions": 512,
                            "shard_size": 256})
    _, result = _run(runner, spec)
    assert result.state == reg.COMPLETED, result.message
    np.testing.assert_array_equal(_pixels(result.outputs[0])[0], direct_reference[0])
    # Parts stay in the bucket unless deletion was asked for.
    bucket_dir = Path(export_server.config.state_dir) / "buckets" / "sandbox-public"
    assert [p for p in bucket_dir.rglob("*.tif") if result.job_id in str(p)]
    runner.close()


@pytest.mark.parametrize("mode", ["api", "mounted"])
def test_export_to_drive(export_server, direct_reference, tmp_path, mode):
    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    method = {"type": "export_drive", "folder": "EEExtract", "file_dimensions": 256, "shard_size": 256,
              "drive_mode": mode, "delete_after_download": True}
    if mode == "mounted":
        method["mounted_path"] = str(export_server.exports.drive.folder_path("EEExtract"))
    _, result = _run(runner, _spec(tmp_path, method, name=f"dem-drive-{mode}"))
    assert result.state == reg.COMPLETED, result.message
    np.testing.assert_array_equal(_pixels(result.outputs[0])[0], direct_reference[0])
    folder = Path(export_server.exports.drive.folder_path("EEExtract"))
    assert not [p for p in folder.iterdir() if result.job_id.replace("/", "__") in p.name]
    runner.close()


def test_several_outputs_never_mix_parts(export_server, tmp_path):
    """Two outputs of one job, and two jobs with the same name: each mosaic has its own pixels."""
    session = _session(export_server.url)
    region = _two_fields(tmp_path / "zones")
    results = []
    for i in range(2):
        runner = _fast_runner(session, tmp_path / f"w{i}")
        spec = _spec(tmp_path / f"out{i}", {"type": "export_gcs", "bucket": "sandbox-private",
                                            "file_dimensions": 128, "shard_size": 128},
                     name="same-name", kind="features", region=region)
        _, result = _run(runner, spec)
        assert result.state == reg.COMPLETED, result.message
        assert len(result.outputs) == 2
        results.append(result)
        runner.close()
    assert results[0].job_id != results[1].job_id
    a0, a1 = (_pixels(p)[0] for p in results[0].outputs)
    b0, b1 = (_pixels(p)[0] for p in results[1].outputs)
    assert not np.array_equal(a0[: min(a0.shape[0], a1.shape[0]), : min(a0.shape[1], a1.shape[1])],
                              a1[: min(a0.shape[0], a1.shape[0]), : min(a0.shape[1], a1.shape[1])])
    np.testing.assert_array_equal(a0, b0)
    np.testing.assert_array_equal(a1, b1)


def test_listing_more_than_1000_parts_is_paged(export_server, tmp_path):
    """1,056 parts of 16 px: a listing truncated at 1,000 would leave a hole, caught as an error."""
    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    # 1 arc-second pixels: 528 x 512 px -> 33 x 32 parts of 16 px.
    w, h = 528 / 3600, 512 / 3600
    spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private", "file_dimensions": 16,
                            "shard_size": 16, "delete_after_download": True},
                 bbox=(-8.5, 38.2, -8.5 + w, 38.2 + h))
    execution, result = _run(runner, spec, download_workers=8)
    assert result.state == reg.COMPLETED, result.message
    arr, _ = _pixels(result.outputs[0])
    assert arr.shape == (512, 528)
    assert len(naming.expected_parts(528, 512, 16)) == 1056
    runner.close()


def test_failed_export_is_resubmitted_once_then_reported(tmp_path):
    server = _server(tmp_path, faults=FaultInjection(seed=3, export_memory_failure=1.0))
    try:
        session = _session(server.url)
        runner = _fast_runner(session, tmp_path / ".eeextract")
        spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private", "resubmit": 1})
        _, result = _run(runner, spec)
        assert result.state == reg.COMPLETED_WITH_FAILURES
        assert "User memory limit exceeded" in result.message
        unit = runner.registry.units(result.job_id)[0]
        assert unit.state == reg.FAILED
        ex = unit.params["export"]
        assert ex["attempt"] == 2 and len(ex["errors"]) == 2  # resubmitted once, at half the shard size
        assert ex["shard_size"] == 128
        assert not result.outputs
        runner.close()
    finally:
        server.stop()


def test_export_rejected_at_submit_names_the_problem(export_server, tmp_path):
    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    with pytest.raises(SpecError, match="method.type: export_gcs exports GeoTIFF rasters"):
        _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private"}, fmt="PNG")
    _, result = _run(runner, _spec(tmp_path, {"type": "export_gcs", "bucket": "no-such-bucket"}))
    assert result.state == reg.FAILED
    assert "no-such-bucket" in result.message and "does not exist" in result.message
    runner.close()


def test_cancel_cancels_the_server_operations_and_resume_finishes(tmp_path):
    slow = ExportTiming(startup_s=30.0, megapixels_per_s=1.0)
    server = _server(tmp_path, export_timing=slow)
    try:
        session = _session(server.url)
        runner = _fast_runner(session, tmp_path / ".eeextract")
        spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private"})
        job_id = runner.create(spec)
        execution = ExportExecution(runner.context(), job_id, spec, poll_min_s=0.1, poll_max_s=0.2)
        threading.Timer(1.0, execution.cancel.cancel).start()
        result = execution.run()
        assert result.state == reg.CANCELLED
        ops = session.ee.data.listOperations()
        assert ops and all(op["metadata"]["state"] in ("CANCELLED", "CANCELLING") for op in ops)
        # Resume on a fast sandbox: a new attempt, a new prefix, the job completes.
        server.exports.config.export_timing = FAST
        runner2 = _fast_runner(session, tmp_path / ".eeextract")
        execution2 = ExportExecution(runner2.context(), job_id, spec, poll_min_s=0.1, poll_max_s=0.3)
        result2 = execution2.run()
        assert result2.state == reg.COMPLETED, result2.message
        ex = runner2.registry.units(job_id)[0].params["export"]
        assert ex["attempt"] == 2 and ex["prefix"].endswith("-a2")
        runner.close()
        runner2.close()
    finally:
        server.stop()


_CRASHING_RUN = textwrap.dedent("""
    import sys
    from eeextract_plugin.core.runner import JobRunner
    from eeextract_plugin.core.session import SessionConfig, initialise
    from eeextract_plugin.core.export.execution import ExportExecution
    from eeextract_plugin.core.spec import JobSpec, SpecError
    session = initialise(SessionConfig(url=sys.argv[1], credentials="none", project="sandbox"))
    runner = JobRunner(session, sys.argv[2])
    job = runner.registry.job(sys.argv[3])
    ExportExecution(runner.context(), job.id, JobSpec.from_dict(job.spec), poll_min_s=0.1, poll_max_s=0.2).run()
""")


def test_kill_9_mid_job_then_resume_reattaches_without_resubmitting(tmp_path, direct_reference):
    """A crash while exports run: the resumed job re-attaches to the operations by name."""
    slow = ExportTiming(startup_s=2.0, megapixels_per_s=50.0)
    server = _server(tmp_path, export_timing=slow, max_running_tasks=1)
    try:
        session = _session(server.url)
        workdir = tmp_path / ".eeextract"
        runner = _fast_runner(session, workdir)
        region = _two_fields(tmp_path / "zones", first=(-8.5, 38.3, -8.35, 38.38))
        spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private", "file_dimensions": 256,
                                "shard_size": 256}, kind="features", region=region)
        job_id = runner.create(spec)
        runner.close()
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.Popen([sys.executable, "-c", _CRASHING_RUN, server.url, str(workdir), job_id],
                                env=env, cwd=str(REPO))
        deadline = time.monotonic() + 60
        submitted = []
        while time.monotonic() < deadline:
            with reg.Registry(reg.default_registry_path(workdir)) as r:
                submitted = [u for u in r.units(job_id) if u.params["export"].get("state") == "submitted"]
            if len(submitted) == 2:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(submitted) == 2, "both exports should have been submitted before the kill"
        names_before = sorted(u.params["export"]["operation"] for u in submitted)
        runner = _fast_runner(session, workdir)
        execution = ExportExecution(runner.context(), job_id, spec, poll_min_s=0.1, poll_max_s=0.3)
        result = execution.run()
        assert result.state == reg.COMPLETED, result.message
        assert execution.submitted_count == 0  # re-attached, nothing resubmitted
        ops = session.ee.data.listOperations()
        assert sorted(op["name"] for op in ops) == names_before
        big = [p for p in result.outputs if _pixels(p)[0].shape == direct_reference[0].shape]
        assert big and np.array_equal(_pixels(big[0])[0], direct_reference[0])
        runner.close()
    finally:
        server.stop()


def test_part_names_match_exactly_their_export():
    prefix = naming.internal_prefix("job-1", "out", 1)
    assert naming.part_offsets(prefix, prefix + ".tif") == (0, 0)
    assert naming.part_offsets(prefix, prefix + "-0000000256-0000000512.tif") == (256, 512)
    assert naming.part_offsets(prefix, naming.internal_prefix("job-1", "out", 2) + ".tif") is None
    assert naming.part_offsets(prefix, prefix + "x.tif") is None
    assert naming.part_offsets(naming.internal_prefix("job-1", "out1", 1),
                               naming.internal_prefix("job-1", "out10", 1) + ".tif") is None
    assert naming.expected_parts(300, 200, 256) == [(0, 0), (0, 256)]
    assert naming.expected_parts(100, 100, 256) == [(0, 0)]


def test_zonal_statistics_run_on_each_exported_mosaic(export_server, tmp_path):
    """The batch chain ends in tables: statistics per zone of each exported raster, listed in the
    job's outputs, equal to those of the direct method's raster."""
    import csv

    session = _session(export_server.url)
    region = _two_fields(tmp_path / "zones")
    zonal = {"polygons": region["path"], "id_field": "fid", "statistics": ["mean", "min", "max", "count"],
             "engine": "exactextract"}
    results = {}
    for method in ({"type": "direct"}, {"type": "export_gcs", "bucket": "sandbox-private"}):
        out = tmp_path / method["type"]
        d = _spec(out, method, kind="features", region=region).to_dict()
        d["zonal"] = zonal
        spec = JobSpec.from_dict(d)
        runner = _fast_runner(session, out / ".eeextract")
        if method["type"] == "direct":
            result = runner.run(runner.create(spec))
        else:
            _, result = _run(runner, spec)
        runner.close()
        assert result.state == reg.COMPLETED, result.message
        tables = sorted(p for p in result.outputs if p.endswith(".csv"))
        assert len(tables) == 2 and any(p.endswith(".gpkg") for p in result.outputs)
        rows = {}
        for table in tables:
            with open(table, newline="") as fh:
                for row in csv.DictReader(fh):
                    if float(row["elevation_count"] or 0) > 0:
                        rows[(Path(table).name, row["fid"])] = (row["elevation_mean"], row["elevation_min"],
                                                                row["elevation_max"])
        assert rows
        results[method["type"]] = rows
    assert results["export_gcs"] == results["direct"]


def test_a_part_failing_its_checksum_fails_only_its_output_and_resume_reexports(export_server, tmp_path):
    """A corrupted part (bytes changed, checksums as announced): the download is retried, then
    that output is reported; the other output completes; resume exports the bad one again."""
    from eeextract_plugin.core.export.execution import make_part_store

    session = _session(export_server.url)
    runner = _fast_runner(session, tmp_path / ".eeextract")
    spec = _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-private"}, kind="features",
                 region=_two_fields(tmp_path / "zones"))
    job_id = runner.create(spec)
    store = make_part_store(spec, session)
    real_download = store.download
    corrupted = []

    def download(part, dest):
        if "north" in part.name and not corrupted:
            export_server.exports.buckets.corrupt("sandbox-private", part.name)
            corrupted.append(part.name)
        return real_download(part, dest)

    store.download = download
    execution = ExportExecution(runner.context(), job_id, spec, poll_min_s=0.1, poll_max_s=0.3, store=store)
    result = execution.run()
    assert result.state == reg.COMPLETED_WITH_FAILURES
    assert "checksum" in result.message and "north" in result.message
    assert [Path(p).name for p in result.outputs] == ["dem-export_south.tif"]
    # Resume: only the bad output is exported again (attempt 2), the good one is kept. (The
    # first runner holds the job from its creation until it closes.)
    runner.close()
    runner2 = _fast_runner(session, tmp_path / ".eeextract")
    result2 = runner2.run(job_id)
    assert result2.state == reg.COMPLETED, result2.message
    attempts = {u.output_id: u.params["export"]["attempt"] for u in runner2.registry.units(job_id)}
    assert attempts == {"north": 2, "south": 1}
    runner2.close()


def test_a_bucket_without_write_access_fails_the_export_with_the_reason(tmp_path):
    # The sandbox rehearses a bucket that exists but refuses Earth Engine's writes.
    server = _server(tmp_path, readonly_buckets=("sandbox-readonly",))
    try:
        session = _session(server.url)
        runner = _fast_runner(session, tmp_path / ".eeextract")
        _, result = _run(runner, _spec(tmp_path, {"type": "export_gcs", "bucket": "sandbox-readonly",
                                                   "resubmit": 1}))
        assert result.state == reg.COMPLETED_WITH_FAILURES, result.message
        assert "sandbox-readonly" in result.message
        ex = runner.registry.units(result.job_id)[0].params["export"]
        assert ex["attempt"] == 1  # a request that is wrong is not resubmitted
        runner.close()
    finally:
        server.stop()


def test_masked_pixels_become_nodata_by_both_methods(export_server, tmp_path):
    """NPY carries no mask: with output.nodata, masked pixels are filled in Earth Engine, so the
    direct path writes nodata where the image is masked — and the export path the same pixels."""
    session = _session(export_server.url)
    ee = session.ee
    dem = ee.Image("SANDBOX/DEM")
    threshold = 160  # the sandbox's elevations in the region: about 145-177 m
    expression = ee.serializer.encode(dem.updateMask(dem.gt(threshold)), for_cloud_api=True)
    arrays = {}
    for method in ({"type": "direct"}, {"type": "export_gcs", "bucket": "sandbox-private"}):
        out = tmp_path / method["type"]
        d = _spec(out, method).to_dict()
        d["source"] = {"type": "expression", "expression": expression}
        d["grid"] = {"crs": "EPSG:4326", "scale": 1 / 3600}
        d["output"]["nodata"] = -9999
        spec = JobSpec.from_dict(d)
        runner = _fast_runner(session, out / ".eeextract")
        result = runner.run(runner.create(spec)) if method["type"] == "direct" else _run(runner, spec)[1]
        runner.close()
        assert result.state == reg.COMPLETED, result.message
        ds = gdal.Open(result.outputs[0])
        assert ds.GetRasterBand(1).GetNoDataValue() == -9999
        arrays[method["type"]] = ds.ReadAsArray()
        ds = None
    direct = arrays["direct"]
    masked = direct == -9999
    assert masked.any() and (~masked).any()  # the threshold cuts the region
    assert (direct[~masked] > threshold).all() and not (direct == 0).any()
    np.testing.assert_array_equal(arrays["export_gcs"], direct)


@pytest.mark.parametrize("reducer", ["median", "mean", "stdDev"])
def test_composites_are_requested_in_the_type_the_plan_sizes_them_by(export_server, reducer):
    """Earth Engine returns mean/median/stdDev composites as doubles (9 bytes a pixel with the
    mask byte); the plan sizes requests for float32: the image asked for must be float32."""
    from eeextract_plugin.core.source import EarthEngineSource

    session = _session(export_server.url)
    spec = JobSpec.from_dict({
        "version": 1, "name": "composite-type", "kind": "collection",
        "source": {"type": "collection", "asset_id": "SANDBOX/S2_SR", "bands": ["B4", "B8"],
                   "start": "2019-06-01", "end": "2019-07-01", "mode": "composite", "reducer": reducer},
        "region": {"type": "bbox", "bbox": [-8.45, 38.3, -8.4, 38.33], "crs": "EPSG:4326"},
        "output": {"directory": "unused"}})
    source = EarthEngineSource(session, spec)
    region = {"type": "Polygon", "coordinates": [[[-8.45, 38.3], [-8.4, 38.3], [-8.4, 38.33],
                                                  [-8.45, 38.33], [-8.45, 38.3]]]}
    info = source.describe(region)
    assert [b.dtype for b in info.bands] == ["float32", "float32"]
    bands = source.image(info.images[0], region).getInfo()["bands"]
    assert [b["data_type"]["precision"] for b in bands] == ["float", "float"]
