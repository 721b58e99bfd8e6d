"""Running a job: the one entry point of the dock, the Processing algorithms and the command line.

::

    from eeextract_plugin.core.runner import run_job, resume_job
    from eeextract_plugin.core.session import SessionConfig, initialise

    session = initialise(SessionConfig(url="http://127.0.0.1:8765", credentials="none", project="sandbox"))
    result = run_job(spec, session, workdir=None, progress=callback, cancel=token)
    if not result.ok:
        raise SomeError(result.message)      # Earth Engine's message, or "disk full …", …
    result.outputs                            # finished files

- ``spec``: a :class:`~.spec.JobSpec`; ``workdir``: where the registry (``registry.sqlite``) and
  the staging files live (default ``<output.directory>/.eeextract``);
- ``progress(report)``: :class:`~.progress.ProgressReport` (fraction, units, bytes, rate, ETA),
  called from worker threads; ``cancel``: a :class:`~.progress.CancelToken`, a
  ``threading.Event`` or a zero-argument callable returning true when cancelled.
- Before anything runs, bad input raises :class:`BadInput` (spec, region, asset, output folder)
  and a session problem :class:`~.session.SessionError`. Once the job exists, ``run_job`` does
  not raise for the job's own failures: the :class:`JobResult` says ``failed`` / ``cancelled``
  with the message, finished units are kept, and ``resume_job(job_id, …)`` finishes the job
  without refetching them.

Flow: spec → plan (one round of metadata questions) → registry (outputs + units) → fetcher (pool,
retries, splits) → staging rasters (``pwrite`` per tile) → finisher thread (COG per output as soon
as its last tile lands) → zonal statistics (when the spec asks).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from . import registry as reg
from .fetch import FetchStats, JobAborted, RetryPolicy, TileFetcher
from .grid import PixelGrid
from .mosaic import OutputCancelled, build_output
from .plan import (
    OutputPlan,
    Plan,
    PlanError,
    RequestLimits,
    UnitPlan,
    build_plan,
    check_region_inside,
)
from .progress import CancelToken, ProgressCallback, ProgressTracker, as_cancel_token
from .regions import RegionError, read_region
from .registry import OutputRecord, Registry, UnitRecord
from .source import EarthEngineSource, ImageRef, SourceError, check_image_body, decode_npy
from .spec import JobSpec, SpecError
from .writer import DiskFullError, StagingRaster, band_planes, write_atomic

log = logging.getLogger(__name__)


class BadInput(ValueError):  # noqa: N818 - the front ends catch it by this name
    """The job cannot start: one line naming the problem (the spec field when there is one)."""


class JobNotFound(KeyError):  # noqa: N818
    pass


@dataclass
class JobResult:
    job_id: str
    state: str
    outputs: List[str]
    message: Optional[str]
    units_total: int
    units_done: int
    units_failed: int
    bytes: int
    elapsed_s: float
    workdir: str
    stats: FetchStats = field(default_factory=FetchStats)
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == reg.COMPLETED


def default_workdir(spec: JobSpec) -> Path:
    return Path(spec.output.directory) / ".eeextract"


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".eeextract-write-test-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise BadInput(f"output.directory: cannot write to {directory} ({exc.strerror or exc})") from None


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
        except OSError as exc:
            raise BadInput(f"cannot create the working folder {self.workdir} ({exc.strerror or exc})") from None

    def close(self) -> None:
        self.registry.close()

    # ------------------------------------------------------------------------- planning
    def plan(self, spec: JobSpec) -> Plan:
        """Asks Earth Engine what the source is and plans units (no pixels fetched)."""
        if spec.kind in ("table", "timeseries"):
            from . import tables

            return tables.plan_table(self.session, spec, self.limits)
        if spec.method.type != "direct":
            from .export.execution import check_exportable

            problem = check_exportable(spec)
            if problem:
                raise BadInput(problem)
        try:
            features = read_region(spec.region)
            src = EarthEngineSource(self.session, spec)
            region4326 = None
            if spec.source.type != "asset":
                from .plan import _region_4326

                region4326 = _region_4326(features)
            info = src.describe(region4326)
            if spec.source.type == "asset":
                check_region_inside(info, features)
            return build_plan(spec, info, features, self.limits)
        except (SpecError, SourceError, PlanError, RegionError) as exc:
            raise BadInput(str(exc)) from None

    def create(self, spec: JobSpec, plan: Optional[Plan] = None) -> str:
        """Records a new job (unique id) with its outputs and units; returns the id."""
        _check_writable(Path(spec.output.directory))
        plan = plan or self.plan(spec)
        if not spec.output.overwrite:
            for o in plan.outputs:
                if Path(o.path).exists():
                    raise BadInput(f"output: {o.path} exists (set output.overwrite to replace it)")
        job_id = self.registry.create_job(spec.name, spec.kind, spec.to_dict())
        self.registry.add_outputs(job_id, [OutputRecord(job_id, o.output_id, o.path, reg.PENDING,
                                                        o.to_info(), None) for o in plan.outputs])
        if spec.method.type == "direct":
            units = [UnitRecord(job_id, u.unit_id, u.output_id, u.seq, reg.PENDING, u.params(), 0, 0, None)
                     for u in plan.units]
        else:
            from .export.execution import export_unit_records

            units = export_unit_records(job_id, plan)  # one Export task per output
        self.registry.add_units(job_id, units)
        self.registry.set_job_summary(job_id, {**plan.summary().__dict__})
        log.info("job %s: %d outputs, %d units", job_id, len(plan.outputs), len(plan.units))
        return job_id

    # -------------------------------------------------------------------------- running
    def run(self, job_id: str, retry_failed: bool = True) -> JobResult:
        job = self.registry.job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        if job.state == reg.RUNNING and job.pid and job.pid != os.getpid() and reg.pid_alive(job.pid):
            raise BadInput(f"job {job_id} is already running (process {job.pid}); "
                           "`eeextract cancel` it first")
        spec = JobSpec.from_dict(job.spec)
        if job.kind in ("table", "timeseries"):
            from . import tables

            return tables.run_table(self, job_id, spec)
        if retry_failed:
            self.registry.reset_failed(job_id)
        self.registry.clear_cancel(job_id)
        if spec.method.type != "direct":
            from .export.execution import ExportExecution

            return ExportExecution(self, job_id, spec).run()
        return _JobExecution(self, job_id, spec).run()


class _JobExecution:
    """One run of one raster job (fresh or resumed)."""

    def __init__(self, runner: JobRunner, job_id: str, spec: JobSpec) -> None:
        self.r = runner
        self.reg = runner.registry
        self.job_id = job_id
        self.spec = spec
        self.staging_dir = runner.workdir / job_id
        self.outputs: Dict[str, OutputPlan] = {}
        self.records: Dict[str, OutputRecord] = {}
        for rec in self.reg.outputs(job_id):
            self.outputs[rec.output_id] = OutputPlan.from_info(rec.info)
            self.records[rec.output_id] = rec
        self.source = EarthEngineSource(runner.session, spec)
        self._images: Dict[str, Any] = {}
        self._staging: Dict[str, StagingRaster] = {}
        self._remaining: Dict[str, int] = {}
        self._failed_outputs: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._finish_q: queue.Queue[Optional[str]] = queue.Queue()
        self._finish_error: Optional[BaseException] = None
        self.finished_paths: List[str] = []
        self.zonal_paths: List[str] = []
        self._zonal_failures: List[str] = []
        self.cancel = job_cancel_token(runner, job_id)

    # ---- per output
    def image(self, oid: str) -> Any:
        with self._lock:
            img = self._images.get(oid)
            if img is None:
                out = self.outputs[oid]
                ref = ImageRef(**out.image) if out.image else None
                img = self.source.image(ref, out.region)
                self._images[oid] = img
            return img

    def staging(self, oid: str) -> StagingRaster:
        with self._lock:
            st = self._staging.get(oid)
            if st is None:
                out = self.outputs[oid]
                st = StagingRaster(self.staging_dir / _safe(oid), out.grid, out.bands, out.dtype,
                                   self.spec.output.nodata).open()
                self._staging[oid] = st
            return st

    # ---- per unit
    def handle(self, u: UnitPlan) -> int:
        out = self.outputs[u.output_id]
        grid = out.grid.window(u.col, u.row, u.width, u.height)
        img = self.image(u.output_id)
        if out.fetch == "NPY":
            req_bands = out.bands
            body = self.source.fetch_pixels(img, grid, req_bands)
            nbytes = len(body)
            arr = decode_npy(body, u.width, u.height)
            del body  # the array is a view of it
            self.staging(u.output_id).write(u.col, u.row, band_planes(arr, out.bands))
            return nbytes
        body = check_image_body(self.source.fetch_visualized(img, grid, out.fetch), out.fetch)
        return write_atomic(out.path, body)

    def run(self) -> JobResult:
        t0 = time.monotonic()
        job_id = self.job_id
        self.reg.set_job_state(job_id, reg.RUNNING, None, os.getpid())
        self._recover_lost_staging()
        all_units = self.reg.units(job_id)
        live = [u for u in all_units if u.state != reg.SPLIT]
        todo = [u for u in live if u.state != reg.DONE]
        for u in live:
            if u.state != reg.DONE:
                self._remaining[u.output_id] = self._remaining.get(u.output_id, 0) + 1
        counts = self.reg.unit_counts(job_id)
        tracker = ProgressTracker(len(live), self.r.progress, done=len(live) - len(todo),
                                  bytes_done=counts.get("bytes_done", 0))
        # Outputs whose units are all done but whose file is not (crash during finishing).
        for oid, rec in self.records.items():
            if rec.state != reg.DONE and self._remaining.get(oid, 0) == 0:
                self._finish_q.put(oid)
            elif rec.state == reg.DONE:
                self.finished_paths.append(rec.path)
        finisher = threading.Thread(target=self._finisher, name="eeextract-finish", daemon=True)
        finisher.start()

        def on_done(u: UnitPlan, nbytes: int, attempts: int) -> None:
            self.reg.mark_unit(job_id, u.unit_id, reg.DONE, nbytes=nbytes, attempts=attempts)
            tracker.unit_done(nbytes)
            with self._lock:
                self._remaining[u.output_id] -= 1
                last = self._remaining[u.output_id] == 0
            if last:
                self._finish_q.put(u.output_id)

        def on_failed(u: UnitPlan, message: str, attempts: int) -> None:
            self.reg.mark_unit(job_id, u.unit_id, reg.FAILED, error=message, attempts=attempts)
            with self._lock:
                self._failed_outputs.setdefault(u.output_id, message)
            tracker.unit_done(0, failed=True)

        def splitter(u: UnitPlan, message: str) -> Optional[List[UnitPlan]]:
            children = u.split()
            if not children:
                return None
            self.reg.split_unit(job_id, u.unit_id, [UnitRecord(job_id, c.unit_id, c.output_id, c.seq,
                                                               reg.PENDING, c.params(), 0, 0, None)
                                                    for c in children])
            with self._lock:
                self._remaining[u.output_id] += len(children) - 1
            tracker.add_total(len(children) - 1)
            return children

        ex = self.spec.execution
        fetcher: TileFetcher[UnitPlan] = TileFetcher(
            self.handle, max_concurrency=ex.max_concurrent_requests,
            policy=self.r.retry_policy or RetryPolicy(max_retries=ex.max_retries),
            adaptive=ex.adaptive, cancel=self.cancel, on_done=on_done, on_failed=on_failed,
            splitter=splitter)
        units = [UnitPlan(u.unit_id, u.output_id, u.params["col"], u.params["row"],
                          u.params["width"], u.params["height"], u.seq) for u in todo]
        state, message = reg.COMPLETED, None
        try:
            fetcher.run(units)
        except JobAborted as exc:
            state, message = reg.FAILED, str(exc)
        except DiskFullError as exc:
            state, message = reg.FAILED, f"disk full: {exc.strerror or exc} — free space and resume"
        except OSError as exc:
            state, message = reg.FAILED, f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".strip(": ")
        except Exception as exc:  # a bug or an unexpected client error: fail, keep what is done
            log.exception("job %s stopped by an unexpected error", job_id)
            state, message = reg.FAILED, f"{type(exc).__name__}: {exc}"
        self._finish_q.put(None)
        finisher.join()
        for st in self._staging.values():
            st.close()
        if state == reg.COMPLETED and self._finish_error is not None:
            exc2 = self._finish_error
            state = reg.FAILED
            message = (f"disk full: {exc2} — free space and resume" if isinstance(exc2, DiskFullError)
                       else f"writing the output failed: {exc2}")
        all_done = (not self.reg.units(job_id, [reg.PENDING, reg.FAILED, reg.RUNNING])
                    and all(o.state == reg.DONE for o in self.reg.outputs(job_id)))
        if state == reg.COMPLETED and self.cancel.cancelled and not all_done:
            state, message = reg.CANCELLED, "cancelled; resume to finish"
        elif state == reg.COMPLETED and (fetcher.stats.failures or self._failed_outputs):
            n = fetcher.stats.failures
            first = next(iter(self._failed_outputs.values()), "")
            state = reg.FAILED
            message = f"{n} unit(s) failed after retries (first: {first}); resume to retry them"
        elif state == reg.FAILED and self.cancel.cancelled and message is None:
            state = reg.CANCELLED
        if state == reg.COMPLETED and self._zonal_failures:
            state = reg.COMPLETED_WITH_FAILURES
            message = f"zonal statistics failed for {len(self._zonal_failures)} file(s): {self._zonal_failures[0]}"
        counts = self.reg.unit_counts(job_id)
        self.reg.set_job_state(job_id, state, message, None)
        if state in (reg.COMPLETED, reg.COMPLETED_WITH_FAILURES):
            self._cleanup_staging()
            log.info("job %s completed: %d files", job_id, len(self.finished_paths))
        else:
            log.warning("job %s %s: %s", job_id, state, message)
        live_total = sum(v for k, v in counts.items() if k in (reg.PENDING, reg.DONE, reg.FAILED, reg.RUNNING))
        return JobResult(job_id, state, sorted(self.finished_paths) + self.zonal_paths, message, live_total,
                         counts.get(reg.DONE, 0), counts.get(reg.FAILED, 0),
                         counts.get("bytes_done", 0), time.monotonic() - t0, str(self.r.workdir),
                         fetcher.stats)

    def _recover_lost_staging(self) -> None:
        """Units are done only while their pixels are in the staging file: if that file is
        gone or has the wrong size (deleted, another disk), fetch its units again."""
        done_by_output: Dict[str, List[str]] = {}
        for u in self.reg.units(self.job_id, [reg.DONE]):
            done_by_output.setdefault(u.output_id, []).append(u.unit_id)
        for oid, unit_ids in done_by_output.items():
            out = self.outputs[oid]
            if self.records[oid].state == reg.DONE or out.fetch != "NPY":
                continue
            st = StagingRaster(self.staging_dir / _safe(oid), out.grid, out.bands, out.dtype)
            if st.raw_path.exists() and st.raw_path.stat().st_size == st.size_bytes:
                continue
            log.warning("staging file of %s is missing: its %d finished tiles are fetched again",
                        oid, len(unit_ids))
            for uid in unit_ids:
                self.reg.mark_unit(self.job_id, uid, reg.PENDING)

    def _finisher(self) -> None:
        while True:
            oid = self._finish_q.get()
            if oid is None:
                return
            if self._finish_error is not None:
                continue
            try:
                self.finish_output(oid)
            except OutputCancelled:
                log.info("writing %s stopped: cancelled (resume writes it)", oid)
            except BaseException as exc:  # disk full, GDAL error: the job fails, resumable
                log.error("finishing %s failed: %s", oid, exc)
                self._finish_error = exc
                self.cancel.cancel()

    def finish_output(self, oid: str) -> None:
        out = self.outputs[oid]
        if out.fetch == "NPY":
            st = self.staging(oid)
            build_output(st.vrt_path, out.path, out.format, out.dtype, self.spec.output.compression,
                         self.spec.output.nodata, cancelled=lambda: self.cancel.cancelled)
            # Recorded before the staging files go: a crash in between rebuilds from them.
            self.reg.set_output_state(self.job_id, oid, reg.DONE)
            with self._lock:
                st.close()
                self._staging.pop(oid, None)
            st.remove()
        else:
            self.reg.set_output_state(self.job_id, oid, reg.DONE)
        with self._lock:
            self.finished_paths.append(out.path)
        if self.spec.zonal is not None and out.format in ("COG", "GEO_TIFF"):
            self._zonal(out)

    def _zonal(self, out: OutputPlan) -> None:
        assert self.spec.zonal is not None
        paths, error = zonal_for_output(out.path, self.spec.zonal)
        with self._lock:
            self.zonal_paths += paths
            if error:
                self._zonal_failures.append(error)

    def _cleanup_staging(self) -> None:
        try:
            if self.staging_dir.exists() and not any(self.staging_dir.iterdir()):
                self.staging_dir.rmdir()
        except OSError:
            pass


def job_cancel_token(runner: JobRunner, job_id: str, poll_s: float = 0.5) -> CancelToken:
    """Cancelled by the front end's token, or by ``eeextract cancel`` from another process (the
    registry's flag, read at most every ``poll_s``)."""
    last_poll = [0.0]

    def registry_cancel() -> bool:
        now = time.monotonic()
        if now - last_poll[0] < poll_s:
            return False
        last_poll[0] = now
        return runner.registry.cancel_requested(job_id)

    return CancelToken(lambda: runner.cancel.cancelled or registry_cancel())


