"""Thumbnail and download URLs: the second kind of direct request.

Creating one (``projects.thumbnails.create``: an expression, a file format, an exact pixel grid,
band ids) needs the user's credentials; fetching it (``GET …/thumbnails/ID:getPixels``) needs
none, so a URL can be handed to another process or machine (a Dask worker) that holds no secret.
Results are held to the download limits (32 MiB, 10,000 px a side), which the planner sizes
tiles for.

:func:`create_pixels_url` uses the client's own request path (the one ``getDownloadURL`` takes),
adding the ``grid`` field of the REST ``Thumbnail`` resource so the pixels are exactly those of
a computePixels request on the same grid. :class:`UrlFetcher` GETs with a plain HTTP session;
its errors carry the HTTP status the engine's retry rules classify (429, 5xx, 4xx).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from eeextract_plugin.core.errors import SessionError
from eeextract_plugin.core.grid import PixelGrid

log = logging.getLogger(__name__)


def create_pixels_url(ee: Any, image: Any, grid: PixelGrid, file_format: str,
                      band_ids: Optional[List[str]] = None) -> str:
    """A URL serving ``image`` on ``grid`` as ``file_format`` (NPY, GEO_TIFF, PNG, JPEG,
    ZIPPED_GEO_TIFF, ZIPPED_GEO_TIFF_PER_BAND); one ``thumbnails.create`` call."""
    data = ee.data
    request: Dict[str, Any] = {
        "expression": ee.serializer.encode(image, for_cloud_api=True),
        "fileFormat": file_format,
        "grid": grid.to_ee(),
    }
    if band_ids:
        request["bandIds"] = list(band_ids)
    query: Dict[str, Any] = {"fields": "name", "body": request}
    try:
        populate_tag = data._maybe_populate_workload_tag  # noqa: SLF001 - the client's own path
        execute = data._execute_cloud_call  # noqa: SLF001
        projects = data._get_cloud_projects  # noqa: SLF001
        parent = data._get_projects_path()  # noqa: SLF001
    except AttributeError as exc:  # a client release without them: say so, do not guess
        raise SessionError(f"this earthengine-api release cannot create download URLs with a pixel grid "
                           f"({exc}); use execution.request_kind 'pixels'") from None
    populate_tag(query)
    result = execute(projects().thumbnails().create(parent=parent, **query))
    return data.makeDownloadUrl({"docid": result["name"], "token": ""})


def create_table_url(ee: Any, collection: Any, file_format: str = "GEO_JSON") -> str:
    """A URL serving ``collection`` (an ``ee.FeatureCollection``) as a GeoJSON or CSV file: one
    ``tables.create`` call with the session's credentials; fetching it needs none."""
    download_id = ee.data.getTableDownloadId({"table": collection, "format": file_format})
    return ee.data.makeTableDownloadUrl(download_id)


@dataclass
class _Response:
    """What the retry rules read of a failed GET (the shape of googleapiclient's ``resp``)."""

    status: int
    headers: Dict[str, str]

    def get(self, key: str, default: Any = None) -> Any:
        return self.headers.get(key.lower(), default)


class UrlRequestError(Exception):
    """A URL's GET answered with an error status; ``resp.status`` is it."""

    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.resp = _Response(status, {k.lower(): v for k, v in (headers or {}).items()})


def _error_message(status: int, body: bytes) -> str:
    try:
        err = json.loads(body.decode("utf-8", "replace")).get("error") or {}
        message = err.get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}")


class UrlFetcher:
    """GETs URLs without credentials, on a pooled HTTP session (one per thread pool). With
    ``quota`` (a :class:`~.quota.QuotaStatus`), every response's headers are shown to it, so
    restricted mode is seen on URL fetches too."""

    def __init__(self, timeout_s: float = 330.0, pool_size: int = 64, quota: Any = None) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self._session = requests.Session()
        self._session.trust_env = False  # never a proxy or .netrc credential the user did not choose
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._quota = quota

    def get(self, url: str) -> bytes:
        response = self._session.get(url, timeout=self._timeout)
        if self._quota is not None:
            self._quota.observe(response.headers)
        if response.status_code != 200:
            raise UrlRequestError(response.status_code, _error_message(response.status_code, response.content),
                                  dict(response.headers))
        return response.content

    def close(self) -> None:
        self._session.close()


__all__ = ["create_pixels_url", "create_table_url", "UrlFetcher", "UrlRequestError"]
