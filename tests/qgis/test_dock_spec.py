"""The dock builds the same job spec a job file gives."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.gui.messages import form_message

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture()
def dock(qgis_iface, qgis_new_project, clean_settings, tmp_path):
    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    sessions = SessionSource()
    launched = []
    board = JobBoard(qgis_iface, sessions, launch=launched.append)
    d = EEExtractDock(qgis_iface, sessions, board=board)
    d.launch = launched.append  # background checks are recorded, not run
    d.launched = launched
    yield d
    d.shutdown()
    d.deleteLater()


@pytest.fixture()
def example_copy(tmp_path):
    """The examples folder copied, so relative paths resolve inside tmp_path."""
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest)
    return dest


def _file_spec(path: Path) -> dict:
    d = JobSpec.from_file(path).to_dict()
    d.pop("description", None)
    return d


def _add_layer(path: Path, name: str):
    from qgis.core import QgsProject, QgsVectorLayer

    layer = QgsVectorLayer(str(path), name, "ogr")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_dock_fills_in_the_same_spec_as_dem_per_feature(dock, example_copy):
    fields = _add_layer(example_copy / "data" / "fields.geojson", "fields")
    f = dock.form
    dock.job_form.set_source_type("asset")
    f.txtAssetId.setText("SANDBOX/DEM")
    dock.job_form.set_region_mode("per_feature")
    f.cmbRegionLayer.setLayer(fields)
    f.cmbRegionIdField.setField("field_id")
    assert dock.job_form.kind() == "features"  # chosen from the region
    f.cmbFormat.setCurrentText("COG")
    f.fileOutputFolder.setFilePath(str(example_copy / "output"))
    f.txtJobName.setText("dem-per-feature")
    f.txtOutputName.setText("dem")
    f.chkZonal.setChecked(True)
    f.cmbZoneLayer.setLayer(fields)
    f.cmbZoneIdField.setField("field_id")
    f.cmbZonalStats.setCheckedItems(["mean", "min", "max"])
    f.cmbZonalEngine.setCurrentText("exactextract")

    built = dock.build_spec().to_dict()
    assert built == _file_spec(example_copy / "dem-per-feature.json")


def test_dock_fills_in_the_same_spec_as_s2_per_image(dock, example_copy):
    """Typed into the widgets as a user would, from the values of the example file."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle
    from qgis.PyQt.QtCore import QDate

    spec_file = example_copy / "s2-per-image.json"
    want = JobSpec.from_file(spec_file)
    f = dock.form
    dock.job_form.set_source_type("collection")
    f.txtAssetId.setText(want.source.asset_id)
    f.cmbBands.addItems(want.source.bands + ["EXTRA"])  # what the asset check would list
    f.cmbBands.setCheckedItems(want.source.bands)
    f.dateStart.setDate(QDate.fromString(want.source.start, "yyyy-MM-dd"))
    f.dateEnd.setDate(QDate.fromString(want.source.end, "yyyy-MM-dd"))
    f.txtFilters.setText("; ".join(f"{x.property} {x.op} {x.value}" for x in want.source.filters))
    f.cmbCollectionMode.setCurrentIndex(0)
    # The rectangle a user drags with the map tool.
    dock.set_drawn_rectangle(QgsRectangle(*want.region.bbox),
                             QgsCoordinateReferenceSystem(want.region.crs))
    assert dock.job_form.region_mode() == "drawn"
    assert dock.job_form.kind() == "collection"
    f.chkNativeCrs.setChecked(False)
    f.crsOutput.setCrs(QgsCoordinateReferenceSystem(want.grid.crs))
    f.spnScale.setValue(want.grid.scale)
    f.cmbFormat.setCurrentText(want.output.format)
    f.fileOutputFolder.setFilePath(str(example_copy / "output"))
    f.txtJobName.setText(want.name)
    f.txtOutputName.setText(want.output.name)

    assert dock.build_spec().to_dict() == _file_spec(spec_file)


@pytest.mark.parametrize("name", ["dem-mosaic", "dem-per-feature", "s2-per-image",
                                  "dem-sample-table", "dem-expression-export", "s2-ndvi-composite",
                                  "s2-chips", "s2-ndvi-timeseries"])
def test_a_job_file_opened_in_the_dock_comes_back_unchanged(dock, example_copy, name):
    spec_file = example_copy / f"{name}.json"
    dock.load_spec(JobSpec.from_file(spec_file))
    built = dock.build_spec().to_dict()
    # Fields the form has no widget for (table scale, export file dimensions, description,
    # execution) come back as the file had them.
    assert built == JobSpec.from_file(spec_file).to_dict()


