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
from typing import Any, Callable

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)

ACQUIRE_POLL_S = 0.5


def semaphore_name(project: str) -> str:
    return f"eeextract-quota-{project}"


class ClusterQuota:
    """The project's concurrency as leases of a named semaphore on the cluster's scheduler."""

    def __init__(self, client: Any, project: str, concurrency: int) -> None:
        from distributed import Semaphore

        self.name = semaphore_name(project)
        self.concurrency = int(concurrency)
        self._semaphore = Semaphore(max_leases=self.concurrency, name=self.name,
                                    scheduler_rpc=client.scheduler, loop=client.loop)
        try:
            self._semaphore.register()
        except ValueError as exc:  # another job registered the project with another number
            self.stop()
            expected = str(exc).rsplit(":", 1)[-1].strip()
            raise BadInput(field="execution.max_concurrent_requests",
                           reason=f"another job on this Dask cluster uses project {project} with a "
                                  f"concurrency of {expected}: one project has one quota, use "
                                  f"{expected} (or another cluster)") from None

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
        callback = getattr(self._semaphore, "refresh_callback", None)
        if callback is not None:
            callback.stop()


__all__ = ["ClusterQuota", "semaphore_name"]
