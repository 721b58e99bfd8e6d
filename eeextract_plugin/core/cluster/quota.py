"""One quota for the whole cluster.

The client of a job is the only submitter of its requests: its
:class:`~eeextract_plugin.core.quota.ConcurrencyController` and
:class:`~eeextract_plugin.core.quota.RequestRateLimiter` (the thread engine's, unchanged) decide
how many of its tasks are in flight and how fast they start, however many workers run them. On
top of that, :class:`ClusterQuota` is the hard cap for *every* job on the cluster that uses the
project: a ``distributed.Semaphore`` named after the project, with as many leases as the
project's concurrency. A task holds a lease from before it is submitted until its result is
back, so two jobs (two clients) of one project on one cluster together never have more than the
project's concurrency in flight. A client that dies loses its leases after Dask's lease
time-out (``distributed.scheduler.locks.lease-timeout``, 30 s by default).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)

ACQUIRE_POLL_S = 0.5


def semaphore_name(project: str) -> str:
    return f"eeextract-quota-{project}"


class ClusterQuota:
    """The project's concurrency as leases of a named semaphore on the cluster's scheduler.

    The first job of a project on a cluster sets the number of leases; a later job asking for
    another number shares the cluster's (its own controller still keeps to its own number), and
    :attr:`notice` says so when the cluster's is the lower."""

    def __init__(self, client: Any, project: str, concurrency: int) -> None:
        self.name = semaphore_name(project)
        self.notice = ""
        try:
            self._semaphore = self._register(client, int(concurrency))
        except ValueError as exc:  # "Inconsistent max leases: 8, expected: 40"
            found = re.search(r"expected:\s*(\d+)", str(exc))
            if not found:
                raise BadInput(field="execution.max_concurrent_requests",
                               reason=f"the Dask cluster refused the quota of project {project}: {exc}") from None
            self._semaphore = self._register(client, int(found.group(1)))
        self.concurrency = int(self._semaphore.max_leases)
        if self.concurrency < int(concurrency):
            self.notice = (f"the Dask cluster caps project {project} at {self.concurrency} requests in "
                           f"flight (the quota an earlier job gave it), below this job's {concurrency}")
            log.warning("%s", self.notice)

    def _register(self, client: Any, leases: int) -> Any:
        from distributed import Semaphore

        semaphore = Semaphore(max_leases=leases, name=self.name, scheduler_rpc=client.scheduler,
                              loop=client.loop)
        try:
            semaphore.register()
        except BaseException:
            _stop_refreshing(semaphore)
            raise
        return semaphore

    def acquire(self, cancelled: Callable[[], bool]) -> bool:
        """Waits for a lease; False when cancelled while waiting."""
        while True:
            if cancelled():
                return False
            if self._semaphore.acquire(timeout=ACQUIRE_POLL_S):
                return True

    def release(self) -> None:
        self._semaphore.release()

    def stop(self) -> None:
        """Stops renewing this client's leases (the semaphore itself stays: other jobs share it)."""
        _stop_refreshing(self._semaphore)


def _stop_refreshing(semaphore: Any) -> None:
    semaphore.refresh_leases = False
    callback = getattr(semaphore, "refresh_callback", None)
    loop = getattr(semaphore, "_loop", None)
    if callback is not None and loop is not None:
        loop.add_callback(callback.stop)  # on the client's event loop, where it runs


__all__ = ["ClusterQuota", "semaphore_name"]
