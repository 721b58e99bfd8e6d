"""The EE Extract dock: build a job from the map, estimate it, run it, watch the jobs list.

The form (``dock.ui``, loaded at run time) is translated into the job spec's plain data by
:meth:`EEExtractDock.spec_dict`, validated by :meth:`JobSpec.from_dict` — the same code that
reads a job file, so the dock and a file give the same spec. Everything slow (checking the asset
ID, planning the estimate, running the job) happens in QgsTasks; the GUI thread never waits.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QDate, Qt, QTimer
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.gui import job_form
from eeextract_plugin.gui.jobs import JobBoard, JobsView
from eeextract_plugin.gui.map_tool import RectangleMapTool
from eeextract_plugin.qgis_session import SessionSource, open_session
from eeextract_plugin.tasks import CallableTask

LOGGER = logging.getLogger(__name__)

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).with_name("dock.ui")))

KINDS = ("mosaic", "chips", "collection", "features", "table", "timeseries")
SOURCE_TYPES = ("asset", "collection", "expression")
REGION_MODES = ("canvas", "layer_extent", "selected", "per_feature", "drawn", "points")
METHODS = ("direct", "export_gcs", "export_drive")
RASTER_FORMATS = ("COG", "GEO_TIFF", "NPY", "PNG", "JPEG")
TABLE_FORMATS = ("CSV+GPKG", "CSV", "GPKG")
ZONAL_STATISTICS = ("mean", "min", "max", "sum", "count", "stdev", "median", "majority", "minority",
                    "variety")
# A job above any of these asks for confirmation before it starts.
HUGE_BYTES = 10e9
HUGE_REQUESTS = 100_000
HUGE_SECONDS = 3600.0
DEBOUNCE_MS = 400


class ScaleSpinBox(QDoubleSpinBox):
    """Pixel size: 0 shows "native"; other values with up to 12 significant digits."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)
        self.setRange(0.0, 1e6)
        self.setSpecialValueText("native")
        self.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:.12g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt's name)
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return 0.0

    def validate(self, text: str, pos: int) -> Any:
        from qgis.PyQt.QtGui import QValidator

        t = text.strip()
        if t in ("", "native", ".", "-"):
            return QValidator.Intermediate, text, pos
        try:
            float(t.replace(",", "."))
        except ValueError:
            return QValidator.Invalid, text, pos
        return QValidator.Acceptable, text, pos


def shape_wkt(geometry: Dict[str, Any]) -> str:
    from shapely.geometry import shape

    return shape(geometry).wkt


