"""Drives the real QGIS desktop for the README screenshots (run by desktop_screenshot.sh).

Runs inside QGIS (``qgis --code``): opens the EE Extract dock, fills it in as a user would (a
Sentinel-2 median composite from the sandbox, a region drawn on the map, zonal statistics over
some field polygons), presses Run, and when the job is done shows the layers and writes marker
files that tell the shell script when to take each screenshot. Not a pytest module.
"""

import faulthandler
import json
import os
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFillSymbol,
    QgsProject,
    QgsRectangle,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate, QRect, Qt, QTimer
from qgis.utils import iface, plugins

WORK = Path(os.environ["EEX_SHOT_WORK"])
_FAULTS = open(WORK / "faults.log", "w")  # noqa: SIM115 - open for the life of QGIS
faulthandler.enable(_FAULTS, all_threads=True)
STATE = {"timer": None}
REGION = (-8.475, 38.418, -8.405, 38.462)


def _log_to_file(message, tag, level):
    with open(WORK / "messages.log", "a", encoding="utf-8") as fh:
        fh.write(f"[{tag}] {message}\n")


QgsApplication.messageLog().messageReceived.connect(_log_to_file)


def later(ms, fn):
    QTimer.singleShot(ms, fn)


def mark(name):
    (WORK / name).write_text("1")


def wait_for(name, fn):
    """Poll (every 300 ms, on the main loop: no blocking) for a marker written by the shell."""
    def check():
        if (WORK / name).exists():
            fn()
        else:
            later(300, check)
    later(300, check)


def fields_layer():
    x0, y0, x1, y1 = REGION
    w, h = (x1 - x0) / 5, (y1 - y0) / 4
    feats = []
    for i, (cx, cy) in enumerate([(1, 1), (2.6, 1.2), (3.7, 2.4), (1.4, 2.7)]):
        ax, ay = x0 + cx * w, y0 + cy * h
        ring = [[ax, ay], [ax + 0.8 * w, ay], [ax + 0.8 * w, ay + 0.7 * h], [ax, ay + 0.7 * h], [ax, ay]]
        feats.append({"type": "Feature", "properties": {"field_id": f"field-{i + 1}"},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path = WORK / "fields.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    layer = QgsVectorLayer(str(path), "fields", "ogr")
    symbol = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "255,235,59",
                                         "outline_width": "0.8"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    QgsProject.instance().addMapLayer(layer)
    return layer


def step1():
    # No window manager under Xvfb: size the window to the screen ourselves.
    screen = iface.mainWindow().screen().geometry() if hasattr(iface.mainWindow(), "screen") else None
    iface.mainWindow().setGeometry(screen if screen is not None else QRect(0, 0, 1600, 1000))
    QgsProject.instance().setCrs(QgsCoordinateReferenceSystem("EPSG:32629"))
    plugin = plugins["eeextract_plugin"]
    dock = plugin.show_dock()
    STATE["dock"] = dock
    STATE["fields"] = fields_layer()
    f = dock.form
    dock.job_form.set_source_type("collection")
    f.txtAssetId.setText("SANDBOX/S2_SR")  # checked in a background task as typed
    canvas = iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(*REGION).buffered(0.01))
    canvas.refresh()
    later(6000, step2)


def step2():
    dock = STATE["dock"]
    f = dock.form
    for band in ("B4", "B3", "B2"):  # clicked one by one: red, green, blue
        f.cmbBands.setItemCheckState(f.cmbBands.findText(band), Qt.Checked)
    f.dateStart.setDate(QDate(2019, 6, 1))
    f.dateEnd.setDate(QDate(2019, 9, 1))
    f.txtFilters.setText("CLOUDY_PIXEL_PERCENTAGE lt 60")
    f.cmbCollectionMode.setCurrentIndex(1)  # composite
    f.cmbReducer.setCurrentText("median")
    # The rectangle a user drags with "Draw on map".
    dock.set_drawn_rectangle(QgsRectangle(*REGION), QgsCoordinateReferenceSystem("EPSG:4326"))
    dock.job_form.set_kind("collection")
    f.chkNativeCrs.setChecked(False)
    f.crsOutput.setCrs(QgsCoordinateReferenceSystem("EPSG:32629"))
    f.spnScale.setValue(10)
    f.cmbFormat.setCurrentText("COG")
    f.fileOutputFolder.setFilePath(str(WORK / "output"))
    f.txtJobName.setText("s2-summer-2019")
    f.txtOutputName.setText("s2_median")
    if os.environ.get("EEX_SHOT_ZONAL") == "1":
        f.chkZonal.setChecked(True)
        f.cmbZoneLayer.setLayer(STATE["fields"])
        f.cmbZoneIdField.setField("field_id")
        f.cmbZonalStats.setCheckedItems(["mean", "min", "max"])
        f.cmbZonalEngine.setCurrentText(os.environ.get("EEX_SHOT_ZONAL_ENGINE", "exactextract"))
    f.scrollJob.verticalScrollBar().setValue(0)
    later(6000, step3)


def step3():
    dock = STATE["dock"]
    dock.board.jobFinished.connect(finished)
    dock.form.btnRun.click()


def finished(key, state):
    dock = STATE["dock"]
    (WORK / "state.txt").write_text(state)
    canvas = iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:32629"))
    group = QgsProject.instance().layerTreeRoot().findGroup("s2-summer-2019")
    rasters = [n.layer() for n in (group.findLayers() if group else []) if n.layer().type() == 1]
    if rasters:
        canvas.setExtent(rasters[0].extent().buffered(150))
    # The fields on top, the job's group below them.
    root = QgsProject.instance().layerTreeRoot()
    node = root.findLayer(STATE["fields"].id())
    if node is not None:
        clone = node.clone()
        root.insertChildNode(0, clone)
        node.parent().removeChildNode(node)
    label_fields_with_their_statistics(STATE["fields"])
    canvas.refresh()
    dock.form.tabs.setCurrentIndex(0)
    later(5000, lambda: mark("ready1"))
    wait_for("shot1", show_jobs)


def label_fields_with_their_statistics(layer):
    """Label each field with the zonal mean of its first band (a joined column)."""
    from qgis.core import (
        QgsPalLayerSettings,
        QgsTextBufferSettings,
        QgsTextFormat,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtGui import QColor, QFont

    means = [n for n in layer.fields().names() if n.lower().endswith("mean")]
    if not means:
        return
    settings = QgsPalLayerSettings()
    settings.isExpression = True
    settings.fieldName = f"\"field_id\" || '\\n' || '{means[0].split('_zonal_')[-1]}: ' || format_number(\"{means[0]}\", 0)"
    fmt = QgsTextFormat()
    fmt.setFont(QFont("DejaVu Sans", 9, QFont.Bold))
    fmt.setColor(QColor("#222222"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setColor(QColor("#fff59d"))
    buffer.setSize(1.2)
    fmt.setBuffer(buffer)
    settings.setFormat(fmt)
    settings.placement = QgsPalLayerSettings.OverPoint
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    layer.triggerRepaint()


def show_jobs():
    dock = STATE["dock"]
    dock.form.tabs.setCurrentIndex(1)
    tree = dock.form.treeJobs
    if tree.topLevelItemCount():
        tree.setCurrentItem(tree.topLevelItem(0))
    later(2000, lambda: mark("ready2"))


later(4000, step1)
