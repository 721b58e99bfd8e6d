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


def test_connection_parameters_win_over_environment_and_settings():
    from types import SimpleNamespace

    from eeextract_plugin.processing.connection import resolve_connection

    env = {"EEEXTRACT_URL": "http://127.0.0.1:1", "EEEXTRACT_PROJECT": "envproj"}
    stored = SimpleNamespace(mode="persistent", project="setproj", custom_url="", high_volume=True,
                             concurrency=16, service_account_authcfg="")

    explicit = resolve_connection(url="http://localhost:9", project="p", environ=env,
                                  settings=lambda: stored)
    assert (explicit.url, explicit.project, explicit.credentials) == ("http://localhost:9", "p", "none")
    from_env = resolve_connection(environ=env, settings=lambda: stored)
    assert (from_env.url, from_env.project, from_env.credentials) == ("http://127.0.0.1:1", "envproj", "none")
    from_settings = resolve_connection(environ={}, settings=lambda: stored)
    assert (from_settings.url, from_settings.project) == ("", "setproj")
    assert from_settings.credentials == "persistent" and from_settings.high_volume
    sandbox = resolve_connection(environ={}, settings=lambda: SimpleNamespace(
        mode="sandbox", project="", custom_url="", high_volume=True, concurrency=32,
        service_account_authcfg="", effective_project=lambda: "sandbox"))
    assert (sandbox.url, sandbox.project, sandbox.credentials) == ("sandbox", "sandbox", "none")
    key = resolve_connection(environ={}, settings=lambda: SimpleNamespace(
        mode="service_account", project="p", custom_url="", high_volume=False, concurrency=32,
        service_account_authcfg="abc123"))
    assert key.credentials == "authcfg:abc123"


def test_shared_session_initialises_once_per_connection():
    from eeextract_plugin.processing.connection import Connection, SharedSession

    made = []
    shared = SharedSession(initialise=lambda c: made.append(c) or object())
    a, b = Connection(url="http://x", project="p"), Connection(url="http://y", project="p")
    first = shared.get(a)
    assert shared.get(a) is first
    assert shared.get(Connection(url="http://x", project="p")) is first
    shared.get(b)
    assert made == [a, b]


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
