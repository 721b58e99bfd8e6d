"""QGIS started again on the profile of the dock's session (which quit with a job running): the
"unfinished job(s)" message, its "Show jobs" button, the dock at 1920 x 1080, Resume, and the
message gone once the job completed. Then the Processing toolbox as a user drives it: an
algorithm found by typing in the toolbox's search box and opened with Enter, its fields typed
in, the output left at "Save to temporary file" with "Open output file after running" checked,
Run clicked; then the same algorithm as a batch of three rows of which one fails; every
algorithm's dialog checked for cut labels; then QGIS quit with Ctrl+Q."""

from __future__ import annotations

import os
from pathlib import Path

import ui as U  # noqa: N812 - the gestures module
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QLineEdit,
    QTextEdit,
    QToolButton,
)
from qgis.utils import iface, plugins

WORK = Path(os.environ["EEX_DESKTOP_WORK"])
EXTENT = "7.0,7.02,46.0,46.01 [EPSG:4326]"


def _log_html(dialog) -> str:
    browsers = [b for b in dialog.findChildren(QTextEdit) if b.objectName() == "txtLog"]
    return browsers[0].toHtml() if browsers else ""


def _red(html: str) -> bool:
    return "color:red" in html.replace(" ", "") or "#ff0000" in html.lower()


def _log_text(dialog) -> str:
    browsers = [b for b in dialog.findChildren(QTextEdit) if b.objectName() == "txtLog"]
    return browsers[0].toPlainText() if browsers else ""


def _finished(dialog) -> bool:
    """The dialog's log says the run (or the batch) is over."""
    text = _log_text(dialog)
    return any(word in text for word in ("Algorithm 'Extract image (direct)' finished", "Execution failed",
                                          "Batch execution completed", "Algorithm 'Extract image (direct)' failed"))


def _line_edit(widget):
    if isinstance(widget, QLineEdit):
        return widget
    edits = [e for e in widget.findChildren(QLineEdit) if e.isVisibleTo(widget)]
    return edits[0] if edits else None


def _dock():
    return plugins["eeextract_plugin"].dock


def resume_the_unfinished_job(ui):
    """The message offering the job QGIS was closed on; "Show jobs" opens the dock on its Jobs
    tab (its layout checked at this screen size on both tabs); Resume completes the job and
    the message goes."""
    window = iface.mainWindow()
    window.setGeometry(QApplication.primaryScreen().availableGeometry())
    window.activateWindow()
    bar = iface.messageBar()

    def offer():
        return next((item for item in bar.items() if "unfinished job" in " ".join(
            w.text() for w in item.findChildren(QLabel)) + (item.text() or "")), None)

    yield ui.until(offer, 15, "the unfinished-jobs message")
    item = offer()
    ui.shot("unfinished-job-offered")
    yield ui.click(ui.button(item, "Show jobs"))
    yield ui.until(lambda: _dock() is not None and _dock().isVisible(), 10, "the dock")
    yield ui.wait(600)
    dock = _dock()
    f = dock.form
    ui.check("the dock opens on its Jobs tab", f.tabs.currentIndex() == 1, f.tabs.currentIndex())
    ui.note("dock size", [dock.width(), dock.height()])
    problems = U.jobs_table_problems(f.treeJobs) + U.clipped_texts(dock) + U.overlapping_siblings(dock)
    ui.check("Jobs tab at 1920 x 1080: nothing cut off or drawn over another", not problems, problems)
    yield ui.click(f.tabs.tabBar(), f.tabs.tabBar().tabRect(0).center())
    yield ui.wait(300)
    problems = U.clipped_texts(dock) + U.overlapping_siblings(dock)
    ui.check("New job tab at 1920 x 1080: nothing cut off or drawn over another", not problems, problems)
    ui.shot("dock-1920")
    yield ui.click(f.tabs.tabBar(), f.tabs.tabBar().tabRect(1).center())
    entry = next((e for e in dock.board.jobs.values() if e.name == "s2-quit"), None)
    if entry is None:
        raise AssertionError(f"no s2-quit row: {[e.name for e in dock.board.jobs.values()]}")
    tree = f.treeJobs
    row = dock.jobs_view.items[entry.key]
    yield ui.click(tree.viewport(), tree.visualItemRect(row).center())
    yield ui.until(lambda: f.btnJobResume.isEnabled(), 5, "Resume enabled")
    yield ui.click(f.btnJobResume)
    yield ui.until(lambda: entry.task is None and entry.state not in ("queued", "running", "cancelling"), 120,
                   "the resumed job to end")
    ui.check("the job completed", entry.state == "completed", [entry.state, entry.message])
    yield ui.wait(300)
    ui.check("the unfinished-jobs message is gone", offer() is None, U.message_bar_texts())
    ui.shot("unfinished-job-resumed")
    action = plugins["eeextract_plugin"].toggle_action  # the panel closed again: the toolbox's place
    button = next(b for b in window.findChildren(QToolButton) if b.defaultAction() is action and b.isVisible())
    yield ui.click(button)
    yield ui.until(lambda: not dock.isVisible(), 5, "the dock closed")


