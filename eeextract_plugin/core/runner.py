"""Running a job: the one entry point of the dock, the Processing algorithms and the command line.

::

    from eeextract_plugin.core.runner import run_job, resume_job
    from eeextract_plugin.core.session import SessionConfig, initialise

    session = initialise(SessionConfig(url="http://127.0.0.1:8765", credentials="none", project="sandbox"))
    result = run_job(spec, session, workdir=None, progress=callback, cancel=token)
    if not result.ok:
        raise SomeError(result.message)      # Earth Engine's message, or "disk full …", …
    result.rasters, result.tables, result.zonal_tables, result.index   # what is what

- ``spec``: a :class:`~.spec.JobSpec`; ``workdir``: where the registry (``registry.sqlite``) and
  the staging files live (default ``<output.directory>/.eeextract``);
- ``progress(report)``: :class:`~.progress.ProgressReport` (fraction, units, bytes, rate, ETA),
  called from worker threads; ``cancel``: a :class:`~.progress.CancelToken`, a
  ``threading.Event`` or a zero-argument callable returning true when cancelled.
- Before anything runs, bad input raises :class:`~.errors.BadInput` (spec, region, asset, output
  folder) and a session problem :class:`~.errors.SessionError`. Once the job exists, ``run_job`` does
  not raise for the job's own failures: the :class:`JobResult` says ``failed`` / ``cancelled``
  with the message, finished units are kept, and ``resume_job(job_id, …)`` finishes the job
  without refetching them.

Flow: spec → plan (one round of metadata questions) → registry (outputs + units) → the execution
of the job's kind (:mod:`.direct`, :mod:`.tables`, :mod:`.export`) → post-processing (zonal
statistics per output, then the footprint index and the VRT) → a typed :class:`~.results.JobResult`.

The other front-end doors are here too: :func:`estimate_job` (the plan's figures),
:func:`job_status` / :func:`list_jobs` (status rows), :func:`cancel_job`, :func:`spec_of`,
:func:`resumable_job`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.cluster.engine import check_available, run_on_cluster
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.direct import DirectExecution
from eeextract_plugin.core.errors import BadInput, DiskFullError, JobNotFound
from eeextract_plugin.core.export.execution import (
    ExportExecution,
    check_exportable,
    export_unit_records,
)
from eeextract_plugin.core.fetch import RetryPolicy
from eeextract_plugin.core.joblock import JobLock, JobRunning, is_running, lock_path
from eeextract_plugin.core.plan import (
    Plan,
    PlanSummary,
    RequestLimits,
    build_plan,
    check_region_inside,
)
from eeextract_plugin.core.postprocess import footprints, write_index, write_vrt, zonal_files_for
from eeextract_plugin.core.progress import ProgressCallback, as_cancel_token
from eeextract_plugin.core.publish import Publisher
from eeextract_plugin.core.regions import read_region, region_geojson_4326
from eeextract_plugin.core.registry import OutputRecord, Registry, UnitRecord
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.source import EarthEngineSource
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.status import (
    JobStatus,
    job_status,
    list_jobs,
    status_of,
)
from eeextract_plugin.core.tables import TableExecution, plan_table

log = logging.getLogger(__name__)

#: Kinds whose outputs get a footprint index (one file per point, feature or image).
INDEXED_KINDS = ("chips", "features", "collection")


def default_workdir(spec: JobSpec) -> Path:
    return Path(spec.output.directory) / ".eeextract"


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".eeextract-write-test-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise BadInput(field="output.directory",
                       reason=f"cannot write to {directory} ({exc.strerror or exc})") from None


def index_path(spec: JobSpec) -> Path:
    return Path(spec.output.directory) / f"{spec.output_name}-index.gpkg"


def vrt_path(spec: JobSpec) -> Path:
    return Path(spec.output.directory) / f"{spec.output_name}-mosaic.vrt"


def check_outputs_free(spec: JobSpec, plan: Plan) -> None:
    """Raises BadInput (``output.overwrite``) when a file the job would write exists and the
    spec does not say to replace it."""
    if spec.output.overwrite:
        return
    extra = [index_path(spec)] if spec.kind in INDEXED_KINDS and len(plan.outputs) > 1 else []
    extra += [vrt_path(spec)] if spec.output.vrt else []
    for path in [Path(o.path) for o in plan.outputs] + extra:
        if path.exists():
            raise BadInput(field="output.overwrite",
                           reason=f"{path} exists (set output.overwrite to replace it)")


class JobRunner:
    """Plans, records and runs jobs in one working directory (one registry)."""

    def __init__(self, session: Any, workdir: Union[str, Path], *,
                 limits: Optional[RequestLimits] = None,
                 progress: Optional[ProgressCallback] = None, cancel: Any = None,
                 retry_policy: Optional[RetryPolicy] = None) -> None:
        self.session = session
        self.workdir = Path(workdir)
        self.limits = limits or RequestLimits()
        self.progress = progress
        self.cancel = as_cancel_token(cancel)
        self.retry_policy = retry_policy
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.registry = Registry(reg.default_registry_path(self.workdir))
        except DiskFullError:
            raise
        except OSError as exc:
            raise BadInput(f"cannot create the working folder {self.workdir} ({exc.strerror or exc})") from None
        self._locks: Dict[str, JobLock] = {}  # the jobs this runner holds (created or running)

    def close(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
        self.registry.close()

    def claim(self, job_id: str) -> None:
        """Takes the job's lock (atomically; the OS releases it if this process dies) or raises
        :class:`~.joblock.JobRunning`: of two runs of one job at once, exactly one goes on."""
        if job_id not in self._locks:
            self._locks[job_id] = JobLock(self.workdir, job_id).acquire()

    def release(self, job_id: str) -> None:
        lock = self._locks.pop(job_id, None)
        if lock is not None:
            lock.release()

    def context(self) -> ExecutionContext:
        return ExecutionContext(self.session, self.registry, self.workdir, self.progress,
                                self.cancel, self.retry_policy, self.limits)

    # ------------------------------------------------------------------------- planning
    def plan(self, spec: JobSpec) -> Plan:
        """Asks Earth Engine what the source is and plans units (no pixels fetched)."""
        limits = self.limits.for_execution(spec.execution)
        if spec.execution.engine == "dask":
            check_available()  # Dask is missing: say so before anything is planned
        if spec.kind in ("table", "timeseries"):
            return plan_table(self.session, spec, limits)
        if spec.method.type not in ("direct", "auto"):
            problem = check_exportable(spec)
            if problem:
                raise BadInput(problem)
        features = read_region(spec.region)
        src = EarthEngineSource(self.session, spec)
        region4326 = region_geojson_4326(features) if spec.source.type != "asset" else None
        info = src.describe(region4326)
        if spec.source.type == "asset":
            check_region_inside(info, features)
        return build_plan(spec, info, features, limits)

    def create(self, spec: JobSpec, plan: Optional[Plan] = None) -> str:
        """Records a new job (unique id) with its outputs and units; returns the id. The spec is
        also written beside the registry as ``<job id>.json`` (a job file to run again)."""
        _check_writable(Path(spec.output.directory))
        plan = plan or self.plan(spec)
        check_outputs_free(spec, plan)
        job_id = reg.new_job_id(spec.name)
        self.claim(job_id)  # held from before the job exists: no other process can run it first
        if plan.method == "direct":
            units = [UnitRecord(job_id, u.unit_id, u.output_id, u.seq, reg.PENDING, u.params(), 0, 0, None)
                     for u in plan.units]
        else:
            units = export_unit_records(job_id, plan)  # one Export task per output
        try:
            with self.registry.transaction():  # the job, its units and its claims: all or nothing
                self.registry.create_job(spec.name, spec.kind, spec.to_dict(), job_id=job_id)
                self.registry.add_outputs(job_id, [OutputRecord(job_id, o.output_id, o.path, reg.PENDING,
                                                                o.to_info(), None) for o in plan.outputs])
                self.registry.add_units(job_id, units)
                self.registry.set_job_summary(job_id, {**plan.summary().__dict__})
                self._claim_outputs(job_id, spec, [o.path for o in plan.outputs])
        except BaseException:
            self.release(job_id)
            with contextlib.suppress(OSError):
                lock_path(self.workdir, job_id).unlink()  # a job that never was: nobody else knows it
            raise
        try:
            spec.to_file(self.workdir / f"{job_id}.json")
        except OSError as exc:  # the registry holds the spec too: a convenience copy only
            log.warning("could not write the job file of %s: %s", job_id, exc)
        log.info("job %s: %d outputs, %d units, method %s (%s)", job_id, len(plan.outputs), len(plan.units),
                 plan.method, plan.method_reason)
        return job_id

    # -------------------------------------------------------------------------- running
    def run(self, job_id: str, retry_failed: bool = True,
            execution: Optional[Dict[str, Any]] = None) -> JobResult:
        """Runs (or resumes) a recorded job. ``execution``: how hard this run pushes (quota,
        rate, engine), over the recorded job's; what the job fetches never changes."""
        job = self.registry.job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        self.claim(job_id)
        try:
            spec = with_execution(resolved_spec(job), execution)
            self._check_outputs_are_ours(job_id, spec)
            ctx = self.context()
            if retry_failed:
                self.registry.reset_failed(job_id)
            self.registry.clear_cancel(job_id)
            if spec.execution.engine == "dask":  # the same units as tasks on a Dask cluster
                result = run_on_cluster(ctx, job_id, spec, job.kind)
                return result if job.kind in ("table", "timeseries") else self._finish_job(spec, result)
            if job.kind in ("table", "timeseries"):
                return TableExecution(ctx, job_id, spec).run()
            if spec.method.type != "direct":
                result = ExportExecution(ctx, job_id, spec).run()
            else:
                result = DirectExecution(ctx, job_id, spec).run()
            return self._finish_job(spec, result)
        finally:
            try:
                self.registry.release_claims(job_id)
            finally:
                self.release(job_id)

    def _claim_outputs(self, job_id: str, spec: JobSpec, paths: List[str]) -> None:
        """Reserves the job's files (outputs, index, VRT) in the registry, or raises
        :class:`~.registry.OutputClaimed` when a job running now writes one of them: the second
        of two jobs with one output path is refused before it fetches anything."""
        extra = [index_path(spec)] if spec.kind in INDEXED_KINDS else []
        extra += [vrt_path(spec)] if spec.output.vrt else []
        self.registry.claim_paths(job_id, [*paths, *map(str, extra)],
                                  lambda other: is_running(self.workdir, other))

    def _check_outputs_are_ours(self, job_id: str, spec: JobSpec) -> None:
        """Before a (resumed) run fetches anything: its outputs are still its own to write —
        no running job claims them, and (``output.overwrite`` false) no file it did not write
        has appeared at an output it has not finished."""
        records = self.registry.outputs(job_id)
        self._claim_outputs(job_id, spec, [o.path for o in records])
        publisher = Publisher(self.registry, job_id, spec.output.overwrite)
        # PNG/JPEG chips are checked as they are written (their bytes tell whose they are).
        for rec in records:
            if rec.state != reg.DONE and rec.info.get("fetch") in ("NPY", "TABLE"):
                problem = publisher.problem(rec.path)
                if problem:
                    raise BadInput(field="output.overwrite", reason=problem)

    def _finish_job(self, spec: JobSpec, result: JobResult) -> JobResult:
        """After a finished raster job: the footprint index of its outputs and the VRT over
        them (``output.vrt``). A failure here is reported; the rasters are kept."""
        if not result.finished:
            return result
        publisher = Publisher(self.registry, result.job_id, spec.output.overwrite)
        try:
            if spec.kind in INDEXED_KINDS:
                records = self.registry.outputs(result.job_id)
                if len(records) > 1:
                    result.index = write_index(footprints(records), index_path(spec), publisher=publisher)
            if spec.output.vrt:
                result.vrt = write_vrt(result.rasters, vrt_path(spec), publisher=publisher)
        except (OSError, RuntimeError, ValueError) as exc:
            log.error("job %s: writing its index or VRT failed: %s", result.job_id, exc)
            result.state = reg.COMPLETED_WITH_FAILURES
            result.message = f"the outputs are written, their index or VRT is not: {exc}"
            self.registry.set_job_state(result.job_id, result.state, result.message, None)
        return result


