"""Running an export job: submit progressively, sweep operations, download, mosaic, analyse.

One work unit per output (one Export task). Its registry params record every step durably
before the next, so a restart of QGIS or of the command line re-attaches to running operations
by name, downloads what finished meanwhile, and never resubmits a finished or running export::

    {"export": {"attempt": 1, "request_id": "...", "prefix": "eeextract/<job>/<output>-a1",
                "operation": "projects/p/operations/ID", "state": "submitted", "progress": 0.4,
                "downloaded": ["...-0000000000-0000000000.tif"], "errors": ["..."]}}

States: ``unsubmitted`` → ``submitted`` → ``succeeded`` (parts ready) → done (the unit's row is
``done``, the output written). A FAILED export is resubmitted (``method.resubmit`` times, default
once) unless its message says the request itself is wrong; then the unit fails with Earth
Engine's message and the job ends ``completed_with_failures``, listing them — never silently
partial. Zonal statistics start as soon as an output is mosaicked, while other exports still run.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.export import tasks as t
from eeextract_plugin.core.export.naming import drive_prefix, expected_parts, internal_prefix
from eeextract_plugin.core.export.parts import (
    ChecksumError,
    CloudStoragePartStore,
    DrivePartStore,
    MountedFolderPartStore,
    PartStore,
    PartStoreError,
    RemotePart,
)
from eeextract_plugin.core.mosaic import build_output, parts_to_vrt
from eeextract_plugin.core.naming import unique_names
from eeextract_plugin.core.plan import EXPORT_FORMATS, OutputPlan, Plan
from eeextract_plugin.core.postprocess import zonal_for_output
from eeextract_plugin.core.progress import ProgressTracker
from eeextract_plugin.core.publish import Publisher, fsync_file
from eeextract_plugin.core.registry import OutputRecord, UnitRecord
from eeextract_plugin.core.results import ExportStats, JobResult
from eeextract_plugin.core.source import EarthEngineSource, ImageRef
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.writer import DiskFullError

log = logging.getLogger(__name__)

UNSUBMITTED, SUBMITTED, SUCCEEDED_STATE, CANCELLED_STATE = "unsubmitted", "submitted", "succeeded", "cancelled"
MAX_PENDING_TASKS = 3000  # Earth Engine's queue limit per project


def export_unit_records(job_id: str, plan: Plan) -> List[UnitRecord]:
    """One unit per output: its Export task."""
    return [UnitRecord(job_id, f"{o.output_id}#export", o.output_id, i, reg.PENDING,
                       {"export": {"state": UNSUBMITTED, "attempt": 0}}, 0, 0, None)
            for i, o in enumerate(plan.outputs)]


def check_exportable(spec: JobSpec) -> Optional[str]:
    """Why this spec cannot run as batch exports, or None."""
    if spec.kind in ("table", "timeseries"):
        return f"kind: {spec.kind} jobs are computed interactively; use method direct"
    if spec.output.format not in EXPORT_FORMATS:
        return (f"output.format: {spec.output.format} is not written by exports "
                f"(use one of {', '.join(EXPORT_FORMATS)}, or method direct)")
    return None


# ------------------------------------------------------------------------------ stores
def _user_credentials(session: Any) -> Any:
    get_state = getattr(session.ee.data, "_get_state", None)
    return getattr(get_state(), "credentials", None) if get_state else None


def storage_endpoint(session: Any) -> Optional[str]:
    """The session's custom endpoint (a sandbox's), whose storage stands in for Google's; None
    for Google's own."""
    url = getattr(session.config, "url", None)
    if url and "googleapis.com" not in url:
        return url.rstrip("/")
    return None


def make_part_store(spec: JobSpec, session: Any) -> PartStore:
    return part_store_for(spec.method, getattr(session, "project", None), _user_credentials(session),
                          storage_endpoint(session))


def part_store_for(m: Any, project: Optional[str], credentials: Any, endpoint: Optional[str]) -> PartStore:
    """The destination of ``m`` (a spec's ``method``) read with ``credentials`` (None: anonymous)."""
    if credentials is None and endpoint:
        # An anonymous session on a custom endpoint (the sandbox): its storage stands in for
        # the user's own account and accepts any bearer token as that user.
        from google.oauth2.credentials import Credentials

        credentials = Credentials(token="eeextract-anonymous-session")
    if m.type == "export_gcs":
        return CloudStoragePartStore(m.bucket or "", project, credentials, endpoint)
    if m.drive_mode == "mounted":
        return MountedFolderPartStore(m.mounted_path or "")
    return DrivePartStore(m.folder or "", credentials, endpoint)


