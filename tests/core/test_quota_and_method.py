"""Using the whole quota and choosing the method (issue 12), against the sandbox: the engine
climbs to the project's concurrency and settles below what draws 429s; ``method: auto`` picks
direct or batch from the plans' estimates; thumbnail/download-URL units give the pixels of
computePixels units."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from eeextract_plugin.core.plan import RequestLimits
from eeextract_plugin.core.runner import JobRunner, estimate_job, run_job
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec

CONSTANT = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": 7}}}}}}


def _server(tmp_path_factory, **cfg):
    from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    latency = cfg.pop("latency", None)
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("sb"), **cfg)
    if latency:
        config.latency = LatencyModel(*latency)
    return SandboxServer(config).start()


@pytest.fixture(autouse=True)
def restore_client_retries():
    yield
    import ee

    ee.data.setMaxRetries(5)


def _many_units(out: Path, units_a_side: int, **execution) -> JobSpec:
    """A constant image cut in ``units_a_side``² tiles of 32 px: cheap to compute, many requests."""
    side = 32 * units_a_side
    return JobSpec.from_dict({
        "version": 1, "name": "many", "kind": "mosaic",
        "source": {"type": "expression", "expression": CONSTANT},
        "region": {"type": "bbox", "bbox": [0, 0, side, side], "crs": "EPSG:32631"},
        "grid": {"crs": "EPSG:32631", "scale": 1},
        "output": {"directory": str(out), "format": "GEO_TIFF", "overwrite": True},
        "method": "direct",
        "execution": {"tile_size": 32, **execution}})


def test_the_engine_climbs_to_the_projects_concurrency_and_draws_no_429(tmp_path_factory, tmp_path):
    server = _server(tmp_path_factory, latency=(0.5, 0.0))  # 40 in flight, 100/s: as Earth Engine
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        result = run_job(_many_units(tmp_path / "out", 18), session, workdir=tmp_path / "w")
        assert result.ok, result.message
        assert result.stats.highest_limit == 40 and result.stats.rate_limited == 0
        assert server.limiter.peak_in_flight == 40
    finally:
        server.stop()


def test_with_a_lower_limit_the_engine_settles_lower_with_few_429s(tmp_path_factory, tmp_path):
    server = _server(tmp_path_factory, latency=(0.2, 0.0), max_concurrent_requests=12)
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        result = run_job(_many_units(tmp_path / "out", 18), session, workdir=tmp_path / "w")
        assert result.ok, result.message
        # Found the limit, then stayed under it: few 429s for hundreds of requests.
        assert 0 < result.stats.rate_limited <= 0.05 * result.stats.successes
        assert 8 <= result.stats.final_limit <= 12
        assert server.limiter.peak_in_flight == 12
    finally:
        server.stop()


def _dem(out: Path, **over) -> JobSpec:
    d = {"version": 1, "name": "dem", "kind": "mosaic",
         "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
         "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.3, 38.4]},
         "output": {"directory": str(out), "format": "COG", "overwrite": True},
         "execution": {"tile_size": 256}}
    d.update(over)
    return JobSpec.from_dict(d)


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_download_url_units_give_the_pixels_of_computepixels_units(sandbox_url, tmp_path):
    session = initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))
    by_pixels = run_job(_dem(tmp_path / "a", execution={"tile_size": 256, "request_kind": "pixels"}),
                        session, workdir=tmp_path / "wa")
    by_url = run_job(_dem(tmp_path / "b", execution={"tile_size": 256, "request_kind": "url"}),
                     session, workdir=tmp_path / "wb")
    assert by_pixels.ok and by_url.ok, (by_pixels.message, by_url.message)
    assert by_url.units_done == by_pixels.units_done > 1
    assert _sha(by_url.rasters[0]) == _sha(by_pixels.rasters[0])


def test_thumbnail_url_chips_give_the_pictures_of_computepixels_chips(sandbox_url, tmp_path):
    import json

    points = tmp_path / "p.geojson"
    points.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pid": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [-8.45 + 0.03 * i, 38.35]}} for i in range(2)]}))
    session = initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))

    def chips(sub: str, kind: str):
        return run_job(JobSpec.from_dict({
            "version": 1, "name": "c", "kind": "chips", "source": {"asset_id": "SANDBOX/DEM"},
            "region": {"type": "file", "path": str(points), "id_field": "pid"},
            "output": {"directory": str(tmp_path / sub), "format": "PNG", "chip_size": 32,
                       "visualization": {"min": 0, "max": 2000}},
            "execution": {"request_kind": kind}}), session, workdir=tmp_path / f"w{sub}")

    a, b = chips("a", "pixels"), chips("b", "url")
    assert a.ok and b.ok
    assert [_sha(p) for p in sorted(a.rasters)] == [_sha(p) for p in sorted(b.rasters)]


def test_auto_picks_direct_for_chips_and_small_mosaics(sandbox_url, tmp_path):
    session = initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))
    small = estimate_job(_dem(tmp_path, method={"type": "auto", "bucket": "sandbox-private"}), session)
    assert small.method == "direct" and small.method_reason.startswith("auto: direct")
    assert small.batch_s is not None and small.batch_s > small.direct_s
    no_bucket = estimate_job(_dem(tmp_path, method="auto"), session)
    assert no_bucket.method == "direct" and "bucket" in no_bucket.method_reason
    png = estimate_job(_dem(tmp_path, method={"type": "auto", "bucket": "sandbox-private"}, execution={},
                            output={"directory": str(tmp_path), "format": "PNG",
                                    "visualization": {"min": 0, "max": 1}}), session)
    assert png.method == "direct" and "PNG" in png.method_reason
    # 50 chips: 50 Export tasks (two running at a time, each waiting to start) against 50 requests.
    chips = estimate_job(JobSpec.from_dict({
        "version": 1, "name": "c", "kind": "chips", "source": {"asset_id": "SANDBOX/DEM"},
        "region": {"type": "geometry", "geometry": {"type": "MultiPoint", "coordinates": [
            [-8.45 + 0.002 * i, 38.35] for i in range(50)]}},
        "output": {"directory": str(tmp_path), "format": "GEO_TIFF", "chip_size": 64},
        "method": {"type": "auto", "bucket": "sandbox-private"}}), session)
    assert chips.method == "direct" and chips.outputs == 50 and chips.batch_s > 10 * chips.direct_s


def test_auto_picks_batch_when_the_direct_plan_would_take_longer(tmp_path_factory, tmp_path):
    """Both estimates from the sandbox's own timing models: slow interactive requests (5 s per
    megapixel computed) and quick exports (0.5 s to start, 50 MP/s)."""
    from eeextract_plugin.sandbox.config import ExportTiming

    server = _server(tmp_path_factory, latency=(0.3, 5.0), export_timing=ExportTiming(0.5, 50.0))
    limits = RequestLimits(latency_fixed_s=0.3, latency_per_megapixel_s=5.0, export_startup_s=0.5,
                           export_megapixels_per_s=50.0, export_running_tasks=2, download_bytes_per_s=200e6)
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        spec = _dem(tmp_path / "out", method={"type": "auto", "bucket": "sandbox-private"},
                    execution={})
        runner = JobRunner(session, tmp_path / "w", limits=limits)
        plan = runner.plan(spec)
        summary = plan.summary()
        assert plan.method == "export_gcs" and summary.batch_s < summary.direct_s
        assert summary.method_reason.startswith("auto: batch") and "export task" in summary.method_reason
        result = runner.run(runner.create(spec, plan))
        runner.close()
        assert result.ok, result.message
        assert result.export is not None and result.export.submitted == 1  # it really exported
    finally:
        server.stop()


def test_restricted_mode_drops_concurrency_at_once_says_so_and_the_job_completes(tmp_path_factory, tmp_path,
                                                                                  recwarn):
    """The sandbox puts the project in restricted mode once its (tiny) monthly budget is used
    up, answers with the quota-status header and allows 4 requests in flight."""
    from eeextract_plugin.sandbox.quota import QuotaModel

    server = _server(tmp_path_factory, latency=(0.1, 0.0),
                     quota=QuotaModel(monthly_eecu_hours=0.0002, restricted_max_concurrent=4))
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        spec = _dem(tmp_path / "out", execution={"tile_size": 64, "restricted_concurrency": 4})
        result = run_job(spec, session, workdir=tmp_path / "w")
        assert result.ok, result.message
        assert result.stats.restricted and session.quota.restricted
        assert result.stats.final_limit <= 4
        assert len(result.notices) == 1 and "restricted mode" in result.notices[0]
        assert "requests in flight cut to 4" in result.notices[0]
        # The cut is at once: only requests already in flight when it came can be refused.
        assert result.stats.rate_limited <= 40
        # Said once, in the engine's words: not the client's warning on every response.
        assert not [w for w in recwarn if "restricted mode" in str(w.message)]
    finally:
        server.stop()


def test_a_resumed_job_runs_at_the_quota_given_now_and_fetches_the_same(tmp_path_factory, tmp_path):
    """`eeextract resume --concurrency N`, the dock's Resume after the Jobs tab changed, Processing
    running the same parameters again: the run pushes as hard as it is told now; what it fetches is
    the recorded job's. A wrong value is refused naming the execution field."""
    from eeextract_plugin.core.errors import BadInput
    from eeextract_plugin.core.runner import resume_job

    server = _server(tmp_path_factory, latency=(0.3, 0.0))
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        runner = JobRunner(session, tmp_path / "w")
        try:
            job_id = runner.create(_many_units(tmp_path / "out", 8))  # recorded at the default quota
        finally:
            runner.close()
        with pytest.raises(BadInput, match="max_concurrent_requests"):
            resume_job(job_id, session, tmp_path / "w", execution={"max_concurrent_requests": 0})
        runner = JobRunner(session, tmp_path / "w")
        try:
            second = runner.create(_many_units(tmp_path / "out2", 8))
        finally:
            runner.close()
        result = resume_job(job_id, session, tmp_path / "w", execution={"max_concurrent_requests": 3})
        assert result.ok, result.message
        assert result.stats.highest_limit <= 3 and server.limiter.peak_in_flight <= 3
        assert len(result.rasters) == 1
        # The command line's resume takes the same settings.
        from eeextract_plugin.cli.main import main

        with server.limiter._lock:  # the peak of this run only
            server.limiter._peak = 0
        assert main(["resume", second, "--workdir", str(tmp_path / "w"), "--no-progress", "--url", server.url,
                     "--credentials", "none", "--project", "sandbox", "--concurrency", "2"]) == 0
        assert 0 < server.limiter.peak_in_flight <= 2
        assert (tmp_path / "out2").is_dir() and any((tmp_path / "out2").iterdir())
    finally:
        server.stop()


def test_two_jobs_at_once_on_one_session_share_the_projects_quota(tmp_path_factory, tmp_path):
    """The dock runs several jobs at once and Processing's batch rows share a session: together
    they stay within the project's 40 in flight and draw no 429 (each alone would take all 40)."""
    import threading

    server = _server(tmp_path_factory, latency=(0.5, 0.0))  # 40 in flight, 100/s: as Earth Engine
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        results = {}

        def run(name: str) -> None:
            results[name] = run_job(_many_units(tmp_path / name, 14), session, workdir=tmp_path / f"w-{name}")

        jobs = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(120)
        assert all(r.ok for r in results.values()), [r.message for r in results.values()]
        assert server.limiter.peak_in_flight <= 40
        assert sum(r.stats.rate_limited for r in results.values()) == 0
        # and the shared level did reach the project's quota
        assert max(r.stats.highest_limit for r in results.values()) == 40
    finally:
        server.stop()