def test_form_errors_name_the_field(dock, tmp_path):
    f = dock.form
    f.txtAssetId.setText("SANDBOX/DEM")
    dock.job_form.set_region_mode("drawn")
    f.fileOutputFolder.setFilePath(str(tmp_path))
    with pytest.raises(BadInput, match="region: draw a rectangle") as raised:
        dock.build_spec()
    assert form_message(raised.value) == "From: draw a rectangle on the map first"
    dock.job_form.set_region_mode("canvas")
    f.fileOutputFolder.setFilePath("")
    with pytest.raises(BadInput, match="output.directory") as raised:
        dock.build_spec()
    assert form_message(raised.value) == "Folder: choose where results are written"
    # A field named inside the engine's sentence is named as the form names it.
    assert form_message(BadInput(field="output", reason="/x/a.tif exists (set output.overwrite to replace it)")) \
        == "Folder: /x/a.tif exists (check “Replace existing output files” to replace it)"


@pytest.mark.parametrize("error, said", [
    (BadInput(field="output.overwrite", reason="/x/a.tif exists (set output.overwrite to replace it)"),
     "Replace existing output files: /x/a.tif exists (check “Replace existing output files” to replace it)"),
    (BadInput("source.asset_id: C is a IMAGE_COLLECTION, not an image (use source.type 'collection')"),
     "Asset ID: C is an image collection, not an image (choose Type “Image collection”)"),
    (BadInput(field="source.asset_id", reason="is not an Earth Engine asset ID: ''"),
     "Asset ID: type the ID of an Earth Engine image or image collection"),
    (BadInput(field="grid", reason="grid of 1360044 x 1429283 pixels is larger than 1e+12"),
     "Scale: the output would be 1,360,044 × 1,429,283 pixels, more than 1,000,000,000,000: "
     "choose a larger Scale or a smaller region"),
    (BadInput(field="execution.engine", reason="'dask' needs the Python packages dask and distributed, which "
              "are not installed here (pip install \"dask[distributed]\"); or use engine 'threads'"),
     "EE Extract settings → Run requests on: 'dask' needs the Python packages dask and distributed, which "
     "are not installed here (pip install \"dask[distributed]\"); or run requests on “This computer (in QGIS)”"),
    (RuntimeError("Please authorize access to your Earth Engine account by running\n\nearthengine "
                  "authenticate\n\nin your command line"),
     "Please authorize access to your Earth Engine account by running earthengine authenticate "
     "in your command line"),
])
def test_the_engines_messages_in_the_forms_words(error, said):
    """The messages of the first half hour (issue 10), as the dock now says them: one line,
    the form's labels and choices, never a spec field path."""
    text = form_message(error)
    assert text == said
    assert "\n" not in text and not re.search(r"\b(source|output|grid|region|execution)\.[a-z]", text)


def test_region_from_selected_features_and_canvas(dock, qgis_iface, example_copy, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    fields = _add_layer(example_copy / "data" / "fields.geojson", "fields")
    f = dock.form
    f.txtAssetId.setText("SANDBOX/DEM")
    f.fileOutputFolder.setFilePath(str(tmp_path))
    f.cmbRegionLayer.setLayer(fields)
    fields.selectByIds([next(fields.getFeatures()).id()])
    dock.job_form.set_region_mode("selected")
    region = dock.build_spec().region
    assert region.type == "geometry" and region.geometry["type"] in ("Polygon", "MultiPolygon")

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(7.0, 46.0, 7.5, 46.25))
    dock.job_form.set_region_mode("canvas")
    spec = dock.build_spec()
    xmin, ymin, xmax, ymax = spec.region.bbox
    assert spec.region.type == "bbox" and spec.region.crs == "EPSG:4326"
    assert xmin <= 7.0 and xmax >= 7.5 and ymin <= 46.0 and ymax >= 46.25


def test_bands_keep_the_order_they_were_checked_in(dock, tmp_path):
    """B4, B3, B2 checked one by one is an RGB image: the spec keeps that order."""
    from qgis.PyQt.QtCore import Qt

    f = dock.form
    dock.set_bands(["B2", "B3", "B4", "B8"], [])
    for band in ("B4", "B3", "B2"):
        f.cmbBands.setItemCheckState(f.cmbBands.findText(band), Qt.Checked)
    assert dock.job_form.selected_bands() == ["B4", "B3", "B2"]
    dock._reorder_bands()  # what the event loop runs right after the click
    assert [f.cmbBands.itemText(i) for i in range(4)] == ["B4", "B3", "B2", "B8"]
    assert f.cmbBands.checkedItems() == ["B4", "B3", "B2"]  # the combo reads in output order
    assert dock.job_form.selected_bands() == ["B4", "B3", "B2"]
    f.cmbBands.setItemCheckState(f.cmbBands.findText("B3"), Qt.Unchecked)
    f.cmbBands.setItemCheckState(f.cmbBands.findText("B3"), Qt.Checked)
    assert dock.job_form.selected_bands() == ["B4", "B2", "B3"]
    f.txtAssetId.setText("SANDBOX/S2_SR")
    f.fileOutputFolder.setFilePath(str(tmp_path))
    dock.job_form.set_region_mode("canvas")
    dock.set_drawn_rectangle(__import__("qgis.core").core.QgsRectangle(0, 0, 1, 1),
                             __import__("qgis.core").core.QgsCoordinateReferenceSystem("EPSG:4326"))
    assert dock.build_spec().source.bands == ["B4", "B2", "B3"]