def zonal_for_output(raster: Union[str, Path], zonal_spec: Any) -> tuple[List[str], Optional[str]]:
    """Zonal statistics of one finished raster as the spec's ``zonal`` section asks: the files
    written, and the error (``"<file>: <reason>"``) or None. A failure never loses the raster:
    the job ends ``completed_with_failures`` saying so."""
    from .zonal import run_for_job

    try:
        res = run_for_job(raster, zonal_spec)
    except Exception as exc:  # noqa: BLE001 — reported in the job's result
        log.error("zonal statistics of %s failed: %s", raster, exc)
        return [], f"{Path(raster).name}: {exc}"
    return [str(p) for p in (res.csv_path, res.gpkg_path) if p], None


def _safe(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)


# ------------------------------------------------------------------------------ functions
def run_job(spec: JobSpec, session: Any, workdir: Optional[Union[str, Path]] = None,
            progress: Optional[ProgressCallback] = None, cancel: Any = None,
            limits: Optional[RequestLimits] = None,
            on_created: Optional[Callable[[str], None]] = None) -> JobResult:
    """Plans, records and runs a new job; see the module docstring."""
    runner = JobRunner(session, workdir or default_workdir(spec), limits=limits, progress=progress,
                       cancel=cancel)
    try:
        job_id = runner.create(spec)
        if on_created:
            on_created(job_id)
        return runner.run(job_id)
    finally:
        runner.close()


