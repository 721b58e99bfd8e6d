"""Where the algorithms find their Earth Engine connection, and the session they share.

Resolution order, first non-empty wins, per field:

1. the algorithm's advanced parameters ``EE_URL`` / ``EE_PROJECT`` / ``EE_CREDENTIALS``;
2. the environment: ``EEEXTRACT_URL``, ``EEEXTRACT_PROJECT``, ``EEEXTRACT_CREDENTIALS``
   (for ``qgis_process`` on a server, and tests against the sandbox);
3. the plugin's connection settings (``QgsSettings`` under ``eeextract/``, written by the dock).

All rows of a batch, and all algorithms of a model, share one initialised session: the session
is initialised again only when the connection differs from the one already initialised.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

SETTINGS_PREFIX = "eeextract"
ENV_URL = "EEEXTRACT_URL"
ENV_PROJECT = "EEEXTRACT_PROJECT"
ENV_CREDENTIALS = "EEEXTRACT_CREDENTIALS"


@dataclass(frozen=True)
class Connection:
    """What identifies an Earth Engine session: endpoint URL, Cloud project, credentials.

    ``url`` empty means Earth Engine's default endpoint; ``credentials`` is ``"persistent"`` (the
    user's ``earthengine authenticate`` credentials), ``"none"`` (anonymous, e.g. the sandbox) or
    the path of a service-account key file.
    """

    url: str = ""
    project: str = ""
    credentials: str = ""
    high_volume: bool = False

    def describe(self) -> str:
        where = self.url or ("the high-volume endpoint" if self.high_volume else "Earth Engine")
        return f"{where} (project {self.project or 'not set'})"


def _settings_value(key: str) -> str:
    try:
        from qgis.core import QgsSettings
    except ImportError:  # pragma: no cover - always available inside QGIS
        return ""
    value = QgsSettings().value(f"{SETTINGS_PREFIX}/{key}", "")
    return "" if value is None else str(value)


def _settings_bool(key: str) -> bool:
    return _settings_value(key).strip().lower() in ("1", "true", "yes")


def resolve_connection(
    url: str = "",
    project: str = "",
    credentials: str = "",
    environ: Optional[Dict[str, str]] = None,
    settings: Callable[[str], str] = _settings_value,
) -> Connection:
    """The connection for one algorithm run (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    url = (url or env.get(ENV_URL, "") or settings("url")).strip()
    project = (project or env.get(ENV_PROJECT, "") or settings("project")).strip()
    credentials = (credentials or env.get(ENV_CREDENTIALS, "") or settings("credentials")).strip()
    if not credentials:
        credentials = "none" if url.startswith(("http://127.0.0.1", "http://localhost")) else "persistent"
    high_volume = False if url else _settings_bool("high_volume")
    return Connection(url=url, project=project, credentials=credentials, high_volume=high_volume)


class SharedSession:
    """One initialised Earth Engine session for every run in this QGIS process.

    ``initialise`` is the engine's function that initialises a session from a
    :class:`Connection`; it is called at most once per distinct connection, under a lock (batch
    rows may run in worker threads).
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
                initialise = self._initialise or _engine_initialise
                self._session = initialise(connection)
                self._current = connection
                self.initialisations += 1
            return self._session

    def reset(self) -> None:
        with self._lock:
            self._current = None
            self._session = None


def _engine_initialise(connection: Connection) -> Any:
    from eeextract_plugin.core import session as core_session

    return core_session.initialise_from_connection(connection)  # wired once core/session lands


SESSION = SharedSession()