def test_a_rectangle_dragged_on_the_map_becomes_the_region(dock, qgis_iface, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle
    from qgis.gui import QgsMapMouseEvent
    from qgis.PyQt.QtCore import QEvent, QPoint, Qt

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(7.0, 46.0, 8.0, 47.0))
    dock.job_form.set_region_mode("drawn")
    dock.form.btnDrawRectangle.setChecked(True)
    tool = dock.map_tool
    assert canvas.mapTool() is tool
    start, end = QPoint(10, 10), QPoint(60, 40)
    tool.canvasPressEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton))
    tool.canvasMoveEvent(QgsMapMouseEvent(canvas, QEvent.MouseMove, end, Qt.LeftButton, Qt.LeftButton))
    tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.LeftButton))
    assert dock.job_form.drawn is not None and not dock.job_form.drawn.isEmpty()
    p1 = canvas.getCoordinateTransform().toMapCoordinates(start)
    assert abs(dock.job_form.drawn.xMinimum() - p1.x()) < 1e-6 and abs(dock.job_form.drawn.yMaximum() - p1.y()) < 1e-6
    dock.form.txtAssetId.setText("SANDBOX/DEM")
    dock.form.fileOutputFolder.setFilePath(str(tmp_path))
    region = dock.build_spec().region
    assert region.type == "bbox" and region.crs == "EPSG:4326"
    assert region.bbox == [round(v, 10) for v in region.bbox]
    dock.form.btnDrawRectangle.setChecked(False)
    assert canvas.mapTool() is not tool


def test_each_export_method_keeps_its_destination(dock, clean_settings, tmp_path):
    from eeextract_plugin import qgis_settings as qs

    qs.save_settings(qs.ConnectionSettings(mode=qs.MODE_SANDBOX, bucket="default-bucket",
                                           drive_folder="EE exports"))
    f = dock.form
    dock.job_form.set_method("export_gcs")
    assert f.txtDestination.text() == "default-bucket"
    f.txtDestination.setText("my-bucket")
    dock.job_form.set_method("export_drive")
    assert f.txtDestination.text() == "EE exports"
    dock.job_form.set_method("export_gcs")
    assert f.txtDestination.text() == "my-bucket"
    f.txtAssetId.setText("SANDBOX/DEM")
    f.fileOutputFolder.setFilePath(str(tmp_path))
    dock.set_drawn_rectangle(__import__("qgis.core").core.QgsRectangle(7, 46, 7.1, 46.1),
                             __import__("qgis.core").core.QgsCoordinateReferenceSystem("EPSG:4326"))
    method = dock.build_spec().method
    assert (method.type, method.bucket) == ("export_gcs", "my-bucket")
    dock.job_form.set_method("direct")
    assert dock.build_spec().method.type == "direct" and not f.txtDestination.isEnabled()


def test_png_chips_need_a_value_range_and_can_use_selected_points_only(dock, example_copy, tmp_path):
    points = _add_layer(example_copy / "data" / "points.geojson", "points")
    f = dock.form
    f.txtAssetId.setText("SANDBOX/S2_SR")
    dock.job_form.set_source_type("collection")
    f.cmbCollectionMode.setCurrentIndex(1)
    dock.set_bands(["B2", "B3", "B4"], ["B4", "B3", "B2"])
    dock.job_form.set_region_mode("points")
    f.cmbRegionLayer.setLayer(points)
    assert dock.job_form.kind() == "chips" and f.chkSelectedOnly.isVisibleTo(dock)
    f.fileOutputFolder.setFilePath(str(tmp_path))
    f.cmbFormat.setCurrentText("PNG")
    assert f.txtVisRange.isVisibleTo(dock)
    with pytest.raises(ValueError, match="value range"):
        dock.build_spec()
    f.txtVisRange.setText("0, 3000")
    vis = dock.build_spec().output.visualization
    assert (vis.bands, vis.min, vis.max) == (["B4", "B3", "B2"], [0.0], [3000.0])
    region = dock.build_spec().region
    assert region.type == "file" and region.path.endswith("points.geojson")

    ids = [feat.id() for feat in points.getFeatures()][:2]
    points.selectByIds(ids)
    f.chkSelectedOnly.setChecked(True)
    preview = dock.build_spec().region  # before a run: the selection inline
    assert preview.type == "geometry" and len(preview.geometry["coordinates"]) == 2
    started = dock.build_spec(copy_dir=tmp_path / "inputs").region  # a run: a copy of the selection
    assert started.type == "file" and started.path.startswith(str(tmp_path / "inputs"))
    import json

    assert len(json.loads(open(started.path).read())["features"]) == 2


