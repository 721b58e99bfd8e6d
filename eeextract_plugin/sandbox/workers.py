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
threads, a test runner, or QGIS) when the server starts; a program that embeds the server with
workers must guard its main module (``if __name__ == "__main__":``), as ``multiprocessing``
requires. A worker that dies fails the request it was running with 500 and is replaced.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import queue
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, internal
from eeextract_plugin.sandbox.metering import metering

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


def _task(kind: str, args: Tuple[Any, ...]) -> Outcome:
    """One computation in a worker: its encoded answer, or the EEError it raised."""
    from eeextract_plugin.sandbox import encoding

    engine = _ENGINE
    # The pixels the computation reads are counted here and sent back with the answer, so the
    # server charges the project's EECU as if it had computed itself.
    with metering() as meter:
        try:
            if kind in ("compute_pixels", "asset_pixels"):
                if kind == "compute_pixels":
                    expression, grid, band_ids, visualization, file_format = args
                    raster = engine.compute_pixels(expression, grid, band_ids, visualization)
                else:
                    name, grid, band_ids, region, visualization, file_format = args
                    raster = engine.asset_pixels(name, grid, band_ids, region, visualization)
                encoded = encoding.encode(raster, file_format, None)
                pixels = raster.grid.width * raster.grid.height
                return ("ok", encoded.data, encoded.content_type, {}, (pixels, pixels * len(raster.bands), meter.pixels))
            if kind == "value":
                (expression,) = args
                body = json.dumps({"result": engine.compute_value(expression)}, separators=(",", ":")).encode()
                return ("ok", body, None, {}, (0, 0, meter.pixels))
            if kind == "features":
                expression, page_size, page_token = args
                result = engine.compute_features(expression, page_size, page_token)
                return ("ok", json.dumps(result, separators=(",", ":")).encode(), None, {}, (0, 0, meter.pixels))
            raise internal(f"Unknown worker task {kind!r}.")
        except EEError as error:
            return ("error", error.code, error.status, error.message, dict(error.headers))


def _worker_main(conn: Any, config: SandboxConfig) -> None:
    """A worker: one task at a time from its pipe, its answer back on the same pipe (the body
    as raw bytes, not pickled)."""
    _initialise(config)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        kind, args = message
        try:
            outcome = _task(kind, args)
        except Exception as exc:  # noqa: BLE001 - reported to the server as a 500
            log.exception("sandbox worker: %s failed", kind)
            outcome = ("exception", f"{type(exc).__name__}: {exc}")
        try:
            if outcome[0] == "ok":
                _, body, content_type, headers, pixels = outcome
                conn.send(("ok", content_type, headers, pixels))
                conn.send_bytes(body)
            else:
                conn.send(outcome)
        except (EOFError, OSError):
            return


class _Worker:
    def __init__(self, process: Any, conn: Any):
        self.process = process
        self.conn = conn


class ComputePool:
    """``workers`` processes computing for one server; a serving thread hands its task to an idle
    worker through that worker's pipe and waits for the answer itself (no broker thread)."""

    def __init__(self, config: SandboxConfig, workers: int):
        self.config = config
        self.workers = max(1, int(workers))
        self._lock = threading.Lock()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: List[_Worker] = []
        self._started = False
        self._closed = False

    def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(target=_worker_main, args=(child, self.config), name="sandbox-compute",
                                  daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._all.append(worker)
        return worker

    def start(self) -> None:
        """Start every worker now (they read the geography in the background)."""
        with self._lock:
            if self._closed:
                raise internal("The sandbox is shutting down.")
            if self._started:
                return
            if getattr(sys, "frozen", False) or not sys.executable:
                raise internal("Worker processes need a Python interpreter.")
            for _ in range(self.workers):
                self._idle.put(self._spawn())
            self._started = True

    def run(self, kind: str, *args: Any) -> Tuple[bytes, Optional[str], Dict[str, str], Tuple[int, int, int]]:
        """(body, content type or None for JSON, headers, (output pixels, output band-pixels,
        pixels read)), or raise its EEError."""
        self.start()
        worker = self._idle_worker()
        healthy = False
        try:
            if self._closed:
                raise internal("The sandbox is shutting down.")
            worker.conn.send((kind, args))
            outcome = worker.conn.recv()
            if outcome[0] == "ok":
                _, content_type, headers, pixels = outcome
                body = worker.conn.recv_bytes()
                healthy = True
                return body, content_type, headers, pixels
            healthy = True
            if outcome[0] == "error":
                _, code, status, message, headers = outcome
                raise EEError(code, status, message, headers)
            raise internal(f"An internal error has occurred: {outcome[1]}")
        except (EOFError, OSError):
            log.error("sandbox: a compute worker stopped; starting another")
            raise internal("An internal error has occurred: a compute worker stopped.") from None
        finally:
            self._give_back(worker, healthy)

    def _idle_worker(self) -> _Worker:
        """The next idle worker (waiting, as the serving thread would while computing)."""
        while True:
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                if self._closed:
                    raise internal("The sandbox is shutting down.") from None

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        with self._lock:
            if self._closed:
                return
            if not healthy:
                _stop(worker)
                self._all.remove(worker)
                worker = self._spawn()
        self._idle.put(worker)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), []
        for worker in workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in workers:
            worker.process.join(timeout=5)
            _stop(worker)


def _stop(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.terminate()
        worker.process.join(timeout=5)
    try:
        worker.conn.close()
    except OSError:
        pass
