"""The engine end to end through the real ``ee`` client against the sandbox: outputs, resume after
SIGKILL (bytes identical to an uninterrupted run), retries under injected faults, 429 adaptation,
bad input. No timed assertions."""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.fetch import RetryPolicy
from eeextract_plugin.core.runner import JobRunner, resume_job, run_job
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec

ROOT = Path(__file__).resolve().parents[2]

DEM_JOB = {
    "version": 1, "name": "dem", "kind": "mosaic",
    "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
    "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.3, 38.4]},
    "output": {"format": "COG", "name": "dem"},
    "execution": {"tile_size": 256, "max_concurrent_requests": 8},
}


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_spec(tmp_path, sub, **over):
    d = copy.deepcopy(DEM_JOB)
    for k, v in over.items():
        d[k] = v
    d["output"] = {**d["output"], "directory": str(tmp_path / sub)}
    return JobSpec.from_dict(d)


def start_server(tmp_path_factory, **cfg):
    from eeextract_plugin.sandbox.config import FaultInjection, LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    faults = cfg.pop("faults", None)
    latency = cfg.pop("latency", None)
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("sb"), **cfg)
    if faults:
        config.faults = FaultInjection(**faults)
    if latency:
        config.latency = LatencyModel(*latency)
    return SandboxServer(config).start()


@pytest.fixture(autouse=True)
def restore_client_retries():
    """The engine's session sets ``ee.data.setMaxRetries(0)`` (one retry layer); other test
    modules share this process and the client's default."""
    yield
    import ee

    ee.data.setMaxRetries(5)


@pytest.fixture()
def session(sandbox_url):
    # The ee client is process-global: tests that start their own server re-initialise it.
    return initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))


@pytest.fixture(scope="module")
def reference(sandbox_url, tmp_path_factory):
    """An uninterrupted DEM run: the bytes every other run must reproduce."""
    session = initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))
    tmp = tmp_path_factory.mktemp("ref")
    spec = make_spec(tmp, "out")
    result = run_job(spec, session, workdir=tmp / "work")
    assert result.ok, result.message
    return Path(result.outputs[0])


def test_dem_mosaic_is_a_cog_with_the_servers_pixels(session, reference):
    from osgeo import gdal

    ds = gdal.Open(str(reference))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetRasterBand(1).GetOverviewCount() >= 1
    assert (ds.RasterXSize, ds.RasterYSize) == (720, 360)
    mosaic = ds.ReadAsArray()
    # the same grid in one request
    gt = ds.GetGeoTransform()
    grid = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": gt[1], "shearX": 0, "translateX": gt[0],
                                                         "shearY": 0, "scaleY": gt[5], "translateY": gt[3]},
            "dimensions": {"width": 720, "height": 360}}
    whole = session.ee.data.getPixels({"assetId": "SANDBOX/DEM", "fileFormat": "NUMPY_NDARRAY", "grid": grid})
    assert np.array_equal(mosaic, whole["elevation"])
    assert mosaic.std() > 0


def test_same_name_jobs_never_collide(session, tmp_path):
    a = run_job(make_spec(tmp_path, "a"), session, workdir=tmp_path / "w")
    b = run_job(make_spec(tmp_path, "b"), session, workdir=tmp_path / "w")
    assert a.ok and b.ok and a.job_id != b.job_id
    assert sha(a.outputs[0]) == sha(b.outputs[0])


def test_cancel_then_resume_is_identical(session, reference, tmp_path):
    from eeextract_plugin.core import source
    from eeextract_plugin.core.progress import CancelToken

    tok = CancelToken()
    calls = {"n": 0}
    real = source.EarthEngineSource.fetch_pixels

    def counting(self, *a, **k):
        calls["n"] += 1
        if calls["n"] >= 3:
            tok.cancel()
        return real(self, *a, **k)

    source.EarthEngineSource.fetch_pixels = counting
    try:
        spec = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 1})
        first = run_job(spec, session, workdir=tmp_path / "w", cancel=tok)
    finally:
        source.EarthEngineSource.fetch_pixels = real
    assert first.state == reg.CANCELLED and 3 <= first.units_done < first.units_total
    assert not Path(spec.output.directory, "dem.tif").exists()
    second = resume_job(first.job_id, session, tmp_path / "w")
    assert second.ok
    assert second.stats.attempts == first.units_total - first.units_done  # nothing refetched
    assert sha(second.outputs[0]) == sha(reference)  # tile size differs: same bytes all the same


