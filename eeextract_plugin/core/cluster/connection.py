"""The Dask client of one run: to a scheduler the user runs, or to a local cluster started for
the run (``local:N``: N worker processes).

``distributed`` is imported inside the functions here, only when a job asks for engine
``dask``: the QGIS plugin and the thread engine never need it, and when it is missing the user
reads one line saying what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Optional

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)

DASK_MISSING = ("'dask' needs the Python packages dask and distributed, which are not installed "
                "here (pip install \"dask[distributed]\"); or use engine 'threads'")
#: Worker processes of ``local`` without a number.
DEFAULT_LOCAL_WORKERS = 2
CONNECT_TIMEOUT_S = 15


def check_available() -> None:
    """Raises :class:`BadInput` (on ``execution.engine``) when Dask is not installed."""
    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("dask") is None:
        raise BadInput(field="execution.engine", reason=DASK_MISSING)


def resolve_scheduler(value: Optional[str]) -> str:
    """The scheduler to use: the spec's, else Dask's own setting (``DASK_SCHEDULER_ADDRESS`` or
    its config file), else ``local``."""
    if value:
        return value
    import dask

    configured = dask.config.get("scheduler-address", None)
    return str(configured) if configured else "local"


@dataclass
class Cluster:
    """A connected client, and the local cluster started for this run (None for an address)."""

    client: Any
    address: str
    local: Any = None

    @property
    def description(self) -> str:
        workers = self.client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
        where = "a local Dask cluster" if self.local is not None else f"the Dask cluster at {self.address}"
        return f"{where} ({len(workers)} workers, {threads} threads)"

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.local is not None:
                self.local.close()


def _quiet_dask_logs() -> None:
    """Dask logs every connection and worker at INFO; unless the user asked for INFO from us
    (``-v``), only its warnings are shown."""
    if log.getEffectiveLevel() > logging.INFO:
        dask_log = logging.getLogger("distributed")
        if dask_log.getEffectiveLevel() < logging.WARNING:
            dask_log.setLevel(logging.WARNING)


def connect(value: Optional[str], concurrency: int) -> Cluster:
    """A client for one run. ``concurrency`` (the project's quota) sizes a local cluster's
    threads: requests in flight wait on the network, so each worker process runs as many
    threads as its share of the quota."""
    check_available()
    from distributed import Client, LocalCluster

    _quiet_dask_logs()
    address = resolve_scheduler(value)
    if address == "local" or address.startswith("local:"):
        n = int(address.split(":", 1)[1]) if ":" in address else DEFAULT_LOCAL_WORKERS
        threads = max(2, math.ceil(concurrency / n))
        quiet = log.getEffectiveLevel() > logging.INFO and "DASK_LOGGING__DISTRIBUTED" not in os.environ
        if quiet:  # the worker processes read it when they start
            os.environ["DASK_LOGGING__DISTRIBUTED"] = "warning"
        try:
            local = LocalCluster(n_workers=n, threads_per_worker=threads, processes=True,
                                 dashboard_address=None, silence_logs=logging.WARNING)
        finally:
            if quiet:
                os.environ.pop("DASK_LOGGING__DISTRIBUTED", None)
        try:
            client = Client(local, set_as_default=False)
        except BaseException:
            local.close()
            raise
        log.info("started a local Dask cluster: %d worker processes of %d threads (pid %d)", n, threads,
                 os.getpid())
        return Cluster(client, local.scheduler_address, local)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise BadInput(field="execution.dask_scheduler",
                       reason=f"cannot reach the Dask scheduler at {address} ({exc})") from None
    return Cluster(client, address)


__all__ = ["Cluster", "connect", "check_available", "resolve_scheduler", "DASK_MISSING"]
