"""What runs on a Dask worker. Every argument is plain data, and none is a secret: URLs created
by the client (fetching them needs no credential), paths on the storage every worker shares,
grids, band names, and for export downloads the *name* of a credential source (``none``,
``persistent`` or a key file's path) that the worker loads from what its own machine holds.

A request task reports instead of raising for what the retry rules must read (the HTTP status
and headers of an error, a corrupt body, a connection error, a full disk): Dask would carry the
exception, but not every exception survives pickling as it was. The client turns the report
back into the exception (:mod:`.units`). Anything else raises as it is and fails the unit.

Each task also says whether Earth Engine's answers carried the restricted-mode header (read
by :class:`~eeextract_plugin.core.quota.QuotaStatus`, one per project in each worker process),
so the client's one controller restricts the whole cluster.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from eeextract_plugin.core.export.execution import download_verified, mosaic_parts, part_store_for
from eeextract_plugin.core.export.parts import RemotePart
from eeextract_plugin.core.fetch import RETRY, CorruptResponse, classify
from eeextract_plugin.core.grid import PixelGrid
from eeextract_plugin.core.mosaic import build_output
from eeextract_plugin.core.plan import OutputPlan
from eeextract_plugin.core.postprocess import zonal_for_output
from eeextract_plugin.core.quota import QuotaStatus
from eeextract_plugin.core.session import load_credentials
from eeextract_plugin.core.source import check_image_body, decode_npy
from eeextract_plugin.core.tables import RowShape, rows_bytes
from eeextract_plugin.core.urls import UrlFetcher, UrlRequestError
from eeextract_plugin.core.writer import DiskFullError, StagingRaster, band_planes, write_atomic

log = logging.getLogger(__name__)

CANCEL_POLL_S = 0.5

_lock = threading.Lock()
_fetchers: Dict[Tuple[str, float], UrlFetcher] = {}
_statuses: Dict[str, QuotaStatus] = {}
_stores: Dict[Any, Any] = {}


# ------------------------------------------------------------------------------ requests
def _fetcher(project: str, timeout_s: float) -> Tuple[UrlFetcher, QuotaStatus]:
    """One pooled HTTP session per worker process (and project), its responses' headers shown
    to that project's quota status."""
    with _lock:
        status = _statuses.setdefault(project, QuotaStatus())
        fetcher = _fetchers.get((project, timeout_s))
        if fetcher is None:
            fetcher = _fetchers[(project, timeout_s)] = UrlFetcher(timeout_s, pool_size=64, quota=status)
        return fetcher, status


def _report(project: str, work: Callable[[], int]) -> Dict[str, Any]:
    """Runs one request's work; its bytes, or what went wrong in the words the client's retry
    rules read; and whether the project is restricted."""
    report: Dict[str, Any]
    try:
        report = {"nbytes": int(work())}
    except UrlRequestError as exc:
        report = {"http": exc.resp.status, "message": str(exc), "headers": dict(exc.resp.headers)}
    except CorruptResponse as exc:
        report = {"corrupt": str(exc)}
    except DiskFullError as exc:
        report = {"disk_full": str(exc.strerror or exc)}
    except Exception as exc:
        verdict = classify(exc)
        if verdict.action != RETRY or verdict.status is not None:
            raise
        report = {"transient": verdict.message}  # connection reset, time-out, truncated body
    with _lock:
        status = _statuses.get(project)
    report["restricted"] = bool(status is not None and status.restricted)
    return report


@dataclass(frozen=True)
class TileTarget:
    """Where a tile goes: the output's staging raster (on shared storage) and the window."""

    base: str
    grid: PixelGrid
    bands: Tuple[str, ...]
    dtype: str
    nodata: Optional[float]
    col: int
    row: int
    width: int
    height: int


def fetch_tile(url: str, project: str, timeout_s: float, target: TileTarget) -> Dict[str, Any]:
    """GETs a tile's NPY and writes it into the staging raster the client created."""
    def work() -> int:
        fetcher, _ = _fetcher(project, timeout_s)
        body = fetcher.get(url)
        arr = decode_npy(body, target.width, target.height)
        staging = StagingRaster(target.base, target.grid, list(target.bands), target.dtype, target.nodata)
        if not staging.raw_path.exists():  # the output was finished (or removed) meanwhile
            raise FileNotFoundError(f"staging raster {staging.raw_path} is gone")
        staging.open()
        try:
            staging.write(target.col, target.row, band_planes(arr, list(target.bands)))
        finally:
            staging.close()
        return len(body)

    return _report(project, work)


