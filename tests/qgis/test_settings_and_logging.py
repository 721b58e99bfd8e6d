"""Connection settings in QgsSettings, the key in the auth database, logs in the EE Extract tab."""

from __future__ import annotations

import json
import logging

import pytest

from eeextract_plugin import qgis_logging
from eeextract_plugin import qgis_settings as qs

FAKE_KEY = {
    "type": "service_account",
    "project_id": "p",
    "private_key_id": "abc",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    "client_email": "extractor@p.iam.gserviceaccount.com",
    "client_id": "1",
}


def test_settings_round_trip_and_are_shared_with_processing(clean_settings):
    conn = qs.ConnectionSettings(mode=qs.MODE_CUSTOM_URL, custom_url="http://127.0.0.1:9999",
                                 project="sandbox", high_volume=False, concurrency=12,
                                 output_folder="/tmp/x", bucket="b", drive_folder="d")
    qs.save_settings(conn)
    assert qs.load_settings() == conn
    s = clean_settings
    assert s.value("eeextract/url") == "http://127.0.0.1:9999"
    assert s.value("eeextract/credentials") == "none"


def test_validation_names_the_setting(clean_settings):
    """Named by the settings dialog's labels; outside the dialog, also where the setting is."""
    with pytest.raises(qs.SettingsError, match="^Cloud project: required") as raised:
        qs.ConnectionSettings(mode=qs.MODE_PERSISTENT).validate()
    assert "Settings" not in str(raised.value)  # shown inside Settings itself, beside the field
    assert raised.value.outside().endswith("(EE Extract settings → Cloud project)")
    with pytest.raises(qs.SettingsError, match="^Concurrent requests: "):
        qs.ConnectionSettings(mode=qs.MODE_SANDBOX, concurrency=0).validate()
    with pytest.raises(qs.SettingsError, match="^Dask scheduler: must be a scheduler address"):
        qs.ConnectionSettings(mode=qs.MODE_SANDBOX, engine="dask", dask_scheduler="host:8786").validate()
    qs.ConnectionSettings(mode=qs.MODE_SANDBOX).validate()


def test_service_account_key_goes_to_the_auth_db_not_to_settings(clean_settings, auth_db, tmp_path):
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(FAKE_KEY))
    authcfg, email = qs.store_service_account_key(str(key_file))
    try:
        assert email == FAKE_KEY["client_email"]
        conn = qs.ConnectionSettings(mode=qs.MODE_SERVICE_ACCOUNT, project="p",
                                     service_account_authcfg=authcfg, service_account_email=email)
        qs.save_settings(conn)
        clean_settings.sync()
        ini = open(clean_settings.fileName(), encoding="utf-8").read()
        assert "PRIVATE KEY" not in ini and str(key_file) not in ini
        assert authcfg in ini
        assert qs.load_service_account_key(authcfg) == FAKE_KEY
    finally:
        qs.remove_service_account_key(authcfg)
    with pytest.raises(qs.SettingsError, match="not found"):
        qs.load_service_account_key(authcfg)


def test_a_wrong_key_file_is_refused_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(qs.SettingsError, match="not a service-account key"):
        qs.read_key_file(str(bad))


def test_log_records_reach_the_ee_extract_tab_with_secrets_redacted(qgis_app, quiet_logger):
    from qgis.core import QgsApplication

    received = []

    def on_message(message, tag, level):
        received.append((tag, message))

    QgsApplication.messageLog().messageReceived.connect(on_message)
    handler = qgis_logging.install()
    try:
        logging.getLogger("eeextract_plugin.core.fetch").info(
            "request with Bearer ya29.secret-token done")
    finally:
        qgis_logging.uninstall(handler)
        QgsApplication.messageLog().messageReceived.disconnect(on_message)
    tagged = [m for tag, m in received if tag == "EE Extract"]
    assert tagged and "ya29.secret-token" not in tagged[0] and "done" in tagged[0]
    assert handler not in logging.getLogger("eeextract_plugin").handlers


def test_bar_records_are_delivered_on_the_main_thread(qgis_app, quiet_logger):
    from qgis.PyQt.QtCore import QCoreApplication

    pushed = []
    handler = qgis_logging.install(lambda title, text, level: pushed.append(text))
    try:
        logging.getLogger("eeextract_plugin.x").error("quota exceeded", extra={"bar": True})
        logging.getLogger("eeextract_plugin.x").error("only in the log")
        QCoreApplication.processEvents()  # the queued signal is delivered by the event loop
    finally:
        qgis_logging.uninstall(handler)
    assert pushed == ["quota exceeded"]


def test_a_broken_shapely_is_reported_plainly_before_the_sandbox_starts(monkeypatch, clean_settings):
    """Only the embedded sandbox needs shapely (the engine uses OGR/OSR): a broken or missing
    shapely stops the sandbox with one line saying how to get it, and nothing else."""
    from eeextract_plugin import qgis_session

    assert qgis_session.shapely_problem() == ""  # this process: shapely works
    monkeypatch.setattr(qgis_session, "_SHAPELY_CHECKED", "the shapely package in this QGIS ...")
    source = qgis_session.SessionSource(sandbox_factory=lambda: pytest.fail("sandbox started"))
    with pytest.raises(qs.SettingsError, match="shapely"):
        source.resolve_with(qs.ConnectionSettings(mode=qs.MODE_SANDBOX))
    resolved = source.resolve_with(qs.ConnectionSettings(mode=qs.MODE_CUSTOM_URL, custom_url="http://x"))
    assert resolved.url == "http://x"
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "shapely" else object())
    problem = qgis_session.sandbox_problem()
    assert problem.startswith("shapely not found: the embedded sandbox needs shapely and pyproj")
    assert "\n" not in problem and "python3-shapely" in problem