def open_algorithm(ui):
    """Processing ▸ Toolbox, "Extract image (direct)" typed in its search box, Enter."""
    window = iface.mainWindow()
    window.setGeometry(QApplication.primaryScreen().availableGeometry())
    window.activateWindow()
    yield ui.wait(400)
    toolbox = yield from U.open_toolbox(ui, "Processing", "Toolbox")
    search = toolbox.findChild(QLineEdit, "searchBox")
    yield from ui.type_text(search, "Extract image (direct)")
    yield ui.wait(500)
    yield ui.key(search, Qt.Key_Return)
    yield ui.until(lambda: ui.modal("AlgorithmDialog"), 10, "the algorithm's dialog")
    dialog = ui.modal("AlgorithmDialog")
    ui.state["dialog"] = dialog
    yield ui.wait(400)
    size = dialog.size()
    ui.note("dialog size", [size.width(), size.height()])
    ui.check("the dialog opens at a usable size", size.width() >= 960 and size.height() >= 680,
             f"{size.width()} x {size.height()}")
    panel = dialog.mainWidget()
    cut = U.clipped_texts(panel)
    ui.check("no parameter label is cut off", not cut, cut)
    ui.shot("processing-dialog")


open_algorithm.required = True


def run_with_temporary_output(ui):
    dialog = ui.state["dialog"]
    wrappers = dialog.mainWidget().wrappers
    yield from ui.type_text(wrappers["ASSET"].wrappedWidget(), "SANDBOX/DEM")
    yield from ui.type_text(wrappers["BANDS"].wrappedWidget(), "elevation")
    extent = wrappers["EXTENT"].wrappedWidget().findChild(QLineEdit, "mCondensedLineEdit")
    yield from ui.type_text(extent, EXTENT)
    yield ui.key(extent, Qt.Key_Return)
    output = wrappers["OUTPUT"].wrappedWidget().findChild(QLineEdit)
    ui.check("the output is a temporary file", "temporary" in (output.text() + output.placeholderText()).lower(),
             output.placeholderText())
    layers_before = set(QgsProject.instance().mapLayers())
    yield ui.click(ui.button(dialog, "Run"))
    yield ui.until(lambda: _finished(dialog), 120, "the run to finish")
    yield ui.wait(500)
    html = _log_html(dialog)
    ui.note("log", html[-3000:])
    ui.check("no red text in the log", not _red(html), html[-1500:])
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - layers_before]
    rasters = [layer for layer in added if isinstance(layer, QgsRasterLayer)]
    ui.check("one raster layer opened", len(rasters) == 1, [a.name() for a in added])
    if rasters:
        layer = rasters[0]
        names = [layer.bandName(b) for b in range(1, layer.bandCount() + 1)]
        ui.check("it has the band asked for", layer.bandCount() == 1 and "elevation" in names[0], names)
        ui.check("its file exists", Path(layer.source()).exists(), layer.source())
        ui.state["temporary_output"] = layer.source()
    ui.shot("processing-after-run")


