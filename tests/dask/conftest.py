"""A Dask cluster of worker processes for the engine's tests (issue 13), shared by the module's
tests: 2 worker processes of 30 threads: more than the quota's 40, so what keeps the requests in
flight to the quota is the engine, not the number of threads.

The scheduler runs in the test process, so its lease time-out is set low here: a client killed
on purpose gives back its semaphore leases in seconds instead of Dask's 30.
"""

from __future__ import annotations

import os

import pytest

distributed = pytest.importorskip("distributed")

WORKERS, THREADS = 2, 30


@pytest.fixture(scope="session")
def dask_cluster():
    import dask
    from distributed import LocalCluster

    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    # Read by the clients when they register the quota's semaphore (this process's and, through
    # the environment, the command lines the tests start).
    lease = {"distributed.scheduler.locks.lease-timeout": "3s",
             "distributed.scheduler.locks.lease-validation-interval": "1s"}
    config = dask.config.set(lease)
    os.environ["DASK_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_TIMEOUT"] = "3s"
    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=THREADS, processes=True,
                           dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()
        config.__exit__(None, None, None)
        os.environ.pop("DASK_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_TIMEOUT", None)


@pytest.fixture()
def dask_client(dask_cluster):
    """A client of the test's own (to look at the cluster: workers, tasks)."""
    from distributed import Client

    client = Client(dask_cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def restore_client_retries():
    yield
    import ee

    ee.data.setMaxRetries(5)
