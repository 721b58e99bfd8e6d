"""The engine of EE Extract: job specs, plans, fetching, exports, registry, post-processing.

Pure Python: nothing in this package imports QGIS or Qt (``tests/test_architecture.py``).
"""