# ------------------------------------------------------------------------------ execution
class ExportExecution:
    """One run (fresh or resumed) of one export job."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec, *, poll_min_s: float = 2.0,
                 poll_max_s: float = 60.0, store: Optional[PartStore] = None,
                 download_workers: int = 4) -> None:
        self.ctx = ctx
        self.reg = ctx.registry
        self.session = ctx.session
        self.ee = ctx.session.ee
        self.job_id = job_id
        self.spec = spec
        self.method = spec.method
        self.outputs: Dict[str, OutputPlan] = {rec.output_id: OutputPlan.from_info(rec.info)
                                               for rec in self.reg.outputs(job_id)}
        self.records: Dict[str, OutputRecord] = {rec.output_id: rec for rec in self.reg.outputs(job_id)}
        self.names = unique_names(self.outputs)  # each output's own prefix and parts folder
        self.publisher = Publisher(self.reg, job_id, spec.output.overwrite)
        self.source = EarthEngineSource(self.session, spec)
        self.parts_dir = ctx.staging_dir(job_id)
        self.poll = t.PollInterval(poll_min_s, poll_max_s)
        self._store = store
        self.download_workers = download_workers
        #: Finished exports downloaded and mosaicked at once (each on its own thread here).
        self.post_workers = 2
        self.sweeper = t.OperationSweeper(self.ee, f"projects/{self.session.project}")
        self._lock = threading.Lock()
        self._post: Dict[str, Future] = {}
        self._failures: Dict[str, str] = {}
        self.submitted_count = 0
        self.finished_paths: List[str] = []
        self.zonal_paths: List[str] = []
        self.cancel = ctx.job_cancel_token(job_id)

    # ---------------------------------------------------------------------------- helpers
    @property
    def store(self) -> PartStore:
        if self._store is None:
            self._store = make_part_store(self.spec, self.session)
        return self._store

    def _params(self, unit: UnitRecord) -> Dict[str, Any]:
        return dict(unit.params.get("export") or {"state": UNSUBMITTED, "attempt": 0})

    def _save(self, unit: UnitRecord, ex: Dict[str, Any]) -> None:
        unit.params = {**unit.params, "export": ex}
        self.reg.set_unit_params(self.job_id, unit.unit_id, unit.params)

    def _prefix(self, oid: str, attempt: int) -> str:
        if self.method.type == "export_gcs":
            base = internal_prefix(self.job_id, self.names[oid], attempt)
            return f"{self.method.prefix.rstrip('/')}/{base}" if self.method.prefix else base
        return drive_prefix(self.job_id, self.names[oid], attempt)

    # ---------------------------------------------------------------------------- submit
    def _submit(self, unit: UnitRecord, ex: Dict[str, Any]) -> Optional[str]:
        """Starts (or re-sends) the unit's export; returns an error message or None."""
        out = self.outputs[unit.output_id]
        if not ex.get("request_id"):
            ex["attempt"] = int(ex.get("attempt") or 0) + 1
            ex["request_id"] = t.new_request_id()
            ex["prefix"] = self._prefix(unit.output_id, ex["attempt"])
            ex.setdefault("shard_size", self.method.shard_size)
            self._save(unit, ex)  # durable before the call: a retried start resends this id
        ref = ImageRef(**out.image) if out.image else None
        image = self.source.image(ref, out.region)
        target = t.ExportTarget("gcs" if self.method.type == "export_gcs" else "drive", ex["prefix"],
                                bucket=self.method.bucket, folder=self.method.folder)
        config = t.build_export_config(self.ee, image, out.grid, f"{self.spec.name} {unit.output_id}",
                                       target, self.method.file_dimensions, int(ex["shard_size"]),
                                       cloud_optimized=True, nodata=self.spec.output.nodata)
        try:
            op = t.submit(self.ee, ex["request_id"], config)
        except Exception as exc:  # noqa: BLE001 — ee.EEException and transport errors
            return _message(exc)
        ex.update(state=SUBMITTED, operation=op.get("name"), progress=0.0,
                  submitted_at=time.time())
        self._save(unit, ex)
        self.submitted_count += 1
        log.info("export %s started: %s", unit.output_id, op.get("name"))
        return None

    # ---------------------------------------------------------------------------- main loop
    def run(self) -> JobResult:
        t0 = time.monotonic()
        self.reg.set_job_state(self.job_id, reg.RUNNING, None, os.getpid())
        units = [u for u in self.reg.units(self.job_id) if u.state != reg.SPLIT]
        tracker = ProgressTracker(len(units), self.ctx.progress,
                                  done=sum(u.state == reg.DONE for u in units))
        for rec in self.records.values():
            if rec.state == reg.DONE:
                self.finished_paths.append(rec.path)
        pending = [u for u in units if u.state not in (reg.DONE, reg.FAILED)]
        state, message = reg.COMPLETED, None
        try:
            self.store.check()
        except PartStoreError as exc:
            return self._result(t0, reg.FAILED, str(exc))
        except Exception as exc:  # noqa: BLE001 — client construction errors
            return self._result(t0, reg.FAILED, f"{self.store_description()}: {_message(exc)}")

        pool = ThreadPoolExecutor(max_workers=self.post_workers, thread_name_prefix="eeextract-export-post")
        try:
            state, message = self._loop(pending, tracker, pool)
        except DiskFullError as exc:
            state, message = reg.FAILED, f"disk full: {exc.strerror or exc} — free space and resume"
        except Exception as exc:  # noqa: BLE001 — keep what is done; the job is resumable
            log.exception("export job %s stopped by an unexpected error", self.job_id)
            state, message = reg.FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            pool.shutdown(wait=True)
        return self._result(t0, state, message)

    def store_description(self) -> str:
        return getattr(self._store, "description", self.method.type)

    def _loop(self, pending: List[UnitRecord], tracker: ProgressTracker,
              pool: ThreadPoolExecutor) -> Tuple[str, Optional[str]]:
        queue = [u for u in pending if self._params(u)["state"] in (UNSUBMITTED, CANCELLED_STATE, "failed")]
        in_flight = {u.unit_id: u for u in pending if self._params(u)["state"] == SUBMITTED}
        # Finished on the server while we were away: straight to download.
        for u in pending:
            if self._params(u)["state"] == SUCCEEDED_STATE:
                self._post_process(u, tracker, pool)
        for u in queue:  # a cancelled or failed attempt is started afresh, with a new prefix
            ex = self._params(u)
            if ex["state"] in (CANCELLED_STATE, "failed"):
                ex.update(state=UNSUBMITTED, request_id=None, operation=None)
                self._save(u, ex)
        queue_backoff_until = 0.0
        while True:
            if self.cancel.cancelled:
                self._cancel_operations(in_flight)
                self._drain(pool)
                return reg.CANCELLED, "cancelled (server operations cancelled); resume to finish"
            # Submit progressively, within the in-flight budget and Earth Engine's queue limit.
            while queue and len(in_flight) < min(self.method.max_in_flight, MAX_PENDING_TASKS) \
                    and time.monotonic() >= queue_backoff_until and not self.cancel.cancelled:
                unit = queue[0]
                ex = self._params(unit)
                error = self._submit(unit, ex)
                if error is None:
                    queue.pop(0)
                    in_flight[unit.unit_id] = unit
                elif t.is_queue_full(error):
                    log.info("Earth Engine's task queue is full; submitting later (%s)", error)
                    queue_backoff_until = time.monotonic() + max(self.poll.current, 5.0)
                    break
                else:
                    queue.pop(0)
                    self._fail(unit, f"export rejected at submit: {error}", tracker, export_failed=True)
            # One sweep for all of this job's operations.
            changed = False
            ops: Dict[str, Dict[str, Any]] = {}
            if in_flight:
                names = {self._params(u)["operation"]: u for u in in_flight.values()}
                oldest = min((self._params(u).get("submitted_at") or time.time()) for u in in_flight.values())
                try:
                    ops = self.sweeper.sweep(names.keys(), oldest)
                except Exception as exc:  # noqa: BLE001 — a failed sweep is retried next poll
                    log.warning("listing operations failed: %s", _message(exc))
                for name, op in ops.items():
                    unit = names[name]
                    changed |= self._on_operation(unit, op, in_flight, queue, tracker, pool)
            running = sum(1 for op in ops.values() if t.operation_state(op) == t.RUNNING)
            tracker.message(f"exports: {len(in_flight)} in flight ({running} running), "
                            f"{len(queue)} waiting, {tracker.done}/{tracker.total} done")
            with self._lock:
                post_busy = any(not f.done() for f in self._post.values())
            if not queue and not in_flight and not post_busy:
                break
            wait = self.poll.next(ops, changed) if in_flight or queue else 0.2
            self.cancel.wait(wait)
        self._drain(pool)
        if self._failures:
            listing = "; ".join(f"{oid}: {msg}" for oid, msg in sorted(self._failures.items()))
            return reg.COMPLETED_WITH_FAILURES, f"{len(self._failures)} export(s) failed — {listing}"
        return reg.COMPLETED, None

    def _on_operation(self, unit: UnitRecord, op: Dict[str, Any], in_flight: Dict[str, UnitRecord],
                      queue: List[UnitRecord], tracker: ProgressTracker, pool: ThreadPoolExecutor) -> bool:
        ex = self._params(unit)
        state = t.operation_state(op)
        progress = t.operation_progress(op)
        if state in t.ACTIVE_STATES:
            if abs(progress - float(ex.get("progress") or 0.0)) > 1e-6:
                ex["progress"] = progress
                self._save(unit, ex)
            return False
        in_flight.pop(unit.unit_id, None)
        if state == t.SUCCEEDED:
            ex.update(state=SUCCEEDED_STATE, progress=1.0)
            self._save(unit, ex)
            self._post_process(unit, tracker, pool)
            return True
        if state == t.CANCELLED:
            ex.update(state=CANCELLED_STATE)
            self._save(unit, ex)
            self._fail(unit, "the export was cancelled outside EE Extract; resume to start it again", tracker,
                       export_failed=True)
            return True
        message = t.operation_error(op)
        errors = list(ex.get("errors") or []) + [message]
        ex["errors"] = errors
        resubmits_left = self.method.resubmit - (int(ex.get("attempt") or 1) - 1)
        if t.is_transient(message) and resubmits_left > 0:
            log.warning("export %s failed (%s); submitting it again", unit.output_id, message)
            if "memory" in message.lower():
                # Smaller shards need less memory per tile.
                ex["shard_size"] = max(64, int(ex.get("shard_size") or self.method.shard_size) // 2)
            ex.update(state=UNSUBMITTED, request_id=None, operation=None)
            self._save(unit, ex)
            queue.append(unit)
            return True
        self._save(unit, ex)
        self._fail(unit, f"Earth Engine: {message}", tracker, export_failed=True)
        return True

    def _fail(self, unit: UnitRecord, message: str, tracker: ProgressTracker,
              export_failed: bool = False) -> None:
        if export_failed:  # a resume starts a new attempt; a failed download is only retried
            ex = self._params(unit)
            ex.update(state="failed", request_id=None, operation=None)
            self._save(unit, ex)
        self.reg.mark_unit(self.job_id, unit.unit_id, reg.FAILED, error=message, attempts=1)
        self.reg.set_output_state(self.job_id, unit.output_id, reg.FAILED, message)
        with self._lock:
            self._failures[unit.output_id] = message
        tracker.unit_done(0, failed=True)
        log.error("export %s: %s", unit.output_id, message)

    def _cancel_operations(self, in_flight: Dict[str, UnitRecord]) -> None:
        for unit in list(in_flight.values()):
            ex = self._params(unit)
            try:
                self.ee.data.cancelOperation(ex["operation"])
            except Exception as exc:  # noqa: BLE001 — already finished, or gone
                log.warning("cancelling %s: %s", ex.get("operation"), _message(exc))
            ex.update(state=CANCELLED_STATE)
            self._save(unit, ex)

    def _drain(self, pool: ThreadPoolExecutor) -> None:
        while True:
            with self._lock:
                futures = [f for f in self._post.values() if not f.done()]
            if not futures:
                return
            for f in futures:
                f.exception()  # waits

    # ---------------------------------------------------------------------------- download
    def _post_process(self, unit: UnitRecord, tracker: ProgressTracker, pool: ThreadPoolExecutor) -> None:
        with self._lock:
            if unit.unit_id in self._post and not self._post[unit.unit_id].done():
                return
            self._post[unit.unit_id] = pool.submit(self._finish_unit, unit, tracker)

    def _finish_unit(self, unit: UnitRecord, tracker: ProgressTracker) -> None:
        oid = unit.output_id
        out = self.outputs[oid]
        ex = self._params(unit)
        try:
            nbytes = self._download_and_mosaic(unit, ex, out)
        except DiskFullError as exc:
            self._fail(unit, f"disk full: {exc.strerror or exc} — free space and resume", tracker)
            return
        except ChecksumError as exc:
            # The stored part itself is bad: resuming exports it again (a new attempt).
            self._fail(unit, f"{exc}; resume to export it again", tracker, export_failed=True)
            return
        except (PartStoreError, OSError, RuntimeError) as exc:
            if isinstance(exc, OSError) and getattr(exc, "errno", None) == 28:
                self._fail(unit, f"disk full: {exc.strerror or exc} — free space and resume", tracker)
            else:
                self._fail(unit, f"{self.store_description()}: {_message(exc)}", tracker)
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("finishing export %s", oid)
            self._fail(unit, f"{type(exc).__name__}: {exc}", tracker)
            return
        self.reg.mark_unit(self.job_id, unit.unit_id, reg.DONE, nbytes=nbytes, attempts=1)
        self.reg.set_output_state(self.job_id, oid, reg.DONE)
        with self._lock:
            self.finished_paths.append(out.path)
        tracker.unit_done(nbytes)
        if self.spec.zonal is not None and out.format in ("COG", "GEO_TIFF"):
            self._zonal(out)

    def _download_and_mosaic(self, unit: UnitRecord, ex: Dict[str, Any], out: OutputPlan) -> int:
        prefix = ex["prefix"]
        expected = set(expected_parts(out.grid.width, out.grid.height, self.method.file_dimensions))
        parts: List[RemotePart] = []
        for attempt in range(5):  # listings may lag the operation's end for a moment
            parts = self.store.list_parts(prefix)
            if {(p.row, p.col) for p in parts} >= expected:
                break
            time.sleep(min(2.0 ** attempt * 0.2, 5.0))
        found = {(p.row, p.col) for p in parts}
        if not found >= expected:
            raise PartStoreError(f"export {unit.output_id}: {len(found & expected)} of {len(expected)} "
                                 f"parts found under {prefix!r}")
        parts = [p for p in parts if (p.row, p.col) in expected]
        local_dir = self.parts_dir / self.names[unit.output_id]
        local_dir.mkdir(parents=True, exist_ok=True)
        downloaded = set(ex.get("downloaded") or [])
        paths: Dict[str, Path] = {}
        todo: List[RemotePart] = []
        for p in parts:
            in_place = self.store.local_path(p)
            if in_place is not None:
                paths[p.name] = in_place
                continue
            dest = local_dir / p.name.rsplit("/", 1)[-1]
            paths[p.name] = dest
            if p.name in downloaded and dest.exists() and (p.size is None or dest.stat().st_size == p.size):
                continue
            todo.append(p)
        total = sum(paths[p.name].stat().st_size for p in parts if p not in todo and paths[p.name].exists())
        if todo:
            total += self.download_parts(unit, ex, todo, paths, downloaded)
        # Mosaic: VRT over the parts → the job's output (COG by default).
        vrt = local_dir / "parts.vrt"
        self.mosaic([paths[p.name] for p in parts], vrt, out)
        if self.method.delete_after_download:
            for p in parts:
                try:
                    self.store.delete(p)
                except Exception as exc:  # noqa: BLE001 — the output is safe; report and go on
                    log.warning("could not delete %s: %s", p.name, _message(exc))
        if self.store.local_path(parts[0]) is None:
            shutil.rmtree(local_dir, ignore_errors=True)
        else:
            vrt.unlink(missing_ok=True)
            if not any(local_dir.iterdir()):
                local_dir.rmdir()
        return total

    def download_parts(self, unit: UnitRecord, ex: Dict[str, Any], todo: List[RemotePart],
                       paths: Dict[str, Path], downloaded: set) -> int:
        """Downloads ``todo`` (verified) to ``paths``, recording each part as it lands; returns
        the bytes (here on a few threads; a Dask run downloads on workers)."""
        total = 0
        with ThreadPoolExecutor(max_workers=self.download_workers, thread_name_prefix="eeextract-part") as pool:
            futures = {pool.submit(self._download_verified, p, paths[p.name]): p for p in todo}
            for future, p in futures.items():
                total += future.result()
                self.part_downloaded(unit, ex, downloaded, p.name)
        return total

    def part_downloaded(self, unit: UnitRecord, ex: Dict[str, Any], downloaded: set, name: str) -> None:
        """Records a verified part (a resume downloads it no more)."""
        with self._lock:
            downloaded.add(name)
            ex["downloaded"] = sorted(downloaded)
            self._save(unit, ex)

    def mosaic(self, part_paths: List[Path], vrt: Path, out: OutputPlan) -> None:
        """The output file from its parts, put in place under the job's overwrite rule (here; a
        Dask run writes it on a worker and publishes it here)."""
        mosaic_parts(part_paths, vrt, out, self.spec.output.compression, self.spec.output.nodata,
                     publisher=self.publisher)

    def _download_verified(self, part: RemotePart, dest: Path, attempts: int = 3) -> int:
        return download_verified(self.store, part, dest, lambda: self.cancel.cancelled, attempts)

    def zonal_of(self, path: str) -> Tuple[List[str], Optional[str]]:
        """The spec's zonal statistics of one finished raster: (tables, error or None)."""
        return zonal_for_output(path, self.spec.zonal)

    def _zonal(self, out: OutputPlan) -> None:
        paths, error = self.zonal_of(out.path)
        with self._lock:
            self.zonal_paths += paths
            if error:
                self._failures[f"{out.output_id} (zonal statistics)"] = error

    # ---------------------------------------------------------------------------- result
    def _result(self, t0: float, state: str, message: Optional[str]) -> JobResult:
        self.reg.set_job_state(self.job_id, state, message, None)
        counts = self.reg.unit_counts(self.job_id)
        live_total = sum(v for k, v in counts.items() if k in (reg.PENDING, reg.DONE, reg.FAILED, reg.RUNNING))
        if state in (reg.COMPLETED, reg.COMPLETED_WITH_FAILURES):
            log.info("export job %s %s: %d files", self.job_id, state, len(self.finished_paths))
        else:
            log.warning("export job %s %s: %s", self.job_id, state, message)
        return JobResult(self.job_id, state, message, rasters=sorted(set(self.finished_paths)),
                         zonal_tables=list(self.zonal_paths), units_total=live_total,
                         units_done=counts.get(reg.DONE, 0), units_failed=counts.get(reg.FAILED, 0),
                         bytes=counts.get("bytes_done", 0), elapsed_s=time.monotonic() - t0,
                         workdir=str(self.ctx.workdir),
                         export=ExportStats(self.submitted_count, self.sweeper.requests,
                                            self.sweeper.get_requests, dict(self._failures)))


def download_verified(store: PartStore, part: RemotePart, dest: Path,
                      cancelled: Callable[[], bool], attempts: int = 3) -> int:
    """One part downloaded to ``dest`` and verified, with retries (a bad checksum or a transport
    error); a full disk and cancellation stop at once."""
    last: Optional[BaseException] = None
    for i in range(attempts):
        if cancelled():
            raise PartStoreError("cancelled")
        try:
            size = store.download(part, dest)
            fsync_file(dest)  # on disk before the registry lists it as downloaded
            return size
        except ChecksumError as exc:
            last = exc
            log.warning("%s (attempt %d of %d)", exc, i + 1, attempts)
        except OSError as exc:
            if getattr(exc, "errno", None) == 28:
                raise
            last = exc
        except Exception as exc:  # noqa: BLE001 — transport errors: retried
            last = exc
            log.warning("downloading %s: %s (attempt %d of %d)", part.name, _message(exc), i + 1, attempts)
        time.sleep(min(0.5 * 2 ** i, 5.0))
    if isinstance(last, ChecksumError):
        raise last
    raise PartStoreError(f"downloading {part.name} failed: {_message(last) if last else 'unknown error'}")


def mosaic_parts(part_paths: List[Path], vrt: Path, out: OutputPlan, compression: str,
                 nodata: Optional[float], dest: Optional[Path] = None, publisher: Any = None) -> None:
    """A VRT over an export's parts (band names set: exported parts carry none) → the output
    (at ``dest``, default the output's path; ``publisher``: put in place by the job's rule)."""
    parts_to_vrt(part_paths, vrt)
    _name_bands(vrt, out.bands)
    build_output(vrt, dest or out.path, out.format, out.dtype, compression, nodata, publisher=publisher)


def _name_bands(vrt: Path, names: List[str]) -> None:
    from osgeo import gdal

    ds = gdal.Open(str(vrt), gdal.GA_Update)
    for i, name in enumerate(names[: ds.RasterCount]):
        ds.GetRasterBand(i + 1).SetDescription(name)
    ds = None  # noqa: F841 — written on close


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