def fetch_picture(url: str, project: str, timeout_s: float, path: str, fmt: str) -> Dict[str, Any]:
    """GETs a PNG / JPEG chip, checks it is whole, writes it (atomically)."""
    def work() -> int:
        fetcher, _ = _fetcher(project, timeout_s)
        return write_atomic(path, check_image_body(fetcher.get(url), fmt))

    return _report(project, work)


def fetch_rows(url: str, project: str, timeout_s: float, shape: RowShape, path: str) -> Dict[str, Any]:
    """GETs a table unit's GeoJSON, shapes its rows by the thread engine's rule, stages them."""
    def work() -> int:
        fetcher, _ = _fetcher(project, timeout_s)
        body = fetcher.get(url)
        try:
            result = json.loads(body)
        except ValueError as exc:
            raise CorruptResponse(f"table body is not JSON ({exc})") from None
        return write_atomic(path, rows_bytes(shape.rows(result)))

    return _report(project, work)


# ------------------------------------------------------------------------------ post-processing
def cancel_poll(event_name: Optional[str]) -> Callable[[], bool]:
    """Whether the job's cancel event is set on the scheduler (asked at most every 0.5 s)."""
    if not event_name:
        return lambda: False
    from distributed import Event

    event = Event(event_name)
    seen = [0.0, False]

    def cancelled() -> bool:
        now = time.monotonic()
        if not seen[1] and now - seen[0] >= CANCEL_POLL_S:
            seen[0] = now
            try:
                seen[1] = bool(event.is_set())
            except Exception:  # noqa: BLE001 - the scheduler is away: go on; the client decides
                log.debug("cannot read the cancel event %s", event_name, exc_info=True)
        return seen[1]

    return cancelled


def write_output(vrt: str, path: str, fmt: str, dtype: str, compression: str, nodata: Optional[float],
                 cancel_event: Optional[str]) -> str:
    """The output file from its staging raster (COG by default), stopped by the job's cancel."""
    build_output(vrt, path, fmt, dtype, compression, nodata, cancelled=cancel_poll(cancel_event))
    return path


def zonal(path: str, zonal_spec: Any) -> Tuple[List[str], Optional[str]]:
    """The spec's zonal statistics of one finished raster."""
    return zonal_for_output(path, zonal_spec)


@dataclass(frozen=True)
class StoreRecipe:
    """How a worker opens an export's destination: the spec's ``method``, the project, the
    storage endpoint (a sandbox's, or None for Google's) and the *name* of the credentials
    (``none``, ``persistent`` or a key file's path), loaded on the worker."""

    method: Any
    project: Optional[str]
    endpoint: Optional[str]
    credentials: str


def _store(recipe: StoreRecipe) -> Any:
    key = (repr(recipe.method), recipe.project, recipe.endpoint, recipe.credentials)
    with _lock:
        store = _stores.get(key)
    if store is None:
        credentials = None if recipe.credentials in ("none", "") else load_credentials(recipe.credentials)
        store = part_store_for(recipe.method, recipe.project, credentials, recipe.endpoint)
        with _lock:
            store = _stores.setdefault(key, store)
    return store


def download_part(recipe: StoreRecipe, part: RemotePart, dest: str, cancel_event: Optional[str]) -> int:
    """One export part downloaded (verified) to shared storage; its size."""
    return download_verified(_store(recipe), part, Path(dest), cancel_poll(cancel_event))


def mosaic(part_paths: Sequence[str], vrt: str, out: OutputPlan, compression: str,
           nodata: Optional[float], dest: str) -> str:
    """An export's parts → a file at ``dest`` (the client then puts it in place)."""
    mosaic_parts([Path(p) for p in part_paths], Path(vrt), out, compression, nodata, Path(dest))
    return dest


__all__ = ["TileTarget", "StoreRecipe", "fetch_tile", "fetch_picture", "fetch_rows", "write_output", "zonal",
           "download_part", "mosaic", "cancel_poll"]
