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

import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from eeextract_plugin.core.errors import SessionError

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
        import json

        email = json.loads(key.read_text(encoding="utf-8"))["client_email"]
        return ee.ServiceAccountCredentials(email, key_file=str(key))
    except Exception as exc:
        raise SessionError(f"cannot read service-account key file {key}: "
                           f"{type(exc).__name__}") from None


def initialise(config: SessionConfig) -> Session:
    """Initialises the ``ee`` client for ``config`` and returns the session.

    Thread-safe; calling it again with another config re-initialises the (process-global)
    client.
    """
    import ee

    with _init_lock:
        creds = _credentials(ee, config.credentials)
        url = config.endpoint if (config.url or config.high_volume) else None
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
        log.info("Earth Engine session: %s", config.describe())
        return Session(config, ee)


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
