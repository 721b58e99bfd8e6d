"""Headless Qt for the test suite.

Registered as a pytest plugin (entry point ``pytest11`` in pyproject.toml), so pytest imports it
before pytest-qgis starts QGIS — which happens before any conftest is read. An explicit
``QT_QPA_PLATFORM`` (e.g. ``xcb`` to watch the tests) is kept.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
