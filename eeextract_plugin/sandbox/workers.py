"""Interactive computations in worker processes (``SandboxConfig.compute_workers``).

The HTTP server keeps everything that counts (the concurrency slots, the request rate, the
latency model, the faults, batch tasks, thumbnails, storage) in its own process, so the limits
are exactly those of one server however many workers compute. Only the stateless engine calls
move out: ``value:compute``, ``image:computePixels``, ``assets:getPixels`` and
``table:computeFeatures``, each evaluated and encoded by a worker that has its own
:class:`~eeextract_plugin.sandbox.engine.Engine` on the same settings (pixels are functions of
their position: every process computes the same bytes). The serving thread waits for its
answer while holding its request's slot, as it would while computing itself.

Workers are started with ``spawn`` (never ``fork``: the server may run inside a process with
threads, a test runner, or QGIS), lazily, on the first computation. A worker that dies fails the
requests it was running with 500 and the pool is started anew.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Dict, Optional, Tuple

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, internal

log = logging.getLogger(__name__)

# (status "ok", body, content type, headers, output pixels) or ("error", code, status, message, headers)
Outcome = Tuple[Any, ...]

_ENGINE: Any = None


def _initialise(config: SandboxConfig) -> None:
    """A worker's start: its engine, and the shipped geography and Sentinel-2 tile table read
    at once rather than during its first request."""
    global _ENGINE
    import signal

    from eeextract_plugin.sandbox.engine import Engine

    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    _ENGINE = Engine(config)
    try:
        from eeextract_plugin.sandbox.imagery import geography, s2

        geography.data()
        s2.tiles()
    except Exception:  # noqa: BLE001 - a broken data file fails the requests that need it
        log.exception("sandbox worker: cannot read the geography")


def _ready() -> bool:
    return _ENGINE is not None


def _task(kind: str, args: Tuple[Any, ...]) -> Outcome:
    """One computation in a worker: its encoded answer, or the EEError it raised."""
    from eeextract_plugin.sandbox import encoding

    engine = _ENGINE
    try:
        if kind in ("compute_pixels", "asset_pixels"):
            if kind == "compute_pixels":
                expression, grid, band_ids, visualization, file_format = args
                raster = engine.compute_pixels(expression, grid, band_ids, visualization)
            else:
                name, grid, band_ids, region, visualization, file_format = args
                raster = engine.asset_pixels(name, grid, band_ids, region, visualization)
            encoded = encoding.encode(raster, file_format, None)
            return ("ok", encoded.data, encoded.content_type, {}, raster.grid.width * raster.grid.height)
        if kind == "value":
            (expression,) = args
            body = json.dumps({"result": engine.compute_value(expression)}, separators=(",", ":")).encode()
            return ("ok", body, None, {}, 0)
        if kind == "features":
            expression, page_size, page_token = args
            result = engine.compute_features(expression, page_size, page_token)
            return ("ok", json.dumps(result, separators=(",", ":")).encode(), None, {}, 0)
        raise internal(f"Unknown worker task {kind!r}.")
    except EEError as error:
        return ("error", error.code, error.status, error.message, dict(error.headers))


class ComputePool:
    """``workers`` processes computing for one server."""

    def __init__(self, config: SandboxConfig, workers: int):
        self.config = config
        self.workers = max(1, int(workers))
        self._lock = threading.Lock()
        self._executor: Optional[ProcessPoolExecutor] = None
        self._closed = False

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise internal("The sandbox is shutting down.")
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                if getattr(sys, "frozen", False) or not sys.executable:
                    raise internal("Worker processes need a Python interpreter.")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                     initializer=_initialise, initargs=(self.config,))
            return self._executor

    def start(self) -> None:
        """Start every worker now (in the background) rather than on the first requests."""
        executor = self._pool()
        for _ in range(self.workers):
            executor.submit(_ready)

    def run(self, kind: str, *args: Any) -> Tuple[bytes, Optional[str], Dict[str, str], int]:
        """(body, content type or None for JSON, headers, output pixels), or raise its EEError."""
        executor = self._pool()
        try:
            outcome = executor.submit(_task, kind, args).result()
        except BrokenProcessPool:
            log.error("sandbox: a compute worker died; starting the pool anew")
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise internal("An internal error has occurred: a compute worker stopped.") from None
        if outcome[0] == "error":
            _, code, status, message, headers = outcome
            raise EEError(code, status, message, headers)
        _, body, content_type, headers, pixels = outcome
        return body, content_type, headers, pixels

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