def resolved_spec(job: reg.JobRecord) -> JobSpec:
    """A recorded job's spec with ``method.type`` as the planner resolved it (``auto`` becomes
    the method chosen when the job was created, recorded in its summary)."""
    spec = JobSpec.from_dict(job.spec)
    if spec.method.type == "auto":
        spec.method.type = (job.summary or {}).get("method") or "direct"
    return spec


# ------------------------------------------------------------------------------ functions
def run_job(spec: JobSpec, session: Any, workdir: Optional[Union[str, Path]] = None,
            progress: Optional[ProgressCallback] = None, cancel: Any = None,
            limits: Optional[RequestLimits] = None,
            on_created: Optional[Callable[[str], None]] = None,
            on_planned: Optional[Callable[[PlanSummary], None]] = None) -> JobResult:
    """Plans, records and runs a new job; see the module docstring. ``on_planned(summary)`` is
    called once the plan is made (the method chosen and why, the bounds), before anything runs."""
    runner = JobRunner(session, workdir or default_workdir(spec), limits=limits, progress=progress,
                       cancel=cancel)
    try:
        plan = runner.plan(spec)
        if on_planned:
            on_planned(plan.summary())
        job_id = runner.create(spec, plan)
        if on_created:
            on_created(job_id)
        return runner.run(job_id)
    finally:
        runner.close()


