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


# ---------------------------------------------------------------------------- fault 4
def run_in_thread(spec: JobSpec, session, workdir: Path):
    """Starts ``run_job`` in a thread; returns (thread, box) with box["result"] or box["error"]."""
    import threading

    box: dict = {}

    def target() -> None:
        try:
            box["result"] = run_job(spec, session, workdir=workdir, on_created=lambda j: box.update(job_id=j))
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    return t, box


def wait_for_units(workdir: Path, box: dict, n: int = 2, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "job_id" in box:
            with reg.Registry(reg.default_registry_path(workdir)) as r:
                if r.unit_counts(box["job_id"]).get(reg.DONE, 0) >= n:
                    return
        time.sleep(0.05)
    raise AssertionError(f"the job did not get going: {box}")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_second_job_with_the_same_output_path_is_refused_before_it_fetches(slow_server, tmp_path, overwrite):
    """Once both said completed and the first's output was silently replaced."""
    session = initialise(SessionConfig(url=slow_server.url, credentials="none", project="sandbox"))
    work = tmp_path / "w"
    first, box = run_in_thread(dem_spec(tmp_path / "out", overwrite=overwrite), session, work)
    try:
        wait_for_units(work, box)
        second = dem_spec(tmp_path / "out", overwrite=overwrite)
        second.execution.tile_size = 256  # another job altogether, one file in common
        before = len(reg.Registry(reg.default_registry_path(work)).jobs())
        with pytest.raises(reg.OutputClaimed, match="dem.tif is an output of job .* running now"):
            run_job(second, session, workdir=work)
        with reg.Registry(reg.default_registry_path(work)) as r:
            assert len(r.jobs()) == before  # nothing recorded, nothing fetched
    finally:
        first.join(180)
    assert box["result"].ok, box
    # Once the first has ended, its path is free again (here: it exists, so overwrite decides).
    if overwrite:
        assert run_job(dem_spec(tmp_path / "out", overwrite=True), session, workdir=work).ok
    else:
        with pytest.raises(BadInput, match="exists"):
            run_job(dem_spec(tmp_path / "out"), session, workdir=work)


def test_two_working_folders_one_output_path_the_second_never_replaces_the_first(slow_server, tmp_path):
    """Jobs in two registries cannot see each other's claims: the final rename still never
    replaces a file the job did not write."""
    session = initialise(SessionConfig(url=slow_server.url, credentials="none", project="sandbox"))
    a, box_a = run_in_thread(dem_spec(tmp_path / "out"), session, tmp_path / "wa")
    wait_for_units(tmp_path / "wa", box_a, n=1)
    b = dem_spec(tmp_path / "out")
    b.execution.max_concurrent_requests = 8  # finishes first
    result_b = run_job(b, session, workdir=tmp_path / "wb")
    a.join(180)
    result_a = box_a["result"]
    assert result_b.ok, result_b.message
    theirs = (tmp_path / "out" / "dem.tif").read_bytes()
    assert result_a.state == reg.FAILED
    assert "dem.tif exists and was not written by this job" in result_a.message
    assert (tmp_path / "out" / "dem.tif").read_bytes() == theirs
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "dem.tif"]  # no temporary left


def test_a_file_that_appeared_since_the_job_was_created_is_not_replaced(session, tmp_path):
    work = tmp_path / "w"
    runner = JobRunner(session, work)
    try:
        job_id = runner.create(dem_spec(tmp_path / "out"))
    finally:
        runner.close()
    foreign = tmp_path / "out" / "dem.tif"
    foreign.write_bytes(b"someone else's")
    with pytest.raises(BadInput, match="dem.tif exists and was not written by this job"):
        resume_job(job_id, session, work)
    assert requests_made(work, job_id) == 0 and foreign.read_bytes() == b"someone else's"
    foreign.unlink()
    assert resume_job(job_id, session, work).ok


def test_a_job_killed_between_publishing_and_recording_takes_its_own_files_back(session, tmp_path):
    work = tmp_path / "w"
    result = run_job(dem_spec(tmp_path / "out"), session, workdir=work)
    assert result.ok
    chips = JobSpec.from_dict({
        "version": 1, "name": "chips", "kind": "chips", "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": {"type": "geometry", "geometry": {"type": "MultiPoint", "coordinates": [[-8.45, 38.35], [-8.4, 38.32]]}},
        "output": {"directory": str(tmp_path / "chips"), "chip_size": 16, "format": "PNG",
                   "visualization": {"min": 0, "max": 500}}})
    chip_result = run_job(chips, session, workdir=work)
    assert chip_result.ok
    # As if killed after the files were in place but before the registry said so.
    with reg.Registry(reg.default_registry_path(work)) as r:
        for job_id in (result.job_id, chip_result.job_id):
            for o in r.outputs(job_id):
                r.set_output_state(job_id, o.output_id, reg.PENDING)
            for u in r.units(job_id):
                r.mark_unit(job_id, u.unit_id, reg.PENDING)
            r.set_job_state(job_id, reg.RUNNING, None, 99999999)
    again = resume_job(result.job_id, session, work)
    assert again.ok, again.message
    assert np.array_equal(pixels(again.rasters[0]), pixels(result.rasters[0]))
    assert resume_job(chip_result.job_id, session, work).ok
    # A chip that is not this job's bytes is refused, and left as it is.
    with reg.Registry(reg.default_registry_path(work)) as r:
        (o, *_) = r.outputs(chip_result.job_id)
        r.set_output_state(chip_result.job_id, o.output_id, reg.PENDING)
        r.mark_unit(chip_result.job_id, r.units(chip_result.job_id)[0].unit_id, reg.PENDING)
    Path(o.path).write_bytes(b"not a chip of this job")
    failed = resume_job(chip_result.job_id, session, work)
    assert failed.state == reg.FAILED and "not written by this job" in failed.message
    assert Path(o.path).read_bytes() == b"not a chip of this job"


def pixels(path) -> np.ndarray:
    from osgeo import gdal

    ds = gdal.Open(str(path))
    arr = ds.ReadAsArray()
    ds = None
    return arr
