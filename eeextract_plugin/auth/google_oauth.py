"""The earthengine-api's OAuth sign-in (installed application: browser and local redirect).

:meth:`SignIn.start` (any thread, no network) opens a local redirect listener on 127.0.0.1 and
builds Google's consent URL with the earthengine-api's client id and scopes, a PKCE challenge and a
``state`` nonce; the caller opens it in the user's browser. :meth:`SignIn.finish` (a worker
thread) waits for the browser to come back to the listener, exchanges the code for a refresh
token and writes it where ``earthengine authenticate`` writes it
(``~/.config/earthengine/credentials``, through ``ee.oauth.write_private_json``, same fields as its
``localhost`` mode), so the command line, notebooks and the plugin share one sign-in.
:func:`check_project` then makes one cheap call (``projects.listAssets`` with one result) to see
that the Cloud project can use Earth Engine; :func:`sign_out` removes the credentials (and asks
Google to revoke them).

Nothing here logs or returns a token or a code: errors carry Google's error names only. The
endpoints are those of Google unless a caller passes others (the tests' local stand-in).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from eeextract_plugin.i18n import PLUGIN_NAME, tr

log = logging.getLogger(__name__)

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
EARTH_ENGINE_URL = "https://earthengine.googleapis.com"
DEFAULT_WAIT_S = 300.0


class SignInError(Exception):
    """Signing in failed; the message says why in a user's words (never a secret)."""


class SignInCancelled(SignInError):  # noqa: N818 - a request, not a failure
    """The user cancelled while the browser was open."""


class SignInRefused(SignInError):  # noqa: N818
    """The user (or Google) refused consent."""


@dataclass(frozen=True)
class OAuthEndpoints:
    auth_uri: str = GOOGLE_AUTH_URI
    token_uri: str = GOOGLE_TOKEN_URI
    revoke_uri: str = GOOGLE_REVOKE_URI


GOOGLE = OAuthEndpoints()


def _ee() -> Any:
    import ee
    import ee.oauth  # noqa: F401 - the submodule holds the flow's constants

    return ee


def credentials_path() -> Path:
    """Where ``earthengine authenticate`` keeps its credentials."""
    return Path(_ee().oauth.get_credentials_path())


