"""Running a job's units as tasks on a Dask cluster (``execution.engine: "dask"``).

The same plan, the same registry, the same rules as the thread engine; only where a unit's
request and its writing happen changes. The client process (the one that runs the job) stays
the only one that talks to Earth Engine with credentials and the only one that decides what
runs: it holds the project's quota for the whole cluster.

- :mod:`.connection` — the Dask client for one run: a scheduler address, or a local cluster of
  worker processes started for the run; a clear error when Dask is not installed (the plugin
  itself never needs it: ``distributed`` is imported only here, only when asked for).
- :mod:`.quota` — the cluster-wide hard cap: a ``distributed.Semaphore`` named after the
  project, with as many leases as the project's concurrency, shared by every job on the
  cluster that uses the project.
- :mod:`.units` — the client's side of a task: a lease, a submission, a wait that a cancel
  cuts short, and the worker's report turned back into the exceptions the retry rules read.
- :mod:`.tasks` — what runs on a worker: GET a URL (no credentials), decode, ``pwrite`` the tile
  into the shared staging raster or write the chip or the rows file; build a COG; zonal
  statistics; download an export part with storage credentials the worker loads itself.
- :mod:`.executions` — the direct, table and export executions with those steps on the cluster.
- :mod:`.engine` — :func:`run_on_cluster`, what the runner calls.
"""
