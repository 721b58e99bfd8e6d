"""Algorithms through QGIS's task manager, as the toolbox dialog runs them
(QgsProcessingAlgRunnerTask on pooled worker threads), several in a row."""

from __future__ import annotations


def run_in_task(algorithm_id, parameters, guard_s=120):
    from qgis.core import (
        QgsApplication,
        QgsProcessingAlgRunnerTask,
        QgsProcessingContext,
        QgsProcessingFeedback,
    )
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    alg = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    task = QgsProcessingAlgRunnerTask(alg, parameters, context, feedback)
    outcome = {}
    loop = QEventLoop()

    def done(ok, results):
        outcome.update(ok=ok, results=results)
        loop.quit()

    task.executed.connect(done)
    QgsApplication.taskManager().addTask(task)
    QTimer.singleShot(guard_s * 1000, loop.quit)  # a guard against a hang, not a timing check
    loop.exec()
    return outcome


def test_several_runs_on_the_task_managers_threads(eeextract_provider, sandbox_url, monkeypatch, tmp_path):
    from osgeo import gdal

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    for i in range(4):
        out = tmp_path / f"dem{i}.tif"
        outcome = run_in_task("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "EXTENT": f"7.0{i},7.0{i + 2},46.0,46.01 [EPSG:4326]",
            "CRS": "EPSG:32632", "SCALE": 30, "OUTPUT": str(out)})
        assert outcome.get("ok"), outcome
        assert gdal.Open(str(out)).GetSpatialRef().GetAuthorityCode(None) == "32632"


def test_layers_and_sinks_on_the_task_managers_threads(eeextract_provider, sandbox_url, monkeypatch,
                                                       tmp_path, helpers):
    import csv

    from qgis.core import QgsVectorLayer

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    points = helpers.write_polygons(tmp_path / "pts.gpkg", {"a": "POINT(7.01 46.01)", "b": "POINT(7.02 46.02)"},
                                    epsg=4326, id_field="pid", geometry="Point")
    for i in range(2):
        outcome = run_in_task("eeextract:extract_chips", {
            "ASSET": "SANDBOX/DEM", "POINTS": points, "ID_FIELD": "pid", "CHIP_SIZE": 8,
            "FORMAT": "GEO_TIFF", "OUTPUT_FOLDER": str(tmp_path / f"chips{i}"),
            "FOOTPRINTS": str(tmp_path / f"footprints{i}.gpkg")})
        assert outcome.get("ok"), outcome
        assert QgsVectorLayer(outcome["results"]["FOOTPRINTS"], "f", "ogr").featureCount() == 2
    zones = helpers.write_polygons(tmp_path / "zones.gpkg", {"z": helpers.box(7.0, 46.0, 7.03, 46.03)},
                                   epsg=4326, id_field="zone")
    outcome = run_in_task("eeextract:zonal_statistics", {
        "INPUT": str(next((tmp_path / "chips0").glob("*.tif"))), "ZONES": zones, "ID_FIELD": "zone",
        "STATISTICS": "count", "OUTPUT_TABLE": str(tmp_path / "s.csv"), "OUTPUT": str(tmp_path / "z.gpkg")})
    assert outcome.get("ok"), outcome
    with open(tmp_path / "s.csv", newline="") as handle:
        assert float(next(csv.DictReader(handle))["elevation_count"] or 0) > 0
