"""One writer per job and per output (issue 16, faults 4 and 5): a job is claimed by a lock the OS
releases when its process dies (never a PID check); an output is written only by the job that owns
it (``overwrite: false`` holds at the final rename too); two jobs with one output path: the second
is refused before it fetches anything."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.joblock import JobRunning
from eeextract_plugin.core.runner import JobRunner, cancel_job, resume_job, run_job
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.status import job_status

ROOT = Path(__file__).resolve().parents[2]

DEM_JOB = {
    "version": 1, "name": "dem", "kind": "mosaic",
    "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
    "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.3, 38.4]},
    "output": {"format": "COG", "name": "dem"},
    "execution": {"tile_size": 128, "max_concurrent_requests": 1},
}


def dem_spec(out: Path, **output) -> JobSpec:
    d = copy.deepcopy(DEM_JOB)
    d["output"] = {**d["output"], "directory": str(out), **output}
    return JobSpec.from_dict(d)


@pytest.fixture(autouse=True)
def restore_client_retries():
    yield
    import ee

    ee.data.setMaxRetries(5)


@pytest.fixture()
def session(sandbox_url):
    return initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))


@pytest.fixture()
def slow_server(tmp_path_factory):
    """Each request takes 0.25 s: a job of 18 tiles one at a time runs for several seconds."""
    from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("slow"))
    config.latency = LatencyModel(0.25, 0.0)
    server = SandboxServer(config).start()
    yield server
    server.stop()


def cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def requests_made(workdir: Path, job_id: str) -> int:
    with reg.Registry(reg.default_registry_path(workdir)) as r:
        return sum(u.attempts for u in r.units(job_id))


# ---------------------------------------------------------------------------- fault 5
def test_two_simultaneous_resumes_exactly_one_runs(slow_server, tmp_path):
    """Once both ran the whole job (one ended "Received a NULL pointer", one left it failed)."""
    session = initialise(SessionConfig(url=slow_server.url, credentials="none", project="sandbox"))
    work = tmp_path / "w"
    runner = JobRunner(session, work)
    try:
        job_id = runner.create(dem_spec(tmp_path / "out"))
        units = len(runner.registry.units(job_id))
    finally:
        runner.close()
    conn = ["--url", slow_server.url, "--project", "sandbox", "--workdir", str(work), "--no-progress"]
    procs = [cli("resume", job_id, *conn) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    loser = outs[[p.returncode for p in procs].index(2)]
    assert loser[1].strip().count("\n") == 0 and "already running" in loser[1], loser
    assert job_status(job_id, work).state == reg.COMPLETED
    assert requests_made(work, job_id) == units  # one run fetched each tile once


def test_a_job_whose_process_died_is_interrupted_even_if_its_pid_lives_again(session, tmp_path):
    """The recorded PID belongs to a live process that is not running the job (a PID reused
    after a reboot): once the job was stuck for ever (status running, resume refused, cancel
    only set a flag)."""
    work = tmp_path / "w"
    runner = JobRunner(session, work)
    try:
        job_id = runner.create(dem_spec(tmp_path / "out"))
    finally:
        runner.close()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        with reg.Registry(reg.default_registry_path(work)) as r:
            r.set_job_state(job_id, reg.RUNNING, None, stranger.pid)
        assert job_status(job_id, work).state == "interrupted"
        r = subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", "cancel", job_id, "--workdir", str(work)],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert job_status(job_id, work).state == reg.CANCELLED
        with reg.Registry(reg.default_registry_path(work)) as r:
            r.set_job_state(job_id, reg.RUNNING, None, stranger.pid)
        result = resume_job(job_id, session, work)
        assert result.ok, result.message
    finally:
        stranger.kill()
        stranger.wait()


def test_a_job_held_by_one_runner_is_refused_to_another_in_the_same_process(session, tmp_path):
    work = tmp_path / "w"
    first, second = JobRunner(session, work), JobRunner(session, work)
    try:
        job_id = first.create(dem_spec(tmp_path / "out"))  # held from creation until run/close
        assert job_status(job_id, work).state == reg.PLANNED
        with pytest.raises(JobRunning, match="already running"):
            second.run(job_id)
        assert cancel_job(job_id, work) == job_id
        assert job_status(job_id, work).state == reg.PLANNED  # a holder will see the flag
    finally:
        first.close()
        second.close()


def test_two_resumes_started_at_the_same_instant_one_runs_one_is_refused(slow_server, tmp_path):
    """The old check ("running, by a live process other than me?") and the claim (marking it
    running) were two steps: two resumes at once both passed the check (in one process, always)."""
    import threading

    session = initialise(SessionConfig(url=slow_server.url, credentials="none", project="sandbox"))
    work = tmp_path / "w"
    runner = JobRunner(session, work)
    try:
        job_id = runner.create(dem_spec(tmp_path / "out", name="dem2"))
        units = len(runner.registry.units(job_id))
    finally:
        runner.close()
    barrier = threading.Barrier(2)
    outcomes: list = []

    def resume() -> None:
        barrier.wait()
        try:
            outcomes.append(resume_job(job_id, session, work).state)
        except JobRunning as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert sorted(o.split(":")[0] for o in outcomes) == [reg.COMPLETED, "refused"], outcomes
    assert requests_made(work, job_id) == units
