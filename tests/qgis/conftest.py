"""Fixtures for the QGIS side: the plugin loaded through classFactory, settings kept clean."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List

import pytest

TEST_MASTER_PASSWORD = "eeextract-tests"


@pytest.fixture()
def clean_settings(qgis_app):
    """No EE Extract settings before or after the test (the settings file is shared)."""
    from qgis.core import QgsSettings

    def wipe() -> None:
        s = QgsSettings()
        s.remove("eeextract")
        s.sync()

    wipe()
    yield QgsSettings()
    wipe()


@pytest.fixture()
def sandbox_settings(clean_settings, sandbox_url, tmp_path):
    """Connection settings pointing at the session's sandbox as a custom URL."""
    from eeextract_plugin import qgis_settings as qs

    conn = qs.ConnectionSettings(mode=qs.MODE_CUSTOM_URL, custom_url=sandbox_url, project="sandbox",
                                 output_folder=str(tmp_path / "out"), concurrency=8)
    qs.save_settings(conn)
    return conn


class RecordingIface:
    """Wraps pytest-qgis's iface and records what a plugin registers and unregisters."""

    def __init__(self, iface: Any) -> None:
        self._iface = iface
        self.calls: Dict[str, List[Any]] = {}

    def _record(self, name: str, *args: Any) -> None:
        self.calls.setdefault(name, []).append(args)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._iface, name)
        if name.startswith(("add", "remove")) and callable(target):
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                self._record(name, *args)
                return target(*args, **kwargs)
            return wrapper
        return target


@pytest.fixture()
def recording_iface(qgis_iface):
    return RecordingIface(qgis_iface)


@pytest.fixture()
def auth_db(qgis_app):
    """QGIS's auth database unlocked with the tests' master password."""
    from qgis.core import QgsApplication

    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        ok = manager.setMasterPassword(TEST_MASTER_PASSWORD, True)
        if not ok:
            pytest.skip("the test profile's auth database has another master password")
    return manager


@pytest.fixture()
def quiet_logger():
    logger = logging.getLogger("eeextract_plugin")
    level = logger.level
    yield logger
    logger.setLevel(level)


def write_geotiff(path: Path, bands: int, width: int = 32, height: int = 24,
                  epsg: int = 4326, origin=(7.0, 46.25), pixel: float = 0.01) -> Path:
    """A small GeoTIFF with a gradient per band."""
    import numpy as np
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, gdal.GDT_Float32)
    ds.SetGeoTransform((origin[0], pixel, 0, origin[1], 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(bands):
        arr = (np.arange(width * height, dtype="float32").reshape(height, width) + 100 * b)
        ds.GetRasterBand(b + 1).WriteArray(arr)
    ds.FlushCache()
    ds = None
    return path


@pytest.fixture()
def make_geotiff():
    """Factory of small GeoTIFFs: ``make_geotiff(path, bands, width, height, ...)``."""
    return write_geotiff


def _map_canvases():
    from qgis.gui import QgsMapCanvas
    from qgis.PyQt.QtWidgets import QApplication

    return [w for w in QApplication.allWidgets() if isinstance(w, QgsMapCanvas)]


@pytest.fixture(autouse=True)
def no_task_outlives_its_test(qgis_app):
    """Background work a test started finishes before the test is torn down: its QgsTasks
    (asset check, estimate, connection test, jobs) and map rendering. The tests check layers,
    not pictures: canvases are frozen so that added layers are not rendered at all.

    Then the cyclic garbage collector runs before Qt delivers the signals still queued: what the
    test dropped is collected at this fixed point, on the main thread, every time, instead of
    whenever and wherever allocations happen to trigger a collection. An object whose lifetime
    is wrong (a Python-owned QObject in a reference cycle with signal emissions still queued
    for its Python slots: see eeextract_plugin/tasks.py) then fails the test that made it, every
    run, not one whole-suite run in three."""
    for canvas in _map_canvases():
        canvas.freeze(True)
    yield
    import gc
    import time

    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    gc.collect()

    for canvas in _map_canvases():
        canvas.stopRendering()
        canvas.waitWhileRendering()

    manager = QgsApplication.taskManager()
    deadline = time.monotonic() + 60
    while manager.countActiveTasks() and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)
    if manager.countActiveTasks():
        manager.cancelAll()
        deadline = time.monotonic() + 30
        while manager.countActiveTasks() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
    QCoreApplication.processEvents()
