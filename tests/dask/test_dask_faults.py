"""Faults on a cluster (issue 13): a worker process killed mid-job costs only its units in
flight; cancel stops the cluster's work within seconds and a resume finishes; a client killed
mid-job (``kill -9`` of ``eeextract run --dask``) is resumed from the registry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _dask_helpers import ROOT, many_tiles, session_for, sha, start_sandbox  # noqa: E402

from eeextract_plugin.core import registry as reg  # noqa: E402
from eeextract_plugin.core.progress import CancelToken  # noqa: E402
from eeextract_plugin.core.runner import JobRunner, resume_job, run_job  # noqa: E402


@pytest.fixture(scope="module")
def reference(sandbox_url, tmp_path_factory):
    """The thread engine's output of the jobs below (a constant image: no latency needed)."""
    out = tmp_path_factory.mktemp("reference")
    refs = {}
    for side in (10, 12, 16):
        result = run_job(many_tiles(out / str(side), side), session_for(sandbox_url), workdir=out / f"w{side}")
        assert result.ok, result.message
        refs[side] = sha(result.rasters[0])
    return refs


def _wait_for_workers(client, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info()["workers"]) < n:
        assert time.monotonic() < deadline, "the nanny did not restart the killed worker"
        time.sleep(0.2)


def test_a_worker_killed_mid_job_costs_only_its_units_in_flight(dask_cluster, dask_client, reference, tmp_path):
    server = start_sandbox(tmp_path, latency=(0.5, 0.0))
    try:
        session = session_for(server.url)
        pids = dask_client.run(os.getpid)  # {worker address: pid}
        victim = sorted(pids.values())[0]
        killed = threading.Event()

        def progress(report) -> None:
            if report.units_done >= 30 and not killed.is_set():
                killed.set()
                os.kill(victim, signal.SIGKILL)

        spec = many_tiles(tmp_path / "out", 12, engine="dask", dask_scheduler=dask_cluster.scheduler_address)
        runner = JobRunner(session, tmp_path / "w", progress=progress)
        try:
            result = runner.run(runner.create(spec))
        finally:
            runner.close()
        assert killed.is_set()
        assert result.ok, result.message
        assert result.units_done == 144 and result.units_failed == 0
        assert sha(result.rasters[0]) == reference[12]
        _wait_for_workers(dask_client, 2)
        assert victim not in dask_client.run(os.getpid).values()  # it really died
    finally:
        server.stop()


def test_cancel_stops_the_clusters_requests_within_seconds_and_resume_finishes(dask_cluster, reference, tmp_path):
    server = start_sandbox(tmp_path, latency=(1.0, 0.0))
    try:
        session = session_for(server.url)
        token = CancelToken()
        cancelled_at = []

        def progress(report) -> None:
            if report.units_done >= 20 and not cancelled_at:
                cancelled_at.append(time.monotonic())
                token.cancel()

        spec = many_tiles(tmp_path / "out", 16, engine="dask", dask_scheduler=dask_cluster.scheduler_address)
        result = run_job(spec, session, workdir=tmp_path / "w", progress=progress, cancel=token)
        returned = time.monotonic() - cancelled_at[0]
        assert result.state == reg.CANCELLED, result.message
        assert 20 <= result.units_done < 256
        assert returned < 5.0, f"the run took {returned:.1f} s to stop"
        # Requests already at Earth Engine end (1 s each); no new one starts.
        deadline = cancelled_at[0] + 3.0
        while server.limiter.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.limiter.in_flight == 0
        time.sleep(1.0)
        assert server.limiter.in_flight == 0
        done_before = result.units_done
        second = resume_job(result.job_id, session, tmp_path / "w")
        assert second.ok, second.message
        assert second.stats.successes == 256 - done_before  # only what was missing
        assert sha(second.rasters[0]) == reference[16]
    finally:
        server.stop()


