"""Each algorithm's parameters become a valid job spec (``core.spec.JobSpec``), field by field."""

from __future__ import annotations

import pytest


def build(algorithm_id, parameters):
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    from eeextract_plugin.core.spec import JobSpec

    alg = QgsApplication.processingRegistry().createAlgorithmById(f"eeextract:{algorithm_id}")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    ok, message = alg.checkParameterValues(parameters, context)
    assert ok, message
    raw = alg.build_spec(parameters, context, feedback)
    return JobSpec.from_dict(raw)


@pytest.fixture()
def points(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "points.gpkg", {
        "a": "POINT(12.45 41.89)", "b": "POINT(12.50 41.90)"}, epsg=4326, id_field="pid",
        geometry="Point")


@pytest.fixture()
def fields(tmp_path, helpers):
    return helpers.write_polygons(tmp_path / "fields.gpkg", {
        "f1": helpers.box(12.40, 41.85, 12.45, 41.90)}, epsg=4326, id_field="field_id")


def test_extract_image_extent_with_its_crs(eeextract_provider, tmp_path):
    spec = build("extract_image", {
        "ASSET": "SANDBOX/DEM", "BANDS": "elevation",
        "EXTENT": "500000,510000,4600000,4610000 [EPSG:32632]",
        "CRS": "EPSG:32632", "SCALE": 30, "OUTPUT": str(tmp_path / "dem.tif"),
    })
    assert spec.kind == "mosaic"
    assert spec.source.type == "asset" and spec.source.asset_id == "SANDBOX/DEM"
    assert spec.source.bands == ["elevation"]
    assert spec.region.bbox == [500000, 4600000, 510000, 4610000]
    assert spec.region.crs == "EPSG:32632"
    assert (spec.grid.crs, spec.grid.scale) == ("EPSG:32632", 30)
    assert spec.output.format == "COG"


def test_extract_image_native_grid_and_expression(eeextract_provider, tmp_path):
    import json

    expression = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/DEM"}}}}}}
    spec = build("extract_image", {
        "EXPRESSION": json.dumps(expression), "EXTENT": "7,7.1,46,46.1 [EPSG:4326]",
        "SCALE": 0.001, "OUTPUT": str(tmp_path / "x.tif"),
    })
    assert spec.source.type == "expression" and spec.source.expression == expression
    assert spec.grid.crs is None and spec.grid.scale == 0.001


def test_extract_chips_from_a_composite(eeextract_provider, points, tmp_path):
    spec = build("extract_chips", {
        "ASSET": "SANDBOX/S2_SR", "BANDS": "B4,B3,B2", "START": "2019-06-01", "END": "2019-09-01",
        "REDUCER": "median", "POINTS": points, "ID_FIELD": "pid", "CRS": "EPSG:32633", "SCALE": 10,
        "CHIP_SIZE": 64, "FORMAT": "PNG", "VIS_MIN": "0", "VIS_MAX": "3000",
        "OUTPUT_FOLDER": str(tmp_path / "chips"), "FOOTPRINTS": "TEMPORARY_OUTPUT",
    })
    assert spec.kind == "chips"
    assert (spec.source.type, spec.source.mode, spec.source.reducer) == ("collection", "composite", "median")
    assert spec.region.type == "file" and spec.region.id_field == "pid"
    assert spec.region.path.endswith("points.gpkg")
    assert spec.output.chip_size == [64, 64] and spec.output.format == "PNG"
    assert spec.output.visualization.min == [0.0] and spec.output.visualization.max == [3000.0]


def test_extract_collection_windows_and_filters(eeextract_provider, tmp_path):
    spec = build("extract_collection", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-08-01", "BANDS": "B4,B8",
        "FILTER": "CLOUDY_PIXEL_PERCENTAGE < 20", "NORMALIZED_DIFFERENCE": "B8,B4",
        "MODE": "composite", "WINDOW_DAYS": 30, "REDUCER": "mean",
        "EXTENT": "12.40,12.55,41.85,41.95 [EPSG:4326]", "CRS": "EPSG:32633", "SCALE": 20,
        "OUTPUT_FOLDER": str(tmp_path / "out"), "INDEX": "TEMPORARY_OUTPUT",
    })
    s = spec.source
    assert (s.type, s.mode, s.window_days, s.reducer) == ("collection", "composite", 30, "mean")
    assert [(f.property, f.op, f.value) for f in s.filters] == [("CLOUDY_PIXEL_PERCENTAGE", "lt", 20)]
    assert s.index == {"name": "NDVI", "normalized_difference": ["B8", "B4"]}


@pytest.mark.parametrize("text", ["CLOUDY_PIXEL_PERCENTAGE lt 20; MGRS_TILE <> 29SND",
                                  "CLOUDY_PIXEL_PERCENTAGE<20;MGRS_TILE != 29SND"])