def resume_job(job_id: str, session: Any, workdir: Union[str, Path],
               progress: Optional[ProgressCallback] = None, cancel: Any = None,
               retry_failed: bool = True, execution: Optional[Dict[str, Any]] = None) -> JobResult:
    """Runs a recorded job again: only units not done are fetched; failed ones are retried.
    ``execution``: this run's quota, rate and engine over the recorded ones (see :meth:`JobRunner.run`)."""
    runner = JobRunner(session, workdir, progress=progress, cancel=cancel)
    try:
        job = runner.registry.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return runner.run(job.id, retry_failed=retry_failed, execution=execution)
    finally:
        runner.close()


def estimate_job(spec: JobSpec, session: Any, limits: Optional[RequestLimits] = None,
                 check_outputs: bool = False) -> PlanSummary:
    """The plan's figures for ``spec`` (pixels, bytes, requests, time bound, huge or not),
    planned in a throw-away folder: estimating never touches the output folder.
    ``check_outputs``: also refuse, as running would, outputs that exist (BadInput), so a form
    can say so before its Run."""
    with tempfile.TemporaryDirectory(prefix="eeextract-estimate-") as tmp:
        runner = JobRunner(session, tmp, limits=limits)
        try:
            plan = runner.plan(spec)
            if check_outputs:
                check_outputs_free(spec, plan)
            return plan.summary()
        finally:
            runner.close()


