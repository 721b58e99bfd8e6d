"""Every algorithm run the way the Processing dialog runs it: each output left at "Create
temporary layer" with "Open output file after running" checked, the results then handled by
Processing's own post-processing (which loads the layers and reports, in red, any layer "not
correctly generated"). Also: a failing run leaves no empty work folder behind, and the modules
read their destinations in one place only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROCESSING = Path(__file__).resolve().parents[2] / "eeextract_plugin" / "processing"


@pytest.fixture()
def sandbox_env(sandbox_url, monkeypatch):
    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    return sandbox_url


class Recording:
    """A feedback keeping what the dialog's log would show in red."""

    def __new__(cls):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.errors = []

            def reportError(self, error, fatalError=False):  # noqa: N802 - Qt's name
                self.errors.append(error)
                super().reportError(error, fatalError)

        return _Feedback()


def run_like_the_dialog(algorithm_id, parameters, project):
    """Destinations as the dialog passes them, run, then the dialog's post-processing."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from processing.tools import dataobjects
    from qgis.core import QgsApplication, QgsProcessingOutputLayerDefinition

    algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
    feedback = Recording()
    context = dataobjects.createContext(feedback)
    params = dict(parameters)
    for definition in algorithm.destinationParameterDefinitions():
        if definition.name() not in params:
            output = QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT")
            output.destinationProject = project
            params[definition.name()] = output
    results, ok = algorithm.run(params, context, feedback)
    assert ok, feedback.errors
    to_load = list(context.layersToLoadOnCompletion().keys())
    loaded = handleAlgorithmResults(algorithm, context, feedback, False, params)
    return results, to_load, loaded, feedback.errors


@pytest.fixture()
def points(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "points.gpkg", {
        "p1": "POINT(7.01 46.01)", "p2": "POINT(7.05 46.02)"}, epsg=4326, id_field="pid", geometry="Point")


@pytest.fixture()
def fields(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "fields.gpkg", {
        "f1": helpers.box(2.30, 48.84, 2.31, 48.85), "f2": helpers.box(2.33, 48.85, 2.34, 48.86)},
        epsg=4326, id_field="field_id")


CASES = {
    "extract_image": lambda p, f, r: {"ASSET": "SANDBOX/DEM", "EXTENT": "7.0,7.02,46.0,46.01 [EPSG:4326]"},
    "sample_reduce": lambda p, f, r: {"ASSET": "SANDBOX/DEM", "INPUT": p, "ID_FIELD": "pid",
                                      "OPERATION": "sample", "SCALE": 30},
    "time_series": lambda p, f, r: {"ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-06-15",
                                    "BANDS": "B4", "REGIONS": f, "ID_FIELD": "field_id", "SCALE": 20},
    "extract_chips": lambda p, f, r: {"ASSET": "SANDBOX/DEM", "POINTS": p, "ID_FIELD": "pid", "CHIP_SIZE": 8,
                                      "FORMAT": "GEO_TIFF"},
    "extract_collection": lambda p, f, r: {"ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-06-11",
                                           "BANDS": "B4", "MODE": "per_image",
                                           "EXTENT": "2.30,2.31,48.84,48.845 [EPSG:4326]", "CRS": "EPSG:32631",
                                           "SCALE": 20},
    "extract_per_feature": lambda p, f, r: {"ASSET": "SANDBOX/DEM", "POLYGONS": f, "ID_FIELD": "field_id"},
    "export_mosaic": lambda p, f, r: {"ASSET": "SANDBOX/DEM", "EXTENT": "7.0,7.02,46.0,46.01 [EPSG:4326]",
                                      "DESTINATION": "export_gcs", "BUCKET": "sandbox-public"},
    "zonal_statistics": lambda p, f, r: {"INPUT": r, "ZONES": f, "ID_FIELD": "field_id",
                                         "STATISTICS": "mean", "ENGINE": "rasterstats"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_temporary_outputs_opened_after_running(name, eeextract_provider, sandbox_env, points, fields,
                                                tmp_path, helpers):
    from qgis.core import QgsProject

    raster = helpers.write_raster(tmp_path / "r.tif", [[1, 2], [3, 4]], origin=(2.30, 48.86), pixel=0.02,
                                  epsg=4326)
    project = QgsProject.instance()
    before = set(project.mapLayers())
    try:
        results, to_load, loaded, errors = run_like_the_dialog(
            f"eeextract:{name}", CASES[name](points, fields, raster), project)
        assert loaded, errors
        assert not [e for e in errors if "not correctly generated" in e], errors
        for path in to_load:  # each file the dialog opens was written (sinks are memory layers)
            assert "/" not in path or Path(path.split("|")[0]).exists(), (path, results)
        added = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
        assert len(added) == len(to_load) and all(layer.isValid() for layer in added)
    finally:
        for layer_id in set(project.mapLayers()) - before:
            project.removeMapLayer(layer_id)


def test_a_failing_run_leaves_no_empty_work_folder(eeextract_provider, sandbox_env, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="SANDBOX/NOPE"):
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/NOPE", "EXTENT": "7.0,7.02,46.0,46.01 [EPSG:4326]",
            "OUTPUT": str(tmp_path / "x.tif")})
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_destinations_are_read_in_one_place():
    """``parameterAsOutputLayer`` / ``parameterAsFileOutput`` invent a new temporary path per
    call: only ``output_path`` (base.py) may call them, and it caches the answer per run."""
    offenders = []
    for path in PROCESSING.glob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.parameterAs(OutputLayer|FileOutput)\(", line) and path.name != "base.py":
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders
    base = (PROCESSING / "base.py").read_text(encoding="utf-8")
    assert len(re.findall(r"\.parameterAs(?:OutputLayer|FileOutput)\(", base)) == 2