def test_filters_read_as_the_dock_and_the_job_file_read_them(eeextract_provider, tmp_path, text):
    """One grammar (core/filters.py): the dock's word operators work here too."""
    spec = build("extract_collection", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-08-01", "FILTER": text,
        "EXTENT": "12.40,12.55,41.85,41.95 [EPSG:4326]", "OUTPUT_FOLDER": str(tmp_path / "out"),
        "INDEX": "TEMPORARY_OUTPUT"})
    assert [(f.property, f.op, f.value) for f in spec.source.filters] == [
        ("CLOUDY_PIXEL_PERCENTAGE", "lt", 20), ("MGRS_TILE", "neq", "29SND")]


def test_export_mosaic_to_a_bucket(eeextract_provider, tmp_path):
    spec = build("export_mosaic", {
        "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.2,46,46.1 [EPSG:4326]", "DESTINATION": "export_gcs",
        "BUCKET": "sandbox-private", "OUTPUT": str(tmp_path / "dem.tif"),
    })
    assert (spec.method.type, spec.method.bucket) == ("export_gcs", "sandbox-private")


def test_sample_and_time_series(eeextract_provider, points, fields, tmp_path):
    spec = build("sample_reduce", {
        "ASSET": "SANDBOX/DEM", "INPUT": points, "ID_FIELD": "pid", "OPERATION": "sample", "SCALE": 30,
        "OUTPUT": str(tmp_path / "s.gpkg"),
    })
    assert spec.kind == "table" and spec.table.operation == "sample" and spec.table.scale == 30
    spec = build("time_series", {
        "ASSET": "SANDBOX/S2_SR", "START": "2019-04-01", "END": "2019-10-01", "BANDS": "B4,B8",
        "NORMALIZED_DIFFERENCE": "B8,B4", "REGIONS": fields, "ID_FIELD": "field_id", "SCALE": 20,
        "OUTPUT": str(tmp_path / "ts.csv"),
    })
    assert spec.kind == "timeseries" and spec.table.reducer == "mean"
    assert spec.source.type == "collection" and spec.region.id_field == "field_id"


def test_bad_parameters_are_processing_errors(eeextract_provider, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="asset ID"):
        build("extract_image", {"EXTENT": "7,7.1,46,46.1 [EPSG:4326]", "OUTPUT": str(tmp_path / "x.tif")})
    with pytest.raises(QgsProcessingException, match="filter"):
        build("extract_collection", {
            "ASSET": "SANDBOX/S2_SR", "START": "2019-06-01", "END": "2019-08-01", "FILTER": "cloudy",
            "EXTENT": "12.40,12.55,41.85,41.95 [EPSG:4326]", "OUTPUT_FOLDER": str(tmp_path),
            "INDEX": "TEMPORARY_OUTPUT"})


def test_concurrency_parameter_reaches_the_spec(eeextract_provider, sandbox_url, monkeypatch, tmp_path):
    import processing

    from eeextract_plugin.processing import base

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    seen = []
    real = base.run_job
    monkeypatch.setattr(base, "run_job", lambda spec, *a, **k: seen.append(spec) or real(spec, *a, **k))
    processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.01,46,46.01 [EPSG:4326]", "CONCURRENCY": 7,
        "OUTPUT": str(tmp_path / "c.tif")})
    assert seen[0].execution.max_concurrent_requests == 7


def test_the_settings_jobs_tab_reaches_processing_jobs(eeextract_provider, sandbox_url, monkeypatch, tmp_path):
    """The request rate and the quota typed on the settings' Jobs tab are the Processing jobs'
    too (as the dock's); the algorithm's own Concurrent requests parameter still wins."""
    import processing

    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.processing import base

    saved = qs.load_settings()
    changed = qs.load_settings()
    changed.requests_per_second, changed.concurrency = 12.5, 9
    qs.save_settings(changed)
    try:
        monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
        seen = []
        real = base.run_job
        monkeypatch.setattr(base, "run_job", lambda spec, *a, **k: seen.append(spec) or real(spec, *a, **k))
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.01,46,46.01 [EPSG:4326]",
            "OUTPUT": str(tmp_path / "a.tif")})
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.01,46,46.01 [EPSG:4326]", "CONCURRENCY": 3,
            "OUTPUT": str(tmp_path / "b.tif")})
    finally:
        qs.save_settings(saved)
    assert (seen[0].execution.requests_per_second, seen[0].execution.max_concurrent_requests) == (12.5, 9)
    assert (seen[1].execution.requests_per_second, seen[1].execution.max_concurrent_requests) == (12.5, 3)