def signed_in() -> bool:
    path = credentials_path()
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("refresh_token"))
    except (OSError, ValueError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _Listener(http.server.HTTPServer):
    """The local redirect target: keeps the first answer that carries our ``state``."""

    allow_reuse_address = True

    def __init__(self, state: str) -> None:
        self.state = state
        self.result: Optional[Dict[str, str]] = None
        super().__init__(("127.0.0.1", 0), _Handler)
        self.timeout = 0.25

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
        if query.get("state") != self.server.state or not ({"code", "error"} & set(query)):
            self._page(400, tr("This page is not part of an EE Extract sign-in."))
            return
        if self.server.result is None:
            self.server.result = query
        if "code" in query:
            self._page(200, tr("Signed in to Google for Earth Engine. You can close this tab and return to QGIS."))
        else:
            self._page(200, tr("Sign-in was not completed ({error}). You can close this tab and return to "
                               "QGIS.").format(error=query.get("error", "error")))

    def _page(self, status: int, text: str) -> None:
        import html

        body = (f"<!doctype html><meta charset='utf-8'><title>{PLUGIN_NAME}</title>"
                f"<p style='font:16px sans-serif;margin:3em'>{html.escape(text)}</p>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")  # i18n: not translated (an HTTP header)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # the query holds the code: never logged
        pass


class SignIn:
    """One sign-in attempt. ``start()`` then ``finish()``; ``cancel()`` from any thread."""

    def __init__(self, endpoints: OAuthEndpoints = GOOGLE, scopes: Optional[List[str]] = None) -> None:
        self.endpoints = endpoints
        self.scopes = list(scopes or _ee().oauth.SCOPES)
        self._cancel = threading.Event()
        self._listener: Optional[_Listener] = None
        self._verifier = ""
        self.auth_url = ""

    @property
    def redirect_uri(self) -> str:
        assert self._listener is not None
        return self._listener.url

    def start(self) -> str:
        """Opens the local listener; returns the consent URL to open in the browser."""
        ee = _ee()
        self._verifier = _b64(secrets.token_bytes(32))
        challenge = _b64(hashlib.sha256(self._verifier.encode("ascii")).digest())
        state = _b64(secrets.token_bytes(16))
        self._listener = _Listener(state)
        url = ee.oauth.get_authorization_url(challenge, self.scopes, self.redirect_uri)
        base, _, query = url.partition("?")
        self.auth_url = f"{self.endpoints.auth_uri}?{query}&" + urllib.parse.urlencode(
            {"state": state, "access_type": "offline", "prompt": "consent"})
        log.info("Google sign-in: waiting for the browser at %s", self.redirect_uri)
        return self.auth_url

    def cancel(self) -> None:
        self._cancel.set()

    def finish(self, timeout_s: float = DEFAULT_WAIT_S,
               cancelled: Optional[Callable[[], bool]] = None) -> Path:
        """Waits for the browser, gets the refresh token, stores it; returns the file written."""
        if self._listener is None:
            raise SignInError(tr("sign-in was not started"))
        try:
            answer = self._wait(timeout_s, cancelled)
        finally:
            self._listener.server_close()
        if "error" in answer:
            error = answer["error"]
            if error == "access_denied":
                raise SignInRefused(tr("Google sign-in was refused (consent not given)"))
            raise SignInError(tr("Google sign-in failed: {error}").format(error=error))
        refresh_token = self._exchange(answer["code"])
        ee = _ee()
        path = credentials_path()
        # The fields earthengine authenticate's localhost mode writes.
        ee.oauth.write_private_json(str(path), {"redirect_uri": self.redirect_uri,
                                                "refresh_token": refresh_token,
                                                "scopes": self.scopes})
        log.info("Google sign-in: credentials saved in %s", path)
        return path

    def _wait(self, timeout_s: float, cancelled: Optional[Callable[[], bool]]) -> Dict[str, str]:
        assert self._listener is not None
        deadline = time.monotonic() + timeout_s
        while self._listener.result is None:
            if self._cancel.is_set() or (cancelled is not None and cancelled()):
                raise SignInCancelled(tr("Google sign-in cancelled"))
            if time.monotonic() > deadline:
                raise SignInError(tr("Google sign-in timed out after {seconds} s (the browser never came back)").format(
                    seconds=f"{timeout_s:.0f}"))
            self._listener.handle_request()
        return self._listener.result

    def _exchange(self, code: str) -> str:
        ee = _ee()
        data = urllib.parse.urlencode({
            "code": code, "client_id": ee.oauth.CLIENT_ID, "client_secret": ee.oauth.CLIENT_SECRET,
            "redirect_uri": self.redirect_uri, "grant_type": "authorization_code",
            "code_verifier": self._verifier}).encode("ascii")
        try:
            with urllib.request.urlopen(self.endpoints.token_uri, data, timeout=60) as response:
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise SignInError(tr("Google refused the sign-in code ({error})").format(error=_oauth_error(exc))) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SignInError(tr("cannot reach Google's token endpoint ({error})").format(
                error=type(exc).__name__)) from None
        token = body.get("refresh_token")
        if not token:
            raise SignInError(tr("Google's answer holds no refresh token"))
        return str(token)


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read().decode("utf-8"))
        return str(body.get("error") or exc.code)
    except (ValueError, OSError):
        return f"HTTP {exc.code}"


def sign_in(open_browser: Callable[[str], Any], endpoints: OAuthEndpoints = GOOGLE,
            timeout_s: float = DEFAULT_WAIT_S, cancelled: Optional[Callable[[], bool]] = None) -> Path:
    """The whole flow in one call (for a worker thread or the command line)."""
    flow = SignIn(endpoints)
    open_browser(flow.start())
    return flow.finish(timeout_s, cancelled)