def batch_with_a_failing_row(ui):
    """Run as Batch Process…: three rows, the second with an asset that does not exist."""
    dialog = ui.state["dialog"]
    yield ui.click(ui.button(dialog, "Run as Batch Process"))
    yield ui.until(lambda: ui.modal("BatchAlgorithmDialog"), 10, "the batch dialog")
    batch = ui.modal("BatchAlgorithmDialog")
    ui.state["batch"] = batch
    yield ui.wait(500)
    panel = batch.mainWidget()
    table = panel.tblParameters
    add = next(b for b in panel.findChildren(QToolButton) if b.objectName() == "btnAdd")
    while table.rowCount() < 4:  # the "Autofill…" row, then three rows of parameters
        yield ui.click(add)
    out = WORK / "batch"
    out.mkdir(exist_ok=True)
    assets = ["SANDBOX/DEM", "SANDBOX/NO_SUCH_IMAGE", "SANDBOX/DEM"]
    for row, asset in enumerate(assets, start=1):
        for name, text in (("ASSET", asset), ("EXTENT", EXTENT), ("OUTPUT", str(out / f"row{row}.tif"))):
            edit = _line_edit(table.cellWidget(row, panel.parameter_to_column[name]))
            yield from ui.type_text(edit, text)
            yield ui.key(edit, Qt.Key_Tab)
    load = next(c for c in panel.findChildren(QCheckBox) if "Load layers" in c.text())
    if not load.isChecked():
        yield ui.click(load, QPoint(8, load.height() // 2))
    ui.check("load layers on completion is checked", load.isChecked(), load.text())
    ui.shot("batch-filled")
    yield ui.click(ui.button(batch, "Run"))
    yield ui.until(lambda: _finished(batch) or (ui.modal("QMessageBox") and ui.modal("QMessageBox").text()), 180,
                   "the batch to finish")
    box = ui.modal("QMessageBox")
    if box is not None:
        raise AssertionError(f"the batch dialog said: {box.text()}")
    yield ui.wait(500)
    manager = QgsApplication.taskManager()
    for _ in range(25):
        if not manager.countActiveTasks():
            break
        yield ui.wait(200)
    ui.check("no task is left running", manager.countActiveTasks() == 0,
             [f"{t.description()} at {t.progress():.0f} %" for t in manager.activeTasks()])
    ui.check("the good rows wrote their rasters", (out / "row1.tif").exists() and (out / "row3.tif").exists(),
             sorted(p.name for p in out.iterdir()))
    ui.check("the failed row left no folder or file", not (out / "row2.tif").exists()
             and not list(out.glob(".eeextract-row2*")), sorted(p.name for p in out.iterdir()))
    html = _log_html(batch)
    ui.note("log", html[-3000:])
    ui.check("the failure names the asset", "NO_SUCH_IMAGE" in _log_text(batch), _log_text(batch)[-1500:])
    ui.shot("batch-after-run")
    yield ui.click(ui.button(batch, "Close"))
    yield ui.until(lambda: ui.modal("BatchAlgorithmDialog") is None, 5, "the batch dialog closed")


def algorithm_dialogs_fit(ui):
    """Each algorithm's dialog at this screen size: no parameter label cut off."""
    yield from U.algorithm_dialogs(ui)


def quit_qgis(ui):
    """Ctrl+Q (the dialogs closed first), answering what QGIS asks."""
    for dialog in (ui.modal("AlgorithmDialog"), ui.modal("BatchAlgorithmDialog")):
        if dialog is not None:
            yield ui.click(ui.button(dialog, "Close"))
    yield from U.quit_gesture(ui)


quit_qgis.always = True

STEPS = [resume_the_unfinished_job, open_algorithm, run_with_temporary_output, batch_with_a_failing_row,
         algorithm_dialogs_fit, quit_qgis]
