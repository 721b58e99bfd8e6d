"""The EE Extract dock as a user drives it, by mouse and keyboard: the panel opened from the
toolbar, Type and bands picked in their lists, a rectangle dragged on the map, a layer chosen,
Run, Cancel, Resume, an existing output refused before Run, and QGIS quit with a job running.
Runs against a sandbox whose requests take a while (a job lasts long enough to cancel)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import ui as U  # noqa: N812 - the gestures module
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtWidgets import QApplication, QLabel, QPushButton, QTextEdit, QToolButton, QWidget
from qgis.utils import iface, plugins

WORK = Path(os.environ["EEX_DESKTOP_WORK"])
REGION = (-8.475, 38.418, -8.405, 38.462)  # fields near Évora, Portugal


def _dock():
    return plugins["eeextract_plugin"].dock


def _first_request_after(t0: float) -> float:
    """Seconds from ``t0`` to the first HTTP request the plugin sent to the sandbox."""
    for event in U.read_jsonl(WORK / "network.jsonl"):
        if event["event"] == "http.client.send" and event["t"] >= t0:
            return event["t"] - t0
    return float("inf")


def open_the_dock(ui):
    """The toolbar button opens the panel; at the default width no text is cut off."""
    window = iface.mainWindow()
    window.setGeometry(QApplication.primaryScreen().availableGeometry())
    window.activateWindow()
    QgsProject.instance().setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    ui.state["fields"] = U.fields_layer(WORK / "fields.geojson", REGION, "field_id", "field", "fields")
    canvas = iface.mapCanvas()
    canvas.setExtent(ui.state["fields"].extent().buffered(0.01))
    canvas.refresh()
    yield ui.wait(600)
    action = plugins["eeextract_plugin"].toggle_action
    button = next(b for b in window.findChildren(QToolButton) if b.defaultAction() is action and b.isVisible())
    yield ui.click(button)
    yield ui.until(lambda: _dock() is not None and _dock().isVisible(), 10, "the dock")
    yield ui.wait(800)
    dock = _dock()
    ui.note("dock size", [dock.width(), dock.height()])
    cut = U.clipped_texts(dock)
    ui.check("no text cut off at the default width", not cut, cut)
    ui.check("nothing drawn over anything else", not U.overlapping_siblings(dock), U.overlapping_siblings(dock))
    ui.shot("dock-opened")


open_the_dock.required = True


def settings_by_clicking(ui):
    """The dock's Settings… opens the settings dialog: at its default size no text is cut off or
    drawn over another, on either tab and for the Google account; an empty Cloud project is
    named as the form names it (not as a menu path); the request rate typed on the Jobs tab
    reaches the job the dock builds."""
    dock = _dock()
    yield ui.click(dock.form.btnSettings)
    yield ui.until(lambda: ui.modal("SettingsDialog"), 10, "the settings dialog")
    dialog = ui.modal("SettingsDialog")
    yield ui.wait(400)
    screen = QApplication.primaryScreen().availableGeometry()
    ui.note("dialog size", [dialog.width(), dialog.height()])
    ui.check("it fits on the screen", screen.contains(dialog.frameGeometry()) or (
        dialog.width() <= screen.width() and dialog.height() <= screen.height()), [dialog.width(), dialog.height()])

    def layout_ok(where):
        cut, over = U.clipped_texts(dialog), U.overlapping_siblings(dialog)
        ui.check(f"{where}: no text cut off or drawn over another", not cut and not over, cut + over)

    layout_ok("Connection tab, custom URL")
    ui.shot("settings-connection")
    yield from ui.choose(dialog.cmbMode, "My Earth Engine account (persistent credentials)")
    yield ui.wait(300)
    layout_ok("Connection tab, Google account")
    ui.shot("settings-google-account")
    yield from ui.type_text(dialog.txtProject, "")
    bar = dialog.tabsSettings.tabBar()
    yield ui.click(bar, bar.tabRect(1).center())
    yield ui.wait(300)
    layout_ok("Jobs tab")
    ui.check("the request rate is Earth Engine's default", dialog.spnRequestRate.value() == 100,
             dialog.spnRequestRate.value())
    yield from ui.type_text(dialog.spnRequestRate.lineEdit(), "50")
    ui.shot("settings-jobs")
    yield ui.click(ui.button(dialog, "OK"))
    yield ui.wait(300)
    note = dialog.lblNote.text()
    ui.check("OK with no Cloud project: the field is named as on the form, not by a menu path",
             dialog.isVisible() and "Cloud project: required" in note and "Settings" not in note
             and "→" not in note, note)
    ui.check("the tab with the field is shown, the cursor in it",
             dialog.tabsSettings.currentWidget() is dialog.pageConnection and dialog.txtProject.hasFocus())
    layout_ok("with the complaint")
    ui.shot("settings-cloud-project-missing")
    yield from ui.choose(dialog.cmbMode, "Custom URL")
    yield from ui.type_text(dialog.txtProject, "sandbox")
    yield ui.click(ui.button(dialog, "OK"))
    yield ui.until(lambda: not dialog.isVisible(), 5, "the dialog closed")
    try:
        execution = dock.job_form.spec_dict().get("execution")
    except Exception as exc:  # noqa: BLE001 - recorded
        execution = repr(exc)
    ui.check("the job gets the request rate typed", isinstance(execution, dict)
             and execution.get("requests_per_second") == 50.0 and "engine" not in execution, execution)


def pick_type_asset_and_bands(ui):
    f = _dock().form
    yield from ui.choose(f.cmbSourceType, "Image asset")
    yield from ui.type_text(f.txtAssetId, "SANDBOX/DEM")
    yield ui.until(lambda: "band" in f.lblAssetInfo.text(), 20, "the asset checked")
    yield from ui.choose(f.cmbSourceType, "Image collection")  # the user's own choice
    yield ui.wait(2500)  # the check runs again meanwhile
    ui.check("the Type the user chose stays", f.cmbSourceType.currentText() == "Image collection",
             f.cmbSourceType.currentText())
    yield from ui.type_text(f.txtAssetId, "SANDBOX/S2_SR")
    yield ui.until(lambda: "B11" in f.lblAssetInfo.text(), 20, "the collection's bands listed")
    yield ui.until(lambda: f.cmbBands.count() >= 6, 5, "the bands in the list")
    yield from ui.click_check_items(f.cmbBands, ["B4", "B3", "B2"])
    yield ui.wait(300)
    ui.check("the combo shows the bands in the order clicked", f.cmbBands.currentText().replace(" ", "") == "B4,B3,B2",
             f.cmbBands.currentText())
    spec = _dock().job_form.source_dict()
    ui.check("the job gets the bands clicked", spec.get("bands") == ["B4", "B3", "B2"], spec.get("bands"))
    yield from ui.choose(f.cmbCollectionMode, "Composite")
    ui.shot("bands-picked")


def wheel_over_the_form(ui):
    """Scrolling the form with the wheel while combos pass under the pointer changes none."""
    dock = _dock()
    f = dock.form
    scroll = f.scrollJob
    watched = [f.cmbSourceType, f.cmbRegionMode, f.cmbKind, f.cmbFormat, f.cmbMethod, f.spnScale,
               f.cmbCollectionMode, f.cmbReducer]
    before = [w.currentText() if hasattr(w, "currentText") else w.text() for w in watched]
    start = scroll.verticalScrollBar().value()
    for widget in watched:
        if widget.isVisible():
            for _ in range(3):
                ui.wheel(widget, delta=-120)
                yield ui.wait(30)
    after = [w.currentText() if hasattr(w, "currentText") else w.text() for w in watched]
    ui.check("no field changed", before == after, {"before": before, "after": after})
    ui.check("the form scrolled", scroll.verticalScrollBar().value() != start,
             [start, scroll.verticalScrollBar().value()])
    yield from ui.scroll_to(scroll, f.grpSource)


def fold_and_unfold_sections(ui):
    """A click on a section's title folds it and another unfolds it; its title stays under the
    pointer both times, the rows it shows are the same after, and no blank room is left once
    the form is scrolled back to its top."""
    dock = _dock()
    f = dock.form
    scroll = f.scrollJob
    viewport = scroll.viewport()
    moved, rows_changed, folded = [], [], []
    for section in (f.grpRegion, f.grpOutput, f.grpAfter):
        yield from ui.scroll_to(scroll, section)
        for _ in range(2):  # the title in the upper part of the view, the form scrolled down
            ui.wheel(viewport, QPoint(3, viewport.height() // 2), -120)
            yield ui.wait(40)
        y = section.mapTo(viewport, QPoint(0, 0)).y()
        if y < 0:
            yield from ui.scroll_to(scroll, section)
            y = section.mapTo(viewport, QPoint(0, 0)).y()
        rows = sorted(w.objectName() for w in section.findChildren(QWidget) if w.isVisible() and w.objectName())
        yield ui.click(section, ui.section_title(section), settle_ms=400)
        after_fold = section.mapTo(viewport, QPoint(0, 0)).y()
        folded.append(bool(section.property("collapsed")))
        ui.shot(f"folded-{section.objectName()}")
        yield ui.click(section, ui.section_title(section), settle_ms=400)
        after_unfold = section.mapTo(viewport, QPoint(0, 0)).y()
        again = sorted(w.objectName() for w in section.findChildren(QWidget) if w.isVisible() and w.objectName())
        if abs(after_fold - y) > 1 or abs(after_unfold - y) > 1:
            moved.append({section.title(): [y, after_fold, after_unfold]})
        if rows != again:
            rows_changed.append({section.title(): sorted(set(rows) ^ set(again))})
    ui.check("each click folded a section", all(folded) and len(folded) == 3, folded)
    ui.check("the title stays under the pointer", not moved, moved)
    ui.check("unfolded, a section shows the rows it showed", not rows_changed, rows_changed)
    yield from ui.scroll_to(scroll, f.grpSource)
    yield ui.wait(100)
    ui.check("no blank room at the end once scrolled back", dock.folding.room.height() == 0,
             dock.folding.room.height())


def draw_a_rectangle(ui):
    f = _dock().form
    yield from ui.scroll_to(f.scrollJob, f.cmbRegionMode)
    yield from ui.choose(f.cmbRegionMode, "Rectangle drawn on the map")
    yield ui.wait(300)
    yield ui.click(f.btnDrawRectangle)
    canvas = iface.mapCanvas()
    ui.check("Draw on map takes the map", canvas.mapTool() is _dock().map_tool, str(canvas.mapTool()))
    fields = ui.state["fields"].extent()
    settings = canvas.mapSettings()
    a = settings.mapToPixel().transform(fields.xMinimum() + 0.1 * fields.width(), fields.yMaximum() - 0.2 * fields.height())
    b = settings.mapToPixel().transform(fields.xMinimum() + 0.25 * fields.width(), fields.yMaximum() - 0.4 * fields.height())
    yield from ui.drag(canvas.viewport(), QPoint(int(a.x()), int(a.y())), QPoint(int(b.x()), int(b.y())))
    yield ui.wait(400)
    drawn = _dock().job_form.drawn
    ui.check("the rectangle is the job's region", drawn is not None and not drawn.isEmpty(), str(drawn))
    ui.check("Draw on map lets go after drawing", not f.btnDrawRectangle.isChecked()
             and canvas.mapTool() is not _dock().map_tool, str(canvas.mapTool()))
    ui.shot("rectangle-drawn")


def run_and_see_the_layer(ui):
    dock = _dock()
    f = dock.form
    yield from ui.scroll_to(f.scrollJob, f.txtJobName)
    yield from ui.type_text(f.txtJobName, "s2-rgb")
    yield ui.until(lambda: f.lblEstimate.text().startswith("Estimate: ") and "planning" not in f.lblEstimate.text(),
                   30, "the estimate")
    ui.note("estimate", f.lblEstimate.text())
    ui.check("the estimate says its time is a bound", "at best" in f.lblEstimate.text(), f.lblEstimate.text())
    layers_before = set(QgsProject.instance().mapLayers())
    clicked = time.monotonic()
    yield ui.click(f.btnRun, settle_ms=50)
    yield ui.until(lambda: dock.board.jobs and any(e.name == "s2-rgb" for e in dock.board.jobs.values()), 5, "a row")
    entry = next(e for e in dock.board.jobs.values() if e.name == "s2-rgb")
    seen_states = set()
    while entry.task is not None or entry.state in ("queued", "running"):
        seen_states.add(entry.state_text())
        if time.monotonic() - clicked > 120:
            break
        yield ui.wait(100)
    first = _first_request_after(clicked)
    ui.note("first request after Run (s)", first)
    ui.check("the first request leaves within a second of Run", first < 1.0, first)
    ui.check("the row said what the job was doing while it started",
             any(s.startswith(("connecting", "planning", "starting")) for s in seen_states), sorted(seen_states))
    ui.check("the job completed", entry.state == "completed", [entry.state, entry.message])
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - layers_before]
    rasters = [layer for layer in added if isinstance(layer, QgsRasterLayer)]
    names = [[r.bandName(b) for b in range(1, r.bandCount() + 1)] for r in rasters]
    ui.check("its layer has the three bands clicked, in that order",
             len(rasters) == 1 and rasters[0].bandCount() == 3
             and [n.split(": ")[-1] for n in names[0]] == ["B4", "B3", "B2"], names)
    yield ui.wait(500)
    items = [i for i in iface.messageBar().items() if "s2-rgb finished" in " ".join(
        w.text() for w in i.findChildren(QLabel)) + " ".join(w.toPlainText() for w in i.findChildren(QTextEdit))]
    buttons = [b for i in items for b in i.findChildren(QPushButton) if b.text() == "Open folder"]
    ui.check("the finished message names the folder and opens it by a button (the whole path would wrap)",
             len(buttons) == 1 and buttons[0].toolTip() == entry.output_dir
             and entry.output_dir not in " ".join(U.message_bar_texts()), U.message_bar_texts())
    ui.shot("job-completed")


def an_existing_output_is_refused_before_run(ui):
    dock = _dock()
    f = dock.form
    f.tabs.setCurrentIndex(0) if f.tabs.currentIndex() != 0 else None
    yield ui.click(f.tabs.tabBar(), f.tabs.tabBar().tabRect(0).center())
    yield from ui.type_text(f.txtJobName, "s2-rgb ")  # edited and back: a new estimate
    yield ui.key(f.txtJobName, Qt.Key_Backspace)
    try:
        yield ui.until(lambda: "Cannot run" in f.lblEstimate.text(), 15, "Run turned off")
    except TimeoutError:
        pass
    text = f.lblEstimate.text()
    ui.check("Run is off", not f.btnRun.isEnabled(), text)
    ui.check("the estimate line says why, in the form's words",
             "Replace existing output files" in text and "output.overwrite" not in text, text)
    ui.shot("existing-output-refused")


def cancel_then_resume(ui):
    """A job of one raster per image over the fields layer's extent; Cancel after its first
    image, then Resume."""
    dock = _dock()
    f = dock.form
    yield from ui.scroll_to(f.scrollJob, f.cmbCollectionMode)
    yield from ui.choose(f.cmbCollectionMode, "One per image")
    yield from ui.scroll_to(f.scrollJob, f.cmbRegionMode)
    yield from ui.choose(f.cmbRegionMode, "Layer extent")
    yield from ui.choose(f.cmbRegionLayer, "fields")  # choose a layer
    yield from ui.scroll_to(f.scrollJob, f.txtJobName)
    yield from ui.type_text(f.txtJobName, "s2-per-image")
    yield ui.until(lambda: f.btnRun.isEnabled() and "planning" not in f.lblEstimate.text(), 30, "Run enabled")
    ui.note("estimate", f.lblEstimate.text())
    yield ui.click(f.btnRun)
    yield ui.until(lambda: any(e.name == "s2-per-image" for e in dock.board.jobs.values()), 5, "a row")
    entry = next(e for e in dock.board.jobs.values() if e.name == "s2-per-image")
    yield ui.until(lambda: entry.units_done >= 1, 60, "the first image")
    ui.check("the job has several images", entry.units_total >= 3, [entry.units_done, entry.units_total])
    tree = f.treeJobs
    item = dock.jobs_view.items[entry.key]
    yield ui.click(tree.viewport(), tree.visualItemRect(item).center())
    yield ui.until(lambda: f.btnJobCancel.isEnabled(), 5, "Cancel enabled")
    try:  # the first units' pace: measured, and the time left from it
        yield ui.until(lambda: "left at this pace" in f.lblJobDetail.text() and item.text(3), 2, "the pace")
    except TimeoutError:
        pass
    ui.note("while running", [item.text(c) for c in range(tree.columnCount())] + [f.lblJobDetail.text()])
    ui.check("the Jobs tab shows the measured pace and the time left from it",
             "measured:" in f.lblJobDetail.text() and "left at this pace" in f.lblJobDetail.text()
             and item.text(3).endswith(("s", "min", "days")), [item.text(3), f.lblJobDetail.text()])
    problems = U.jobs_table_problems(tree)
    ui.check("the Jobs table is readable at the dock's width", not problems, problems)
    ui.shot("job-running")
    layers_before = set(QgsProject.instance().mapLayers())
    done_at_cancel = entry.units_done
    clicked = time.monotonic()
    yield ui.click(f.btnJobCancel, settle_ms=50)
    ui.check("the row says cancelling at once", entry.state in ("cancelling", "cancelled"), entry.state)
    manager = QgsApplication.taskManager()
    yield ui.until(lambda: entry.task is None and manager.countActiveTasks() == 0, 10, "the task to end")
    took = time.monotonic() - clicked
    ui.note("cancel took (s)", took)
    ui.check("the cancel is felt within 2 s", took < 2.0, took)
    ui.check("the job is cancelled", entry.state == "cancelled", [entry.state, entry.message])
    ui.check("the count stopped where the user stopped it",
             entry.units_done <= done_at_cancel + entry.units_total // 2 and entry.units_done < entry.units_total,
             [done_at_cancel, entry.units_done, entry.units_total])
    failed = [m for m in U.read_jsonl(WORK / "messages.log") if "Task failed" in m["message"]]
    ui.check("QGIS does not call the cancel a failed task", not failed, failed)
    yield ui.wait(300)
    added = set(QgsProject.instance().mapLayers()) - layers_before
    ui.check("no finished image is loaded as if it were the job's result", not added,
             [QgsProject.instance().mapLayer(i).name() for i in added])
    said = [t for t in U.message_bar_texts() if "s2-per-image" in t]
    ui.check("the message says the finished files are kept and what Load and Resume do",
             said and "kept, not loaded (Load shows them)" in said[-1] and "Resume completes" in said[-1], said)
    ui.shot("job-cancelled")
    yield ui.until(lambda: f.btnJobLoad.isEnabled(), 5, "Load enabled")
    yield ui.click(f.btnJobLoad)
    shown = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - layers_before]
    shown = [x for x in shown if isinstance(x, QgsRasterLayer)]
    ui.check("Load shows the finished files", len(shown) == entry.files_done >= 1,
             [[x.name() for x in shown], entry.files_done])
    yield ui.until(lambda: f.btnJobResume.isEnabled(), 5, "Resume enabled")
    yield ui.click(f.btnJobResume)
    yield ui.until(lambda: entry.task is None and entry.state not in ("queued", "running", "cancelling"), 120,
                   "the resumed job to end")
    ui.check("Resume completes the job", entry.state == "completed", [entry.state, entry.message])
    ui.check("every image is there", entry.units_done == entry.units_total, [entry.units_done, entry.units_total])
    rasters = [QgsProject.instance().mapLayer(i).source() for i in set(QgsProject.instance().mapLayers()) - layers_before
               if isinstance(QgsProject.instance().mapLayer(i), QgsRasterLayer)]
    ui.check("each image is one layer, none twice", len(rasters) == len(set(rasters)) == entry.files_total,
             [len(rasters), len(set(rasters)), entry.files_total])
    ui.shot("job-resumed")


def algorithm_dialogs_fit(ui):
    """Each Processing algorithm's dialog at this screen size: no parameter label cut off."""
    yield from U.algorithm_dialogs(ui)


