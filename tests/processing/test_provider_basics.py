"""The provider, the connection resolution and the feedback adapters (no Earth Engine needed)."""

from __future__ import annotations

import logging

import pytest


def test_provider_has_the_id_name_and_icon(qgis_app):
    from eeextract_plugin.processing.provider import ICON, EEExtractProvider

    provider = EEExtractProvider()
    assert provider.id() == "eeextract"
    assert provider.name() == "EE Extract"
    assert ICON.exists()


def test_connection_parameters_win_over_environment_and_settings(qgis_app, tmp_path):
    import json

    from eeextract_plugin.processing.connection import resolve_connection
    from eeextract_plugin.qgis_session import ResolvedConnection

    env = {"EEEXTRACT_URL": "http://127.0.0.1:1/", "EEEXTRACT_PROJECT": "envproj"}
    stored = ResolvedConnection(mode="persistent", url="", project="setproj", high_volume=True,
                                concurrency=16)
    def settings():
        return stored

    explicit = resolve_connection(url="http://localhost:9", project="p", environ=env, settings=settings)
    assert (explicit.mode, explicit.url, explicit.project) == ("custom_url", "http://localhost:9", "p")
    from_env = resolve_connection(environ=env, settings=settings)
    assert (from_env.mode, from_env.url, from_env.project) == ("custom_url", "http://127.0.0.1:1", "envproj")
    assert resolve_connection(environ={}, settings=settings) == stored
    other_project = resolve_connection(project="mine", environ={}, settings=settings)
    assert (other_project.mode, other_project.project, other_project.high_volume) == ("persistent", "mine", True)

    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "a@b.iam", "private_key": "k"}))
    account = resolve_connection(credentials=str(key), project="p", environ={}, settings=settings)
    assert account.mode == "service_account" and account.key["client_email"] == "a@b.iam"
    assert "private_key" not in repr(account)


def test_feedback_progress_and_cancel_and_logs(qgis_app):
    from qgis.core import QgsProcessingFeedback

    from eeextract_plugin.processing.feedback import FeedbackProgress, engine_logs_to

    feedback = QgsProcessingFeedback()
    seen = []
    feedback.progressChanged.connect(seen.append)
    infos = []
    feedback.pushInfo = infos.append  # type: ignore[method-assign]
    progress = FeedbackProgress(feedback)
    progress(0.25)
    progress({"done": 3, "total": 4})
    assert seen[-2:] == [25.0, 75.0]
    assert not progress.is_cancelled()
    feedback.cancel()
    assert progress.is_cancelled()
    with engine_logs_to(feedback):
        logging.getLogger("eeextract_plugin.core.runner").info("tile 3 of 4 written")
    logging.getLogger("eeextract_plugin.core.runner").info("after the run")
    assert infos == ["tile 3 of 4 written"]


@pytest.mark.parametrize(
    "message", ["Image.load: Asset 'SANDBOX/NOPE' not found.", "User memory limit exceeded."]
)
def test_earth_engine_errors_keep_their_message(message):
    import ee

    from eeextract_plugin.processing.base import describe_error

    assert describe_error(ee.EEException(message)) == f"Earth Engine: {message}"


def test_url_sandbox_means_the_embedded_sandbox(qgis_app, monkeypatch):
    from eeextract_plugin.processing import connection

    class FakeSource:
        def sandbox_url(self):
            return "http://127.0.0.1:8765/"

    monkeypatch.setattr(connection, "session_source", lambda: FakeSource())
    resolved = connection.resolve_connection(url="sandbox", environ={})
    assert (resolved.mode, resolved.url, resolved.project) == ("custom_url", "http://127.0.0.1:8765", "sandbox")


def test_every_algorithm_has_help_and_outputs(eeextract_provider):
    algorithms = eeextract_provider.algorithms()
    assert {a.name() for a in algorithms} == {
        "extract_image", "extract_chips", "extract_collection", "export_mosaic",
        "zonal_statistics", "sample_reduce", "time_series", "run_job_file", "extract_per_feature"}
    for alg in algorithms:
        assert len(alg.shortHelpString()) > 200, alg.name()
        assert alg.outputDefinitions(), alg.name()
        assert alg.flags() & alg.FlagCanCancel, alg.name()


