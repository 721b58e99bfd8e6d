"""The plugin's Earth Engine session: resolved on the main thread, opened on first use.

Nothing happens at QGIS start-up. When a task first needs Earth Engine, :meth:`SessionSource.
resolve` (main thread) reads the connection settings and, for a service account, the key from
QGIS's auth database, and starts the embedded sandbox when that is the chosen connection; it
returns a :class:`ResolvedConnection`, plain data handed to the worker. The worker then calls
:func:`open_session`, which initialises the client once per distinct connection (under a lock;
``ee`` is process-global).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, Optional

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)

EE_SCOPES = (
    "https://www.googleapis.com/auth/earthengine",
    "https://www.googleapis.com/auth/cloud-platform",
)


@dataclass(frozen=True)
class ResolvedConnection:
    """Everything a worker needs to open a session; ``key`` is held in memory only."""

    mode: str
    url: str
    project: str
    high_volume: bool
    concurrency: int
    key: Optional[Dict[str, Any]] = field(default=None, repr=False, compare=False)
    key_fingerprint: str = ""

    def describe(self) -> str:
        return f"{self.mode} {self.url or 'earthengine.googleapis.com'} project {self.project or '-'}"


_SHAPELY_CHECKED: Optional[str] = None


def shapely_problem() -> str:
    """"" when shapely works in this process; otherwise what is wrong and how to fix it.

    PyPI's shapely wheel carries its own GEOS; inside a QGIS process that already loaded QGIS's
    GEOS, the two can mix and every geometry comes out wrong (empty coordinates, stray Z). The
    engine then fails with baffling errors ("Invalid GeoJSON geometry"): say it plainly instead.
    """
    global _SHAPELY_CHECKED
    if _SHAPELY_CHECKED is None:
        try:
            from shapely.geometry import box, mapping

            ring = mapping(box(0.0, 0.0, 1.0, 1.0))["coordinates"]
            ok = bool(ring) and all(len(xy) == 2 for xy in ring[0])
        except Exception as exc:  # noqa: BLE001 - reported to the user below
            ok = False
            log.warning("shapely self-check failed: %s", exc)
        _SHAPELY_CHECKED = "" if ok else tr(
            "the shapely package in this QGIS does not work with QGIS's own GEOS library "
            "(geometries come out empty). Install a shapely built against it, e.g. "
            "'pip install --no-binary shapely shapely' (needs the GEOS development files) or your "
            "system's python3-shapely package, then restart QGIS.")
    return _SHAPELY_CHECKED




def sandbox_problem() -> str:
    """"" when the embedded sandbox can run in this QGIS; otherwise one line saying how to get
    it. Only the sandbox needs shapely and pyproj (the engine does its geometry with OGR/OSR)."""
    import importlib.util

    missing = []
    for module in ("shapely", "pyproj"):
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except (ImportError, ValueError):
            missing.append(module)
    if missing:
        return tr("{modules} not found: the embedded sandbox needs shapely and pyproj in QGIS's Python: on "
                  "Linux install python3-shapely and python3-pyproj, on Windows run 'pip install shapely "
                  "pyproj' in the OSGeo4W Shell, on macOS in QGIS's Python; or start a sandbox outside QGIS "
                  "('eeextract sandbox') and connect with Custom URL").format(modules=" + ".join(missing))
    return shapely_problem()


def google_credentials_exist() -> bool:
    """Whether the earthengine-api will find credentials: its own file (Sign in with Google,
    ``earthengine authenticate``) or Google's application-default credentials (gcloud). Files
    only: nothing is contacted."""
    import os
    from pathlib import Path

    ee_file = Path.home() / ".config" / "earthengine" / "credentials"
    adc = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or ""
    cloudsdk = os.environ.get("CLOUDSDK_CONFIG") or ""
    gcloud = (Path(cloudsdk) if cloudsdk else
              Path(os.environ.get("APPDATA", "")) / "gcloud" if os.name == "nt" else
              Path.home() / ".config" / "gcloud")
    return (ee_file.is_file() or (bool(adc) and Path(adc).is_file())
            or (gcloud / "application_default_credentials.json").is_file())


class SessionSource:
    """Owned by the plugin: the settings loader, and the embedded sandbox when used."""

    def __init__(self, load_settings: Callable[[], qs.ConnectionSettings] = qs.load_settings,
                 sandbox_factory: Optional[Callable[[], Any]] = None) -> None:
        self._load = load_settings
        self._sandbox_factory = sandbox_factory or _start_embedded_sandbox
        self.sandbox: Any = None

    def resolve(self) -> ResolvedConnection:
        """Main thread. Raises :class:`~eeextract_plugin.qgis_settings.SettingsError`."""
        return self.resolve_with(self._load())

    def resolve_with(self, conn: qs.ConnectionSettings) -> ResolvedConnection:
        """Like :meth:`resolve`, for given (e.g. not yet saved) settings."""
        conn.validate()
        if conn.mode == qs.MODE_PERSISTENT and not google_credentials_exist():
            raise qs.SettingsError(tr("not signed in on this computer: Sign in with Google, or run "
                                      "'earthengine authenticate'"), tr("Google account"))
        if conn.mode == qs.MODE_SANDBOX:
            problem = sandbox_problem()
            if problem:
                raise qs.SettingsError(problem)
        key = None
        url = ""
        if conn.mode == qs.MODE_SERVICE_ACCOUNT:
            key = qs.load_service_account_key(conn.service_account_authcfg)
        elif conn.mode == qs.MODE_SANDBOX:
            url = self.sandbox_url()
        elif conn.mode == qs.MODE_CUSTOM_URL:
            url = conn.custom_url.strip().rstrip("/")
        fingerprint = ""
        if key is not None:
            fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        return ResolvedConnection(mode=conn.mode, url=url, project=conn.effective_project(),
                                  high_volume=conn.high_volume and not url,
                                  concurrency=int(conn.concurrency), key=key,
                                  key_fingerprint=fingerprint)

    def sandbox_url(self) -> str:
        if self.sandbox is None:
            self.sandbox = self._sandbox_factory()
            log.info("embedded sandbox started at %s", self.sandbox.url)
            qs.publish_sandbox_url(self.sandbox.url)
        return str(self.sandbox.url)

    def stop(self) -> None:
        if self.sandbox is not None:
            try:
                self.sandbox.stop()
            finally:
                log.info("embedded sandbox stopped")
                self.sandbox = None


def _start_embedded_sandbox() -> Any:
    """Starts the sandbox in-process on a free port (binds a socket; no network access)."""
    from pathlib import Path

    from eeextract_plugin.sandbox.config import SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    state = Path.home() / ".cache" / "eeextract" / "sandbox-state"
    try:
        from qgis.core import QgsApplication

        state = Path(QgsApplication.qgisSettingsDirPath()) / "eeextract" / "sandbox-state"
    except ImportError:  # pragma: no cover
        pass
    state.mkdir(parents=True, exist_ok=True)
    return SandboxServer(SandboxConfig(port=0, state_dir=state)).start()


_LOCK = threading.Lock()
_CURRENT: Optional[ResolvedConnection] = None
_SESSION: Any = None


def open_session(conn: ResolvedConnection) -> Any:
    """Worker thread: the engine's :class:`~eeextract_plugin.core.session.Session` for ``conn``.

    Initialised once per distinct connection. Persistent credentials, the sandbox and custom
    URLs go through the engine's ``initialise``; a service account's key, which lives only in
    QGIS's auth database (never in a file the engine could read), becomes credentials here.
    """
    global _CURRENT, _SESSION
    from eeextract_plugin.core import session as core_session

    with _LOCK:
        if _SESSION is not None and _CURRENT == conn and _CURRENT.key_fingerprint == conn.key_fingerprint:
            return _SESSION
        log.info("initialising Earth Engine: %s", conn.describe())
        credentials = "none" if conn.mode in (qs.MODE_SANDBOX, qs.MODE_CUSTOM_URL) else "persistent"
        config = core_session.SessionConfig(project=conn.project or None, credentials=credentials,
                                            url=conn.url or None, high_volume=conn.high_volume)
        with metadata_server_not_probed():
            if conn.mode == qs.MODE_SERVICE_ACCOUNT and conn.key is not None:
                _SESSION = _initialise_service_account(core_session, config, conn.key)
            else:
                if credentials == "persistent":
                    _check_signed_in(core_session)
                _SESSION = core_session.initialise(config)
        _CURRENT = conn
        return _SESSION


def not_signed_in() -> str:
    return tr("Not signed in to Earth Engine on this computer: run 'earthengine authenticate' "
              "in a terminal (or choose a service-account key in EE Extract's settings), then "
              "try again")


@contextmanager
def metadata_server_not_probed() -> Iterator[None]:
    """Looking for credentials, google-auth asks the Compute Engine metadata server
    (169.254.169.254) three times when it finds none on disk: a host the user did not choose.
    QGIS runs on desktops: that lookup is switched off while the plugin opens a session."""
    try:
        from google.auth.compute_engine import _metadata
    except ImportError:
        yield
        return
    previous = getattr(_metadata, "_NO_GCE_CHECK", False)
    _metadata._NO_GCE_CHECK = True  # noqa: SLF001 - google-auth reads NO_GCE_CHECK only at import
    try:
        yield
    finally:
        _metadata._NO_GCE_CHECK = previous  # noqa: SLF001


def _check_signed_in(core_session: Any) -> None:
    """Persistent credentials exist (EE's own or application-default ones), else one line
    saying what to do, in the dock's words (the engine's says what the command line needs)."""
    import ee

    try:
        ee.data.get_persistent_credentials()
    except Exception:  # noqa: BLE001 - ee raises EEException; google-auth its own errors
        raise core_session.SessionError(not_signed_in()) from None


def _initialise_service_account(core_session: Any, config: Any, key: Dict[str, Any]) -> Any:
    import ee
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(key, scopes=list(EE_SCOPES))
    kwargs: Dict[str, Any] = {"credentials": credentials, "project": config.project}
    if config.url or config.high_volume:
        kwargs["url"] = config.endpoint
    try:
        ee.Initialize(**kwargs)
    except Exception as exc:  # noqa: BLE001 - reported with Earth Engine's message
        raise core_session.SessionError(tr("Earth Engine initialisation failed at {endpoint}: {error}").format(
            endpoint=config.endpoint, error=exc)) from None
    ee.data.setMaxRetries(0)  # one retry layer: the engine's fetcher
    # The engine's credentials field names a file; say "service account" without a path.
    from dataclasses import replace

    return core_session.Session(replace(config, credentials="service-account (QGIS auth database)"), ee)  # i18n: not translated (the engine's credentials field, logged)


def forget_session() -> None:
    global _CURRENT, _SESSION
    with _LOCK:
        _CURRENT = None
        _SESSION = None