@contextlib.contextmanager
def recorded_job(job_id: str, workdir: Union[str, Path]) -> Iterator[Tuple[Registry, reg.JobRecord]]:
    """The registry of ``workdir`` and the job ``job_id`` (an id or unique prefix) in it;
    :class:`JobNotFound` when there is none (a folder or a damaged file is reported by
    :class:`Registry` itself)."""
    path = reg.default_registry_path(workdir)
    if not os.path.lexists(path):
        raise JobNotFound(job_id)
    with Registry(path) as r:
        job = r.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        yield r, job


def spec_of(job_id: str, workdir: Union[str, Path]) -> JobSpec:
    """The spec a recorded job was created with."""
    with recorded_job(job_id, workdir) as (_r, job):
        return JobSpec.from_dict(job.spec)


def result_of(job_id: str, workdir: Union[str, Path]) -> JobResult:
    """A recorded job's typed result as it stands (what is written so far): for a job that ran
    in another session, or to load its files again."""
    with recorded_job(job_id, workdir) as (r, job):
        st = status_of(r, job, workdir)
        records = r.outputs(job.id)
    spec = JobSpec.from_dict(job.spec)
    done = [o for o in records if o.state == reg.DONE]
    tables = [o.path for o in done if o.info.get("fetch") == "TABLE"]
    rasters = [o.path for o in done if o.info.get("fetch") != "TABLE"]
    zonal: List[str] = []
    if spec.zonal is not None:
        for raster in rasters:
            zonal += zonal_files_for(raster, spec.zonal)
    index, vrt = index_path(spec), vrt_path(spec)
    return JobResult(job.id, st.state, st.message or None, rasters=sorted(rasters), tables=tables,
                     zonal_tables=zonal, index=str(index) if index.is_file() else None,
                     vrt=str(vrt) if spec.output.vrt and vrt.is_file() else None,
                     units_total=st.units_total, units_done=st.units_done,
                     units_failed=st.units_failed, bytes=st.bytes_done, workdir=str(workdir))


