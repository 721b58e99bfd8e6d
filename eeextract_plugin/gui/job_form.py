"""The dock's job form: its widgets ↔ a job spec.

:class:`JobForm` owns what the form shows and nothing else: it fills its combo boxes from the
core's choice lists (each item carries the spec's own word as its data; the label is the form's
wording), builds the spec's plain data from the widgets (:meth:`JobForm.spec_dict`, exactly what a
job file would contain, validated by :meth:`JobSpec.from_dict`) and fills the widgets from a spec
(:meth:`JobForm.load_spec`). What a loaded job file says about fields the form does not show is
kept by the core's :func:`~eeextract_plugin.core.spec_edit.keep_unshown_fields`.

Main thread only (it reads layers and the project). Background checks, estimates and running
jobs are the dock's business.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate
from qgis.PyQt.QtWidgets import QComboBox

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.core import filters, spec_edit
from eeextract_plugin.core.spec import (
    COLLECTION_MODES,
    KINDS,
    METHODS,
    RASTER_FORMATS,
    REDUCERS,
    SOURCE_TYPES,
    TABLE_FORMATS,
    TABLE_OPERATIONS,
    ZONAL_ENGINES,
    JobSpec,
)
from eeextract_plugin.core.zonal.statistics import SIMPLE_STATISTICS
from eeextract_plugin.gui import qgis_regions
from eeextract_plugin.gui.qgis_regions import FormError
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)

# How the form collects a region (the dock's own notion; the spec has bbox, geometry or file).
REGION_MODES = ("canvas", "layer_extent", "selected", "per_feature", "drawn", "points")

# The form's words for the spec's choices (the spec's words are the items' data), in the user's
# language (functions: translated when the form is filled, never at import). Reducers, zonal
# statistics, formats and zonal engines keep their own names: they are Earth Engine's, the
# output columns' and the tools' names.
def source_type_labels() -> Dict[str, str]:
    return {"asset": tr("Image asset"), "collection": tr("Image collection"),
            "expression": tr("Expression (Python, ee)")}


def collection_mode_labels() -> Dict[str, str]:
    return {"per_image": tr("One per image"), "composite": tr("Composite")}


def region_mode_labels() -> Dict[str, str]:
    return {"canvas": tr("Map canvas extent"), "layer_extent": tr("Layer extent"),
            "selected": tr("Selected features"), "per_feature": tr("One output per feature"),
            "drawn": tr("Rectangle drawn on the map"), "points": tr("Points (chips or samples)")}


def kind_labels() -> Dict[str, str]:
    return {"mosaic": tr("Mosaic (one raster)"), "chips": tr("Chips around points"),
            "collection": tr("One raster per image or window"), "features": tr("One raster per feature"),
            "table": tr("Table computed in Earth Engine"), "timeseries": tr("Time series per region")}


def table_operation_labels() -> Dict[str, str]:
    return {"reduce_regions": tr("Statistics per polygon"), "sample": tr("Values at points")}


def method_labels() -> Dict[str, str]:
    return {"auto": tr("Automatic (direct or batch)"), "direct": tr("Direct (parallel requests)"),
            "export_gcs": tr("Export to Cloud Storage"), "export_drive": tr("Export to Drive")}


FORMAT_CHOICES = RASTER_FORMATS + tuple(f for f in ("CSV+GPKG", "CSV", "GPKG") if f in TABLE_FORMATS)
DEFAULT_REDUCER = "median"
DEFAULT_TABLE_REDUCER = "mean"
#: The dock's default zonal engine: rasterstats (see the engine combo's tooltip).
DEFAULT_ZONAL_ENGINE = "rasterstats"


def fill_combo(combo: QComboBox, values: Sequence[str], labels: Optional[Dict[str, str]] = None,
               default: Optional[str] = None) -> None:
    """Items for ``values`` (the spec's words, as item data) labelled for the form."""
    combo.blockSignals(True)
    combo.clear()
    for value in values:
        combo.addItem((labels or {}).get(value, value), value)
    if default is not None:
        combo.setCurrentIndex(max(0, combo.findData(default)))
    combo.blockSignals(False)


def combo_value(combo: QComboBox) -> str:
    value = combo.currentData()
    return str(value) if value is not None else combo.currentText()


def set_combo_value(combo: QComboBox, value: str) -> bool:
    index = combo.findData(value)
    if index < 0:
        return False
    combo.setCurrentIndex(index)
    return True


class JobForm:
    """Widgets ↔ spec for the dock's form (``ui``: the widgets loaded from ``dock.ui``)."""

    def __init__(self, ui: Any, iface: Any) -> None:
        self.ui = ui
        self.iface = iface
        self.expression: Optional[Dict[str, Any]] = None
        # Bands in the order the user checked them (B4, B3, B2 makes an RGB image).
        self.band_order: List[str] = []
        self.filling_bands = False
        self.drawn: Optional[QgsRectangle] = None
        self.drawn_crs = QgsCoordinateReferenceSystem("EPSG:4326")
        self.loaded_spec: Optional[Dict[str, Any]] = None
        self.fill_choices()

    def fill_choices(self) -> None:
        f = self.ui
        fill_combo(f.cmbSourceType, SOURCE_TYPES, source_type_labels(), "asset")
        fill_combo(f.cmbCollectionMode, COLLECTION_MODES, collection_mode_labels(), "per_image")
        fill_combo(f.cmbReducer, REDUCERS, None, DEFAULT_REDUCER)
        fill_combo(f.cmbRegionMode, REGION_MODES, region_mode_labels(), "canvas")
        fill_combo(f.cmbKind, KINDS, kind_labels(), "mosaic")
        fill_combo(f.cmbTableOperation, TABLE_OPERATIONS[::-1], table_operation_labels(), "reduce_regions")
        fill_combo(f.cmbTableReducer, REDUCERS, None, DEFAULT_TABLE_REDUCER)
        fill_combo(f.cmbFormat, FORMAT_CHOICES, None, "COG")
        fill_combo(f.cmbMethod, METHODS, method_labels(), "auto")
        fill_combo(f.cmbZonalEngine, ZONAL_ENGINES, None, DEFAULT_ZONAL_ENGINE)
        f.cmbZonalStats.clear()
        f.cmbZonalStats.addItems(list(SIMPLE_STATISTICS))
        f.cmbZonalStats.setCheckedItems(["mean"])

    # ------------------------------------------------------------------------------ choices
    def source_type(self) -> str:
        return combo_value(self.ui.cmbSourceType)

    def region_mode(self) -> str:
        return combo_value(self.ui.cmbRegionMode)

    def kind(self) -> str:
        return combo_value(self.ui.cmbKind)

    def method(self) -> str:
        return combo_value(self.ui.cmbMethod)

    def output_format(self) -> str:
        return combo_value(self.ui.cmbFormat)

    def collection_mode(self) -> str:
        return combo_value(self.ui.cmbCollectionMode)

    def table_operation(self) -> str:
        return combo_value(self.ui.cmbTableOperation)

    def set_source_type(self, value: str) -> None:
        set_combo_value(self.ui.cmbSourceType, value)

    def set_region_mode(self, value: str) -> None:
        set_combo_value(self.ui.cmbRegionMode, value)

    def set_kind(self, value: str) -> None:
        set_combo_value(self.ui.cmbKind, value)

    def set_method(self, value: str) -> None:
        set_combo_value(self.ui.cmbMethod, value)

    def set_output_format(self, value: str) -> None:
        set_combo_value(self.ui.cmbFormat, value)

    # ------------------------------------------------------------------------------ bands
    def checked_bands(self) -> List[str]:
        """What the combo shows as checked, read from the combo itself (signals for check
        changes are not always sent on every QGIS version)."""
        return list(self.ui.cmbBands.checkedItems())

    def note_band_checks(self) -> None:
        """Record the order in which bands were checked (called on any check change)."""
        checked = self.checked_bands()
        self.band_order = [b for b in self.band_order if b in checked] + [
            b for b in checked if b not in self.band_order]

    def selected_bands(self) -> List[str]:
        """The checked bands, in the order they were checked (bands whose check was never
        signalled follow, in the combo's order)."""
        checked = self.checked_bands()
        return [b for b in self.band_order if b in checked] + [b for b in checked if b not in self.band_order]

    def set_bands(self, available: Sequence[str], checked: Sequence[str]) -> None:
        """Fill the list. The model's signals are not blocked: the list view learns of its
        items through them (blocked, the drop-down stayed empty and nothing could be
        clicked); the dock ignores the check changes made here (:attr:`filling_bands`)."""
        combo = self.ui.cmbBands
        self.filling_bands = True
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItems(list(available) + [b for b in checked if b not in available])
            combo.setCheckedItems(list(checked))
        finally:
            combo.blockSignals(False)
            self.filling_bands = False
        self.band_order = list(checked)
        combo.update()

    # ------------------------------------------------------------------------------ drawing
    def set_drawn_rectangle(self, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> None:
        self.drawn = QgsRectangle(extent)
        self.drawn_crs = QgsCoordinateReferenceSystem(crs)

    # ------------------------------------------------------------------------------ form → spec
    def output_folder(self) -> str:
        folder = self.ui.fileOutputFolder.filePath().strip()
        if not folder:
            raise FormError(field="output.directory", reason=tr("choose where results are written"))
        return str(Path(folder).expanduser().resolve())

    def spec_dict(self, copy_dir: Optional[Path] = None) -> Dict[str, Any]:
        """The job spec as plain data, exactly what a job file would contain.

        ``copy_dir``: where to write a GeoJSON copy of a layer's features when the layer is not
        a plain file (only when a job is started; estimates use the features' union inline).
        """
        f = self.ui
        kind = self.kind()
        directory = self.output_folder()
        spec: Dict[str, Any] = {"version": 1, "name": f.txtJobName.text().strip(), "kind": kind,
                                "source": self.source_dict(), "region": self.region_dict(copy_dir)}
        grid: Dict[str, Any] = {}
        if not f.chkNativeCrs.isChecked():
            grid["crs"] = qgis_regions.crs_string(f.crsOutput.crs())
        if f.spnScale.value() > 0:
            grid["scale"] = float(f.spnScale.value())
        if grid:
            spec["grid"] = grid
        output: Dict[str, Any] = {"directory": directory, "format": self.output_format()}
        if f.txtOutputName.text().strip():
            output["name"] = f.txtOutputName.text().strip()
        if kind == "chips":
            output["chip_size"] = [f.spnChipSize.value(), f.spnChipSize.value()]
        if output["format"] in ("PNG", "JPEG"):
            output["visualization"] = self.visualization_dict()
        if f.chkOverwrite.isChecked():
            output["overwrite"] = True
        if f.chkMosaic.isChecked() and kind not in ("table", "timeseries"):
            output["vrt"] = True
        spec["output"] = output
        method = self.method()
        destination = f.txtDestination.text().strip() or None
        if method in ("export_gcs", "export_drive"):
            key = "bucket" if method == "export_gcs" else "folder"
            spec["method"] = {"type": method, key: destination}
        elif method == "auto":
            # A bucket lets "Automatic" export when batch would be faster.
            spec["method"] = {"type": "auto", **({"bucket": destination} if destination else {})}
        else:
            spec["method"] = {"type": "direct"}
        execution = qs.load_settings().execution_dict()  # the quota and engine of Settings' Jobs tab
        if execution:
            spec["execution"] = execution
        if kind in ("table", "timeseries"):
            spec["table"] = {"operation": self.table_operation(), "reducer": combo_value(f.cmbTableReducer)}
        if f.chkZonal.isChecked() and kind not in ("table", "timeseries"):
            spec["zonal"] = self.zonal_dict(copy_dir)
        return spec_edit.keep_unshown_fields(spec, self.loaded_spec)

    def build_spec(self, copy_dir: Optional[Path] = None) -> JobSpec:
        """Validated :class:`~eeextract_plugin.core.spec.JobSpec` (raises BadInput)."""
        return JobSpec.from_dict(self.spec_dict(copy_dir))

    def source_dict(self) -> Dict[str, Any]:
        f = self.ui
        st = self.source_type()
        src: Dict[str, Any] = {"type": st}
        if st == "expression":
            if self.expression is None:
                raise FormError(field="source.expression", reason=tr("type Python and press Convert first"))
            src["expression"] = self.expression
        else:
            src["asset_id"] = f.txtAssetId.text().strip()
        bands = self.selected_bands()
        if bands:
            src["bands"] = bands
        if st == "collection":
            src["start"] = f.dateStart.date().toString("yyyy-MM-dd")
            src["end"] = f.dateEnd.date().toString("yyyy-MM-dd")
            parsed = filters.parse_filters(f.txtFilters.text())
            if parsed:
                src["filters"] = parsed
            src["mode"] = self.collection_mode()
            if src["mode"] == "composite":
                src["reducer"] = combo_value(f.cmbReducer)
                if f.spnWindowDays.value() > 0:
                    src["window_days"] = f.spnWindowDays.value()
        return src

    def region_dict(self, copy_dir: Optional[Path]) -> Dict[str, Any]:
        f = self.ui
        mode = self.region_mode()
        if mode == "canvas":
            canvas = self.iface.mapCanvas()
            return qgis_regions.region_from_extent(canvas.extent(), canvas.mapSettings().destinationCrs())
        if mode == "drawn":
            if self.drawn is None:
                raise FormError(field="region", reason=tr("draw a rectangle on the map first"))
            return qgis_regions.region_from_extent(self.drawn, self.drawn_crs)
        layer = f.cmbRegionLayer.currentLayer()
        if layer is None:
            raise FormError(field="region", reason=tr("choose a layer"))
        if mode == "layer_extent":
            return qgis_regions.region_from_extent(layer.extent(), layer.crs())
        if not isinstance(layer, QgsVectorLayer):
            raise FormError(field="region", reason=tr("choose a vector layer"))
        id_field = f.cmbRegionIdField.currentField()
        if mode == "selected":
            return qgis_regions.region_from_features(layer, True, False)
        per_feature = mode in ("per_feature", "points")
        return qgis_regions.region_from_features(layer, f.chkSelectedOnly.isChecked(), per_feature,
                                                 id_field, copy_dir)

    def visualization_dict(self) -> Dict[str, Any]:
        text = self.ui.txtVisRange.text().replace(";", ",").strip()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            low, high = (float(parts[0]), float(parts[1])) if len(parts) == 2 else (None, None)
        except ValueError:
            low, high = None, None
        if low is None or high is None or not low < high:
            raise FormError(field="output.visualization",
                            reason=tr("PNG / JPEG need the value range to stretch, as 'min, max' (e.g. 0, 3000)"))
        vis: Dict[str, Any] = {"min": [low], "max": [high]}
        bands = self.selected_bands()
        if len(bands) in (1, 3):
            vis["bands"] = bands
        return vis

    def zonal_dict(self, copy_dir: Optional[Path]) -> Dict[str, Any]:
        f = self.ui
        layer = f.cmbZoneLayer.currentLayer()
        if not isinstance(layer, QgsVectorLayer):
            raise FormError(field="zonal.polygons", reason=tr("choose a polygon layer"))
        id_field = f.cmbZoneIdField.currentField()
        if not id_field:
            raise FormError(field="zonal.id_field", reason=tr("choose the zone ID field"))
        source = qgis_regions.layer_file(layer)
        if source is None:
            target = (copy_dir or Path(self.output_folder())) / f"{layer.name()}-zones.geojson"  # i18n: not translated (a file)
            path = qgis_regions.write_features_geojson(layer, False, target) if copy_dir else str(target)
            source = {"path": path}
        zonal: Dict[str, Any] = {"polygons": source["path"], "id_field": id_field,
                                 "statistics": list(f.cmbZonalStats.checkedItems()) or ["mean"],
                                 "engine": combo_value(f.cmbZonalEngine)}
        if source.get("layer"):
            zonal["layer"] = source["layer"]
        return zonal

    # ------------------------------------------------------------------------------ spec → form
    def load_spec(self, spec: JobSpec) -> Tuple[str, str]:
        """Fill the widgets from a spec (a job file opened, a job of the list to edit). Returns
        the region mode and kind it set (the dock updates what depends on them)."""
        f = self.ui
        self.loaded_spec = None  # not while the form is being filled
        s = spec.source
        self.set_source_type(s.type)
        if s.type == "expression":
            self.expression = s.expression
            f.txtExpression.blockSignals(True)
            f.txtExpression.setPlainText(tr("# loaded from a job file: the serialized expression is kept"))
            f.txtExpression.blockSignals(False)
            f.lblExpressionStatus.setText(tr("Expression loaded from the job file."))
        else:
            f.txtAssetId.setText(s.asset_id or "")
        self.set_bands(list(s.bands or []), list(s.bands or []))
        if s.type == "collection":
            if s.start:
                f.dateStart.setDate(QDate.fromString(s.start[:10], "yyyy-MM-dd"))
            if s.end:
                f.dateEnd.setDate(QDate.fromString(s.end[:10], "yyyy-MM-dd"))
            f.txtFilters.setText(filters.format_filters(s.filters))
            set_combo_value(f.cmbCollectionMode, s.mode)
            f.spnWindowDays.setValue(s.window_days or 0)
            set_combo_value(f.cmbReducer, s.reducer)
        r = spec.region
        if r.type == "bbox":
            assert r.bbox is not None
            self.set_drawn_rectangle(QgsRectangle(*r.bbox), QgsCoordinateReferenceSystem(r.crs))
            self.set_region_mode("drawn")
        elif r.type == "file" and r.path:
            f.cmbRegionLayer.setLayer(self.layer_for_file(r.path, r.layer))
            sample = spec.table is not None and spec.table.operation == "sample"
            self.set_region_mode("points" if spec.kind == "chips" or sample else "per_feature")
            if r.id_field:
                f.cmbRegionIdField.setField(r.id_field)
        elif r.type == "geometry" and r.geometry:
            layer = self.layer_for_geometry(spec.name, r.geometry, r.crs)
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
            self.set_output_format(o.format)
        f.fileOutputFolder.setFilePath(o.directory)
        if o.chip_size:
            f.spnChipSize.setValue(o.chip_size[0])
        f.chkOverwrite.setChecked(bool(o.overwrite))
        f.chkMosaic.setChecked(bool(o.vrt))
        vis = o.visualization
        f.txtVisRange.setText(f"{vis.min[0]:g}, {vis.max[0]:g}" if vis and vis.min and vis.max else "")
        f.txtJobName.setText(spec.name)
        f.txtOutputName.setText(o.name or "")
        self.set_method(spec.method.type)
        f.txtDestination.setText(spec.method.bucket or spec.method.folder or "")
        if spec.table:
            set_combo_value(f.cmbTableOperation, spec.table.operation)
            set_combo_value(f.cmbTableReducer, spec.table.reducer)
        f.chkZonal.setChecked(spec.zonal is not None)
        if spec.zonal:
            z = spec.zonal
            f.cmbZoneLayer.setLayer(self.layer_for_file(z.polygons, z.layer))
            f.cmbZoneIdField.setField(z.id_field)
            f.cmbZonalStats.setCheckedItems(z.statistics)
            set_combo_value(f.cmbZonalEngine, z.engine)
        self.loaded_spec = spec.to_dict()
        return self.region_mode(), self.kind()

    def layer_for_file(self, path: str, sublayer: Optional[str] = None) -> Optional[QgsVectorLayer]:
        """The project's layer reading ``path`` (added to the project when missing)."""
        wanted = {"path": str(Path(path).resolve()), **({"layer": sublayer} if sublayer else {})}
        for lyr in QgsProject.instance().mapLayers().values():
            if isinstance(lyr, QgsVectorLayer) and qgis_regions.layer_file(lyr) == wanted:
                return lyr
        uri = path + (f"|layername={sublayer}" if sublayer else "")
        layer = QgsVectorLayer(uri, Path(path).stem, "ogr")
        if not layer.isValid():
            return None
        QgsProject.instance().addMapLayer(layer)
        return layer

    def layer_for_geometry(self, name: str, geometry: Dict[str, Any], crs: str) -> Optional[QgsVectorLayer]:
        """A memory layer holding a spec's inline geometry (one feature per part)."""
        kind = "Point" if geometry.get("type") in ("Point", "MultiPoint") else "Polygon"
        layer = QgsVectorLayer(f"{kind}?crs={crs}", tr("{job} region").format(job=name), "memory")
        parts = qgis_regions.geometry_from_geojson(geometry).asGeometryCollection()
        feats = []
        for part in parts:
            feat = QgsFeature()
            feat.setGeometry(QgsGeometry(part))
            feats.append(feat)
        layer.dataProvider().addFeatures(feats)
        layer.updateExtents()
        QgsProject.instance().addMapLayer(layer)
        return layer
