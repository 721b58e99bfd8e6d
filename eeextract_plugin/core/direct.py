"""The direct path: a raster job's tiles fetched by many parallel interactive requests.

Flow: the registry's pending units → :class:`~eeextract_plugin.core.fetch.TileFetcher` (pool,
retries, splits, adaptive concurrency) → staging rasters (``pwrite`` per tile) → a finisher
thread (the output file as soon as its last tile lands) → zonal statistics (when the spec asks).
A unit is marked done only once its pixels are in the staging file, so a resumed run fetches
only what is missing.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.errors import Cancelled, JobAborted
from eeextract_plugin.core.fetch import TileFetcher
from eeextract_plugin.core.mosaic import build_output
from eeextract_plugin.core.naming import unique_names
from eeextract_plugin.core.plan import OutputPlan, UnitPlan
from eeextract_plugin.core.postprocess import zonal_for_output
from eeextract_plugin.core.progress import ProgressTracker
from eeextract_plugin.core.publish import Publisher, fsync_dir
from eeextract_plugin.core.registry import OutputRecord, UnitRecord
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.source import EarthEngineSource, ImageRef, check_image_body, decode_npy
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.urls import UrlFetcher
from eeextract_plugin.core.writer import DiskFullError, StagingRaster, band_planes

log = logging.getLogger(__name__)

#: Finished units are recorded at least this often (seconds) and in batches of at most this many.
FLUSH_EVERY_S = 1.0
FLUSH_UNITS = 512


class DirectExecution:
    """One run (fresh or resumed) of a raster job by direct requests."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec) -> None:
        self.ctx = ctx
        self.reg = ctx.registry
        self.job_id = job_id
        self.spec = spec
        self.staging_dir = ctx.staging_dir(job_id)
        self.outputs: Dict[str, OutputPlan] = {}
        self.records: Dict[str, OutputRecord] = {}
        for rec in self.reg.outputs(job_id):
            self.outputs[rec.output_id] = OutputPlan.from_info(rec.info)
            self.records[rec.output_id] = rec
        self.staging_names = unique_names(self.outputs)  # one staging file per output, always
        self.publisher = Publisher(self.reg, job_id, spec.output.overwrite)
        self.source = EarthEngineSource(ctx.session, spec)
        self._images: Dict[str, Any] = {}
        self._staging: Dict[str, StagingRaster] = {}
        self._remaining: Dict[str, int] = {}
        self._failed_outputs: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._finish_q: queue.Queue[Optional[str]] = queue.Queue()
        self._finish_error: Optional[BaseException] = None
        self.finished_paths: List[str] = []
        self.zonal_paths: List[str] = []
        self.notices: List[str] = []
        # request_kind "url": each unit through a thumbnail/download URL fetched without
        # credentials ("auto" is "pixels" on this machine's threads: one round trip, not two).
        self.urls: Optional[UrlFetcher] = None
        if spec.execution.request_kind == "url":
            self.urls = UrlFetcher(getattr(getattr(ctx.session, "config", None), "request_timeout_s", 330.0),
                                   pool_size=spec.execution.max_concurrent_requests + 4,
                                   quota=getattr(ctx.session, "quota", None))  # restricted mode
        self._zonal_failures: List[str] = []
        self.cancel = ctx.job_cancel_token(job_id)
        # Units finished but not yet recorded (output id, unit id, bytes, attempts): recorded in
        # batches, each after their bytes are flushed to disk (see flush_done).
        self._done_marks: List[Tuple[str, str, int, int]] = []
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()

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
                st = StagingRaster(self.staging_dir / self.staging_names[oid], out.grid, out.bands, out.dtype,
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
            if self.urls is not None:
                body = self.source.fetch_pixels_by_url(img, grid, req_bands, self.urls)
            else:
                body = self.source.fetch_pixels(img, grid, req_bands)
            nbytes = len(body)
            arr = decode_npy(body, u.width, u.height)
            del body  # the array is a view of it
            self.staging(u.output_id).write(u.col, u.row, band_planes(arr, out.bands))
            return nbytes
        if self.urls is not None:
            body = self.source.fetch_visualized_by_url(img, grid, out.fetch, self.urls)
        else:
            body = self.source.fetch_visualized(img, grid, out.fetch)
        body = check_image_body(body, out.fetch)
        return self.publisher.publish_bytes(out.path, body)

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
        summary = (self.reg.job(job_id).summary or {}) if self.reg.job(job_id) else {}
        bound_rate = (summary.get("bytes") or 0) / summary["direct_s"] if summary.get("direct_s") else 0.0
        tracker = ProgressTracker(len(live), self.ctx.progress, done=len(live) - len(todo),
                                  bytes_done=counts.get("bytes_done", 0), bound_rate_bytes_s=bound_rate)
        # Outputs whose units are all done but whose file is not (crash during finishing).
        for oid, rec in self.records.items():
            if rec.state != reg.DONE and self._remaining.get(oid, 0) == 0:
                self._finish_q.put(oid)
            elif rec.state == reg.DONE:
                self.finished_paths.append(rec.path)
        finisher = threading.Thread(target=self._finisher, name="eeextract-finish", daemon=True)
        finisher.start()

        def on_done(u: UnitPlan, nbytes: int, attempts: int) -> None:
            tracker.unit_done(nbytes)
            with self._lock:
                self._done_marks.append((u.output_id, u.unit_id, nbytes, attempts))
                due = (len(self._done_marks) >= FLUSH_UNITS
                       or time.monotonic() - self._last_flush >= FLUSH_EVERY_S)
                self._remaining[u.output_id] -= 1
                last = self._remaining[u.output_id] == 0
            if due:
                self.flush_done()
            if last:
                self._finish_q.put(u.output_id)  # the finisher records this output's units first

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
            self.handle, cancel=self.cancel, on_done=on_done, on_failed=on_failed, splitter=splitter,
            **self.ctx.fetch_options(ex, tracker, self.notices))
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
        try:
            self.flush_done()
        except Exception as exc:  # noqa: BLE001 - those units are fetched again on resume
            log.error("job %s: recording finished units failed: %s", job_id, exc)
            if state == reg.COMPLETED:
                state, message = reg.FAILED, f"recording finished units failed: {exc}"
        self._finish_q.put(None)
        finisher.join()
        for st in self._staging.values():
            st.close()
        if self.urls is not None:
            self.urls.close()
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
        return JobResult(job_id, state, message, rasters=sorted(self.finished_paths),
                         zonal_tables=list(self.zonal_paths), units_total=live_total,
                         units_done=counts.get(reg.DONE, 0), units_failed=counts.get(reg.FAILED, 0),
                         bytes=counts.get("bytes_done", 0), elapsed_s=time.monotonic() - t0,
                         workdir=str(self.ctx.workdir), stats=fetcher.stats, notices=list(self.notices))

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
            st = StagingRaster(self.staging_dir / self.staging_names[oid], out.grid, out.bands, out.dtype)
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
            except Cancelled:
                log.info("writing %s stopped: cancelled (resume writes it)", oid)
            except BaseException as exc:  # disk full, GDAL error: the job fails, resumable
                log.error("finishing %s failed: %s", oid, exc)
                self._finish_error = exc
                self.cancel.cancel()

    def flush_done(self) -> None:
        """Records the units finished since the last call: first their bytes are flushed to disk
        (``fsync`` of the staging files they wrote; of the folders chips were published in),
        then one registry transaction. So a unit the registry calls done survives a power cut,
        and a batch costs a few flushes instead of one per unit."""
        with self._flush_lock:
            with self._lock:
                marks, self._done_marks = self._done_marks, []
                self._last_flush = time.monotonic()
                oids = {m[0] for m in marks}
                staging = [self._staging[o] for o in oids if o in self._staging]
            if not marks:
                return
            for st in staging:
                st.sync()
            for folder in {str(Path(self.outputs[o].path).parent) for o in oids if self.outputs[o].fetch != "NPY"}:
                fsync_dir(folder)
            self.reg.mark_units_done(self.job_id, [(u, n, a) for _, u, n, a in marks])

    def finish_output(self, oid: str) -> None:
        self.flush_done()  # its units are recorded done before the output is
        out = self.outputs[oid]
        if out.fetch == "NPY":
            st = self.staging(oid)
            self.write_output(st, out)
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

    def write_output(self, st: StagingRaster, out: OutputPlan) -> None:
        """The output file from its staging raster, put in place under the job's overwrite rule
        (here; a Dask run writes it on a worker and publishes it here)."""
        build_output(st.vrt_path, out.path, out.format, out.dtype, self.spec.output.compression,
                     self.spec.output.nodata, cancelled=lambda: self.cancel.cancelled,
                     publisher=self.publisher)

    def zonal_of(self, path: str) -> Tuple[List[str], Optional[str]]:
        """The spec's zonal statistics of one finished raster: (tables, error or None)."""
        return zonal_for_output(path, self.spec.zonal)

    def _zonal(self, out: OutputPlan) -> None:
        assert self.spec.zonal is not None
        paths, error = self.zonal_of(out.path)
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


__all__ = ["DirectExecution"]