def resume_job(job_id: str, session: Any, workdir: Union[str, Path],
               progress: Optional[ProgressCallback] = None, cancel: Any = None) -> JobResult:
    """Runs a recorded job again: only units not done are fetched; failed ones are retried."""
    runner = JobRunner(session, workdir, progress=progress, cancel=cancel)
    try:
        job = runner.registry.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return runner.run(job.id)
    finally:
        runner.close()


def job_status(job_id: str, workdir: Union[str, Path]) -> Dict[str, Any]:
    """A plain dict of a job's state (no session needed)."""
    with Registry(reg.default_registry_path(workdir)) as r:
        job = r.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        counts = r.unit_counts(job.id)
        outs = r.outputs(job.id)
        state = job.state
        if state == reg.RUNNING and not reg.pid_alive(job.pid):
            state = "interrupted"
        return {"id": job.id, "name": job.name, "kind": job.kind, "state": state,
                "message": job.message, "units": {k: v for k, v in counts.items() if k != "bytes_done"},
                "bytes_done": counts.get("bytes_done", 0),
                "outputs_done": sum(o.state == reg.DONE for o in outs), "outputs": len(outs),
                "summary": job.summary, "created": job.created, "updated": job.updated}


def cancel_job(job_id: str, workdir: Union[str, Path]) -> str:
    """Asks a running job (any process) to stop; returns the job id."""
    with Registry(reg.default_registry_path(workdir)) as r:
        job = r.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        r.request_cancel(job.id)
        if job.state in (reg.PLANNED,) or (job.state == reg.RUNNING and not reg.pid_alive(job.pid)):
            r.set_job_state(job.id, reg.CANCELLED, "cancelled")
        return job.id


__all__ = ["run_job", "resume_job", "job_status", "cancel_job", "JobRunner", "JobResult", "BadInput",
           "JobNotFound", "PixelGrid"]
