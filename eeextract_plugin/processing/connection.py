"""Where the algorithms find their Earth Engine connection, and the session they share.

Resolution, first one given wins:

1. the algorithm's advanced parameters ``EE_URL`` / ``EE_PROJECT`` / ``EE_CREDENTIALS``;
2. the environment: ``EEEXTRACT_URL``, ``EEEXTRACT_PROJECT``, ``EEEXTRACT_CREDENTIALS``
   (for ``qgis_process`` on a server, and for tests against the sandbox);
3. the plugin's connection settings (``eeextract_plugin.qgis_settings``: QgsSettings under
   ``eeextract/connection/``; a service-account key from QGIS's auth database; the embedded
   sandbox started on first use).

A URL of ``sandbox`` means the embedded sandbox. Credentials are ``persistent``
(``earthengine authenticate``), ``none`` (anonymous: sandbox and custom URLs) or the path of a
service-account key file.

The session itself is the plugin's (``eeextract_plugin.qgis_session.open_session``): the dock's
tasks and every Processing run — all rows of a batch, all algorithms of a model — share one
initialised client, initialised again only when the connection changes (``ee`` is
process-global, so two caches would trample each other).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from eeextract_plugin import qgis_session
from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.i18n import tr
from eeextract_plugin.qgis_session import ResolvedConnection

ENV_URL = "EEEXTRACT_URL"
ENV_PROJECT = "EEEXTRACT_PROJECT"
ENV_CREDENTIALS = "EEEXTRACT_CREDENTIALS"
SANDBOX = "sandbox"

_SOURCE_LOCK = threading.Lock()
_SOURCE: Optional[qgis_session.SessionSource] = None


def _plugin_session_source() -> Optional[qgis_session.SessionSource]:
    """The loaded plugin's own source (so the dock and Processing share one embedded sandbox)."""
    try:
        from qgis import utils
    except ImportError:  # pragma: no cover
        return None
    for plugin in list(getattr(utils, "plugins", {}).values()):
        if type(plugin).__name__ == "EEExtractPlugin":
            sessions = getattr(plugin, "sessions", None)
            if isinstance(sessions, qgis_session.SessionSource):
                return sessions
    return None


def session_source() -> qgis_session.SessionSource:
    """The settings-based connection source of Processing runs: the plugin's when it is loaded,
    else one of Processing's own (it starts the embedded sandbox when that is the configured
    connection, once per QGIS process)."""
    global _SOURCE
    plugin_source = _plugin_session_source()
    if plugin_source is not None:
        return plugin_source
    with _SOURCE_LOCK:
        if _SOURCE is None:
            _SOURCE = qgis_session.SessionSource()
        return _SOURCE


def plugin_setting(name: str) -> str:
    """One plain value of the plugin's settings (``bucket``, ``drive_folder``, ...) or ""."""
    return str(getattr(qs.load_settings(), name, "") or "")


def _read_key(path: str) -> Dict[str, Any]:
    try:
        return qs.read_key_file(str(Path(path).expanduser()))
    except qs.SettingsError as error:
        raise qs.SettingsError(tr("{parameter} / {variable}: {error}").format(
            parameter="EE_CREDENTIALS", variable=ENV_CREDENTIALS, error=error)) from None


def resolve_connection(
    url: str = "",
    project: str = "",
    credentials: str = "",
    environ: Optional[Dict[str, str]] = None,
    settings: Optional[Callable[[], ResolvedConnection]] = None,
) -> ResolvedConnection:
    """The connection for one algorithm run (module docstring). Main thread: reading the
    settings may read QGIS's auth database or start the embedded sandbox."""
    env = os.environ if environ is None else environ
    url = (url or env.get(ENV_URL, "")).strip().rstrip("/")
    project = (project or env.get(ENV_PROJECT, "")).strip()
    credentials = (credentials or env.get(ENV_CREDENTIALS, "")).strip()
    if not url and not credentials:
        base = (settings or session_source().resolve)()
        if project and project != base.project:
            base = ResolvedConnection(base.mode, base.url, project, base.high_volume,
                                      base.concurrency, base.key, base.key_fingerprint)
        return base
    if url == SANDBOX:
        url = session_source().sandbox_url().rstrip("/")
    key = None
    if credentials in ("", "none"):
        mode = qs.MODE_CUSTOM_URL if url else qs.MODE_PERSISTENT
    elif credentials == "persistent":
        mode = qs.MODE_PERSISTENT
    else:
        mode, key = qs.MODE_SERVICE_ACCOUNT, _read_key(credentials)
    if mode == qs.MODE_CUSTOM_URL and not project:
        project = SANDBOX
    fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16] if key else ""
    return ResolvedConnection(mode=mode, url=url, project=project, high_volume=False,
                              concurrency=qs.DEFAULT_CONCURRENCY, key=key, key_fingerprint=fingerprint)


def describe(connection: ResolvedConnection) -> str:
    return connection.describe()


def open_session(connection: ResolvedConnection) -> Any:
    """The shared, initialised session for ``connection`` (initialised at most once)."""
    return qgis_session.open_session(connection)
