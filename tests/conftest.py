"""Shared fixtures: one sandbox server per test session, and the real client pointed at it."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """An in-process sandbox on a free port, with Earth Engine's default limits, no latency."""
    from eeextract_plugin.sandbox.config import SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("sandbox-state"))
    server = SandboxServer(config).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_url(sandbox_server) -> str:
    return sandbox_server.url


@pytest.fixture()
def ee_sandbox(sandbox_url):
    """The unmodified earthengine-api client, initialised against the session's sandbox."""
    import ee

    ee.Initialize(credentials=None, url=sandbox_url, project="sandbox")
    return ee


def pytest_collection_modifyitems(config, items):
    """Tests marked ``realee`` need real Earth Engine credentials; skip them without."""
    if os.environ.get("EEEXTRACT_REAL_EE_PROJECT"):
        return
    skip = pytest.mark.skip(reason="needs real Earth Engine: set EEEXTRACT_REAL_EE_PROJECT")
    for item in items:
        if "realee" in item.keywords:
            item.add_marker(skip)


_SLOT_ERRORS: list = []


def _record_slot_error(exc_type, exc, tb):
    """PyQt5 calls sys.excepthook for an exception raised in a Qt slot and, with Python's default
    hook, aborts the whole process (QGIS installs its own hook). Record it instead, so the test
    that raised it fails with the traceback."""
    import traceback

    _SLOT_ERRORS.append("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.__excepthook__(exc_type, exc, tb)


sys.excepthook = _record_slot_error


@pytest.fixture(autouse=True)
def no_exceptions_in_qt_slots():
    start = len(_SLOT_ERRORS)
    yield
    errors = _SLOT_ERRORS[start:]
    assert not errors, "exception(s) raised in Qt slots:\n" + "\n".join(errors)
