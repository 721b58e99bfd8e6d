"""Cancelling from the Processing feedback stops the engine; the error says the job can resume."""

from __future__ import annotations

import pytest


def test_cancel_during_a_run_stops_the_job(eeextract_provider, sandbox_url, monkeypatch, tmp_path, helpers):
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback
    from qgis.PyQt.QtCore import Qt

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    points = helpers.write_polygons(tmp_path / "many.gpkg", {
        f"p{i:02d}": f"POINT({7.0 + 0.01 * i} 46.0)" for i in range(40)}, epsg=4326, id_field="pid",
        geometry="Point")
    feedback = QgsProcessingFeedback()
    # The engine reports from its worker threads: cancel right there, at its first report.
    feedback.progressChanged.connect(lambda p: p > 2 and feedback.cancel(), Qt.DirectConnection)
    with pytest.raises(QgsProcessingException, match="(?i)cancel.*resume") as raised:
        processing.run("eeextract:extract_chips", {
            "ASSET": "SANDBOX/DEM", "POINTS": points, "ID_FIELD": "pid", "CHIP_SIZE": 8, "FORMAT": "GEO_TIFF",
            "OUTPUT_FOLDER": str(tmp_path / "chips"), "FOOTPRINTS": "TEMPORARY_OUTPUT",
        }, feedback=feedback)
    assert feedback.isCanceled()
    assert "of 40 units" in str(raised.value)
    assert len(list((tmp_path / "chips").glob("*.tif"))) < 40


def test_cancel_before_start(eeextract_provider, sandbox_url, monkeypatch, tmp_path):
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="(?i)cancel"):
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.01,46,46.01 [EPSG:4326]",
            "OUTPUT": str(tmp_path / "x.tif")}, feedback=feedback)
    assert not (tmp_path / "x.tif").exists()


def test_running_the_same_parameters_again_resumes_the_cancelled_job(
    eeextract_provider, sandbox_url, monkeypatch, tmp_path, helpers
):
    import re

    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback
    from qgis.PyQt.QtCore import Qt

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    points = helpers.write_polygons(tmp_path / "many.gpkg", {
        f"p{i:02d}": f"POINT({7.0 + 0.01 * i} 46.1)" for i in range(30)}, epsg=4326, id_field="pid",
        geometry="Point")
    parameters = {"ASSET": "SANDBOX/DEM", "POINTS": points, "ID_FIELD": "pid", "CHIP_SIZE": 8,
                  "FORMAT": "GEO_TIFF", "OUTPUT_FOLDER": str(tmp_path / "chips"),
                  "FOOTPRINTS": "TEMPORARY_OUTPUT"}
    first = QgsProcessingFeedback()
    first.progressChanged.connect(lambda p: p > 2 and first.cancel(), Qt.DirectConnection)
    with pytest.raises(QgsProcessingException, match="(?i)cancel") as raised:
        processing.run("eeextract:extract_chips", parameters, feedback=first)
    job_id = re.search(r"\(job (\S+),", str(raised.value)).group(1)
    done_before = len(list((tmp_path / "chips").glob("*.tif")))
    assert done_before < 30

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.infos = []

        def pushInfo(self, info):  # noqa: N802 (QGIS's name)
            self.infos.append(info)

    again = Recording()
    result = processing.run("eeextract:extract_chips", parameters, feedback=again)
    assert any(f"Resuming job {job_id}" in line for line in again.infos), again.infos
    assert result["CHIP_COUNT"] == 30
    assert len(list((tmp_path / "chips").glob("*.tif"))) == 30