class EEExtractDock(QgsDockWidget):
    """The dock widget; owns its form, its background checks and the jobs board."""

    def __init__(self, iface: Any, sessions: SessionSource, parent: Optional[QWidget] = None,
                 board: Optional[JobBoard] = None) -> None:
        super().__init__("EE Extract", parent)
        self.iface = iface
        self.sessions = sessions
        self.form = FORM_CLASS()
        self.body = QWidget(self)
        self.form.setupUi(self.body)
        self.setWidget(self.body)
        self.setObjectName("EEExtractDock")

        self.board = board or JobBoard(iface, sessions, parent=self)
        self.jobs_view = JobsView(self.form, self.board, parent=self)

        self.expression: Optional[Dict[str, Any]] = None
        # Bands in the order the user checked them (B4, B3, B2 makes an RGB image).
        self.band_order: List[str] = []
        self.asset_info: Any = None
        self.drawn: Optional[QgsRectangle] = None
        self.drawn_crs: QgsCoordinateReferenceSystem = QgsCoordinateReferenceSystem("EPSG:4326")
        self.last_estimate: Any = None
        self._asset_task: Optional[CallableTask] = None
        self._estimate_task: Optional[CallableTask] = None
        self._expression_task: Optional[CallableTask] = None
        self.map_tool: Optional[RectangleMapTool] = None
        # Task launcher: QGIS's task manager; tests may inject their own.
        self.launch: Callable[[CallableTask], None] = lambda t: QgsApplication.taskManager().addTask(t)

        self._asset_timer = QTimer(self)
        self._asset_timer.setSingleShot(True)
        self._asset_timer.setInterval(DEBOUNCE_MS)
        self._asset_timer.timeout.connect(self.check_asset)
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(DEBOUNCE_MS)
        self._estimate_timer.timeout.connect(self.update_estimate)

        self._setup_widgets()
        self._connect()
        self.settings_changed()
        self._update_visibility()

    # ------------------------------------------------------------------------------ set-up
    def _setup_widgets(self) -> None:
        f = self.form
        # Scales span metres (10) and degrees (0.000277777777778): a spin box that shows what
        # was typed, with no fixed number of decimals.
        old = f.spnScale
        f.spnScale = ScaleSpinBox(old.parentWidget())
        f.spnScale.setToolTip(old.toolTip())
        f.layoutOutput.replaceWidget(old, f.spnScale)
        old.hide()
        old.setParent(None)
        old.deleteLater()
        # "Selected only" next to the region layer; PNG/JPEG stretch next to the format.
        f.chkSelectedOnly = QCheckBox("Selected only")
        f.chkSelectedOnly.setToolTip("Use only the layer's selected features")
        f.wRegionLayer = self._pair(f.layoutRegion, f.cmbRegionLayer, f.chkSelectedOnly, "wRegionLayer")
        f.txtVisRange = QLineEdit()
        f.txtVisRange.setPlaceholderText("min, max (e.g. 0, 3000)")
        f.txtVisRange.setToolTip("PNG / JPEG are 8-bit pictures: the value range stretched to 0–255, "
                                 "for every band (1 or 3 bands)")
        f.wFormat = self._pair(f.layoutOutput, f.cmbFormat, f.txtVisRange, "wFormat")
        f.chkOverwrite = QCheckBox("Replace existing output files")
        f.chkOverwrite.setToolTip("Without it, a job whose files already exist stops before it starts")
        f.layoutAfter.addWidget(f.chkOverwrite, f.layoutAfter.rowCount(), 0, 1, 2)
        today = QDate.currentDate()
        f.dateStart.setDate(today.addYears(-1))
        f.dateEnd.setDate(today)
        f.cmbRegionLayer.setFilters(QgsMapLayerProxyModel.VectorLayer | QgsMapLayerProxyModel.RasterLayer)
        f.cmbRegionLayer.setAllowEmptyLayer(True)
        f.cmbRegionIdField.setAllowEmptyFieldName(True)
        f.cmbRegionIdField.setLayer(None)
        f.cmbZoneLayer.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        f.cmbZoneLayer.setAllowEmptyLayer(True)
        f.cmbZoneIdField.setLayer(None)
        f.cmbZonalStats.addItems(list(ZONAL_STATISTICS))
        f.cmbZonalStats.setCheckedItems(["mean"])
        f.crsOutput.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        f.txtJobName.setText(f"job-{date.today().isoformat()}")
        # A narrow dock must not need a horizontal scroll bar: combos shrink to a few characters.
        f.scrollJob.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        for combo in self.body.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        # Labels take what they need; fields take the rest.
        for grid in (f.layoutSource, f.layoutRegion, f.layoutOutput, f.layoutAfter):
            grid.setColumnStretch(0, 0)
            grid.setColumnStretch(1, 1)
        f.cmbZonalEngine.setToolTip(
            "rasterstats: pixel-centre rule (as EEDL). exactextract: partial-pixel weights, faster "
            "on many zones; its PyPI wheel bundles GEOS and has crashed QGIS on Linux, so it is "
            "not the default here")
        f.cmbCollectionMode.setToolTip("One output per image, or a composite per window of days "
                                       "(whole range: one composite), reduced with the reducer")
        f.layoutCollectionMode.setStretch(0, 2)
        f.layoutCollectionMode.setStretch(1, 1)
        f.layoutCollectionMode.setStretch(2, 1)
        for container in (f.wDates, f.wCollectionMode, f.wExpressionButtons, f.wDraw, f.wTable,
                          f.wCrs, f.wNames):
            container.layout().setContentsMargins(0, 0, 0, 0)

    @staticmethod
    def _pair(grid: Any, first: QWidget, second: QWidget, name: str) -> QWidget:
        """Put ``second`` beside ``first`` in ``first``'s cell of a grid layout."""
        container = QWidget()
        container.setObjectName(name)
        row = QHBoxLayout(container)
        row.setContentsMargins(0, 0, 0, 0)
        grid.replaceWidget(first, container)
        row.addWidget(first, 1)
        row.addWidget(second)
        return container

    def _connect(self) -> None:
        f = self.form
        f.txtAssetId.textChanged.connect(lambda _t: self._asset_timer.start())
        # The model's signal fires for every check (the combo's own signal not always, in 3.22).
        f.cmbBands.model().itemCheckStateChanged.connect(
            lambda *_a: self._bands_changed(f.cmbBands.checkedItems()))
        f.cmbSourceType.currentIndexChanged.connect(self._source_type_changed)
        f.cmbRegionMode.currentIndexChanged.connect(self._region_mode_changed)
        f.cmbRegionLayer.layerChanged.connect(self._region_layer_changed)
        f.cmbZoneLayer.layerChanged.connect(f.cmbZoneIdField.setLayer)
        f.cmbKind.currentIndexChanged.connect(self._kind_changed)
        f.cmbMethod.currentIndexChanged.connect(self._method_changed)
        f.chkNativeCrs.toggled.connect(self._update_visibility)
        f.chkZonal.toggled.connect(self._update_visibility)
        f.cmbCollectionMode.currentIndexChanged.connect(self._update_visibility)
        f.cmbFormat.currentIndexChanged.connect(self._update_visibility)
        f.btnDrawRectangle.toggled.connect(self._draw_toggled)
        f.btnConvertExpression.clicked.connect(self.convert_expression)
        f.btnRun.clicked.connect(self.run_clicked)
        f.btnSaveSpec.clicked.connect(self.save_spec_clicked)
        f.btnLoadSpec.clicked.connect(self.load_spec_clicked)
        f.btnSettings.clicked.connect(self._open_settings)
        f.txtExpression.textChanged.connect(self._expression_edited)
        f.treeJobs.itemDoubleClicked.connect(lambda *_a: self.edit_selected_job())
        # Every change of the form re-plans the estimate (debounced, in a background task).
        for signal in (f.txtAssetId.textChanged, f.cmbSourceType.currentIndexChanged,
                       f.cmbBands.checkedItemsChanged, f.dateStart.dateChanged, f.dateEnd.dateChanged,
                       f.txtFilters.textChanged, f.cmbCollectionMode.currentIndexChanged,
                       f.spnWindowDays.valueChanged, f.cmbReducer.currentIndexChanged,
                       f.cmbRegionMode.currentIndexChanged, f.cmbRegionLayer.layerChanged,
                       f.cmbRegionIdField.fieldChanged, f.cmbKind.currentIndexChanged,
                       f.spnChipSize.valueChanged, f.cmbTableOperation.currentIndexChanged,
                       f.cmbTableReducer.currentIndexChanged, f.chkNativeCrs.toggled,
                       f.crsOutput.crsChanged, f.spnScale.valueChanged, f.cmbFormat.currentIndexChanged,
                       f.fileOutputFolder.fileChanged, f.txtJobName.textChanged,
                       f.txtOutputName.textChanged,
                       f.cmbMethod.currentIndexChanged, f.txtDestination.textChanged,
                       f.chkZonal.toggled, f.cmbZoneLayer.layerChanged, f.cmbZoneIdField.fieldChanged,
                       f.cmbZonalStats.checkedItemsChanged, f.cmbZonalEngine.currentIndexChanged,
                       f.chkSelectedOnly.toggled, f.txtVisRange.textChanged,
                       f.chkOverwrite.toggled):
            signal.connect(self.schedule_estimate)
        canvas = self.iface.mapCanvas()
        if canvas is not None:
            canvas.extentsChanged.connect(self._canvas_extent_changed)

    def settings_changed(self) -> None:
        """Defaults from the connection settings (output folder, bucket/Drive folder)."""
        conn = qs.load_settings()
        if conn.output_folder and not self.form.fileOutputFolder.filePath():
            self.form.fileOutputFolder.setFilePath(conn.output_folder)
        self._method_changed()
        self.schedule_estimate()

    # ------------------------------------------------------------------------------ widget state
    def source_type(self) -> str:
        return SOURCE_TYPES[self.form.cmbSourceType.currentIndex()]

    def region_mode(self) -> str:
        return REGION_MODES[self.form.cmbRegionMode.currentIndex()]

    def kind(self) -> str:
        return KINDS[self.form.cmbKind.currentIndex()]

    def method(self) -> str:
        return METHODS[self.form.cmbMethod.currentIndex()]

    def set_region_mode(self, mode: str) -> None:
        self.form.cmbRegionMode.setCurrentIndex(REGION_MODES.index(mode))

    def set_kind(self, kind: str) -> None:
        self.form.cmbKind.setCurrentIndex(KINDS.index(kind))

    def set_source_type(self, source_type: str) -> None:
        self.form.cmbSourceType.setCurrentIndex(SOURCE_TYPES.index(source_type))

    def set_method(self, method: str) -> None:
        self.form.cmbMethod.setCurrentIndex(METHODS.index(method))

    def _source_type_changed(self, *_a: object) -> None:
        st = self.source_type()
        if st == "collection" and self.kind() == "mosaic" and self.form.cmbCollectionMode.currentIndex() == 0:
            self.set_kind("collection")
        elif st != "collection" and self.kind() in ("collection", "timeseries"):
            self.set_kind("mosaic")
        self._update_visibility()
        self._asset_timer.start()

    def _region_mode_changed(self, *_a: object) -> None:
        mode = self.region_mode()
        if mode == "points" and self.kind() not in ("chips", "table"):
            self.set_kind("chips")
        elif mode == "per_feature" and self.kind() not in ("features", "table", "timeseries"):
            self.set_kind("features")
        elif mode in ("canvas", "layer_extent", "drawn", "selected") and self.kind() in ("chips", "features"):
            self.set_kind("collection" if self.source_type() == "collection" else "mosaic")
        if mode != "drawn" and self.form.btnDrawRectangle.isChecked():
            self.form.btnDrawRectangle.setChecked(False)
        self._update_visibility()

    def _region_layer_changed(self, layer: Any) -> None:
        self.form.cmbRegionIdField.setLayer(layer if isinstance(layer, QgsVectorLayer) else None)

    def _kind_changed(self, *_a: object) -> None:
        table_kind = self.kind() in ("table", "timeseries")
        fmt = self.form.cmbFormat.currentText()
        if table_kind and fmt not in TABLE_FORMATS:
            self.form.cmbFormat.setCurrentText("CSV+GPKG")
        elif not table_kind and fmt not in RASTER_FORMATS:
            self.form.cmbFormat.setCurrentText("COG")
        if self.kind() == "table" and self.region_mode() == "points":
            self.form.cmbTableOperation.setCurrentIndex(1)
        self._update_visibility()

    def _method_changed(self, *_a: object) -> None:
        """Each export method keeps its own destination (bucket / Drive folder), defaulting to
        the settings' default."""
        conn = qs.load_settings()
        dest = self.form.txtDestination
        previous = getattr(self, "_method_shown", None)
        destinations = self.__dict__.setdefault("_destinations", {})
        if previous in ("export_gcs", "export_drive"):
            destinations[previous] = dest.text()
        m = self.method()
        self._method_shown = m
        dest.blockSignals(True)
        if m == "export_gcs":
            dest.setText(destinations.get(m, conn.bucket))
            dest.setPlaceholderText("Cloud Storage bucket")
        elif m == "export_drive":
            dest.setText(destinations.get(m, conn.drive_folder))
            dest.setPlaceholderText("Drive folder")
        else:
            dest.setText("")
            dest.setPlaceholderText("bucket or Drive folder (exports only)")
        dest.blockSignals(False)
        self._update_visibility()

    def _update_visibility(self, *_a: object) -> None:
        f = self.form
        st, mode, kind = self.source_type(), self.region_mode(), self.kind()
        layout = f.layoutSource

        def show_row(layout_, widget: QWidget, visible: bool) -> None:
            widget.setVisible(visible)
            index = layout_.indexOf(widget)
            if index >= 0:
                row, _c, _rs, _cs = layout_.getItemPosition(index)
                label_item = layout_.itemAtPosition(row, 0)
                if label_item is not None and label_item.widget() is not None and label_item.widget() is not widget:
                    label_item.widget().setVisible(visible)

        is_expr = st == "expression"
        show_row(layout, f.txtAssetId, not is_expr)
        show_row(layout, f.lblAssetInfo, not is_expr)
        for w in (f.wDates, f.txtFilters, f.wCollectionMode):
            show_row(layout, w, st == "collection")
        f.spnWindowDays.setEnabled(f.cmbCollectionMode.currentIndex() == 1)
        f.cmbReducer.setEnabled(f.cmbCollectionMode.currentIndex() == 1)
        for w in (f.lblExpressionWarning, f.txtExpression, f.wExpressionButtons):
            show_row(layout, w, is_expr)
        rl = f.layoutRegion
        needs_layer = mode in ("layer_extent", "selected", "per_feature", "points")
        show_row(rl, f.wRegionLayer, needs_layer)
        show_row(rl, f.cmbRegionIdField, mode in ("per_feature", "points"))
        f.btnDrawRectangle.setVisible(mode == "drawn")
        f.wDraw.setVisible(mode in ("drawn", "canvas", "selected"))
        show_row(rl, f.spnChipSize, kind == "chips")
        f.chkSelectedOnly.setVisible(mode in ("per_feature", "points"))
        f.txtVisRange.setVisible(f.cmbFormat.currentText() in ("PNG", "JPEG"))
        show_row(rl, f.wTable, kind in ("table", "timeseries"))
        f.crsOutput.setEnabled(not f.chkNativeCrs.isChecked())
        f.txtDestination.setEnabled(self.method() != "direct")
        table_kind = kind in ("table", "timeseries")
        f.chkZonal.setVisible(not table_kind)  # zonal statistics run on rasters
        f.chkMosaic.setVisible(not table_kind)
        for w in (f.cmbZoneLayer, f.cmbZoneIdField, f.cmbZonalStats, f.cmbZonalEngine):
            show_row(f.layoutAfter, w, f.chkZonal.isChecked() and not table_kind)
        self._update_region_summary()

    def _update_region_summary(self) -> None:
        mode = self.region_mode()
        text = ""
        if mode == "drawn":
            text = "Drag a rectangle on the map." if self.drawn is None else (
                f"{self.drawn.toString(4)} ({self.drawn_crs.authid()})")
        elif mode == "canvas":
            text = "The map's current extent."
        elif mode == "selected":
            layer = self.form.cmbRegionLayer.currentLayer()
            n = layer.selectedFeatureCount() if isinstance(layer, QgsVectorLayer) else 0
            text = f"{n} selected feature(s)."
        self.form.lblRegionSummary.setText(text)

    def _canvas_extent_changed(self) -> None:
        if self.region_mode() == "canvas":
            self.schedule_estimate()

    def _reorder_bands(self) -> None:
        """Checked bands move to the top of the list, in the order they were checked, so the
        combo reads "B4, B3, B2" as the output will be (run after the click, not inside it)."""
        combo = self.form.cmbBands
        items = [combo.itemText(i) for i in range(combo.count())]
        checked = self.selected_bands()
        desired = checked + [b for b in items if b not in checked]
        if items == desired:
            return
        self._reordering = True
        try:
            combo.clear()
            combo.addItems(desired)
            combo.setCheckedItems(checked)
        finally:
            self._reordering = False

    def _bands_changed(self, items: List[str]) -> None:
        if getattr(self, "_reordering", False):
            return
        self.schedule_estimate()
        checked = list(items)
        self.band_order = [b for b in self.band_order if b in checked] + [
            b for b in checked if b not in self.band_order]
        order = ", ".join(self.band_order)
        QTimer.singleShot(0, self._reorder_bands)
        self.form.cmbBands.setToolTip(
            f"Output bands, in this order: {order}" if order else
            "Bands to extract, in the order you check them; none checked means all bands.")

    def selected_bands(self) -> List[str]:
        """The checked bands, in the order they were checked."""
        checked = set(self.form.cmbBands.checkedItems())
        return [b for b in self.band_order if b in checked]

    def set_bands(self, available: List[str], checked: List[str]) -> None:
        combo = self.form.cmbBands
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(list(available) + [b for b in checked if b not in available])
        combo.blockSignals(False)
        self.band_order = list(checked)
        combo.setCheckedItems(list(checked))
        self._bands_changed(combo.checkedItems())

    # ------------------------------------------------------------------------------ drawing
    def _draw_toggled(self, checked: bool) -> None:
        canvas = self.iface.mapCanvas()
        if checked:
            if self.map_tool is None:
                self.map_tool = RectangleMapTool(canvas)
                self.map_tool.rectangleDrawn.connect(self.set_drawn_rectangle)
                self.map_tool.deactivated.connect(lambda: self.form.btnDrawRectangle.setChecked(False))
            canvas.setMapTool(self.map_tool)
        elif self.map_tool is not None:
            self.map_tool.release()

    def set_drawn_rectangle(self, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> None:
        self.drawn = QgsRectangle(extent)
        self.drawn_crs = QgsCoordinateReferenceSystem(crs)
        if self.region_mode() != "drawn":
            self.set_region_mode("drawn")
        self._update_region_summary()
        self.schedule_estimate()

    # ------------------------------------------------------------------------------ the spec
    def spec_dict(self, copy_dir: Optional[Path] = None) -> Dict[str, Any]:
        """The job spec as plain data, exactly what a job file would contain.

        ``copy_dir``: where to write a GeoJSON copy of a layer's features when the layer is not
        a plain file (only when a job is started; estimates use the features' union inline).
        """
        f = self.form
        name = f.txtJobName.text().strip()
        directory = self._output_folder()
        kind = self.kind()
        spec: Dict[str, Any] = {"version": 1, "name": name, "kind": kind,
                                "source": self._source_dict(),
                                "region": self._region_dict(copy_dir)}
        grid: Dict[str, Any] = {}
        if not f.chkNativeCrs.isChecked():
            grid["crs"] = job_form.crs_string(f.crsOutput.crs())
        if f.spnScale.value() > 0:
            grid["scale"] = float(f.spnScale.value())
        if grid:
            spec["grid"] = grid
        output: Dict[str, Any] = {"directory": directory, "format": f.cmbFormat.currentText()}
        if f.txtOutputName.text().strip():
            output["name"] = f.txtOutputName.text().strip()
        if kind == "chips":
            output["chip_size"] = [f.spnChipSize.value(), f.spnChipSize.value()]
        if output["format"] in ("PNG", "JPEG"):
            output["visualization"] = self._visualization()
        if f.chkOverwrite.isChecked():
            output["overwrite"] = True
        spec["output"] = output
        method = self.method()
        if method != "direct":
            key = "bucket" if method == "export_gcs" else "folder"
            spec["method"] = {"type": method, key: f.txtDestination.text().strip() or None}
        conn = qs.load_settings()
        if conn.concurrency != 32:
            spec["execution"] = {"max_concurrent_requests": int(conn.concurrency)}
        if kind in ("table", "timeseries"):
            op = "sample" if f.cmbTableOperation.currentIndex() == 1 else "reduce_regions"
            spec["table"] = {"operation": op, "reducer": f.cmbTableReducer.currentText()}
        if f.chkZonal.isChecked() and kind not in ("table", "timeseries"):
            spec["zonal"] = self._zonal_dict(copy_dir)
        self._carry_over(spec)
        return spec

    # Fields of a loaded job file the form does not show: kept as they were (section, key, and
    # the form values that must still match for the field to apply).
    _HIDDEN_FIELDS = (
        ("", "description", ()),
        ("execution", None, ()),
        ("source", "index", ()),
        ("source", "max_images", ()),
        ("grid", "snap", ()),
        ("grid", "crs_transform", ("crs",)),
        ("output", "nodata", ()),
        ("output", "compression", ()),
        ("method", "prefix", ("type",)),
        ("method", "file_dimensions", ("type",)),
        ("method", "shard_size", ("type",)),
        ("method", "delete_after_download", ("type",)),
        ("method", "drive_mode", ("type",)),
        ("method", "mounted_path", ("type",)),
        ("method", "max_in_flight", ("type",)),
        ("method", "resubmit", ("type",)),
        ("table", "scale", ("operation",)),
        ("table", "cell_size", ("operation",)),
        ("zonal", "output", ()),
    )

    def _carry_over(self, spec: Dict[str, Any]) -> None:
        """Keep what a loaded job file says about things the form has no widget for."""
        loaded = getattr(self, "_loaded_spec", None)
        if not loaded:
            return
        for section, key, must_match in self._HIDDEN_FIELDS:
            if section == "":
                if key in loaded and key not in spec:
                    spec[key] = loaded[key]
                continue
            if section not in loaded:
                continue
            if key is None:  # the whole section, as the file had it (over the settings' default)
                spec[section] = loaded[section]
                continue
            if key not in loaded[section] or section not in spec:
                continue
            target = spec[section]
            if key in target or any(target.get(m) != loaded[section].get(m) for m in must_match):
                continue
            if key == "crs_transform" and "scale" in target:
                continue  # the user chose a scale: it replaces the file's transform
            target[key] = loaded[section][key]

    def build_spec(self, copy_dir: Optional[Path] = None) -> Any:
        """Validated :class:`~eeextract_plugin.core.spec.JobSpec` (raises SpecError/FormError)."""
        from eeextract_plugin.core.spec import JobSpec

        return JobSpec.from_dict(self.spec_dict(copy_dir))

    def _output_folder(self) -> str:
        folder = self.form.fileOutputFolder.filePath().strip()
        if not folder:
            raise job_form.FormError("output folder: choose where results are written")
        return str(Path(folder).expanduser().resolve())

    def _source_dict(self) -> Dict[str, Any]:
        f = self.form
        st = self.source_type()
        src: Dict[str, Any] = {"type": st}
        if st == "expression":
            if self.expression is None:
                raise job_form.FormError("source.expression: type Python and press Convert first")
            src["expression"] = self.expression
        else:
            src["asset_id"] = f.txtAssetId.text().strip()
        bands = self.selected_bands()
        if bands:
            src["bands"] = bands
        if st == "collection":
            src["start"] = f.dateStart.date().toString("yyyy-MM-dd")
            src["end"] = f.dateEnd.date().toString("yyyy-MM-dd")
            filters = job_form.parse_filters(f.txtFilters.text())
            if filters:
                src["filters"] = filters
            if f.cmbCollectionMode.currentIndex() == 1:
                src["mode"] = "composite"
                src["reducer"] = f.cmbReducer.currentText()
                if f.spnWindowDays.value() > 0:
                    src["window_days"] = f.spnWindowDays.value()
            else:
                src["mode"] = "per_image"
        return src

    def _region_dict(self, copy_dir: Optional[Path]) -> Dict[str, Any]:
        f = self.form
        mode = self.region_mode()
        if mode == "canvas":
            canvas = self.iface.mapCanvas()
            return job_form.region_from_extent(canvas.extent(), canvas.mapSettings().destinationCrs())
        if mode == "drawn":
            if self.drawn is None:
                raise job_form.FormError("region: draw a rectangle on the map first")
            return job_form.region_from_extent(self.drawn, self.drawn_crs)
        layer = f.cmbRegionLayer.currentLayer()
        if layer is None:
            raise job_form.FormError("region: choose a layer")
        if mode == "layer_extent":
            return job_form.region_from_extent(layer.extent(), layer.crs())
        if not isinstance(layer, QgsVectorLayer):
            raise job_form.FormError("region: choose a vector layer")
        id_field = f.cmbRegionIdField.currentField()
        if mode == "selected":
            return job_form.region_from_features(layer, True, False)
        per_feature = mode in ("per_feature", "points")
        selected_only = f.chkSelectedOnly.isChecked()
        return job_form.region_from_features(layer, selected_only, per_feature, id_field, copy_dir)

    def _visualization(self) -> Dict[str, Any]:
        text = self.form.txtVisRange.text().replace(";", ",").strip()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            low, high = (float(parts[0]), float(parts[1])) if len(parts) == 2 else (None, None)
        except ValueError:
            low, high = None, None
        if low is None or high is None or not low < high:
            raise job_form.FormError("output.visualization: PNG / JPEG need the value range "
                                     "to stretch, as 'min, max' (e.g. 0, 3000)")
        vis: Dict[str, Any] = {"min": [low], "max": [high]}
        bands = self.selected_bands()
        if len(bands) in (1, 3):
            vis["bands"] = bands
        return vis

    def _zonal_dict(self, copy_dir: Optional[Path]) -> Dict[str, Any]:
        f = self.form
        layer = f.cmbZoneLayer.currentLayer()
        if not isinstance(layer, QgsVectorLayer):
            raise job_form.FormError("zonal: choose a polygon layer")
        id_field = f.cmbZoneIdField.currentField()
        if not id_field:
            raise job_form.FormError("zonal.id_field: choose the zone ID field")
        source = job_form.layer_file(layer)
        if source is None:
            target = (copy_dir or Path(self._output_folder())) / f"{layer.name()}-zones.geojson"
            path = job_form.write_features_geojson(layer, False, target) if copy_dir else str(target)
            source = {"path": path}
        zonal: Dict[str, Any] = {"polygons": source["path"], "id_field": id_field,
                                 "statistics": list(f.cmbZonalStats.checkedItems()) or ["mean"],
                                 "engine": f.cmbZonalEngine.currentText()}
        if source.get("layer"):
            zonal["layer"] = source["layer"]
        return zonal

    def load_spec(self, spec: Any) -> None:
        """Fill the form from a spec (a job file opened, or a job of the list to edit)."""
        f = self.form
        self._loaded_spec: Optional[Dict[str, Any]] = None  # not while the form is being filled
        s = spec.source
        self.set_source_type(s.type)
        if s.type == "expression":
            self.expression = s.expression
            f.txtExpression.blockSignals(True)
            f.txtExpression.setPlainText("# loaded from a job file: the serialized expression is kept")
            f.txtExpression.blockSignals(False)
            f.lblExpressionStatus.setText("Expression loaded from the job file.")
        else:
            f.txtAssetId.setText(s.asset_id or "")
        self.set_bands(list(s.bands or []), list(s.bands or []))
        if s.type == "collection":
            if s.start:
                f.dateStart.setDate(QDate.fromString(s.start[:10], "yyyy-MM-dd"))
            if s.end:
                f.dateEnd.setDate(QDate.fromString(s.end[:10], "yyyy-MM-dd"))
            f.txtFilters.setText(job_form.format_filters(s.filters))
            f.cmbCollectionMode.setCurrentIndex(1 if s.mode == "composite" else 0)
            f.spnWindowDays.setValue(s.window_days or 0)
            f.cmbReducer.setCurrentText(s.reducer)
        r = spec.region
        if r.type == "bbox":
            crs = QgsCoordinateReferenceSystem(r.crs)
            self.set_drawn_rectangle(QgsRectangle(*r.bbox), crs)
            self.set_region_mode("drawn")
        elif r.type == "file" and r.path:
            f.cmbRegionLayer.setLayer(self._layer_for_file(r.path, r.layer))
            sample = spec.table is not None and spec.table.operation == "sample"
            self.set_region_mode("points" if spec.kind == "chips" or sample else "per_feature")
            if r.id_field:
                f.cmbRegionIdField.setField(r.id_field)
        elif r.type == "geometry" and r.geometry:
            layer = self._layer_for_geometry(spec.name, r.geometry, r.crs)
            f.cmbRegionLayer.setLayer(layer)
            points = r.geometry.get("type") in ("Point", "MultiPoint")
            if not points and layer is not None:
                layer.selectAll()  # the polygon(s) themselves, not their extent
            self.set_region_mode("points" if points else "selected")
        self.set_kind(spec.kind)
        g = spec.grid
        f.chkNativeCrs.setChecked(g.crs is None)
        if g.crs:
            f.crsOutput.setCrs(QgsCoordinateReferenceSystem(g.crs))
        f.spnScale.setValue(g.scale or 0)
        o = spec.output
        if o.format:
            f.cmbFormat.setCurrentText(o.format)
        f.fileOutputFolder.setFilePath(o.directory)
        if o.chip_size:
            f.spnChipSize.setValue(o.chip_size[0])
        f.chkOverwrite.setChecked(bool(o.overwrite))
        vis = o.visualization
        f.txtVisRange.setText(f"{vis.min[0]:g}, {vis.max[0]:g}" if vis and vis.min and vis.max else "")
        f.txtJobName.setText(spec.name)
        f.txtOutputName.setText(o.name or "")
        self.set_method(spec.method.type)
        f.txtDestination.setText(spec.method.bucket or spec.method.folder or "")
        if spec.table:
            f.cmbTableOperation.setCurrentIndex(1 if spec.table.operation == "sample" else 0)
            f.cmbTableReducer.setCurrentText(spec.table.reducer)
        f.chkZonal.setChecked(spec.zonal is not None)
        if spec.zonal:
            z = spec.zonal
            f.cmbZoneLayer.setLayer(self._layer_for_file(z.polygons, z.layer))
            f.cmbZoneIdField.setField(z.id_field)
            f.cmbZonalStats.setCheckedItems(z.statistics)
            f.cmbZonalEngine.setCurrentText(z.engine)
        self._loaded_spec = spec.to_dict()
        self._update_visibility()

    def _layer_for_file(self, path: str, sublayer: Optional[str] = None) -> Optional[QgsVectorLayer]:
        """The project's layer reading ``path`` (added to the project when missing)."""
        wanted = {"path": str(Path(path).resolve()), **({"layer": sublayer} if sublayer else {})}
        for lyr in QgsProject.instance().mapLayers().values():
            if isinstance(lyr, QgsVectorLayer) and job_form.layer_file(lyr) == wanted:
                return lyr
        uri = path + (f"|layername={sublayer}" if sublayer else "")
        layer = QgsVectorLayer(uri, Path(path).stem, "ogr")
        if not layer.isValid():
            return None
        QgsProject.instance().addMapLayer(layer)
        return layer

    def _layer_for_geometry(self, name: str, geometry: Dict[str, Any], crs: str) -> Optional[QgsVectorLayer]:
        """A memory layer holding a spec's inline geometry (one feature per part)."""
        from qgis.core import QgsFeature, QgsGeometry

        kind = "Point" if geometry.get("type") in ("Point", "MultiPoint") else "Polygon"
        layer = QgsVectorLayer(f"{kind}?crs={crs}", f"{name} region", "memory")
        parts = QgsGeometry.fromWkt(shape_wkt(geometry)).asGeometryCollection()
        feats = []
        for part in parts:
            feat = QgsFeature()
            feat.setGeometry(part)
            feats.append(feat)
        layer.dataProvider().addFeatures(feats)
        layer.updateExtents()
        QgsProject.instance().addMapLayer(layer)
        return layer

    # ------------------------------------------------------------------------------ background checks
    def _cancel_task(self, task: Optional[CallableTask]) -> None:
        try:
            if task is not None and task.status() not in (task.Complete, task.Terminated):
                task.cancel()
        except RuntimeError:  # already deleted by the task manager
            pass

    def check_asset(self) -> None:
        """Look the asset ID up in a background task; show bands, native grid, dates."""
        asset_id = self.form.txtAssetId.text().strip()
        if self.source_type() == "expression" or not asset_id:
            self.form.lblAssetInfo.setText("Type an asset ID.")
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self.form.lblAssetInfo.setText(f"Cannot check: {exc}")
            return
        self._cancel_task(self._asset_task)
        self.form.lblAssetInfo.setText(f"Checking {asset_id} …")

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            from eeextract_plugin.asset_info import describe_asset

            session = open_session(conn)
            return describe_asset(session.ee, asset_id)

        task = CallableTask(f"EE Extract: check {asset_id}", work)
        task.succeeded.connect(lambda info, a=asset_id: self._asset_checked(a, info))
        task.failed.connect(lambda msg, _d, a=asset_id: self._asset_failed(a, msg))
        self._asset_task = task
        self.launch(task)

    def _asset_checked(self, asset_id: str, info: Any) -> None:
        if asset_id != self.form.txtAssetId.text().strip():
            return  # the user typed on
        self.asset_info = info
        self.form.lblAssetInfo.setText(info.summary())
        available = [b.id for b in info.bands]
        self.set_bands(available, [b for b in self.selected_bands() if b in available])
        if info.type == "IMAGE_COLLECTION" and self.source_type() == "asset":
            self.set_source_type("collection")
        elif info.type == "IMAGE" and self.source_type() == "collection":
            self.set_source_type("asset")
        self.schedule_estimate()

    def _asset_failed(self, asset_id: str, message: str) -> None:
        if asset_id == self.form.txtAssetId.text().strip():
            self.asset_info = None
            self.form.lblAssetInfo.setText(f"<span style='color:#b00'>{asset_id}: {message}</span>")

    def _expression_edited(self) -> None:
        if self.source_type() == "expression" and self.expression is not None:
            self.form.lblExpressionStatus.setText("Edited: convert again before running.")

    def convert_expression(self) -> None:
        """Run the typed Python (it runs code: the form says so) in a task; keep the JSON."""
        code = self.form.txtExpression.toPlainText()
        if not code.strip():
            self.form.lblExpressionStatus.setText("Type an expression first.")
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self.form.lblExpressionStatus.setText(str(exc))
            return
        self.form.lblExpressionStatus.setText("Converting …")

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            session = open_session(conn)
            return job_form.expression_from_python(code, session.ee)

        task = CallableTask("EE Extract: convert expression", work)
        task.succeeded.connect(self._expression_converted)
        task.failed.connect(lambda msg, _d: self.form.lblExpressionStatus.setText(
            f"<span style='color:#b00'>{msg}</span>"))
        self._expression_task = task
        self.launch(task)

    def _expression_converted(self, expression: Dict[str, Any]) -> None:
        self.expression = expression
        n = len(expression.get("values", {}))
        self.form.lblExpressionStatus.setText(f"Converted: {n} serialized value(s) stored in the job.")
        self.schedule_estimate()

    def schedule_estimate(self, *_a: object) -> None:
        self._estimate_timer.start()

    def update_estimate(self) -> None:
        """Plan the job in a background task (the planner may ask Earth Engine for the grid)."""
        try:
            spec = self.build_spec()
        except ValueError as exc:  # SpecError and FormError are ValueErrors
            self.last_estimate = None
            self.form.lblEstimate.setText(f"Estimate: — ({exc})")
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self.form.lblEstimate.setText(f"Estimate: — ({exc})")
            return
        self._cancel_task(self._estimate_task)
        self.form.lblEstimate.setText("Estimate: planning …")
        from eeextract_plugin.engine import estimate_job

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            return estimate_job(spec, open_session(conn))

        task = CallableTask("EE Extract: estimate", work)
        planned = spec.to_dict()
        task.succeeded.connect(lambda est: self._estimate_done(planned, est))
        task.failed.connect(lambda msg, _d: self.form.lblEstimate.setText(f"Estimate: — ({msg})"))
        self._estimate_task = task
        self.launch(task)

    def _estimate_done(self, spec_dict: Dict[str, Any], estimate: Any) -> None:
        try:
            current = self.build_spec().to_dict()
        except ValueError:
            current = None
        if current != spec_dict:
            return  # the form changed while planning: a newer estimate is on its way
        self.last_estimate = (spec_dict, estimate)
        self.form.lblEstimate.setText(f"Estimate: {estimate.line()}")

    # ------------------------------------------------------------------------------ running
    def is_huge(self, estimate: Any) -> bool:
        """The planner's verdict, or more than 10 GB, 100,000 requests or an hour at the quota."""
        return (bool(getattr(estimate, "huge", False)) or estimate.bytes >= HUGE_BYTES
                or estimate.requests >= HUGE_REQUESTS or (estimate.seconds or 0) >= HUGE_SECONDS)

    def run_clicked(self) -> None:
        try:
            out = Path(self._output_folder())
            spec = self.build_spec(copy_dir=out / ".eeextract-inputs")
        except ValueError as exc:
            self.iface.messageBar().pushWarning("EE Extract", str(exc))
            return
        estimate = None
        if self.last_estimate is not None and self.last_estimate[0] == self.build_spec().to_dict():
            estimate = self.last_estimate[1]
        if estimate is not None and self.is_huge(estimate):
            answer = QMessageBox.question(
                self, "EE Extract: a large job",
                f"This job is large:\n\n{estimate.line()}\n\nStart it anyway?",
                QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                return
        self.start_job(spec)

    def start_job(self, spec: Any) -> Any:
        job = self.board.start(spec, load_results=self.form.chkLoadResults.isChecked(),
                               mosaic=self.form.chkMosaic.isChecked())
        if job is not None:
            self.form.tabs.setCurrentIndex(1)
        return job

    def edit_selected_job(self) -> bool:
        """A job of the list back into the form (double-click): to run it again, changed."""
        key = self.jobs_view.selected()
        entry = self.board.jobs.get(key) if key else None
        if entry is None or not entry.job_id:
            return False
        from eeextract_plugin import engine

        try:
            self.load_spec(engine.spec_of(entry.workdir, entry.job_id))
        except (KeyError, ValueError, OSError) as exc:
            self.iface.messageBar().pushWarning("EE Extract", f"Cannot open job {entry.name}: {exc}")
            return False
        self.form.tabs.setCurrentIndex(0)
        return True

    def save_spec_clicked(self) -> None:
        try:
            spec = self.build_spec()
        except ValueError as exc:
            self.iface.messageBar().pushWarning("EE Extract", str(exc))
            return
        start = str(Path(spec.output.directory) / f"{spec.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save job file", start, "Job files (*.json)")
        if path:
            spec.to_file(path)
            self.iface.messageBar().pushSuccess("EE Extract", f"Job saved to {path}")

    def load_spec_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open job file", "", "Job files (*.json)")
        if not path:
            return
        from eeextract_plugin.core.spec import JobSpec

        try:
            self.load_spec(JobSpec.from_file(path))
        except ValueError as exc:
            self.iface.messageBar().pushWarning("EE Extract", str(exc))

    def _open_settings(self) -> None:
        from eeextract_plugin.gui.settings_dialog import SettingsDialog

        if SettingsDialog(parent=self, sessions=self.sessions).exec():
            self.settings_changed()

    # ------------------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        """Unload: stop timers, cancel this plugin's tasks, release the map tool."""
        self._asset_timer.stop()
        self._estimate_timer.stop()
        for task in (self._asset_task, self._estimate_task, self._expression_task):
            try:
                if task is not None:
                    task.detach()
            except RuntimeError:
                pass
            self._cancel_task(task)
        self.board.shutdown()
        if self.map_tool is not None:
            self.map_tool.release()
            self.map_tool.deleteLater()
            self.map_tool = None
        canvas = self.iface.mapCanvas()
        if canvas is not None:
            try:
                canvas.extentsChanged.disconnect(self._canvas_extent_changed)
            except TypeError:
                pass