def test_resume_after_sigkill_is_identical(tmp_path_factory, tmp_path, reference):
    """A real ``eeextract run`` process killed with SIGKILL mid-job, then resumed."""
    # Finished units are recorded in batches (at least once a second, after an fsync): slow
    # enough requests that the kill lands between two batches.
    server = start_server(tmp_path_factory, latency=(0.5, 0.0))
    try:
        job = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 2})
        job_file = tmp_path / "job.json"
        job.to_file(job_file)
        work = tmp_path / "work"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "eeextract_plugin.cli", "run", str(job_file),
                                 "--url", server.url, "--project", "sandbox", "--credentials", "none",
                                 "--workdir", str(work), "--no-progress"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        db = work / "registry.sqlite"
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    done = sqlite3.connect(db).execute("SELECT COUNT(*) FROM units WHERE state='done'").fetchone()[0]
                except sqlite3.OperationalError:
                    done = 0
                if done >= 4:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stdout.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with reg.Registry(db) as r:
            (job_rec,) = r.jobs()
            counts = r.unit_counts(job_rec.id)
            assert job_rec.state == reg.RUNNING  # killed: never got to record anything else
            total = sum(v for k, v in counts.items() if k in (reg.PENDING, reg.DONE, reg.FAILED))
            assert 4 <= counts[reg.DONE] < total
        session2 = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        result = resume_job(job_rec.id, session2, work)
        assert result.ok, result.message
        assert result.stats.attempts <= total - counts[reg.DONE]
        assert sha(result.outputs[0]) == sha(reference)
    finally:
        server.stop()


def test_retries_under_injected_faults(tmp_path_factory, tmp_path, reference):
    server = start_server(tmp_path_factory, faults={"seed": 3, "error_500": 0.1, "error_503": 0.1,
                                                    "connection_reset": 0.1, "truncated_body": 0.1})
    try:
        s = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        runner = JobRunner(s, tmp_path / "w", retry_policy=RetryPolicy(max_retries=12, base_s=0.01, cap_s=0.1))
        spec = make_spec(tmp_path, "out")
        job_id = runner.create(spec)
        result = runner.run(job_id)
        runner.close()
        assert result.ok, result.message
        assert result.stats.retries > 0
        assert sha(result.outputs[0]) == sha(reference)
    finally:
        server.stop()


def test_429s_reduce_concurrency_and_the_job_completes(tmp_path_factory, tmp_path, reference):
    server = start_server(tmp_path_factory, max_concurrent_requests=3, latency=(0.05, 0.0))
    try:
        s = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        runner = JobRunner(s, tmp_path / "w", retry_policy=RetryPolicy(max_retries=30, base_s=0.02, cap_s=0.2))
        spec = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 16})
        result = runner.run(runner.create(spec))
        runner.close()
        assert result.ok, result.message
        assert result.stats.rate_limited > 0
        assert result.stats.lowest_limit < 16
    finally:
        server.stop()


def test_unknown_asset_is_one_clear_line(session, tmp_path):
    spec = make_spec(tmp_path, "out", source={"type": "asset", "asset_id": "SANDBOX/NOPE"})
    with pytest.raises(BadInput) as info:
        run_job(spec, session, workdir=tmp_path / "w")
    msg = str(info.value)
    assert msg.startswith("source.asset_id: SANDBOX/NOPE") and "\n" not in msg


