"""The batch dialog's own run (BatchAlgorithmDialog.runAlgorithm) with a row that fails: its
"Batch Processing" progress task ends, as after a batch without failures (QGIS keeps the
traceback of a failed row, and with it the dialog's frame: see base.release_batch_dialog_frame),
and the failed row leaves no work folder."""

from __future__ import annotations

import time

import pytest


@pytest.fixture()
def sandbox_env(sandbox_url, monkeypatch):
    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    return sandbox_url


def test_a_failed_batch_row_leaves_no_task_running(eeextract_provider, sandbox_env, tmp_path, qgis_iface):
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("eeextract:extract_image")
    dialog = BatchAlgorithmDialog(algorithm)
    panel = dialog.mainWidget()
    panel.addRow(2)
    rows = [("SANDBOX/DEM", "ok1.tif"), ("SANDBOX/NO_SUCH_IMAGE", "bad.tif"), ("SANDBOX/DEM", "ok2.tif")]
    for row, (asset, name) in enumerate(rows):
        panel.wrappers[row][panel.parameter_to_column["ASSET"]].setParameterValue(asset, panel.processing_context)
        panel.wrappers[row][panel.parameter_to_column["EXTENT"]].setParameterValue("7.0,7.02,46.0,46.01 [EPSG:4326]", panel.processing_context)
        panel.tblParameters.cellWidget(row + 1, panel.parameter_to_column["OUTPUT"]).setValue(str(tmp_path / name))
    manager = QgsApplication.taskManager()
    before = manager.countActiveTasks()
    dialog.runAlgorithm()
    deadline = time.monotonic() + 5
    while manager.countActiveTasks() > before and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.05)
    assert manager.countActiveTasks() == before, [t.description() for t in manager.activeTasks()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok1.tif", "ok2.tif"]
    dialog.close()
    dialog.deleteLater()