def test_a_long_post_processing_task_sees_the_jobs_cancel(dask_cluster, dask_client):
    """A COG or a part download on a worker polls the job's cancel event on the scheduler."""
    from distributed import Event

    from eeextract_plugin.core.cluster import tasks
    from eeextract_plugin.core.cluster.units import cancel_event_name

    def wait_for_cancel(name: str) -> float:
        cancelled = tasks.cancel_poll(name)
        t0 = time.monotonic()
        while not cancelled():
            if time.monotonic() - t0 > 30:
                return -1.0
            time.sleep(0.05)
        return time.monotonic() - t0

    name = cancel_event_name("job-under-test")
    Event(name, client=dask_client).clear()
    future = dask_client.submit(wait_for_cancel, name, pure=False)
    time.sleep(1.0)
    assert not future.done()
    set_at = time.monotonic()
    Event(name, client=dask_client).set()
    waited = future.result(timeout=30)
    assert waited > 0 and time.monotonic() - set_at < 3.0


_RUN = """
import sys
from eeextract_plugin.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_client_killed_mid_job_is_resumed_from_the_registry(dask_cluster, reference, tmp_path):
    server = start_sandbox(tmp_path, latency=(0.5, 0.0))
    try:
        job = tmp_path / "job.json"
        job.write_text(json.dumps(many_tiles(tmp_path / "out", 10).to_dict()))
        workdir = tmp_path / "w"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-c", _RUN, "run", str(job), "--dask", dask_cluster.scheduler_address,
                                 "--url", server.url, "--project", "sandbox", "--workdir", str(workdir),
                                 "--concurrency", "10", "--no-progress", "--yes"],
                                env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if reg.default_registry_path(workdir).exists():
                with reg.Registry(reg.default_registry_path(workdir)) as r:
                    jobs = r.jobs()
                    done = r.unit_counts(jobs[0].id).get(reg.DONE, 0) if jobs else 0
            if done >= 20:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with reg.Registry(reg.default_registry_path(workdir)) as r:
            job_id = r.jobs()[0].id
            done = r.unit_counts(job_id).get(reg.DONE, 0)
            assert r.job(job_id).state == reg.RUNNING  # as the killed client left it
        assert 20 <= done < 100
        result = resume_job(job_id, session_for(server.url), workdir)
        assert result.ok, result.message
        assert result.stats.successes == 100 - done  # only what was missing
        assert sha(result.rasters[0]) == reference[10]
    finally:
        server.stop()


def test_a_job_started_in_threads_is_resumed_on_the_cluster_with_the_same_pixels(dask_cluster, reference, tmp_path,
                                                                                 monkeypatch):
    """`eeextract resume JOB --dask ADDRESS`: the resumed run goes to the cluster (its workers
    make the requests); what it fetches is the recorded job's, byte for byte."""
    import eeextract_plugin.core.runner as runner_module
    from eeextract_plugin.cli.main import main

    server = start_sandbox(tmp_path, latency=(0.05, 0.0))
    try:
        runner = JobRunner(session_for(server.url), tmp_path / "w")
        try:
            job_id = runner.create(many_tiles(tmp_path / "out", 10))  # recorded to run in threads
        finally:
            runner.close()
        schedulers = []
        on_cluster = runner_module.run_on_cluster
        monkeypatch.setattr(runner_module, "run_on_cluster", lambda ctx, job, spec, *rest: (
            schedulers.append(spec.execution.dask_scheduler) or on_cluster(ctx, job, spec, *rest)))
        code = main(["resume", job_id, "--workdir", str(tmp_path / "w"), "--no-progress", "--url", server.url,
                     "--credentials", "none", "--project", "sandbox", "--dask", dask_cluster.scheduler_address])
        assert code == 0 and schedulers == [dask_cluster.scheduler_address]
        rasters = sorted((tmp_path / "out").glob("*.tif"))
        assert len(rasters) == 1 and sha(rasters[0]) == reference[10]
    finally:
        server.stop()
