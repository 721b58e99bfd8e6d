"""Earth Engine sessions: initialise the client once, explicitly, never at import.

Credentials: ``"persistent"`` (what ``earthengine authenticate`` stored, or application-default
credentials), ``"none"`` (anonymous: the sandbox), or the path of a service-account key file.
The credentials object lives only in the ``ee`` client's memory: it is never logged, never put
in a job spec, the registry, or a repr.

One retry layer: :func:`initialise` sets ``ee.data.setMaxRetries(0)``, so the client sends each
request once and :mod:`eeextract_plugin.core.fetch` owns retries (full-jitter backoff, honours
``Retry-After``, adapts concurrency on 429s). With the client's default of 5 retries on top of
ours, attempts would multiply (5 x 8) and the client's waits ignore ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from eeextract_plugin.core.errors import SessionError
from eeextract_plugin.core.quota import ProjectQuota, QuotaStatus

log = logging.getLogger(__name__)

HIGH_VOLUME_URL = "https://earthengine-highvolume.googleapis.com"
_init_lock = threading.Lock()


@dataclass(frozen=True)
class SessionConfig:
    project: Optional[str] = None
    credentials: str = "persistent"  # "persistent" | "none" | path to a service-account key
    url: Optional[str] = None
    high_volume: bool = False
    http_pool_size: int = 64
    # Earth Engine ends an interactive request after 5 minutes; a connection silent for longer
    # is dead: time it out so the request is retried instead of holding a worker forever.
    request_timeout_s: float = 330.0
    # How long to wait for the endpoint to accept a connection when the session starts.
    connect_timeout_s: float = 5.0

    @property
    def endpoint(self) -> str:
        if self.url:
            return self.url.rstrip("/")
        return HIGH_VOLUME_URL if self.high_volume else "https://earthengine.googleapis.com"

    def describe(self) -> str:
        cred = self.credentials if self.credentials in ("persistent", "none") else "service account"
        return f"{self.endpoint} (project {self.project or 'default'}, credentials {cred})"


@dataclass
class Session:
    """An initialised Earth Engine client (the ``ee`` module) and how it was set up."""

    config: SessionConfig
    ee: Any
    #: What Earth Engine says of the project's quota (restricted mode), from response headers.
    quota: QuotaStatus = field(default_factory=QuotaStatus)
    #: The project's quota shared by every job run on this session (at once or one after another).
    shared_quota: ProjectQuota = field(default_factory=ProjectQuota)

    def __repr__(self) -> str:  # never show credentials
        return f"Session({self.config.describe()})"

    @property
    def project(self) -> str:
        return self.config.project or "earthengine-legacy"


def _credentials(ee: Any, spec: str) -> Any:
    if spec in ("none", "", None):
        return None
    if spec == "persistent":
        try:
            return ee.data.get_persistent_credentials()
        except Exception as exc:
            raise SessionError("no Earth Engine credentials found: run `earthengine authenticate` "
                               f"or pass --credentials KEY.json ({exc})") from None
    key = Path(spec).expanduser()
    if not key.is_file():
        raise SessionError(f"service-account key file not found: {key}")
    try:
        email = json.loads(key.read_text(encoding="utf-8"))["client_email"]
        return ee.ServiceAccountCredentials(email, key_file=str(key))
    except Exception as exc:
        raise SessionError(f"cannot read service-account key file {key}: "
                           f"{type(exc).__name__}") from None


def load_credentials(source: str) -> Any:
    """The credentials ``source`` names (``"persistent"``, ``"none"`` or a service-account key
    file's path), loaded in this process from what this machine holds: a Dask worker reads a
    private bucket this way, and only the name travels, never a secret."""
    import ee

    return _credentials(ee, source)


def initialise(config: SessionConfig) -> Session:
    """Initialises the ``ee`` client for ``config`` and returns the session.

    Thread-safe; calling it again with another config re-initialises the (process-global)
    client.
    """
    import ee

    with _init_lock:
        creds = _credentials(ee, config.credentials)
        url = config.endpoint if (config.url or config.high_volume) else None
        check_reachable(config.endpoint, config.connect_timeout_s)
        # Before Initialize: it fetches the API's discovery document with the client's retries
        # (5 by default, with backoff: 30-40 s before an unreachable URL is reported).
        ee.data.setMaxRetries(0)
        previous_http = _http_session(ee)
        try:
            kwargs: dict = {"credentials": creds, "project": config.project}
            if url:
                kwargs["url"] = url
            with _deprecation_catalog_not_fetched(ee, bool(config.url)):
                ee.Initialize(**kwargs)
        except ee.EEException as exc:
            raise SessionError(f"Earth Engine initialisation failed at {config.endpoint}: {exc}") from None
        except Exception as exc:  # connection refused, DNS, TLS…
            raise SessionError(f"cannot reach Earth Engine at {config.endpoint}: "
                               f"{type(exc).__name__}: {exc}") from None
        ee.data.setMaxRetries(0)  # one retry layer: core/fetch.py
        if config.request_timeout_s:
            try:
                ee.data.setDeadline(int(config.request_timeout_s * 1000))
            except Exception as exc:  # rebuilding the API resource needs the server once more
                raise SessionError(f"cannot reach Earth Engine at {config.endpoint}: {exc}") from None
        if previous_http is not None and previous_http is not _http_session(ee):
            previous_http.close()  # the last session's pooled connections
        _enlarge_http_pool(ee, config.http_pool_size)
        session = Session(config, ee)
        _watch_quota_status(ee, session.quota)
        log.info("Earth Engine session: %s", config.describe())
        return session


RESTRICTED_WARNING = r"Your project has exceeded its noncommercial compute quota"


def _watch_quota_status(ee: Any, quota: QuotaStatus) -> None:
    """Every response the client receives shows its headers to ``quota`` (a requests hook on the
    client's HTTP session: restricted mode is read from ``x-earth-engine-quota-status``).
    earthengine-api >= 1.7.19 warns on every such response; the engine says it once, in its own
    words, so that warning is silenced."""
    warnings.filterwarnings("ignore", message=RESTRICTED_WARNING)
    try:
        state = ee.data._get_state()  # noqa: SLF001 - no public accessor
        sess = getattr(state, "requests_session", None)
        if sess is not None:
            sess.hooks["response"].append(lambda response, *a, **k: quota.observe(response.headers))
    except Exception:
        log.debug("could not watch the quota status header", exc_info=True)


def check_reachable(endpoint: str, timeout_s: float = 5.0) -> None:
    """Raises :class:`SessionError` within ``timeout_s`` when nothing accepts a connection at
    ``endpoint`` (wrong port, host down, no network). Skipped when a proxy serves the URL (the
    proxy, not this machine, connects to it)."""
    from urllib.parse import urlsplit

    import requests

    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host or not timeout_s:
        return
    try:
        if requests.utils.get_environ_proxies(endpoint):
            return
    except Exception:  # noqa: BLE001 - an odd proxy setting: let the client decide
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, socket.timeout):
            reason = f"no answer within {timeout_s:g} s"
        raise SessionError(f"cannot reach Earth Engine at {endpoint}: {reason}") from None


@contextmanager
def _deprecation_catalog_not_fetched(ee: Any, custom_url: bool) -> Iterator[None]:
    """``ee.Initialize`` downloads Google's catalog of deprecated assets from
    storage.googleapis.com. With a URL of the user's choosing (the sandbox, a proxy) nothing
    may go to a host the user did not choose: the catalog is taken as empty."""
    module = getattr(ee, "deprecation", None)
    fetch = getattr(module, "_FetchDataCatalogStac", None)
    if not custom_url or fetch is None:
        yield
        return
    module._FetchDataCatalogStac = dict  # noqa: SLF001 - no public switch
    try:
        yield
    finally:
        module._FetchDataCatalogStac = fetch  # noqa: SLF001


def _http_session(ee: Any) -> Any:
    try:
        return getattr(ee.data._get_state(), "requests_session", None)  # noqa: SLF001
    except Exception:
        return None


def _enlarge_http_pool(ee: Any, size: int) -> None:
    """The client's requests.Session keeps 10 connections per host by default; with 32 requests
    in flight the rest would be opened and dropped each time."""
    try:
        from requests.adapters import HTTPAdapter

        state = ee.data._get_state()  # noqa: SLF001 - no public accessor
        sess = getattr(state, "requests_session", None)
        if sess is not None:
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0)
            replaced = {id(a): a for a in sess.adapters.values()}
            sess.mount("http://", adapter)
            sess.mount("https://", adapter)
            for old in replaced.values():
                old.close()  # its pooled connection would be dropped unclosed
    except Exception:
        log.debug("could not enlarge the HTTP connection pool", exc_info=True)


def initialise_from_connection(connection: Any) -> Session:
    """For front ends holding a connection object with ``url``, ``project``, ``credentials``
    and ``high_volume`` attributes (Processing's ``Connection``, the dock's settings)."""
    return initialise(SessionConfig(
        project=getattr(connection, "project", None) or None,
        credentials=getattr(connection, "credentials", None) or "persistent",
        url=getattr(connection, "url", None) or None,
        high_volume=bool(getattr(connection, "high_volume", False)),
    ))


def config_from_env() -> SessionConfig:
    """``EEEXTRACT_URL``, ``EEEXTRACT_PROJECT``, ``EEEXTRACT_CREDENTIALS`` (tests, servers)."""
    url = os.environ.get("EEEXTRACT_URL") or None
    creds = os.environ.get("EEEXTRACT_CREDENTIALS") or ("none" if url and "127.0.0.1" in url else "persistent")
    return SessionConfig(project=os.environ.get("EEEXTRACT_PROJECT") or None, credentials=creds, url=url)
