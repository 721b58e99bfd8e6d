"""The engine of EE Extract: job specs, plans, fetching, exports, registry, post-processing.

Pure Python: nothing in this package imports QGIS or Qt (``tests/test_architecture.py``).
Importing it makes no network call and does not initialise Earth Engine.

Data flows one way: :mod:`.spec` (a job spec) → :mod:`.plan` (outputs and work units under
Earth Engine's request limits; :mod:`.grid`, :mod:`.regions`, :mod:`.source`) →
:mod:`.runner` (the entry point: :func:`.runner.run_job`, :func:`.runner.resume_job`) which runs
the units on :mod:`.fetch` (parallel requests, retries, splits, adaptive concurrency) or
:mod:`.export` (batch exports), records them in :mod:`.registry` (SQLite), streams tiles through
:mod:`.writer` into :mod:`.mosaic` (Cloud-Optimized GeoTIFF), computes tables in
:mod:`.tables`, then :mod:`.zonal` statistics. :mod:`.session` initialises the ``ee`` client;
:mod:`.progress` carries progress and cancellation; :mod:`.cli` is the ``eeextract`` command.
"""
