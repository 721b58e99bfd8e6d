"""The EE Extract dock: build a job from the map, estimate it, run it, watch the jobs list.

The form (``dock.ui``, loaded at run time) is translated to and from the job spec by
:class:`~eeextract_plugin.gui.job_form.JobForm`; the spec is validated by
:meth:`JobSpec.from_dict` — the same code that reads a job file, so the dock and a file give the
same spec. The dock keeps the form consistent (what is shown for which choice), checks the
asset, estimates and runs jobs through the core (:mod:`eeextract_plugin.core.runner`). Everything
slow happens in QgsTasks; the GUI thread never waits.
"""

from __future__ import annotations

import html
import logging
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapLayerProxyModel,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QDate, QEvent, QObject, Qt, QTimer
from qgis.PyQt.QtWidgets import (
    QAbstractSpinBox,
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
from eeextract_plugin.core import runner
from eeextract_plugin.core.assets import AssetInfo, describe_asset
from eeextract_plugin.core.errors import BadInput, EEExtractError
from eeextract_plugin.core.plan import PlanSummary
from eeextract_plugin.core.spec import RASTER_FORMATS, TABLE_FORMATS, JobSpec
from eeextract_plugin.gui.expression import expression_from_python
from eeextract_plugin.gui.job_form import JobForm, set_combo_value
from eeextract_plugin.gui.jobs import JobBoard, JobsView
from eeextract_plugin.gui.map_tool import RectangleMapTool
from eeextract_plugin.gui.messages import form_message
from eeextract_plugin.gui.section_folding import SectionFolding
from eeextract_plugin.i18n import PLUGIN_NAME, duration, number, size, tr
from eeextract_plugin.qgis_session import SessionSource, open_session
from eeextract_plugin.tasks import CallableTask

log = logging.getLogger(__name__)

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).with_name("dock.ui")))

DEBOUNCE_MS = 400


class ScaleSpinBox(QDoubleSpinBox):
    """Pixel size: 0 shows "native"; other values with up to 12 significant digits."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)
        self.setRange(0.0, 1e6)
        self.setSpecialValueText(tr("native"))
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
        if t in ("", self.specialValueText(), ".", "-"):
            return QValidator.Intermediate, text, pos
        try:
            float(t.replace(",", "."))
        except ValueError:
            return QValidator.Invalid, text, pos
        return QValidator.Acceptable, text, pos


def asset_summary(info: AssetInfo) -> str:
    """What the dock shows under the asset ID (rich text)."""
    kind = {"IMAGE": tr("Image"), "IMAGE_COLLECTION": tr("Image collection")}.get(info.type, info.type.title())
    title = html.escape(info.title or "")
    parts = [tr("<b>{kind}</b> — {title}").format(kind=kind, title=title) if title else f"<b>{kind}</b>"]
    if info.bands:
        names = ", ".join(b.name for b in info.bands[:12]) + (" …" if len(info.bands) > 12 else "")
        parts.append(tr("%n band(s): {names}", None, len(info.bands)).format(names=names))
        scale = number(info.native_scale, _decimals(info.native_scale)) if info.native_scale else "?"
        line = (tr("first image's grid: {crs}, {scale} units/pixel") if info.is_collection
                else tr("native grid: {crs}, {scale} units/pixel"))
        parts.append(line.format(crs=info.native_crs or "?", scale=scale))
    if info.start or info.end:
        parts.append(tr("dates: {start} to {end}").format(start=info.start[:10] or "?", end=info.end[:10] or "?"))
    return "<br>".join(parts)


def _decimals(value: float) -> int:
    """Enough decimals to show ``value`` as ``{:g}`` would (10 → 0, 0.000277… → 8)."""
    text = f"{value:.6g}"
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def time_bound_text(seconds: Optional[float]) -> str:
    """A plan's time bound said as what it is (the core's ``format_time_bound``, in the user's
    language): the least the job can take when Earth Engine answers as fast as the quota allows."""
    return tr("{duration} at best, if Earth Engine answers at full speed (heavy computations take longer)").format(
        duration=duration(seconds))


def estimate_text(estimate: PlanSummary) -> str:
    """The estimate line: the plan's figures, and its time as the bound it is."""
    files = tr("%Ln file(s)", None, estimate.outputs)
    work = tr("{pixels} px, {size}").format(pixels=number(estimate.pixels), size=size(estimate.bytes))
    if estimate.method != "direct":  # batch exports
        tasks = tr("%Ln export task(s)", None, estimate.export_tasks)
        return tr("{work}, {tasks}, {files}, ≈ {duration} by batch export").format(
            work=work, tasks=tasks, files=files, duration=duration(estimate.lower_bound_s))
    requests = tr("%Ln request(s)", None, estimate.requests)
    if estimate.table:
        return tr("{requests}, {files}; {time}").format(
            requests=requests, files=files, time=time_bound_text(estimate.lower_bound_s))
    return tr("{work}, {requests}, {files}; {time}").format(
        work=work, requests=requests, files=files, time=time_bound_text(estimate.lower_bound_s))