def quit_with_a_job_running(ui):
    """Start the job again (Replace existing output files), quit QGIS while it runs."""
    dock = _dock()
    f = dock.form
    yield ui.click(f.tabs.tabBar(), f.tabs.tabBar().tabRect(0).center())
    yield from ui.scroll_to(f.scrollJob, f.txtJobName)
    yield from ui.type_text(f.txtJobName, "s2-quit")
    yield from ui.scroll_to(f.scrollJob, f.chkOverwrite)
    if not f.chkOverwrite.isChecked():
        yield ui.click(f.chkOverwrite, QPoint(8, f.chkOverwrite.height() // 2))
    yield ui.until(lambda: f.btnRun.isEnabled() and "planning" not in f.lblEstimate.text(), 30, "Run enabled")
    yield ui.click(f.btnRun)
    yield ui.until(lambda: any(e.name == "s2-quit" and e.state == "running" for e in dock.board.jobs.values()),
                   30, "the job running")
    ui.shot("quitting-with-a-job-running")
    yield from U.quit_gesture(ui)


quit_with_a_job_running.always = True

STEPS = [open_the_dock, settings_by_clicking, pick_type_asset_and_bands, wheel_over_the_form,
         fold_and_unfold_sections, draw_a_rectangle, run_and_see_the_layer,
         an_existing_output_is_refused_before_run, cancel_then_resume, algorithm_dialogs_fit,
         quit_with_a_job_running]