def cancel_job(job_id: str, workdir: Union[str, Path]) -> str:
    """Asks a running job (any process) to stop; returns the job id."""
    with recorded_job(job_id, workdir) as (r, job):
        r.request_cancel(job.id)
        if job.state in (reg.PLANNED, reg.RUNNING) and not is_running(workdir, job.id):
            # Nobody runs it (never started, or its process died): cancelled now.
            r.set_job_state(job.id, reg.CANCELLED, "cancelled")
        return job.id


def with_execution(spec: JobSpec, execution: Optional[Dict[str, Any]]) -> JobSpec:
    """``spec`` with ``execution`` fields over its own (checked by the spec's rules, naming the
    ``execution.*`` field at fault); the same spec when there is nothing to change."""
    if not execution:
        return spec
    merged = {**spec.execution.to_dict(), **execution}
    if merged == spec.execution.to_dict():
        return spec
    return JobSpec.from_dict({**spec.to_dict(), "execution": merged})


def _what(spec_dict: dict) -> dict:
    """What a spec fetches, without how hard it pushes (``execution``)."""
    return {k: v for k, v in spec_dict.items() if k != "execution"}


def resumable_job(spec: JobSpec, workdir: Union[str, Path]) -> Optional[str]:
    """The id of an unfinished job of exactly this spec in ``workdir``'s registry (cancelled,
    failed, or interrupted by a crash), to resume rather than start again; None when the last
    such job completed or another process is running it."""
    path = reg.default_registry_path(workdir)
    if not path.exists():
        return None
    wanted = _what(spec.to_dict())
    with Registry(path) as registry:
        for job in reversed(registry.jobs()):
            if _what(job.spec) != wanted:
                continue
            if job.state == reg.COMPLETED:
                return None
            if is_running(workdir, job.id):
                return None  # another process (or task) is running it
            return job.id
    return None


__all__ = ["run_job", "resume_job", "estimate_job", "job_status", "list_jobs", "cancel_job", "spec_of",
           "resumable_job", "result_of", "JobRunner", "JobResult", "JobStatus", "default_workdir", "BadInput",
           "JobNotFound", "JobRunning"]