def test_the_loaded_plugins_session_source_is_shared(qgis_app, monkeypatch):
    from qgis import utils

    from eeextract_plugin.processing import connection
    from eeextract_plugin.qgis_session import SessionSource

    class EEExtractPlugin:  # stands for the loaded plugin instance (only its name is checked)
        def __init__(self):
            self.sessions = SessionSource(load_settings=lambda: None)

    plugin = EEExtractPlugin()
    monkeypatch.setattr(utils, "plugins", {"eeextract_plugin": plugin}, raising=False)
    assert connection.session_source() is plugin.sessions
    monkeypatch.setattr(utils, "plugins", {}, raising=False)
    own = connection.session_source()
    assert own is not plugin.sessions and connection.session_source() is own


def test_the_plugin_registers_and_unregisters_the_provider(qgis_app, qgis_processing, qgis_iface):
    """The contract with the plugin shell: classFactory → initProcessing adds "eeextract";
    unload removes it (every register matched by an unregister)."""
    from qgis.core import QgsApplication

    import eeextract_plugin

    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("eeextract")
    if existing is not None:  # registered by another test: start clean (re-registered on demand)
        registry.removeProvider(existing)
    plugin = eeextract_plugin.classFactory(qgis_iface)
    plugin.initProcessing()
    provider = registry.providerById("eeextract")
    assert provider is not None and provider.algorithm("extract_image") is not None
    plugin.unload()
    assert registry.providerById("eeextract") is None


def test_a_connection_problem_reaches_the_user(eeextract_provider, monkeypatch, tmp_path):
    """Raised in prepareAlgorithm it would read "There were errors executing the algorithm"."""
    import processing
    from qgis.core import QgsProcessingException

    def broken(**kwargs):
        raise ValueError("Cloud project: required to use Earth Engine (Settings → Project)")

    monkeypatch.setattr("eeextract_plugin.processing.base.resolve_connection", broken)
    with pytest.raises(QgsProcessingException, match="Cloud project: required"):
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "EXTENT": "7,7.01,46,46.01 [EPSG:4326]", "OUTPUT": str(tmp_path / "x.tif")})


def test_the_provider_brings_no_wheel_with_its_own_native_libraries(tmp_path):
    """The provider, its algorithms and a zonal statistics run load neither shapely, pyproj,
    exactextract nor rasterio into a QGIS process (their wheels carry their own GEOS / PROJ /
    GDAL): nothing needs isolating any more."""
    import subprocess
    import sys
    from pathlib import Path

    code = f"""
import sys
from qgis.core import QgsApplication
app = QgsApplication([], False); app.initQgis()
from eeextract_plugin.processing.provider import EEExtractProvider
provider = EEExtractProvider(); provider.loadAlgorithms()
import numpy as np
from osgeo import gdal, osr
ds = gdal.GetDriverByName("GTiff").Create({str(tmp_path / "r.tif")!r}, 4, 4, 1, gdal.GDT_Float32)
ds.SetGeoTransform((0, 1, 0, 4, 0, -1)); s = osr.SpatialReference(); s.ImportFromEPSG(32631)
ds.SetProjection(s.ExportToWkt()); ds.GetRasterBand(1).WriteArray(np.ones((4, 4))); ds = None
from eeextract_plugin.core.zonal import ZonalRequest, run_zonal
res = run_zonal(ZonalRequest(raster={str(tmp_path / "r.tif")!r}, zones=[(1, "POLYGON((0 0,2 0,2 2,0 2,0 0))")],
                             zones_crs="EPSG:32631", statistics=["mean"], csv_path={str(tmp_path / "s.csv")!r}))
print(res.engine, sorted(m for m in sys.modules if m.split(".")[0] in ("shapely", "pyproj", "exactextract", "rasterio", "rasterstats")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-2000:]
    engine, _, loaded = out.stdout.strip().splitlines()[-1].partition(" ")
    assert loaded == "[]"
    assert engine in ("qgis", "exactextract")
