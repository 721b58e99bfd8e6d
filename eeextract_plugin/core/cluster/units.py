"""The client's side of a task: submit it, wait for it, turn its report back into what the
thread engine would have seen.

:meth:`ClusterUnits.request` is called by the thread engine's own
:class:`~eeextract_plugin.core.fetch.TileFetcher` from inside a unit's handler, so a unit on the
cluster goes through the same slots (the adaptive concurrency), the same rate limiter, the same
retries, splits and 429 rules as on threads: the fetcher's slot is held until the task's result
is back, so the requests in flight across all workers are never more than the controller
allows. The cluster-wide semaphore (:mod:`.quota`) is taken on top, for other jobs of the same
project on the same cluster.

A cancel (the front end's token or ``eeextract cancel``) cancels the tasks in flight at once and
sets the job's ``distributed.Event``, which long post-processing tasks (a COG, a part download)
poll, so the cluster stops within a second or two; the units stay pending for a resume.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import CancelledError
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from eeextract_plugin.core.cluster.connection import Cluster
from eeextract_plugin.core.cluster.quota import ClusterQuota
from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.core.fetch import CorruptResponse
from eeextract_plugin.core.progress import CancelToken
from eeextract_plugin.core.quota import QuotaStatus
from eeextract_plugin.core.urls import UrlRequestError
from eeextract_plugin.core.writer import DiskFullError

log = logging.getLogger(__name__)

WAIT_POLL_S = 0.25


def cancel_event_name(job_id: str) -> str:
    return f"eeextract-cancel-{job_id}"


class ClusterUnits:
    """Submits one job's tasks to a cluster and waits for them (thread-safe)."""

    def __init__(self, cluster: Cluster, job_id: str, quota_status: Optional[QuotaStatus],
                 cancel: CancelToken, cap: Optional[ClusterQuota] = None) -> None:
        from distributed import Event

        self.cluster = cluster
        self.client = cluster.client
        self.job_id = job_id
        self.quota_status = quota_status
        self.cancel = cancel
        self.cap = cap
        self.event_name = cancel_event_name(job_id)
        self._event = Event(self.event_name, client=self.client)
        self._event.clear()  # a resumed job: its last run's cancel is over
        self._told = threading.Event()
        self.submitted = 0

    # ---------------------------------------------------------------------------- submitting
    def submit(self, fn: Callable[..., Any], *args: Any, label: str) -> Any:
        """One task, named for the dashboard by what it does and the job (never by its data)."""
        key = f"eeextract-{label}-{self.job_id}-{uuid.uuid4().hex[:12]}"
        self.submitted += 1
        return self.client.submit(fn, *args, key=key, pure=False, retries=0)

    def wait(self, future: Any) -> Any:
        """The task's result; :class:`Cancelled` (the task cancelled on the cluster) as soon as
        the job is cancelled."""
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        while not done.wait(WAIT_POLL_S):
            if self.cancel.cancelled:
                self._stop([future])
                raise Cancelled("cancelled")
        try:
            return future.result()
        except CancelledError:
            if self.cancel.cancelled:
                raise Cancelled("cancelled") from None
            raise ConnectionError("the Dask cluster dropped the task") from None
        except Exception as exc:
            if type(exc).__name__ == "KilledWorker":  # died on one worker after another
                raise ConnectionError(f"Dask workers died running it ({exc})") from None
            raise

    def _stop(self, futures: Iterable[Any]) -> None:
        if not self._told.is_set():
            self._told.set()
            try:
                self._event.set()
            except Exception:  # noqa: BLE001 - the scheduler is away: nothing to stop there
                log.debug("could not set the cancel event", exc_info=True)
        self._cancel_quietly(futures)

    # ---------------------------------------------------------------------------- units
    def request(self, fn: Callable[..., Any], *args: Any, label: str) -> int:
        """One Earth Engine request as a task (``fn`` from :mod:`.tasks`): under a lease of the
        cluster's cap; returns its bytes or raises what the retry rules classify."""
        if self.cap is not None and not self.cap.acquire(lambda: self.cancel.cancelled):
            raise Cancelled("cancelled")
        try:
            report = self.wait(self.submit(fn, *args, label=label))
        finally:
            if self.cap is not None:
                self.cap.release()
        return self._bytes_of(report)

    def call(self, fn: Callable[..., Any], *args: Any, label: str) -> Any:
        """Post-processing as a task (no Earth Engine request: no lease)."""
        return self.wait(self.submit(fn, *args, label=label))

    def call_each(self, fn: Callable[..., Any], items: List[Tuple[Any, ...]], label: str,
                  on_result: Callable[[int, Any], None]) -> None:
        """``fn(*item)`` for every item, all submitted at once; ``on_result(i, result)`` as
        each ends (in order). The first error cancels the others and is raised."""
        futures = [self.submit(fn, *item, label=label) for item in items]
        try:
            for i, future in enumerate(futures):
                on_result(i, self.wait(future))
        except BaseException:
            self._cancel_quietly(futures)
            raise

    def _cancel_quietly(self, futures: List[Any]) -> None:
        pending = [f for f in futures if not f.done()]
        if pending:
            try:
                self.client.cancel(pending, force=True)
            except Exception:  # noqa: BLE001
                log.debug("could not cancel tasks", exc_info=True)

    def _bytes_of(self, report: Dict[str, Any]) -> int:
        if report.get("restricted") and self.quota_status is not None:
            self.quota_status.set_restricted()  # one controller for the whole cluster
        if "nbytes" in report:
            return int(report["nbytes"])
        if "http" in report:
            raise UrlRequestError(int(report["http"]), report.get("message", ""), report.get("headers") or {})
        if "corrupt" in report:
            raise CorruptResponse(report["corrupt"])
        if "disk_full" in report:
            raise DiskFullError(28, report["disk_full"])
        raise ConnectionError(report.get("transient") or "the request failed on a Dask worker")


__all__ = ["ClusterUnits", "cancel_event_name"]
