"""Sign in with Google from the settings dialog, end to end, against a local stand-in for Google's
OAuth endpoints (consent page, token, revoke) and for Earth Engine's one project check; no Google
host is contacted (name lookups of anything but this machine fail the test). The "browser" is a
thread that follows the consent page's redirect, as a browser would. The dialog is driven with
real clicks: sign in (consent given), the project checked, a project that cannot use Earth
Engine, consent refused, cancel while the browser is open, sign out."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REFRESH_TOKEN = "1//RT-SECRET-refresh-token-never-logged"
ACCESS_TOKEN = "ya29.AT-SECRET-access-token-never-logged"
AUTH_CODE = "4/CODE-SECRET-authorization-code"


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        self.mode = "consent"  # consent | refuse | hang
        self.challenge = ""
        self.redirect_uri = ""
        self.requests: list = []
        self.revoked: list = []
        self.bearers: list = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def endpoints(self):
        from eeextract_plugin.auth.google_oauth import OAuthEndpoints

        return OAuthEndpoints(auth_uri=f"{self.url}/o/oauth2/auth", token_uri=f"{self.url}/token",
                              revoke_uri=f"{self.url}/revoke")


class _StandInHandler(http.server.BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        self.server.requests.append(("GET", url.path))
        if url.path == "/o/oauth2/auth":
            assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
            assert "earthengine" in q["scope"]
            self.server.challenge = q["code_challenge"]
            self.server.redirect_uri = q["redirect_uri"]
            if self.server.mode == "hang":  # the user looks at the page and does nothing
                self._json(200, {"page": "consent screen"})
                return
            answer = ({"code": AUTH_CODE} if self.server.mode == "consent" else {"error": "access_denied"})
            answer["state"] = q["state"]
            self.send_response(302)
            self.send_header("Location", q["redirect_uri"] + "/?" + urllib.parse.urlencode(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path.startswith("/v1/projects/") and url.path.endswith(":listAssets"):
            self.server.bearers.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                self._json(401, {"error": {"code": 401, "message": "bad token", "status": "UNAUTHENTICATED"}})
                return
            project = url.path[len("/v1/projects/"):-len(":listAssets")]
            if project == "my-ee-project" and q.get("pageSize") == "1":
                self._json(200, {"assets": []})
            else:
                self._json(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                           f"Project 'projects/{project}' is not registered to use Earth Engine."}})
            return
        self._json(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        self.server.requests.append(("POST", self.path))
        if self.path == "/token" and form.get("grant_type") == "authorization_code":
            verifier_ok = base64.urlsafe_b64encode(hashlib.sha256(
                form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode() == self.server.challenge
            if form.get("code") != AUTH_CODE or not verifier_ok or form.get("redirect_uri") != self.server.redirect_uri:
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(200, {"access_token": "ya29.first", "refresh_token": REFRESH_TOKEN,
                             "expires_in": 3599, "token_type": "Bearer"})
        elif self.path == "/token" and form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != REFRESH_TOKEN:
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"})
        elif self.path == "/revoke":
            self.server.revoked.append(form.get("token"))
            self._json(200, {})
        else:
            self._json(404, {"error": "not found"})


@pytest.fixture()
def standin():
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def no_google(monkeypatch):
    """Name lookups of anything but this machine fail (and are recorded)."""
    attempts = []
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1", None):
            attempts.append(host)
            raise OSError(f"test: no network to {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return attempts


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture()
def captured_logs():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    from qgis.core import QgsApplication

    def qgis_message(message, tag, level):
        records.append(f"[{tag}] {message}")

    QgsApplication.messageLog().messageReceived.connect(qgis_message)
    yield records
    QgsApplication.messageLog().messageReceived.disconnect(qgis_message)
    root.removeHandler(handler)
    root.setLevel(old)


def browser(opened: list):
    """A browser: follows the consent page's redirect back to the plugin's local listener."""
    def open_url(url: str) -> bool:
        opened.append(url)

        def visit():
            try:
                urllib.request.urlopen(url, timeout=30).read()
            except Exception as exc:  # noqa: BLE001 - recorded for the test
                opened.append(f"browser error: {exc}")

        threading.Thread(target=visit, daemon=True).start()
        return True
    return open_url


@pytest.fixture()
def dialog(qgis_app, clean_settings, standin, home):
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(qs.ConnectionSettings(mode=qs.MODE_PERSISTENT, project="my-ee-project"))
    opened: list = []
    row = dlg.extras.sign_in
    row.endpoints = standin.endpoints()
    row.endpoint = lambda: standin.url
    row.open_browser = browser(opened)
    dlg.show()
    yield dlg, row, opened
    dlg.reject()
    dlg.deleteLater()


def click(widget) -> None:
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtTest import QTest

    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    QTest.mouseClick(widget, Qt.LeftButton)


def wait_until(condition, seconds: float = 20.0) -> None:
    from qgis.PyQt.QtTest import QTest

    for _ in range(int(seconds * 20)):
        if condition():
            return
        QTest.qWait(50)
    raise AssertionError("timed out")


def test_sign_in_stores_credentials_where_earthengine_does_and_checks_the_project(
        dialog, standin, home, no_google, captured_logs):
    dlg, row, opened = dialog
    assert row.lblStatus.text() == "Not signed in."
    click(row.btnSignIn)
    assert row.btnCancel.isVisible() and not row.btnSignIn.isEnabled()
    wait_until(lambda: not row.busy())
    assert "Signed in. Cloud project my-ee-project can use Earth Engine." in row.lblStatus.text()
    assert opened and opened[0].startswith(f"{standin.url}/o/oauth2/auth?")
    creds = home / ".config" / "earthengine" / "credentials"
    stored = json.loads(creds.read_text())
    assert stored["refresh_token"] == REFRESH_TOKEN
    assert set(stored) == {"redirect_uri", "refresh_token", "scopes"}  # earthengine's localhost format
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    # earthengine-api itself reads them: the command line and notebooks share this sign-in
    import ee.oauth

    assert ee.oauth.get_credentials_arguments()["refresh_token"] == REFRESH_TOKEN
    assert standin.bearers == [f"Bearer {ACCESS_TOKEN}"]  # one cheap call, with the new token
    assert row.btnSignIn.text() == "Sign in again" and row.btnSignOut.isEnabled()

    # another project: the same one call says it cannot use Earth Engine
    dlg.txtProject.clear()
    from qgis.PyQt.QtTest import QTest

    QTest.keyClicks(dlg.txtProject, "not-registered")
    click(row.btnCheck)
    wait_until(lambda: not row.busy())
    assert "Cloud project not-registered: not usable with Earth Engine" in row.lblStatus.text()
    assert "not registered to use Earth Engine" in row.lblStatus.text()

    # sign out: credentials gone, revoked at the (stand-in) endpoint
    click(row.btnSignOut)
    wait_until(lambda: not row.busy())
    assert not creds.exists() and standin.revoked == [REFRESH_TOKEN]
    assert row.lblStatus.text().endswith("Signed out: the Earth Engine credentials were removed from this computer.</span>")
    assert not row.btnSignOut.isEnabled()

    assert no_google == []
    everything = "\n".join(captured_logs)
    for secret in (REFRESH_TOKEN, ACCESS_TOKEN, AUTH_CODE, "RT-SECRET", "AT-SECRET", "CODE-SECRET"):
        assert secret not in everything
    # nor in QGIS's settings (what the dialog saves)
    click(dlg.buttonBox.button(dlg.buttonBox.Ok)) if hasattr(dlg, "buttonBox") else dlg.accept()
    from qgis.core import QgsSettings

    settings_file = Path(QgsSettings().fileName())
    QgsSettings().sync()
    if settings_file.exists():
        text = settings_file.read_text(errors="replace")
        assert "SECRET" not in text


def test_refused_consent_stores_nothing(dialog, standin, home, no_google, captured_logs):
    dlg, row, opened = dialog
    standin.mode = "refuse"
    click(row.btnSignIn)
    wait_until(lambda: not row.busy())
    assert "Google sign-in was refused (consent not given)" in row.lblStatus.text()
    assert not (home / ".config" / "earthengine" / "credentials").exists()
    assert ("POST", "/token") not in standin.requests
    assert no_google == []


def test_cancel_while_the_browser_is_open(dialog, standin, home, no_google):
    dlg, row, opened = dialog
    standin.mode = "hang"
    click(row.btnSignIn)
    wait_until(lambda: standin.challenge != "")  # the consent page is showing
    assert row.busy() and row.btnCancel.isVisible()
    click(row.btnCancel)
    wait_until(lambda: not row.busy(), 10)
    assert row.lblStatus.text().endswith("Sign-in cancelled.</span>")
    assert not (home / ".config" / "earthengine" / "credentials").exists()
    assert row.btnSignIn.isEnabled() and not row.btnCancel.isVisible()
    # the local listener is closed: a late answer finds nobody
    with pytest.raises(OSError):
        urllib.request.urlopen(standin.redirect_uri + "/?code=late&state=x", timeout=2)
    assert no_google == []


def test_the_row_is_for_the_personal_account_mode_only(dialog):
    from eeextract_plugin import qgis_settings as qs

    dlg, row, _ = dialog
    assert row.isEnabled()
    dlg.cmbMode.setCurrentIndex(2)  # sandbox
    assert dlg.settings().mode == qs.MODE_SANDBOX and not row.isEnabled()


def test_a_job_without_sign_in_says_where_to_sign_in(clean_settings, home, monkeypatch):
    """Before any session: no credentials on this computer → one line naming the button."""
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.qgis_session import SessionSource

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("CLOUDSDK_CONFIG", raising=False)
    conn = qs.ConnectionSettings(mode=qs.MODE_PERSISTENT, project="my-ee-project")
    with pytest.raises(qs.SettingsError, match="not signed in.*Sign in with Google"):
        SessionSource().resolve_with(conn)
    creds = home / ".config" / "earthengine" / "credentials"
    creds.parent.mkdir(parents=True)
    creds.write_text(json.dumps({"refresh_token": "x"}))
    assert SessionSource().resolve_with(conn).project == "my-ee-project"
