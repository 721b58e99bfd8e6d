"""One quota for the whole cluster (issue 13), against the sandbox's admission control: never
more requests in flight than the project's concurrency across all workers, the same adaptive
behaviour on 429s as on threads, one cap for two jobs of a project sharing a cluster, and
restricted mode seen in the workers' answers restricting the whole cluster."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _dask_helpers import HeaderProxy, many_tiles, session_for, sha, start_sandbox  # noqa: E402

from eeextract_plugin.core.quota import QUOTA_STATUS_HEADER  # noqa: E402
from eeextract_plugin.core.runner import run_job  # noqa: E402


def _dask(address: str, **execution):
    return {"engine": "dask", "dask_scheduler": address, **execution}


def test_the_cluster_climbs_to_the_projects_concurrency_and_never_above(dask_cluster, tmp_path):
    # 1 s a request: the concurrency is the bound (two requests a unit stay under 100/s).
    server = start_sandbox(tmp_path, latency=(1.0, 0.0))
    try:
        session = session_for(server.url)
        result = run_job(many_tiles(tmp_path / "out", 12, **_dask(dask_cluster.scheduler_address)),
                         session, workdir=tmp_path / "w")
        assert result.ok, result.message
        assert result.units_done == 144
        assert result.stats.highest_limit == 40 and result.stats.rate_limited == 0
        # The workers' 40 threads really ran 40 at once, and not one more.
        assert 32 <= server.limiter.peak_in_flight <= 40
        assert server.limiter.rejected_concurrency == 0 and server.limiter.rejected_rate == 0
    finally:
        server.stop()


def test_below_a_lower_limit_the_cluster_settles_with_few_429s(dask_cluster, tmp_path):
    server = start_sandbox(tmp_path, latency=(0.3, 0.0), max_concurrent_requests=12)
    try:
        session = session_for(server.url)
        result = run_job(many_tiles(tmp_path / "out", 14, **_dask(dask_cluster.scheduler_address)),
                         session, workdir=tmp_path / "w")
        assert result.ok, result.message
        # Found the level, then held under it: few 429s for ~200 requests, one controller.
        assert 0 < result.stats.rate_limited <= 0.08 * result.stats.successes
        assert result.stats.final_limit <= 12
        assert server.limiter.peak_in_flight == 12
    finally:
        server.stop()


def test_two_jobs_of_one_project_on_one_cluster_share_its_quota(dask_cluster, tmp_path):
    """Each job's controller allows 40; the cluster's semaphore for the project holds both
    together to 40: no 429 although 80 would be asked for."""
    server = start_sandbox(tmp_path, latency=(1.0, 0.0))
    try:
        session = session_for(server.url)
        results = {}

        def job(name: str) -> None:
            spec = many_tiles(tmp_path / name, 9, **_dask(dask_cluster.scheduler_address))
            results[name] = run_job(spec, session, workdir=tmp_path / f"w{name}")

        threads = [threading.Thread(target=job, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(r.ok for r in results.values()), [r.message for r in results.values()]
        assert sum(r.units_done for r in results.values()) == 162
        assert server.limiter.rejected_concurrency == 0
        assert server.limiter.peak_in_flight <= 40
        assert sum(r.stats.rate_limited for r in results.values()) == 0
    finally:
        server.stop()


def test_restricted_mode_in_the_workers_answers_restricts_the_whole_cluster(dask_cluster, tmp_path):
    """Only the URL fetches (made by workers) carry the restricted-mode header: the client's own
    requests never see it, so the client learns it from the workers' reports."""
    server = start_sandbox(tmp_path)
    proxy = HeaderProxy(server.url, {QUOTA_STATUS_HEADER: "parallelism_restricted=true"},
                        lambda method, path: method == "GET" and path.endswith(":getPixels"))
    try:
        session = session_for(proxy.url)
        spec = many_tiles(tmp_path / "out", 8, **_dask(dask_cluster.scheduler_address, restricted_concurrency=3))
        result = run_job(spec, session, workdir=tmp_path / "w")
        assert result.ok, result.message
        assert proxy.matched >= 1
        assert session.quota.restricted and result.stats.restricted
        assert result.stats.final_limit <= 3
        assert any("restricted mode" in n for n in result.notices), result.notices
        reference = run_job(many_tiles(tmp_path / "ref", 8), session_for(server.url), workdir=tmp_path / "wr")
        assert sha(result.rasters[0]) == sha(reference.rasters[0])  # slower, not different
    finally:
        proxy.stop()
        server.stop()