def _g(value: float) -> str:
    """A decimal number as ``{:g}`` writes it, in the user's locale."""
    return number(value, _decimals(value))


def _at_least(seconds: float) -> str:
    return duration(seconds) if seconds < 1 else "≥ " + duration(seconds)


def estimate_tooltip(e: PlanSummary) -> str:
    """The estimate's details (the figures of the core's ``PlanSummary.lines()``, in the user's
    language): method, files, requests, pixels and bytes, the chosen method's time and the
    other's, and what the time bound assumes."""
    latency = (tr("{fixed} s per request") if e.table else tr("{fixed} s + {per_mp} s/MP per request")).format(
        fixed=_g(e.latency_fixed_s), per_mp=_g(e.latency_per_megapixel_s))
    direct = tr("{bound} by direct requests (at the quota: {in_flight} requests in flight, {per_s} requests/s, "
                "{latency})").format(bound=_at_least(e.direct_s), in_flight=number(e.max_concurrent),
                                     per_s=_g(e.max_requests_per_s), latency=latency)
    batch = None
    if e.batch_s is not None:
        batch = tr("≈ {duration} by %Ln Export task(s) ({startup} s to start each task, {running} running at "
                   "once, {speed} MP/s each)", None, e.export_tasks or e.outputs).format(
            duration=duration(e.batch_s), startup=_g(e.export_startup_s),
            running=number(e.export_running_tasks), speed=_g(e.export_megapixels_per_s))
    chosen, other = (batch, direct) if e.method != "direct" else (direct, batch)
    method = tr("Method: {method}").format(method=e.method)
    lines = [f"{method} — {e.method_reason}" if e.method_reason else method,
             tr("Files: {n}").format(n=number(e.outputs))]
    if e.table:
        lines.append(tr("Requests: {n} (features grouped in grid cells, one request each)").format(
            n=number(e.requests)))
    else:
        lines += [tr("Requests: {n} (work units {units}, tiles up to {tile} px a side)").format(
                      n=number(e.requests), units=number(e.units), tile=number(e.tile_size)),
                  tr("Pixels: {n}").format(n=number(e.pixels)),
                  tr("Data: {size} ({counted} as Earth Engine counts it, with mask bytes)").format(
                      size=size(e.bytes), counted=size(e.request_bytes))]
    lines.append(tr("Time: {time}").format(time=chosen or direct))
    if other and chosen:
        lines.append(tr("Otherwise: {time}").format(time=other))
    lines += ["", tr("A lower bound. Once the job runs, the Jobs tab shows the rate measured and the time "
                     "left from it.")]
    return "\n".join(lines)