def test_an_estimate_for_a_form_since_changed_is_dropped(dock, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    from eeextract_plugin.core.plan import PlanSummary

    def summary(pixels: int) -> PlanSummary:
        return PlanSummary(outputs=1, units=1, requests=1, pixels=pixels, bytes=2 * pixels,
                           request_bytes=3 * pixels, tile_size=256, bytes_per_pixel=2,
                           lower_bound_s=0.5, huge=False)

    f = dock.form
    f.txtAssetId.setText("SANDBOX/DEM")
    f.fileOutputFolder.setFilePath(str(tmp_path))
    dock.set_drawn_rectangle(QgsRectangle(7, 46, 7.1, 46.1), QgsCoordinateReferenceSystem("EPSG:4326"))
    planned = dock.build_spec().to_dict()
    f.spnScale.setValue(30)  # the user goes on typing while the planner works
    dock._estimate_done(planned, summary(1))
    assert dock.last_estimate is None
    dock._estimate_done(dock.build_spec().to_dict(), summary(400))
    assert dock.last_estimate is not None and "400 px" in f.lblEstimate.text()


def test_a_custom_crs_travels_as_wkt_not_as_a_qgis_user_id(qgis_app):
    from qgis.core import QgsCoordinateReferenceSystem

    from eeextract_plugin.gui.qgis_regions import crs_string

    assert crs_string(QgsCoordinateReferenceSystem("EPSG:32633")) == "EPSG:32633"
    custom = QgsCoordinateReferenceSystem.fromProj("+proj=tmerc +lat_0=0 +lon_0=13.37 +k=0.9996 "
                                                   "+x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs")
    assert custom.isValid()
    text = crs_string(custom)
    assert not text.upper().startswith(("USER:", "EPSG:")) and "Transverse" in text
    from pyproj import CRS

    params = {p.name: p.value for p in CRS.from_user_input(text).coordinate_operation.params}
    assert params["Longitude of natural origin"] == 13.37


@pytest.mark.parametrize("text", ["CLOUDY_PIXEL_PERCENTAGE<20", "CLOUDY_PIXEL_PERCENTAGE lt 20"])
def test_the_form_reads_filters_with_the_cores_grammar(dock, tmp_path, text):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    f = dock.form
    dock.job_form.set_source_type("collection")
    f.txtAssetId.setText("SANDBOX/S2_SR")
    f.txtFilters.setText(text)
    f.fileOutputFolder.setFilePath(str(tmp_path))
    dock.set_drawn_rectangle(QgsRectangle(7, 46, 7.1, 46.1), QgsCoordinateReferenceSystem("EPSG:4326"))
    filters = dock.build_spec().source.filters
    assert [(x.property, x.op, x.value) for x in filters] == [("CLOUDY_PIXEL_PERCENTAGE", "lt", 20)]
    f.txtFilters.setText("CLOUDY_PIXEL_PERCENTAGE")
    with pytest.raises(BadInput) as raised:
        dock.build_spec()
    assert form_message(raised.value).startswith("Filters: cannot read 'CLOUDY_PIXEL_PERCENTAGE'")


def test_the_forms_choices_are_the_cores(dock):
    from eeextract_plugin.core import spec

    f = dock.form
    for combo, values in ((f.cmbKind, spec.KINDS), (f.cmbSourceType, spec.SOURCE_TYPES),
                          (f.cmbMethod, spec.METHODS), (f.cmbReducer, spec.REDUCERS),
                          (f.cmbZonalEngine, spec.ZONAL_ENGINES),
                          (f.cmbFormat, spec.RASTER_FORMATS + spec.TABLE_FORMATS)):
        assert sorted(combo.itemData(i) for i in range(combo.count())) == sorted(values)


def test_the_jobs_list_words_times_as_the_command_line(qgis_app):
    from eeextract_plugin.core.wording import format_duration
    from eeextract_plugin.gui.jobs import JobEntry

    entry = JobEntry(key="k", name="n", workdir="/w", state="running", eta_s=3725.0)
    assert entry.eta_text() == format_duration(3725.0) == "1 h 02 min"