def stored_credentials(endpoints: OAuthEndpoints = GOOGLE) -> Any:
    """``google.oauth2.credentials.Credentials`` from the stored file (token endpoint:
    ``endpoints``'s)."""
    ee = _ee()
    from google.oauth2.credentials import Credentials

    try:
        stored = json.loads(credentials_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SignInError(tr("not signed in (no Earth Engine credentials on this computer)")) from None
    return Credentials(None, refresh_token=stored.get("refresh_token"),
                       token_uri=endpoints.token_uri,
                       client_id=stored.get("client_id", ee.oauth.CLIENT_ID),
                       client_secret=stored.get("client_secret", ee.oauth.CLIENT_SECRET),
                       scopes=stored.get("scopes", ee.oauth.SCOPES))


def check_project(project: str, endpoints: OAuthEndpoints = GOOGLE, url: str = EARTH_ENGINE_URL,
                  timeout_s: float = 60.0) -> str:
    """One cheap call with the stored credentials: list at most one asset of ``project``.
    Returns a line for the user; raises :class:`SignInError` saying what is wrong."""
    project = (project or "").strip()
    if not project:
        raise SignInError(tr("Cloud project: required to use Earth Engine (Settings → Project)"))
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import AuthorizedSession

    session = AuthorizedSession(stored_credentials(endpoints))
    target = f"{url.rstrip('/')}/v1/projects/{urllib.parse.quote(project)}:listAssets"
    try:
        response = session.get(target, params={"pageSize": 1}, timeout=timeout_s)
    except RefreshError:
        raise SignInError(tr("the stored Google sign-in is no longer valid: sign in again")) from None
    except Exception as exc:  # noqa: BLE001 - connection errors of several libraries
        raise SignInError(tr("cannot reach Earth Engine at {url} ({error})").format(
            url=url, error=type(exc).__name__)) from None
    finally:
        session.close()
    if response.status_code == 200:
        return tr("Cloud project {project} can use Earth Engine.").format(project=project)
    try:
        message = response.json().get("error", {}).get("message", "")
    except ValueError:
        message = ""
    if response.status_code in (401, 403):
        raise SignInError(tr("Cloud project {project}: not usable with Earth Engine ({reason})").format(
            project=project, reason=message or response.reason))
    if response.status_code == 404:
        raise SignInError(tr("Cloud project {project}: not found ({reason})").format(
            project=project, reason=message or tr("no such project")))
    raise SignInError(tr("Cloud project {project}: Earth Engine answered HTTP {status} ({reason})").format(
        project=project, status=response.status_code, reason=message or response.reason))


def sign_out(endpoints: OAuthEndpoints = GOOGLE, revoke: bool = True) -> bool:
    """Removes the stored credentials (and asks Google to revoke them); False when there were
    none."""
    path = credentials_path()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        stored = {}
    token = stored.get("refresh_token")
    if revoke and token:
        data = urllib.parse.urlencode({"token": token}).encode("ascii")
        try:
            urllib.request.urlopen(endpoints.revoke_uri, data, timeout=15).close()
        except (urllib.error.URLError, OSError) as exc:  # still signed out locally
            log.info("Google sign-out: revoking failed (%s); credentials removed anyway",
                     type(exc).__name__)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    log.info("Google sign-out: %s removed", path)
    return True


def describe_status() -> Tuple[bool, str]:
    """(signed in?, a line for the settings dialog)."""
    if signed_in():
        return True, tr("Signed in (credentials in {path}).").format(path=credentials_path())
    return False, tr("Not signed in.")


__all__ = ["GOOGLE", "OAuthEndpoints", "SignIn", "SignInCancelled", "SignInError", "SignInRefused",
           "check_project", "credentials_path", "describe_status", "sign_in", "sign_out",
           "signed_in", "stored_credentials"]