class WheelGuard(QObject):
    """The mouse wheel scrolls the form; it changes a combo box, spin box or date only when that
    field has the keyboard focus (clicked or tabbed into). Without this, scrolling the dock
    changed every field that passed under the pointer (the region layer, the zone ID field)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # handed to the parents: the scroll area scrolls
            return True
        return False

    def watch(self, root: QWidget) -> None:
        for widget in [root] + root.findChildren(QWidget):
            if isinstance(widget, (QComboBox, QAbstractSpinBox)):
                widget.setFocusPolicy(Qt.StrongFocus)  # the wheel gives no focus
                widget.installEventFilter(self)


class EEExtractDock(QgsDockWidget):
    """The dock widget; owns its form, its background checks and the jobs board."""

    def __init__(self, iface: Any, sessions: SessionSource, parent: Optional[QWidget] = None,
                 board: Optional[JobBoard] = None) -> None:
        super().__init__(PLUGIN_NAME, parent)
        self.iface = iface
        self.sessions = sessions
        self.form = FORM_CLASS()
        self.body = QWidget(self)
        self.form.setupUi(self.body)
        self.setWidget(self.body)
        self.setObjectName("EEExtractDock")

        self.board = board or JobBoard(iface, sessions, parent=self)
        self.jobs_view = JobsView(self.form, self.board, parent=self)
        self.job_form = JobForm(self.form, iface)

        self.asset_info: Any = None
        self.last_estimate: Optional[Tuple[Dict[str, Any], PlanSummary]] = None
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
        f = self.form  # a section folds and unfolds under the pointer: the form does not jump
        self.folding = SectionFolding(f.scrollJob, [f.grpSource, f.grpRegion, f.grpOutput, f.grpAfter], self)
        for section in self.folding.sections:
            section.collapsedStateChanged.connect(self._section_unfolded)
        self.wheel_guard = WheelGuard(self)
        self.wheel_guard.watch(self.body)
        self._type_chosen = False  # the user picked the source type: an asset check keeps it
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
        f.chkSelectedOnly = QCheckBox(tr("Selected only"))
        f.chkSelectedOnly.setToolTip(tr("Use only the layer's selected features"))
        f.wRegionLayer = self._pair(f.layoutRegion, f.cmbRegionLayer, f.chkSelectedOnly, "wRegionLayer")
        f.txtVisRange = QLineEdit()
        f.txtVisRange.setPlaceholderText(tr("min, max"))
        f.txtVisRange.setToolTip(tr("PNG / JPEG are 8-bit pictures: the value range (min, max, e.g. 0, 3000) "
                                    "stretched to 0–255, for every band (1 or 3 bands)"))
        f.wFormat = self._pair(f.layoutOutput, f.cmbFormat, f.txtVisRange, "wFormat")
        f.chkOverwrite = QCheckBox(tr("Replace existing output files"))
        f.chkOverwrite.setToolTip(tr("Without it, a job whose files already exist stops before it starts"))
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
        f.crsOutput.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        f.txtJobName.setText(f"job-{date.today().isoformat()}")  # i18n: not translated (names files)
        # The estimate line says why Run is off: room for three lines of it at any dock width.
        margins = f.lblEstimate.contentsMargins()
        f.lblEstimate.setMinimumHeight(3 * f.lblEstimate.fontMetrics().lineSpacing() + 2 * f.lblEstimate.frameWidth()
                                       + margins.top() + margins.bottom() + 4)
        # A narrow dock must not need a horizontal scroll bar: combos shrink to a few characters.
        f.scrollJob.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        for combo in self.body.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        # Labels take what they need; fields take the rest.
        for grid in (f.layoutSource, f.layoutRegion, f.layoutOutput, f.layoutAfter):
            grid.setColumnStretch(0, 0)
            grid.setColumnStretch(1, 1)
        f.cmbZonalEngine.setToolTip(tr(
            "rasterstats: pixel-centre rule (as EEDL). exactextract: partial-pixel weights, faster "
            "on many zones; its PyPI wheel bundles GEOS and has crashed QGIS on Linux, so it is "
            "not the default here"))
        f.cmbCollectionMode.setToolTip(tr("One output per image, or a composite per window of days "
                                          "(whole range: one composite), reduced with the reducer"))
        f.cmbTableOperation.setToolTip(tr("Statistics per polygon: Earth Engine's reduceRegions, with the "
                                          "reducer beside; values at points: its sample"))
        f.layoutTable.setStretch(0, 2)
        f.layoutTable.setStretch(1, 1)
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
        # A check change reaches us by the combo's signal or the model's, depending on how it was
        # made and on the QGIS version; either one records it (the form reads the combo anyway).
        f.cmbBands.checkedItemsChanged.connect(self._bands_changed)
        f.cmbBands.model().dataChanged.connect(self._bands_changed)
        f.cmbSourceType.currentIndexChanged.connect(self._source_type_changed)
        f.cmbSourceType.activated.connect(self._type_picked)  # by the user only
        f.txtAssetId.textEdited.connect(self._asset_typed)
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

    def _type_picked(self, *_a: object) -> None:
        self._type_chosen = True

    def _asset_typed(self, *_a: object) -> None:
        self._type_chosen = False  # a new asset ID: its check may choose the type again

    def _source_type_changed(self, *_a: object) -> None:
        jf = self.job_form
        st = jf.source_type()
        if st == "collection" and jf.kind() == "mosaic" and jf.collection_mode() == "per_image":
            jf.set_kind("collection")
        elif st != "collection" and jf.kind() in ("collection", "timeseries"):
            jf.set_kind("mosaic")
        self._update_visibility()
        self._asset_timer.start()

    def _region_mode_changed(self, *_a: object) -> None:
        jf = self.job_form
        mode = jf.region_mode()
        if mode == "points" and jf.kind() not in ("chips", "table"):
            jf.set_kind("chips")
        elif mode == "per_feature" and jf.kind() not in ("features", "table", "timeseries"):
            jf.set_kind("features")
        elif mode in ("canvas", "layer_extent", "drawn", "selected") and jf.kind() in ("chips", "features"):
            jf.set_kind("collection" if jf.source_type() == "collection" else "mosaic")
        if mode != "drawn" and self.form.btnDrawRectangle.isChecked():
            self.form.btnDrawRectangle.setChecked(False)
        self._update_visibility()

    def _region_layer_changed(self, layer: Any) -> None:
        self.form.cmbRegionIdField.setLayer(layer if isinstance(layer, QgsVectorLayer) else None)

    def _kind_changed(self, *_a: object) -> None:
        jf = self.job_form
        table_kind = jf.kind() in ("table", "timeseries")
        fmt = jf.output_format()
        if table_kind and fmt not in TABLE_FORMATS:
            jf.set_output_format("CSV+GPKG")
        elif not table_kind and fmt not in RASTER_FORMATS:
            jf.set_output_format("COG")
        if jf.kind() == "table" and jf.region_mode() == "points":
            set_combo_value(self.form.cmbTableOperation, "sample")
        self._update_visibility()

    def _method_changed(self, *_a: object) -> None:
        """Each export method keeps its own destination (bucket / Drive folder), defaulting to
        the settings' default."""
        conn = qs.load_settings()
        dest = self.form.txtDestination
        previous = getattr(self, "_method_shown", None)
        destinations = self.__dict__.setdefault("_destinations", {})
        if previous in ("export_gcs", "export_drive", "auto"):
            destinations[previous] = dest.text()
        m = self.job_form.method()
        self._method_shown = m
        dest.blockSignals(True)
        if m == "export_gcs":
            dest.setText(destinations.get(m, conn.bucket))
            dest.setPlaceholderText(tr("Cloud Storage bucket"))
        elif m == "export_drive":
            dest.setText(destinations.get(m, conn.drive_folder))
            dest.setPlaceholderText(tr("Drive folder"))
        elif m == "auto":
            dest.setText(destinations.get(m, conn.bucket))
            dest.setPlaceholderText(tr("bucket (optional, for batch)"))
        else:
            dest.setText("")
            dest.setPlaceholderText(tr("bucket or Drive folder (exports only)"))
        dest.blockSignals(False)
        self._update_visibility()

    def _section_unfolded(self, collapsed: bool) -> None:
        """QGIS's collapsible section shows every row it hid when it folded, rows this form
        hides (a layer row for the map's extent, chip size for a mosaic) among them: the form's
        rules apply again."""
        if not collapsed:
            self._update_visibility()

    def _update_visibility(self, *_a: object) -> None:
        f = self.form
        jf = self.job_form
        st, mode, kind = jf.source_type(), jf.region_mode(), jf.kind()
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
        composite = jf.collection_mode() == "composite"
        f.spnWindowDays.setEnabled(composite)
        f.cmbReducer.setEnabled(composite)
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
        f.txtVisRange.setVisible(jf.output_format() in ("PNG", "JPEG"))
        show_row(rl, f.wTable, kind in ("table", "timeseries"))
        f.crsOutput.setEnabled(not f.chkNativeCrs.isChecked())
        f.txtDestination.setEnabled(jf.method() != "direct")
        table_kind = kind in ("table", "timeseries")
        f.chkZonal.setVisible(not table_kind)  # zonal statistics run on rasters
        f.chkMosaic.setVisible(not table_kind)
        for w in (f.cmbZoneLayer, f.cmbZoneIdField, f.cmbZonalStats, f.cmbZonalEngine):
            show_row(f.layoutAfter, w, f.chkZonal.isChecked() and not table_kind)
        self._update_region_summary()

    def _update_region_summary(self) -> None:
        jf = self.job_form
        mode = jf.region_mode()
        text = ""
        if mode == "drawn":
            text = tr("Drag a rectangle on the map.") if jf.drawn is None else (
                f"{jf.drawn.toString(4)} ({jf.drawn_crs.authid()})")
        elif mode == "canvas":
            text = tr("The map's current extent.")
        elif mode == "selected":
            layer = self.form.cmbRegionLayer.currentLayer()
            n = layer.selectedFeatureCount() if isinstance(layer, QgsVectorLayer) else 0
            text = tr("%Ln selected feature(s).", None, n)
        self.form.lblRegionSummary.setText(text)

    def _canvas_extent_changed(self) -> None:
        if self.job_form.region_mode() == "canvas":
            self.schedule_estimate()

    def _reorder_bands(self) -> None:
        """Checked bands move to the top of the list, in the order they were checked, so the
        combo reads "B4, B3, B2" as the output will be — once the list is closed: items must
        not move under the pointer while the user is clicking them."""
        combo = self.form.cmbBands
        if combo.view().isVisible():
            QTimer.singleShot(250, self._reorder_bands)
            return
        items = [combo.itemText(i) for i in range(combo.count())]
        checked = self.job_form.selected_bands()
        desired = checked + [b for b in items if b not in checked]
        if items == desired:
            return
        self._reordering = True
        try:
            self.job_form.set_bands(desired, checked)
        finally:
            self._reordering = False

    def _bands_changed(self, *_a: object) -> None:
        if getattr(self, "_reordering", False) or self.job_form.filling_bands:
            return
        self.job_form.note_band_checks()
        self.schedule_estimate()
        order = ", ".join(self.job_form.selected_bands())
        QTimer.singleShot(0, self._reorder_bands)
        self.form.cmbBands.setToolTip(
            tr("Output bands, in this order: {order}").format(order=order) if order else
            tr("Bands to extract, in the order you check them; none checked means all bands."))

    def set_bands(self, available: List[str], checked: List[str]) -> None:
        self.job_form.set_bands(available, checked)
        self._bands_changed()

    # ------------------------------------------------------------------------------ drawing
    def _draw_toggled(self, checked: bool) -> None:
        canvas = self.iface.mapCanvas()
        if checked:
            if self.map_tool is None:
                self.map_tool = RectangleMapTool(canvas)
                self.map_tool.rectangleDrawn.connect(self.set_drawn_rectangle)
                self.map_tool.deactivated.connect(lambda: self.form.btnDrawRectangle.setChecked(False))
            if canvas.mapTool() is not self.map_tool:
                self._previous_tool = canvas.mapTool()
            canvas.setMapTool(self.map_tool)
        elif self.map_tool is not None:
            self.map_tool.release()
            previous = getattr(self, "_previous_tool", None)
            self._previous_tool = None
            if previous is not None and canvas.mapTool() is None:
                try:
                    canvas.setMapTool(previous)  # the tool the user had before drawing
                except RuntimeError:  # that tool is gone
                    pass

    def set_drawn_rectangle(self, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> None:
        self.job_form.set_drawn_rectangle(extent, crs)
        if self.form.btnDrawRectangle.isChecked():  # one rectangle drawn: the map is the map again
            QTimer.singleShot(0, lambda: self.form.btnDrawRectangle.setChecked(False))
        if self.job_form.region_mode() != "drawn":
            self.job_form.set_region_mode("drawn")
        self._update_region_summary()
        self.schedule_estimate()

    # ------------------------------------------------------------------------------ the spec
    def build_spec(self, copy_dir: Optional[Path] = None) -> JobSpec:
        """The form's spec, validated (raises BadInput naming the field)."""
        return self.job_form.build_spec(copy_dir)

    def load_spec(self, spec: JobSpec) -> None:
        """Fill the form from a spec (a job file opened, or a job of the list to edit)."""
        self.job_form.load_spec(spec)
        self._update_visibility()

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
        if self.job_form.source_type() == "expression" or not asset_id:
            self.form.lblAssetInfo.setText(tr("Type an asset ID."))
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self.form.lblAssetInfo.setText(tr("Cannot check: {why}").format(why=exc.outside()))
            return
        self._cancel_task(self._asset_task)
        self.form.lblAssetInfo.setText(tr("Checking {asset} …").format(asset=asset_id))

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            return describe_asset(open_session(conn), asset_id)

        task = CallableTask(tr("EE Extract: check {asset}").format(asset=asset_id), work)
        task.succeeded.connect(lambda info, a=asset_id: self._asset_checked(a, info))
        task.failed.connect(lambda msg, _d, a=asset_id: self._asset_failed(a, msg))
        self._asset_task = task
        self.launch(task)

    def _asset_checked(self, asset_id: str, info: Any) -> None:
        if asset_id != self.form.txtAssetId.text().strip():
            return  # the user typed on
        self.asset_info = info
        self.form.lblAssetInfo.setText(asset_summary(info))
        available = [b.name for b in info.bands]
        self.set_bands(available, [b for b in self.job_form.selected_bands() if b in available])
        # The check chooses the type for a new asset ID, never against the user's own choice.
        if not self._type_chosen:
            if info.type == "IMAGE_COLLECTION" and self.job_form.source_type() == "asset":
                self.job_form.set_source_type("collection")
            elif info.type == "IMAGE" and self.job_form.source_type() == "collection":
                self.job_form.set_source_type("asset")
        self.schedule_estimate()

    def _asset_failed(self, asset_id: str, message: str) -> None:
        if asset_id == self.form.txtAssetId.text().strip():
            self.asset_info = None
            self.form.lblAssetInfo.setText(f"<span style='color:#b00'>{asset_id}: {message}</span>")

    def _expression_edited(self) -> None:
        if self.job_form.source_type() == "expression" and self.job_form.expression is not None:
            self.form.lblExpressionStatus.setText(tr("Edited: convert again before running."))

    def convert_expression(self) -> None:
        """Run the typed Python (it runs code: the form says so) in a task; keep the JSON."""
        code = self.form.txtExpression.toPlainText()
        if not code.strip():
            self.form.lblExpressionStatus.setText(tr("Type an expression first."))
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self.form.lblExpressionStatus.setText(exc.outside())
            return
        self.form.lblExpressionStatus.setText(tr("Converting …"))

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            session = open_session(conn)
            return expression_from_python(code, session.ee)

        task = CallableTask(tr("EE Extract: convert expression"), work)
        task.succeeded.connect(self._expression_converted)
        task.failed.connect(lambda msg, _d: self.form.lblExpressionStatus.setText(
            f"<span style='color:#b00'>{msg}</span>"))
        self._expression_task = task
        self.launch(task)

    def _expression_converted(self, expression: Dict[str, Any]) -> None:
        self.job_form.expression = expression
        n = len(expression.get("values", {}))
        self.form.lblExpressionStatus.setText(tr("Converted: %Ln serialized value(s) stored in the job.", None, n))
        self.schedule_estimate()

    def schedule_estimate(self, *_a: object) -> None:
        self._estimate_timer.start()

    def _refuse(self, why: str) -> None:
        """Run is off and the estimate line says why (bad input is refused before Run)."""
        self.last_estimate = None
        self.form.btnRun.setEnabled(False)
        self.form.btnRun.setToolTip(tr("Cannot run: {reason}").format(reason=why))
        self.form.lblEstimate.setText("<span style='color:#b00'>{}</span>".format(
            tr("Cannot run — {reason}").format(reason=html.escape(why))))
        self.form.lblEstimate.setToolTip(why)

    def _allow(self, text: str, tooltip: str = "") -> None:
        self.form.btnRun.setEnabled(True)
        self.form.btnRun.setToolTip(tr("Start the job (it runs in the background; see the Jobs tab)"))
        self.form.lblEstimate.setText(html.escape(text))
        self.form.lblEstimate.setToolTip(tooltip)

    def update_estimate(self) -> None:
        """Plan the job in a background task (the planner may ask Earth Engine for the grid);
        input it refuses (an output in the way, an asset that does not exist) turns Run off."""
        try:
            spec = self.build_spec()
        except BadInput as exc:
            self._refuse(form_message(exc))
            return
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self._refuse(exc.outside())
            return
        self._cancel_task(self._estimate_task)
        self._allow(tr("Estimate: planning …"))

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> Any:
            return runner.estimate_job(spec, open_session(conn), check_outputs=True)

        task = CallableTask(tr("EE Extract: estimate"), work)
        planned = spec.to_dict()
        task.succeeded.connect(lambda est: self._estimate_done(planned, est))
        task.failed.connect(partial(self._estimate_failed, planned, task))
        self._estimate_task = task
        self.launch(task)

    def _current_spec(self) -> Optional[Dict[str, Any]]:
        try:
            return self.build_spec().to_dict()
        except BadInput:
            return None

    def _estimate_failed(self, spec_dict: Dict[str, Any], task: CallableTask, message: str, _details: str) -> None:
        if self._current_spec() != spec_dict:
            return  # the form changed meanwhile
        error = task.exception
        if isinstance(error, BadInput):
            self._refuse(form_message(error))
        else:  # no connection now: the estimate is missing, not the input wrong
            self._allow(tr("Estimate: — ({reason})").format(reason=form_message(error) if error else message))

    def _estimate_done(self, spec_dict: Dict[str, Any], estimate: PlanSummary) -> None:
        if self._current_spec() != spec_dict:
            return  # the form changed while planning: a newer estimate is on its way
        self.last_estimate = (spec_dict, estimate)
        text = (tr("Estimate: {estimate} — large: you will be asked to confirm") if estimate.huge
                else tr("Estimate: {estimate}")).format(estimate=estimate_text(estimate))
        self._allow(text, estimate_tooltip(estimate))

    # ------------------------------------------------------------------------------ running
    def run_clicked(self) -> None:
        try:
            out = Path(self.job_form.output_folder())
            spec = self.build_spec(copy_dir=out / ".eeextract-inputs")
        except BadInput as exc:
            self.iface.messageBar().pushWarning(PLUGIN_NAME, form_message(exc))
            return
        estimate = None
        if self.last_estimate is not None and self.last_estimate[0] == self.build_spec().to_dict():
            estimate = self.last_estimate[1]
        if estimate is not None and estimate.huge:  # the core's one rule (core.plan.is_huge)
            answer = QMessageBox.question(
                self, tr("EE Extract: a large job"),
                tr("This job is large:\n\n{estimate}\n\nStart it anyway?").format(estimate=estimate_text(estimate)),
                QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                return
        self.start_job(spec)

    def start_job(self, spec: Any) -> Any:
        job = self.board.start(spec, load_results=self.form.chkLoadResults.isChecked())
        if job is not None:
            self.form.tabs.setCurrentIndex(1)
        return job

    def edit_selected_job(self) -> bool:
        """A job of the list back into the form (double-click): to run it again, changed."""
        key = self.jobs_view.selected()
        entry = self.board.jobs.get(key) if key else None
        if entry is None or not entry.job_id:
            return False
        try:
            self.load_spec(runner.spec_of(entry.job_id, entry.workdir))
        except (EEExtractError, OSError) as exc:
            self.iface.messageBar().pushWarning(PLUGIN_NAME, tr("Cannot open job {name}: {error}").format(
                name=entry.name, error=exc))
            return False
        self.form.tabs.setCurrentIndex(0)
        return True

    def save_spec_clicked(self) -> None:
        try:
            spec = self.build_spec()
        except BadInput as exc:
            self.iface.messageBar().pushWarning(PLUGIN_NAME, form_message(exc))
            return
        start = str(Path(spec.output.directory) / f"{spec.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, tr("Save job file"), start, tr("Job files (*.json)"))
        if path:
            spec.to_file(path)
            self.iface.messageBar().pushSuccess(PLUGIN_NAME, tr("Job saved to {path}").format(path=path))

    def load_spec_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open job file"), "", tr("Job files (*.json)"))
        if not path:
            return
        try:
            self.load_spec(JobSpec.from_file(path))
        except BadInput as exc:
            self.iface.messageBar().pushWarning(PLUGIN_NAME, form_message(exc))

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

