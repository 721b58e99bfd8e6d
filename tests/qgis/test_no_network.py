"""Nothing contacts a host the user did not choose: a session with the sandbox (a custom URL)
reaches only that URL, and looking for account credentials never asks the Compute Engine
metadata server. Every connection attempt and name lookup of this process is recorded by an
audit hook while a test runs (the desktop suite checks the same for the whole QGIS, in a
network namespace that has only a loopback interface)."""

from __future__ import annotations

import sys
import threading

import pytest

_RECORDING: list = []
_ACTIVE = threading.Event()


def _hook(event, args):
    if not _ACTIVE.is_set():
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        _RECORDING.append((event, str(args[1][0]), args[1][1]))
    elif event == "socket.getaddrinfo":
        _RECORDING.append((event, str(args[0]), args[1]))
    elif event == "urllib.Request":
        _RECORDING.append((event, str(args[0]), ""))


sys.addaudithook(_hook)  # audit hooks cannot be removed: this one records only while active


@pytest.fixture()
def network_attempts():
    _RECORDING.clear()
    _ACTIVE.set()
    yield _RECORDING
    _ACTIVE.clear()


def outside(attempts):
    return [a for a in attempts if not a[1].startswith(("127.", "localhost", "::1"))]


def test_a_sandbox_session_reaches_only_the_sandbox(sandbox_url, network_attempts):
    from eeextract_plugin import qgis_session
    from eeextract_plugin import qgis_settings as qs

    qgis_session.forget_session()
    conn = qgis_session.ResolvedConnection(mode=qs.MODE_CUSTOM_URL, url=sandbox_url, project="sandbox",
                                           high_volume=False, concurrency=8)
    session = qgis_session.open_session(conn)
    assert session.ee.Number(1).add(1).getInfo() == 2
    qgis_session.forget_session()
    assert network_attempts, "the audit hook saw the sandbox requests"
    assert not outside(network_attempts), outside(network_attempts)


def test_no_credentials_is_said_plainly_without_asking_the_metadata_server(
        network_attempts, monkeypatch, tmp_path):
    from eeextract_plugin import qgis_session
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.core.errors import SessionError

    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/earthengine, no gcloud ADC
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    qgis_session.forget_session()
    conn = qgis_session.ResolvedConnection(mode=qs.MODE_PERSISTENT, url="", project="my-project",
                                           high_volume=True, concurrency=8)
    with pytest.raises(SessionError) as raised:
        qgis_session.open_session(conn)
    assert str(raised.value) == qgis_session.not_signed_in()
    assert "\n" not in str(raised.value) and "--credentials" not in str(raised.value)
    assert not network_attempts, network_attempts  # not 169.254.169.254, not metadata.google.internal