def test_unwritable_output_folder(session, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        spec = make_spec(tmp_path, "ro/out")
        with pytest.raises(BadInput, match="output.directory: cannot write"):
            run_job(spec, session, workdir=tmp_path / "w")
    finally:
        ro.chmod(0o700)


def test_disk_full_mid_run_keeps_units_and_resumes(session, reference, tmp_path, monkeypatch):
    from eeextract_plugin.core import writer

    calls = {"n": 0}
    real = writer._pwrite_all

    def flaky(fd, data, off):
        calls["n"] += 1
        if calls["n"] > 600:
            raise OSError(28, "No space left on device")
        return real(fd, data, off)

    monkeypatch.setattr(writer, "_pwrite_all", flaky)
    spec = make_spec(tmp_path, "out", execution={"tile_size": 256, "max_concurrent_requests": 1})
    first = run_job(spec, session, workdir=tmp_path / "w")
    assert first.state == reg.FAILED and first.message.startswith("disk full")
    assert 0 < first.units_done < first.units_total
    monkeypatch.setattr(writer, "_pwrite_all", real)
    second = resume_job(first.job_id, session, tmp_path / "w")
    assert second.ok and sha(second.outputs[0]) == sha(reference)


def test_collection_composite_chips_and_tables(session, tmp_path):
    for name in ("s2-ndvi-composite", "s2-chips", "dem-sample-table", "s2-ndvi-timeseries", "dem-per-feature"):
        spec = JobSpec.from_file(ROOT / "examples" / f"{name}.json")
        spec.output.directory = str(tmp_path / name)
        if spec.zonal is not None:
            spec.zonal = None
        result = run_job(spec, session, workdir=tmp_path / "w")
        assert result.ok, (name, result.message)
        assert result.outputs and all(Path(p).stat().st_size > 0 for p in result.outputs)
    from osgeo import gdal

    ndvi = sorted((tmp_path / "s2-ndvi-composite").glob("*.tif"))
    assert len(ndvi) == 2
    arr = gdal.Open(str(ndvi[0])).ReadAsArray()
    assert -1 <= np.nanmin(arr) and np.nanmax(arr) <= 1 and np.nanstd(arr) > 0
    assert sorted(p.name for p in (tmp_path / "s2-chips").glob("*.png")) == [f"chip_{i}.png" for i in range(4)]
    import csv
    rows = list(csv.DictReader(open(tmp_path / "dem-sample-table" / "dem_samples.csv")))
    assert len(rows) == 40 and all(r["elevation"] != "" for r in rows)
    series = list(csv.DictReader(open(tmp_path / "s2-ndvi-timeseries" / "ndvi_series.csv")))
    assert {r["id"] for r in series} == {"north", "south", "east"} and len(series) > 30


def test_cli_help_plan_and_exit_codes(sandbox_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    for cmd in ("plan", "run", "status", "resume", "cancel", "sandbox", "demo"):
        assert cli(cmd, "--help").returncode == 0
    r = cli("plan", str(ROOT / "examples" / "dem-mosaic.json"), "--url", sandbox_url, "--project", "sandbox")
    assert r.returncode == 0, r.stderr
    assert "pixels:" in r.stdout and "requests:" in r.stdout and "time:" in r.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "name": "x", "kind": "mosaic", "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},'
                   ' "region": {"bbox": [1, 2, 0, 3]}}')
    r = cli("plan", str(bad), "--url", sandbox_url)
    assert r.returncode == 2 and r.stderr.strip() == "eeextract: region.bbox: xmin must be < xmax (1 >= 0)"
    r = cli("status", "nope", "--workdir", str(tmp_path))
    assert r.returncode == 2


def test_cli_run_status_and_huge_job(sandbox_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    job = make_spec(tmp_path, "out")
    job.to_file(tmp_path / "job.json")
    conn = ["--url", sandbox_url, "--project", "sandbox", "--workdir", str(tmp_path / "w")]
    r = cli("run", str(tmp_path / "job.json"), "--no-progress", *conn)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "completed" in r.stdout and (tmp_path / "out" / "dem.tif").exists()
    r = cli("status", "--workdir", str(tmp_path / "w"))
    assert r.returncode == 0 and "completed" in r.stdout
    r = cli("run", str(tmp_path / "job.json"), "--no-progress", *conn)
    assert r.returncode == 2 and "exists" in r.stderr  # no silent overwrite
    huge = make_spec(tmp_path, "huge", region={"type": "bbox", "bbox": [-20.0, 20.0, 20.0, 60.0]},
                     execution={"max_concurrent_requests": 32})
    huge.to_file(tmp_path / "huge.json")
    r = cli("run", str(tmp_path / "huge.json"), "--no-progress", *conn)
    assert r.returncode == 3 and "--yes" in r.stderr


def test_failure_while_writing_the_cog_then_resume(session, reference, tmp_path, monkeypatch):
    from eeextract_plugin.core import direct as runner_mod

    real = runner_mod.build_output

    def broken(*a, **k):
        raise RuntimeError("GDAL could not write (simulated)")

    monkeypatch.setattr(runner_mod, "build_output", broken)
    first = run_job(make_spec(tmp_path, "out"), session, workdir=tmp_path / "w")
    assert first.state == reg.FAILED and "simulated" in first.message
    assert first.units_done == first.units_total  # every tile kept
    monkeypatch.setattr(runner_mod, "build_output", real)
    second = resume_job(first.job_id, session, tmp_path / "w")
    assert second.ok and second.stats.attempts == 0  # nothing refetched
    assert sha(second.outputs[0]) == sha(reference)


def test_cli_cancel_from_another_process_then_resume(tmp_path_factory, tmp_path, reference):
    server = start_server(tmp_path_factory, latency=(0.2, 0.0))
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        job = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 2})
        job.to_file(tmp_path / "job.json")
        work = tmp_path / "w"
        base = [sys.executable, "-m", "eeextract_plugin.cli"]
        conn = ["--url", server.url, "--project", "sandbox", "--workdir", str(work)]
        proc = subprocess.Popen(base + ["run", str(tmp_path / "job.json"), "--no-progress", *conn],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first_line = proc.stdout.readline()
        while not first_line.startswith("job "):
            first_line = proc.stdout.readline()
        job_id = first_line.split()[1]
        time.sleep(0.5)
        r = subprocess.run(base + ["cancel", job_id, "--workdir", str(work)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 4, out
        r = subprocess.run(base + ["resume", job_id, "--no-progress", *conn], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert sha(tmp_path / "out" / "dem.tif") == sha(reference)
    finally:
        server.stop()


def test_memory_limit_splits_the_tile_and_the_result_is_the_same(session, tmp_path, monkeypatch):
    """The sandbox answers "User memory limit exceeded." when a composite's stack is too big for
    the tile: the unit is split (not retried as is), and the raster equals an unsplit run."""
    from osgeo import gdal

    from eeextract_plugin.sandbox.imagery import algorithms

    def job(sub):
        spec = JobSpec.from_file(ROOT / "examples" / "s2-chips.json")
        d = spec.to_dict()
        d["kind"] = "mosaic"
        d["region"] = {"type": "bbox", "bbox": [-8.45, 38.42, -8.42, 38.44]}
        d["output"] = {"directory": str(tmp_path / sub), "format": "GEO_TIFF", "name": "m"}
        d["source"]["bands"] = ["B4"]
        d["execution"] = {"tile_size": 256, "max_concurrent_requests": 4}
        return JobSpec.from_dict(d)

    plain = run_job(job("plain"), session, workdir=tmp_path / "w")
    assert plain.ok, plain.message
    monkeypatch.setattr(algorithms, "MAX_STACK_BYTES", 3 * 2**20)
    split = run_job(job("split"), session, workdir=tmp_path / "w")
    assert split.ok, split.message
    assert split.stats.splits > 0 and split.units_done > plain.units_done
    a = gdal.Open(plain.outputs[0]).ReadAsArray()
    b = gdal.Open(split.outputs[0]).ReadAsArray()
    assert np.array_equal(a, b)


def test_output_folder_that_cannot_exist(session, tmp_path):
    (tmp_path / "a-file").write_text("x")
    spec = make_spec(tmp_path, "a-file/out")
    with pytest.raises(BadInput, match=r"^output.directory: cannot write to .*a-file/out"):
        run_job(spec, session, workdir=tmp_path / "w")


def test_a_silent_connection_times_out_and_is_retried(tmp_path_factory, tmp_path, reference):
    server = start_server(tmp_path_factory, faults={"seed": 5, "slow_response": 0.5, "slow_s": 4.0})
    try:
        s = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox", request_timeout_s=1.0))
        runner = JobRunner(s, tmp_path / "w", retry_policy=RetryPolicy(max_retries=10, base_s=0.01, cap_s=0.05))
        spec = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 8})
        result = runner.run(runner.create(spec))
        runner.close()
        assert result.ok, result.message
        assert result.stats.retries > 0
        assert sha(result.outputs[0]) == sha(reference)
    finally:
        server.stop()


def test_demo_writes_real_files(tmp_path):
    """``make demo``: the example jobs through the real client against an embedded sandbox."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", "demo", "--output", str(tmp_path)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "dem-mosaic" / "dem.tif").exists()
    assert len(list((tmp_path / "s2-ndvi-composite").glob("ndvi_*.tif"))) == 2
    assert len(list((tmp_path / "s2-chips").glob("chip_*.png"))) == 4
    assert (tmp_path / "dem-expression-export" / "dem_km.tif").exists()  # the batch path
    assert "1 export task(s)" in r.stdout
    assert "COG" in r.stdout and str(tmp_path) in r.stdout


def test_lost_staging_files_are_refetched_on_resume(session, reference, tmp_path):
    from eeextract_plugin.core import source
    from eeextract_plugin.core.progress import CancelToken

    tok = CancelToken()
    calls = {"n": 0}
    real = source.EarthEngineSource.fetch_pixels

    def counting(self, *a, **k):
        calls["n"] += 1
        if calls["n"] >= 3:
            tok.cancel()
        return real(self, *a, **k)

    source.EarthEngineSource.fetch_pixels = counting
    try:
        spec = make_spec(tmp_path, "out", execution={"tile_size": 128, "max_concurrent_requests": 1})
        first = run_job(spec, session, workdir=tmp_path / "w", cancel=tok)
    finally:
        source.EarthEngineSource.fetch_pixels = real
    assert first.state == reg.CANCELLED and first.units_done >= 3
    for raw in (tmp_path / "w").rglob("*.raw"):
        raw.unlink()  # e.g. a user cleaning up
    second = resume_job(first.job_id, session, tmp_path / "w")
    assert second.ok and second.stats.attempts == first.units_total
    assert sha(second.outputs[0]) == sha(reference)
