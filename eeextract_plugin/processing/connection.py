"""Where the algorithms find their Earth Engine connection, and the session they share.

Resolution, first one given wins:

1. the algorithm's advanced parameters ``EE_URL`` / ``EE_PROJECT`` / ``EE_CREDENTIALS``;
2. the environment: ``EEEXTRACT_URL``, ``EEEXTRACT_PROJECT``, ``EEEXTRACT_CREDENTIALS``
   (for ``qgis_process`` on a server, and for tests against the sandbox);
3. the plugin's connection settings (``eeextract_plugin.qgis_settings``, kept in QgsSettings
   under ``eeextract/connection/``; a service-account key comes from QGIS's auth database).

A URL of ``sandbox`` means the embedded sandbox, started in this process on first use.
Credentials are ``persistent`` (``earthengine authenticate``), ``none`` (anonymous: sandbox and
custom URLs) or the path of a service-account key file.

All rows of a batch and all algorithms of a model share one initialised session: it is
initialised again only when the connection differs from the one already initialised.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Optional

ENV_URL = "EEEXTRACT_URL"
ENV_PROJECT = "EEEXTRACT_PROJECT"
ENV_CREDENTIALS = "EEEXTRACT_CREDENTIALS"
SANDBOX = "sandbox"


@dataclass(frozen=True)
class Connection:
    """What identifies an Earth Engine session (hashable, no secret in its repr)."""

    url: str = ""  # "" = Earth Engine itself; "sandbox" = the embedded sandbox
    project: str = ""
    credentials: str = "persistent"  # "persistent" | "none" | path of a key file | "authcfg:<id>"
    high_volume: bool = False
    concurrency: int = 32
    # The service-account key's JSON when it comes from QGIS's auth database (not shown in repr).
    key_json: str = ""

    def __repr__(self) -> str:
        return (f"Connection(url={self.url!r}, project={self.project!r}, "
                f"credentials={self.credentials!r}, high_volume={self.high_volume})")

    def describe(self) -> str:
        where = {"": "Earth Engine", SANDBOX: "the embedded sandbox"}.get(self.url, self.url)
        if self.high_volume and not self.url:
            where += " (high-volume endpoint)"
        return f"{where}, project {self.project or 'not set'}"


def _load_plugin_settings() -> Any:
    """The dock's connection settings, or None when unavailable (e.g. before the plugin lands)."""
    try:
        from eeextract_plugin import qgis_settings
    except ImportError:
        return None
    return qgis_settings.load_settings()


def plugin_setting(name: str) -> str:
    """One plain value of the plugin's settings (``bucket``, ``drive_folder``, ...) or ""."""
    settings = _load_plugin_settings()
    return str(getattr(settings, name, "") or "") if settings is not None else ""


def from_plugin_settings(settings: Any) -> Connection:
    """The connection the dock's settings describe (``qgis_settings.ConnectionSettings``)."""
    if settings is None:
        return Connection()
    mode = getattr(settings, "mode", "persistent")
    project = settings.effective_project() if hasattr(settings, "effective_project") else settings.project
    common = dict(project=project, concurrency=int(getattr(settings, "concurrency", 32) or 32))
    if mode == "sandbox":
        return Connection(url=SANDBOX, credentials="none", **common)
    if mode == "custom_url":
        return Connection(url=settings.custom_url.strip(), credentials="none", **common)
    if mode == "service_account":
        return Connection(credentials=f"authcfg:{settings.service_account_authcfg}",
                          high_volume=bool(settings.high_volume), **common)
    return Connection(credentials="persistent", high_volume=bool(settings.high_volume), **common)


def resolve_connection(
    url: str = "",
    project: str = "",
    credentials: str = "",
    environ: Optional[Dict[str, str]] = None,
    settings: Optional[Callable[[], Any]] = None,
) -> Connection:
    """The connection for one algorithm run (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    url = (url or env.get(ENV_URL, "")).strip()
    project = (project or env.get(ENV_PROJECT, "")).strip()
    credentials = (credentials or env.get(ENV_CREDENTIALS, "")).strip()
    if url:
        return Connection(url=url, project=project or SANDBOX, credentials=credentials or "none")
    base = from_plugin_settings((settings or _load_plugin_settings)())
    if project:
        base = replace(base, project=project)
    if credentials:
        base = replace(base, credentials=credentials, key_json="")
    return base


def with_secret(connection: Connection) -> Connection:
    """Reads a key held in QGIS's auth database (main thread: may ask the master password)."""
    if not connection.credentials.startswith("authcfg:"):
        return connection
    import json

    from eeextract_plugin import qgis_settings

    key = qgis_settings.load_service_account_key(connection.credentials.split(":", 1)[1])
    return replace(connection, key_json=json.dumps(key))


class SharedSession:
    """One initialised Earth Engine session for every run in this QGIS process.

    ``initialise`` turns a :class:`Connection` into an initialised session (the engine's); it is
    called at most once per distinct connection, under a lock (batch rows may run in threads).
    """

    def __init__(self, initialise: Optional[Callable[[Connection], Any]] = None) -> None:
        self._initialise = initialise
        self._lock = threading.Lock()
        self._current: Optional[Connection] = None
        self._session: Any = None
        self.initialisations = 0

    def get(self, connection: Connection) -> Any:
        with self._lock:
            if self._current != connection or self._session is None:
                initialise = self._initialise or initialise_engine_session
                self._session = initialise(connection)
                self._current = connection
                self.initialisations += 1
            return self._session

    def reset(self) -> None:
        with self._lock:
            self._current = None
            self._session = None


_SANDBOX_SERVER: Any = None


def _embedded_sandbox_url() -> str:
    global _SANDBOX_SERVER
    if _SANDBOX_SERVER is None:
        from eeextract_plugin.sandbox.config import SandboxConfig
        from eeextract_plugin.sandbox.server import SandboxServer

        _SANDBOX_SERVER = SandboxServer(SandboxConfig(port=0)).start()
    return _SANDBOX_SERVER.url


def initialise_engine_session(connection: Connection) -> Any:
    """Translate a :class:`Connection` onto the engine's :func:`core.session.initialise`."""
    from eeextract_plugin.core.session import SessionConfig, initialise

    url = _embedded_sandbox_url() if connection.url == SANDBOX else connection.url
    credentials = connection.credentials
    key_file = None
    if connection.key_json:
        # The key from QGIS's auth database: the engine reads key files, so hand it one that only
        # this user can read, for as long as the client needs to load it.
        import tempfile

        handle, key_file = tempfile.mkstemp(prefix="eeextract-key-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(connection.key_json)
        credentials = key_file
    try:
        return initialise(SessionConfig(
            project=connection.project or None,
            credentials=credentials,
            url=url or None,
            high_volume=connection.high_volume,
            http_pool_size=max(64, 2 * connection.concurrency),
        ))
    finally:
        if key_file:
            os.unlink(key_file)


SESSION = SharedSession()
