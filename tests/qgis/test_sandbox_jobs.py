"""Jobs run against the sandbox through the QGIS side: task → engine → layers in the project.

Tasks are run synchronously here (``task.run()`` then ``task.finished()``, as QGIS does on its
worker and main threads), so the tests need no event loop and no waiting.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from eeextract_plugin.core.spec import JobSpec

# ee.serializer.encode(ee.Image('SANDBOX/DEM'), for_cloud_api=True)
DEM_EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/DEM"}}}}}}


def run_synchronously(task) -> None:
    task.finished(task.run())


def dem_spec(out_dir, name="dem-job", tile_size=None, bbox=(7.0, 46.0, 7.1, 46.05)) -> JobSpec:
    d = {"version": 1, "name": name, "kind": "mosaic",
         "source": {"type": "expression", "expression": DEM_EXPRESSION},
         "region": {"type": "bbox", "bbox": list(bbox), "crs": "EPSG:4326"},
         "grid": {"crs": "EPSG:4326", "scale": 0.000277777777778},
         "output": {"directory": str(out_dir), "format": "COG", "name": name},
         "execution": {"max_concurrent_requests": 2}}
    if tile_size:
        d["execution"]["tile_size"] = tile_size
    return JobSpec.from_dict(d)


@pytest.fixture()
def board(qgis_iface, qgis_new_project, sandbox_settings):
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource, forget_session

    forget_session()
    b = JobBoard(qgis_iface, SessionSource(), launch=run_synchronously)
    yield b
    b.shutdown()


def _group_layers(name):
    from qgis.core import QgsProject

    group = QgsProject.instance().layerTreeRoot().findGroup(name)
    return [] if group is None else [n.layer() for n in group.findLayers()]


def _pixels(path):
    from osgeo import gdal

    ds = gdal.Open(str(path))
    return ds.GetRasterBand(1).ReadAsArray()


def test_a_job_run_against_the_sandbox_adds_its_layer_to_the_project(board, tmp_path):
    from qgis.core import QgsProject

    from eeextract_plugin import project_jobs

    entry = board.start(dem_spec(tmp_path / "out"))
    assert entry.state == "completed", entry.message
    assert entry.job_id and entry.outputs
    layers = _group_layers("dem-job")
    assert [lyr.source() for lyr in layers] == entry.outputs
    assert layers[0].isValid() and layers[0].bandCount() == 1
    recorded = project_jobs.read_jobs(QgsProject.instance())
    assert [r.job_id for r in recorded] == [entry.job_id]
    assert _pixels(entry.outputs[0]).std() > 0  # real data, not an empty raster
    board.refresh()  # e.g. a project read: the job is listed once, not again under its id
    assert [e.job_id for e in board.jobs.values()].count(entry.job_id) == 1


def test_cancel_stops_the_job_and_resume_completes_it_with_the_same_pixels(board, tmp_path):
    from qgis.PyQt.QtCore import Qt

    reference = board.start(dem_spec(tmp_path / "ref", name="reference", tile_size=64))
    assert reference.state == "completed", reference.message

    spec = dem_spec(tmp_path / "out", name="interrupted", tile_size=64)
    original_launch = board.launch

    def launch_and_cancel_midway(task):
        def maybe_cancel(detail):  # runs in the engine's thread: the user clicks Cancel
            if detail.get("units_done", 0) >= 1:  # the engine's first report (reports are throttled)
                task.cancel()
        task.progress_detail.connect(maybe_cancel, Qt.DirectConnection)
        original_launch(task)

    board.launch = launch_and_cancel_midway
    entry = board.start(spec)
    board.launch = original_launch
    assert entry.state == "cancelled"
    assert 1 <= entry.units_done < entry.units_total
    assert _group_layers("interrupted") == []  # nothing loaded for an unfinished job

    board.resume(entry.key)
    assert entry.state == "completed", entry.message
    assert entry.units_done == entry.units_total
    layers = _group_layers("interrupted")
    assert len(layers) == 1
    assert (_pixels(entry.outputs[0]) == _pixels(reference.outputs[0])).all()


def _cancelled_midway(board, spec, after_units=1, by="user", after_a_file_in=None):
    """The job started, then cancelled once ``after_units`` are done: by the user (the Jobs
    tab's Cancel) or by QGIS (which cancels every task when it is closed). ``after_a_file_in``:
    a folder where at least one output must be finished first (the fetching thread waits for
    the writing one: without it, whether a file is written before the cancel is a race)."""
    from qgis.PyQt.QtCore import Qt

    original_launch = board.launch

    def launch_and_cancel(task):
        def cancel(detail):
            if detail.get("units_done", 0) < after_units or task.is_cancelled():
                return
            if after_a_file_in is not None:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not any(
                        not f.name.startswith(".") for f in Path(after_a_file_in).glob("*.tif")):  # not a .part
                    time.sleep(0.02)
            if by == "user":
                board.cancel(next(k for k, e in board.jobs.items() if e.task is task))
            else:
                task.cancel()
        task.progress_detail.connect(cancel, Qt.DirectConnection)
        original_launch(task)

    board.launch = launch_and_cancel
    try:
        return board.start(spec)
    finally:
        board.launch = original_launch


def per_image_spec(out_dir, name="s2-per-image") -> JobSpec:
    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": "collection",
        "source": {"type": "collection", "asset_id": "SANDBOX/S2_SR", "start": "2019-06-01",
                   "end": "2019-07-01", "bands": ["B4", "B3", "B2"], "mode": "per_image"},
        "region": {"type": "bbox", "bbox": [-8.45, 38.43, -8.44, 38.44], "crs": "EPSG:4326"},
        "output": {"directory": str(out_dir), "format": "GEO_TIFF", "name": name},
        "execution": {"max_concurrent_requests": 1}})


def test_a_cancelled_job_of_many_files_loads_none_of_them_as_its_result(board, qgis_iface, tmp_path):
    """One file per image, cancelled after the first: its finished files stay on disk and are
    not added as if they were the job's result; the message says how many there are and what
    Load and Resume do. Load shows them (saying the job is not finished); Resume completes the
    job and each file is then one layer, none twice."""
    from qgis.core import Qgis

    bar = qgis_iface.messageBar()
    bar.clear_messages()
    entry = _cancelled_midway(board, per_image_spec(tmp_path / "out"), after_units=3, after_a_file_in=tmp_path / "out")
    assert entry.state == "cancelled", entry.message
    assert 1 <= entry.files_done < entry.files_total, (entry.files_done, entry.files_total)
    assert _group_layers("s2-per-image") == []
    said = [m for m in bar.get_messages(Qgis.Info) if "s2-per-image" in m]
    assert said and f"{entry.files_done} of {entry.files_total} file(s) kept, not loaded" in said[-1]
    assert "Load shows them" in said[-1] and "Resume completes it" in said[-1]
    assert len(entry.outputs) == entry.files_done  # what Load shows

    board.load_results(entry.key)  # the Load button
    shown = [lyr.source() for lyr in _group_layers("s2-per-image")]
    assert sorted(shown) == sorted(entry.outputs)
    assert any("is not finished" in m for m in bar.get_messages(Qgis.Info))

    board.resume(entry.key)
    assert entry.state == "completed", entry.message
    rasters = [lyr.source() for lyr in _group_layers("s2-per-image") if lyr.type() == lyr.RasterLayer]
    assert len(rasters) == len(set(rasters)) == entry.files_total >= 2


def test_jobs_survive_a_restart_and_are_offered_for_resume(board, qgis_iface, tmp_path):
    """A job cut short by a crash is offered at start-up; one the user cancelled is listed."""
    import eeextract_plugin
    from eeextract_plugin.core.registry import RUNNING, Registry, default_registry_path
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    crashed = _cancelled_midway(board, dem_spec(tmp_path / "a", name="restartable", tile_size=64))
    cancelled = _cancelled_midway(board, dem_spec(tmp_path / "b", name="user-cancelled", tile_size=64))
    from eeextract_plugin.gui.jobs import stopped_at_shutdown

    assert stopped_at_shutdown() == []  # the user's Cancel: nothing to offer at the next start
    assert crashed.state == cancelled.state == "cancelled"
    # QGIS was killed while the first job ran: the registry says running, its process is gone.
    with Registry(default_registry_path(crashed.workdir)) as reg:
        reg.set_job_state(crashed.job_id, RUNNING, None, 2**22 + 12345)
    board.shutdown()

    # QGIS starts again: the plugin offers the interrupted job, not the one the user cancelled.
    plugin = eeextract_plugin.classFactory(qgis_iface)
    assert [j.id for j in plugin.unfinished_jobs()] == [crashed.job_id]
    bar = qgis_iface.messageBar()
    bar.clearWidgets()
    plugin.offer_resume()
    offer = bar.currentItem()
    assert offer is not None and "restartable" in offer.text() and "user-cancelled" not in offer.text()
    again = JobBoard(qgis_iface, SessionSource(), launch=run_synchronously)
    try:
        listed = {e.job_id: e for e in again.resumable()}
        assert {crashed.job_id, cancelled.job_id} <= set(listed)
        entry = listed[crashed.job_id]
        assert entry.state == "interrupted" and 1 <= entry.units_done < entry.units_total
        again.resume(entry.key)
        assert entry.state == "completed", entry.message
        assert _group_layers("restartable")
    finally:
        again.shutdown()


def test_jobs_running_when_qgis_closes_are_offered_at_the_next_start(board, qgis_iface, tmp_path):
    import eeextract_plugin
    from eeextract_plugin.gui.jobs import JobEntry, stopped_at_shutdown

    stopped = _cancelled_midway(board, dem_spec(tmp_path / "a", name="closing", tile_size=64))

    class RunningTask:  # what QGIS closing finds: a job still running in its task
        def detach(self):
            pass

        def cancel(self):
            pass

    board.jobs[stopped.key] = JobEntry(key=stopped.key, name="closing", workdir=stopped.workdir,
                                       job_id=stopped.job_id, task=RunningTask())
    board.shutdown()  # plugin unload as QGIS closes
    assert stopped_at_shutdown() == [stopped.job_id]
    plugin = eeextract_plugin.classFactory(qgis_iface)
    assert [j.id for j in plugin.unfinished_jobs()] == [stopped.job_id]


def test_a_job_qgis_cancels_as_it_closes_is_offered_at_the_next_start(board, qgis_iface, tmp_path):
    """QGIS closed with a job running asks to cancel its tasks: that run is stopped, not
    cancelled by the user, and the next start offers it."""
    import eeextract_plugin
    from eeextract_plugin.gui.jobs import stopped_at_shutdown

    stopped = _cancelled_midway(board, dem_spec(tmp_path / "a", name="closing", tile_size=64), by="qgis")
    assert stopped.state == "cancelled"
    assert stopped_at_shutdown() == [stopped.job_id]
    plugin = eeextract_plugin.classFactory(qgis_iface)
    assert [j.id for j in plugin.unfinished_jobs()] == [stopped.job_id]


def test_a_failing_job_reports_earth_engines_message(board, qgis_iface, tmp_path):
    bad = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/NO_SUCH_IMAGE"}}}}}}
    spec = dem_spec(tmp_path / "out", name="broken")
    spec.source.expression = bad
    qgis_iface.messageBar().clear_messages()
    entry = board.start(spec)
    # Refused while planning, before the job existed: no "failed 0 %" row left in the list.
    assert entry.key not in board.jobs and not entry.job_id
    from qgis.core import Qgis

    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
    said = [m for m in warnings if "NO_SUCH_IMAGE" in m]
    assert said and "not started" in said[0] and "source.expression" not in said[0], warnings


def test_the_dock_checks_assets_and_estimates_in_background_tasks(qgis_iface, qgis_new_project,
                                                                   sandbox_settings, tmp_path):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    sessions = SessionSource()
    board = JobBoard(qgis_iface, sessions, launch=run_synchronously)
    dock = EEExtractDock(qgis_iface, sessions, board=board)
    launched = []
    dock.launch = lambda task: (launched.append(task.description()), run_synchronously(task))
    try:
        dock.form.fileOutputFolder.setFilePath(str(tmp_path / "out"))
        dock._expression_converted(DEM_EXPRESSION)
        dock.job_form.set_source_type("expression")
        dock.set_drawn_rectangle(QgsRectangle(7.0, 46.0, 7.1, 46.05),
                                 QgsCoordinateReferenceSystem("EPSG:4326"))
        dock.form.chkNativeCrs.setChecked(False)
        dock.form.crsOutput.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        dock.form.spnScale.setValue(0.000277777777778)
        dock.update_estimate()  # what the debounce timer calls after every change
        assert launched[-1] == "EE Extract: estimate"
        assert dock.last_estimate is not None, dock.form.lblEstimate.text()
        estimate = dock.last_estimate[1]
        assert estimate.pixels == 360 * 180 and estimate.requests >= 1
        assert "px" in dock.form.lblEstimate.text()

        dock.job_form.set_source_type("asset")
        dock.form.txtAssetId.setText("SANDBOX/DEM")
        dock.check_asset()
        assert launched[-1] == "EE Extract: check SANDBOX/DEM"
        text = dock.form.lblAssetInfo.text()
        assert "elevation" in text or "not found" in text.lower(), text
    finally:
        dock.shutdown()


def test_many_outputs_can_be_mosaicked_into_a_vrt_layer(board, tmp_path):
    spec = JobSpec.from_dict({
        "version": 1, "name": "s2-images", "kind": "collection",
        "source": {"type": "collection", "asset_id": "SANDBOX/S2_SR", "start": "2019-06-01",
                   "end": "2019-06-12", "bands": ["B4", "B3", "B2"], "mode": "per_image"},
        "region": {"type": "bbox", "bbox": [-8.45, 38.43, -8.43, 38.44], "crs": "EPSG:4326"},
        "grid": {"crs": "EPSG:32629", "scale": 20},
        "output": {"directory": str(tmp_path / "out"), "format": "GEO_TIFF", "name": "s2", "vrt": True}})
    entry = board.start(spec)
    assert entry.state == "completed", entry.message
    assert entry.result.vrt.endswith("s2-mosaic.vrt") and len(entry.result.rasters) >= 2
    assert entry.result.index.endswith("s2-index.gpkg")
    from qgis.core import QgsMultiBandColorRenderer

    layers = {lyr.name(): lyr for lyr in _group_layers("s2-images")}
    assert isinstance(layers["s2-mosaic"].renderer(), QgsMultiBandColorRenderer)


def test_zonal_statistics_load_as_a_table_joined_to_the_zones(board, tmp_path):
    import json

    from qgis.core import QgsProject, QgsVectorLayer

    zones_path = tmp_path / "fields.geojson"
    zones_path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"field_id": f"f{i}"}, "geometry": {"type": "Polygon",
         "coordinates": [[[x, 46.01], [x + 0.02, 46.01], [x + 0.02, 46.03], [x, 46.03], [x, 46.01]]]}}
        for i, x in enumerate((7.01, 7.05))]}))
    zones = QgsVectorLayer(str(zones_path), "fields", "ogr")
    QgsProject.instance().addMapLayer(zones)
    spec = dem_spec(tmp_path / "out", name="dem-zonal")
    spec = JobSpec.from_dict({**spec.to_dict(), "zonal": {
        "polygons": str(zones_path), "id_field": "field_id", "statistics": ["mean", "max"]}})
    entry = board.start(spec)
    assert entry.state == "completed", entry.message
    tables = [lyr for lyr in _group_layers("dem-zonal") if lyr.name().endswith("_zonal")]
    assert len(tables) == 1 and tables[0].featureCount() == 2
    joined = [j.joinLayerId() for j in zones.vectorJoins()]
    assert joined == [tables[0].id()]
    names = zones.fields().names()
    mean_field = next(n for n in names if n.endswith("mean"))
    assert all(f[mean_field] is not None for f in zones.getFeatures())


def test_reopening_the_project_shows_its_jobs(board, qgis_iface, clean_settings, tmp_path):
    from qgis.core import QgsProject

    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    entry = board.start(dem_spec(tmp_path / "out", name="in-project"))
    assert entry.state == "completed"
    project = QgsProject.instance()
    path = tmp_path / "project.qgz"
    assert project.write(str(path))
    board.shutdown()
    project.clear()
    clean_settings.remove("eeextract/workdirs")  # another machine: only the project knows the job

    fresh = JobBoard(qgis_iface, SessionSource(), launch=run_synchronously)
    try:
        assert entry.job_id not in fresh.jobs
        assert project.read(str(path))  # readProject → the board reads the project's records
        assert fresh.jobs[entry.job_id].state == "completed"
        assert fresh.jobs[entry.job_id].outputs == entry.outputs
        assert [lyr.source() for lyr in _group_layers("in-project")] == entry.outputs
    finally:
        fresh.shutdown()


def test_chips_at_points_are_indexed_by_footprints(board, tmp_path):
    import json

    points = tmp_path / "points.geojson"
    points.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pid": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [7.02 + 0.02 * i, 46.02]}} for i in range(3)]}))
    spec = JobSpec.from_dict({
        "version": 1, "name": "dem-chips", "kind": "chips",
        "source": {"type": "expression", "expression": DEM_EXPRESSION},
        "region": {"type": "file", "path": str(points), "id_field": "pid"},
        "grid": {"crs": "EPSG:4326", "scale": 0.000277777777778},
        "output": {"directory": str(tmp_path / "out"), "format": "GEO_TIFF", "chip_size": [16, 16]}})
    entry = board.start(spec)
    assert entry.state == "completed", entry.message
    assert len([p for p in entry.outputs if p.endswith(".tif")]) == 3
    footprints = [lyr for lyr in _group_layers("dem-chips") if lyr.name() == "dem-chips footprints"]
    assert footprints and footprints[0].featureCount() == 3


def test_a_huge_job_asks_before_it_starts(qgis_iface, qgis_new_project, sandbox_settings, tmp_path,
                                          monkeypatch):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle
    from qgis.PyQt.QtWidgets import QMessageBox

    from eeextract_plugin.core.plan import PlanSummary, is_huge
    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    sessions = SessionSource()
    started = []
    board = JobBoard(qgis_iface, sessions, launch=started.append)
    dock = EEExtractDock(qgis_iface, sessions, board=board)
    try:
        dock.form.fileOutputFolder.setFilePath(str(tmp_path / "out"))
        dock.form.txtAssetId.setText("SANDBOX/DEM")
        dock.set_drawn_rectangle(QgsRectangle(7.0, 46.0, 7.1, 46.05), QgsCoordinateReferenceSystem("EPSG:4326"))
        huge = PlanSummary(outputs=1, units=400_000, requests=400_000, pixels=10**12, bytes=2 * 10**12,
                           request_bytes=3 * 10**12, tile_size=2048, bytes_per_pixel=2,
                           lower_bound_s=20_000.0, huge=is_huge(2 * 10**12, 400_000, 20_000.0))
        dock.last_estimate = (dock.build_spec().to_dict(), huge)
        asked = []
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *a, **k: (asked.append(a[2]), QMessageBox.No)[1])
        dock.run_clicked()
        assert asked and "large" in asked[0].lower() and started == []
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
        dock.run_clicked()
        assert len(started) == 1  # confirmed: one QgsTask for the job
    finally:
        dock.shutdown()
        board.shutdown()


def test_python_typed_in_the_dock_is_converted_in_a_task_and_stored_serialized(
        qgis_iface, qgis_new_project, sandbox_settings, tmp_path):
    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    sessions = SessionSource()
    board = JobBoard(qgis_iface, sessions, launch=run_synchronously)
    dock = EEExtractDock(qgis_iface, sessions, board=board)
    launched = []
    dock.launch = lambda task: (launched.append(task.description()), run_synchronously(task))
    try:
        dock.job_form.set_source_type("expression")
        assert dock.form.lblExpressionWarning.isVisibleTo(dock) and \
            "runs Python code" in dock.form.lblExpressionWarning.text()
        dock.form.txtExpression.setPlainText(
            "dem = ee.Image('SANDBOX/DEM')\ndem.multiply(0.001).rename('km')")
        dock.convert_expression()
        assert launched == ["EE Extract: convert expression"]
        assert dock.job_form.expression is not None, dock.form.lblExpressionStatus.text()
        text = json.dumps(dock.job_form.expression)
        assert "Image.multiply" in text and "dem =" not in text
    finally:
        dock.shutdown()
        board.shutdown()


def test_a_cloud_storage_export_job_runs_and_loads(board, tmp_path):
    spec = dem_spec(tmp_path / "out", name="dem-export")
    spec = JobSpec.from_dict({**spec.to_dict(), "method": {"type": "export_gcs", "bucket": "sandbox-public"}})
    entry = board.start(spec)
    assert entry.state == "completed", entry.message
    assert [lyr.source() for lyr in _group_layers("dem-export")] == entry.outputs


def test_the_estimate_of_an_export_counts_tasks(sandbox_settings, tmp_path):
    from eeextract_plugin.core.runner import estimate_job
    from eeextract_plugin.qgis_session import SessionSource, open_session

    spec = dem_spec(tmp_path / "out")
    spec = JobSpec.from_dict({**spec.to_dict(), "method": {"type": "export_gcs", "bucket": "sandbox-public"}})
    estimate = estimate_job(spec, open_session(SessionSource().resolve()))
    assert estimate.export_tasks == 1 and "1 export task" in estimate.short_line()


def test_the_settings_dialog_tests_a_connection_in_the_background(qgis_app, clean_settings,
                                                                   sandbox_url):
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(qs.ConnectionSettings(mode=qs.MODE_CUSTOM_URL, custom_url=sandbox_url,
                                                  project="sandbox"))
    launched = []
    dialog.launch = lambda task: (launched.append(task.description()), run_synchronously(task))
    dialog.test_connection()
    assert launched == ["EE Extract: test connection"]
    assert "Connected" in dialog.lblTest.text() and "1 + 1 = 2" in dialog.lblTest.text()
    dialog.txtCustomUrl.setText("http://127.0.0.1:9")  # nothing listens there
    dialog.test_connection()
    assert "Connected" not in dialog.lblTest.text()
    assert qs.load_settings().custom_url == ""  # testing saves nothing
    dialog.reject()


def test_failed_units_are_retried_from_the_jobs_list(board, tmp_path, tmp_path_factory, sandbox_url):
    """Half the requests of a flaky server fail (no retries allowed): the job ends with failed
    units, which "Retry failed" fetches again once the service is well."""
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.sandbox.config import FaultInjection, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    flaky = SandboxServer(SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("flaky"),
                                        faults=FaultInjection(seed=7, error_500=0.5))).start()
    try:
        conn = qs.load_settings()
        conn.custom_url = flaky.url
        qs.save_settings(conn)
        spec = dem_spec(tmp_path / "out", name="flaky", tile_size=64)
        spec = JobSpec.from_dict({**spec.to_dict(), "execution": {
            "max_concurrent_requests": 2, "max_retries": 0, "tile_size": 64}})
        entry = board.start(spec)
    finally:
        flaky.stop()
    assert entry.state != "completed" and entry.units_failed > 0, (entry.state, entry.message)
    assert entry.state in ("failed", "completed_with_failures")

    conn.custom_url = sandbox_url  # the service is well again
    qs.save_settings(conn)
    board.resume(entry.key, retry_failed=True)
    assert entry.state == "completed", entry.message
    assert entry.units_failed == 0 and entry.units_done == entry.units_total
    assert _group_layers("flaky")


def test_a_table_of_values_sampled_at_points_loads_as_a_layer(board, tmp_path):
    import json

    points = tmp_path / "points.geojson"
    points.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pid": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [7.02 + 0.01 * i, 46.02]}} for i in range(4)]}))
    spec = JobSpec.from_dict({
        "version": 1, "name": "dem-samples", "kind": "table",
        "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": {"type": "file", "path": str(points), "id_field": "pid"},
        "table": {"operation": "sample", "scale": 30},
        "output": {"directory": str(tmp_path / "out"), "format": "CSV+GPKG", "name": "samples"}})
    entry = board.start(spec)
    assert entry.state == "completed", entry.message
    loaded = _group_layers("dem-samples")
    assert len(loaded) == 1  # the GeoPackage; its CSV twin is not loaded again
    assert loaded[0].featureCount() == 4 and loaded[0].isSpatial()


def test_running_a_job_again_needs_replace_and_says_why(board, qgis_iface, tmp_path):
    from qgis.core import Qgis

    first = board.start(dem_spec(tmp_path / "out", name="twice"))
    assert first.state == "completed"
    qgis_iface.messageBar().clear_messages()
    again = board.start(dem_spec(tmp_path / "out", name="twice"))
    assert again.key not in board.jobs  # refused before it existed: no "failed 0 %" row
    said = [m for m in qgis_iface.messageBar().get_messages(Qgis.Warning) if "exists" in m]
    assert said and "“Replace existing output files”" in said[0] and "output.overwrite" not in said[0]
    spec = JobSpec.from_dict({**dem_spec(tmp_path / "out", name="twice").to_dict(),
                              "output": {**dem_spec(tmp_path / "out", name="twice").to_dict()["output"],
                                         "overwrite": True}})
    assert board.start(spec).state == "completed"


def test_a_job_of_the_list_opens_in_the_form(qgis_iface, qgis_new_project, sandbox_settings, tmp_path):
    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    sessions = SessionSource()
    board = JobBoard(qgis_iface, sessions, launch=run_synchronously)
    dock = EEExtractDock(qgis_iface, sessions, board=board)
    try:
        spec = dem_spec(tmp_path / "out", name="reopen-me")
        entry = board.start(spec)
        assert entry.state == "completed"
        dock.form.tabs.setCurrentIndex(1)
        dock.form.treeJobs.setCurrentItem(dock.jobs_view.items[entry.key])
        assert dock.edit_selected_job()
        assert dock.form.tabs.currentIndex() == 0
        assert dock.build_spec().to_dict() == spec.to_dict()  # execution too
    finally:
        dock.shutdown()
        board.shutdown()
