"""Batch image exports: ``image:export`` and the ``operations`` it creates.

``ExportService`` is what the HTTP server routes to::

    POST /v1/projects/{p}/image:export            start_export(project, body)  -> Operation
    GET  /v1/projects/{p}/operations/{id}         get_operation(name)          -> Operation
    GET  /v1/projects/{p}/operations              list_operations(project, page_size, page_token, filter)
    POST /v1/projects/{p}/operations/{id}:cancel  cancel_operation(name)       -> {}

and it owns the destinations the exports write to: ``buckets`` (a ``storage.BucketStore``, served
by ``gcs_api``) and ``drive`` (a ``storage.DriveStore``, served by ``drive_api``).

Behaviour, as Earth Engine's batch system:

- A task is PENDING, then RUNNING (at most ``config.max_running_tasks`` at once, higher
  ``priority`` first, then oldest first), then SUCCEEDED / FAILED; a cancel makes a PENDING task
  CANCELLED and a RUNNING one CANCELLING, then CANCELLED. More than ``config.max_pending_tasks``
  waiting → 429 "Too many tasks already in the queue (N)...".
- ``requestId`` makes a start idempotent (``Task.start`` retries resend it).
- Request errors (no destination, bad geoTiffOptions, ``fileDimensions`` not a multiple of
  ``shardSize``, unknown bucket) → 400 at submit. Errors found while running → the task FAILS with
  Earth Engine's message: the expression's own errors, "Export too large: specified N pixels
  (max: M)...", no write access to the bucket, mixed band types, and the seeded
  ``config.faults.export_memory_failure`` → "User memory limit exceeded.".
- Timing: ``config.export_timing.startup_s`` once running, then pixels at
  ``megapixels_per_s``; ``metadata.progress`` advances as blocks are written.
- The output grid comes from the expression (the client folds region, scale, crs, crsTransform
  and dimensions into it). It is split into parts of ``fileDimensions`` named
  ``{prefix}-{row offset:010d}-{col offset:010d}.tif`` (``{prefix}.tif`` for a single part); each
  part is computed block by block (multiples of ``shardSize``, bounded memory), written to a hidden
  staging file, then renamed into the bucket or Drive folder so a listing never shows a part that
  is still being written.

Masked pixels are written as ``geoTiffOptions.noData`` (and tagged as nodata) when given, else as 0
without a nodata tag, as Earth Engine writes them.
"""

from __future__ import annotations

import base64
import heapq
import json
import logging
import math
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, invalid_argument, not_found, resource_exhausted
from eeextract_plugin.sandbox.metering import metering
from eeextract_plugin.sandbox.raster import PixelGrid, Raster
from eeextract_plugin.sandbox.storage import BucketStore, DriveStore, rfc3339

log = logging.getLogger(__name__)

OPERATION_METADATA_TYPE = "type.googleapis.com/google.earthengine.v1.OperationMetadata"
EMPTY_RESPONSE_TYPE = "type.googleapis.com/google.protobuf.Empty"

DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_SHARD_SIZE = 256
# Without fileDimensions, an image is written as one file up to this many pixels a side.
DEFAULT_FILE_DIMENSION = 65536
# Pixels computed per block when writing a part (bounded memory).
BLOCK_PIXELS = 4 * 1024 * 1024
# Earth Engine keeps finished tasks (listable) for 10 days.
TASK_RETENTION_S = 10 * 24 * 3600

# google.rpc.Code values used in Operation.error.
CODE_CANCELLED = 1
CODE_INVALID_ARGUMENT = 3
CODE_PERMISSION_DENIED = 7
CODE_RESOURCE_EXHAUSTED = 8
CODE_INTERNAL = 13

_GRPC_CODE = {400: CODE_INVALID_ARGUMENT, 403: CODE_PERMISSION_DENIED, 404: 5, 429: CODE_RESOURCE_EXHAUSTED,
              500: CODE_INTERNAL, 503: 14}


class _CancelledError(Exception):
    pass


class _ClosingError(Exception):
    pass


class TaskFailedError(Exception):
    """A running export fails with this Earth Engine message."""

    def __init__(self, message: str, code: int = CODE_INVALID_ARGUMENT):
        super().__init__(message)
        self.message = message
        self.code = code


# --------------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True)
class ExportRequest:
    """An ExportImageRequest, validated."""

    expression: Dict[str, Any]
    description: str
    destination: str                     # "gcs" or "drive"
    bucket: Optional[str]
    folder: Optional[str]
    filename_prefix: str
    file_width: int
    file_height: int
    split_requested: bool
    shard_size: int
    cloud_optimized: bool
    skip_empty_files: bool
    no_data: Optional[float]
    max_pixels: int
    priority: int
    workload_tag: Optional[str]

    @classmethod
    def parse(cls, body: Dict[str, Any]) -> ExportRequest:
        expression = body.get("expression")
        if not isinstance(expression, dict) or "result" not in expression:
            raise invalid_argument("ExportImageRequest.expression is required.")
        if "assetExportOptions" in body:
            raise invalid_argument("The sandbox exports images to Cloud Storage and Drive only, not to assets.")
        options = body.get("fileExportOptions")
        if not isinstance(options, dict):
            raise invalid_argument("ExportImageRequest.fileExportOptions is required.")
        file_format = options.get("fileFormat", "GEO_TIFF")
        if file_format != "GEO_TIFF":
            raise invalid_argument(
                f"File format '{file_format}' is not supported by the sandbox's exports; use GEO_TIFF.")
        description = str(body.get("description") or "myExportImageTask")
        gcs = options.get("cloudStorageDestination")
        drive = options.get("driveDestination")
        bucket = folder = None
        if isinstance(gcs, dict):
            destination = "gcs"
            bucket = gcs.get("bucket")
            if not bucket:
                raise invalid_argument("Cloud Storage destination requires a bucket.")
            prefix = gcs.get("filenamePrefix") or description
        elif isinstance(drive, dict):
            destination = "drive"
            folder = drive.get("folder") or ""
            prefix = drive.get("filenamePrefix") or description
        else:
            raise invalid_argument(
                "ExportImageRequest.fileExportOptions needs a cloudStorageDestination or a driveDestination.")
        prefix = str(prefix)
        if prefix.endswith(".tif"):
            prefix = prefix[:-4]
        if not prefix or prefix.startswith("/") or ".." in prefix.split("/"):
            raise invalid_argument(f"Invalid filenamePrefix '{prefix}'.")
        if destination == "drive" and "/" in prefix:
            raise invalid_argument(f"Invalid Drive filenamePrefix '{prefix}': it may not contain '/'.")

        tiff = options.get("geoTiffOptions") or {}
        shard = _positive_int(_wrapped(tiff.get("tileSize"), DEFAULT_SHARD_SIZE), "shardSize")
        dims = tiff.get("tileDimensions")
        if dims:
            width = _positive_int(dims.get("width", 0), "fileDimensions width")
            height = _positive_int(dims.get("height", 0), "fileDimensions height")
            if width % shard or height % shard:
                raise invalid_argument(
                    f"fileDimensions ({width}, {height}) must be a multiple of shardSize ({shard}).")
            split = True
        else:
            width = height = max(shard, (DEFAULT_FILE_DIMENSION // shard) * shard)
            split = False
        no_data_value = tiff.get("noData")
        no_data: Optional[float] = None
        if isinstance(no_data_value, dict):
            raw = no_data_value.get("floatValue", no_data_value.get("value"))
            no_data = float(raw) if raw is not None else None
        elif isinstance(no_data_value, (int, float)):
            no_data = float(no_data_value)
        max_pixels = int(float(_wrapped(body.get("maxPixels"), DEFAULT_MAX_PIXELS)))
        priority = int(_wrapped(body.get("priority"), 100))
        return cls(expression, description, destination, bucket, folder, prefix, width, height, split,
                   shard, bool(tiff.get("cloudOptimized", False)), bool(tiff.get("skipEmptyFiles", False)),
                   no_data, max_pixels, priority, body.get("workloadTag") or None)


def _wrapped(value: Any, default: Any) -> Any:
    """The value of a protobuf wrapper (``{"value": "123"}``), a bare value, or the default."""
    if value is None:
        return default
    if isinstance(value, dict):
        return value.get("value", default)
    return value


def _positive_int(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_argument(f"Invalid {what}: {value!r}.") from None
    if number <= 0:
        raise invalid_argument(f"Invalid {what}: {number}. It must be positive.")
    return number


# --------------------------------------------------------------------------------------------
# Where pixels come from


class PixelSource:
    """The evaluator seen from exports: the output grid of an expression, and its pixels.

    Uses the engine's ``image_for_export(expression) -> (image, PixelGrid | grid dict)`` and, for
    pixels, the engine's ``compute_export_pixels(image, PixelGrid) -> Raster`` when it has one,
    else ``imagery.pixels.compute_pixels(image, grid, None, None, config, enforce_limits=False)``
    inside the engine's evaluation context (``engine.context()``).
    """

    def __init__(self, engine: Any, config: SandboxConfig):
        self.engine = engine
        self.config = config

    def resolve(self, expression: Dict[str, Any]) -> Tuple[Any, PixelGrid]:
        resolve = getattr(self.engine, "image_for_export", None)
        if resolve is None:
            raise TaskFailedError("Exports are not available: the sandbox's engine cannot evaluate images.",
                              CODE_INTERNAL)
        image, grid = resolve(expression)
        if isinstance(grid, dict):
            grid = PixelGrid.from_json(grid)
        if grid is None or grid.width <= 0 or grid.height <= 0:
            raise TaskFailedError("Unable to export unbounded image.")
        return image, grid

    def compute(self, image: Any, grid: PixelGrid) -> Raster:
        compute = getattr(self.engine, "compute_export_pixels", None)
        if compute is not None:
            return compute(image, grid)
        from eeextract_plugin.sandbox.imagery.pixels import compute_pixels

        context = getattr(self.engine, "context", None)
        if context is None:
            return compute_pixels(image, grid, None, None, self.config, enforce_limits=False)
        # Lazy images (collections, catalog assets) read the evaluation context while computing.
        from eeextract_plugin.sandbox.evaluator import evaluation_context

        with evaluation_context(context()):
            return compute_pixels(image, grid, None, None, self.config, enforce_limits=False)


# --------------------------------------------------------------------------------------------
# Tasks


@dataclass
class ExportTask:
    id: str
    project: str
    request: ExportRequest
    request_id: Optional[str]
    seq: int
    create_time: float
    fail_memory: bool
    destination_uris: List[str]
    state: str = "PENDING"
    update_time: float = 0.0
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    progress: float = 0.0
    attempt: int = 1
    error: Optional[Tuple[int, str]] = None
    eecu_seconds: float = 0.0
    cancel: threading.Event = field(default_factory=threading.Event)
    written: List[str] = field(default_factory=list)
    body: Dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"projects/{self.project}/operations/{self.id}"

    @property
    def done(self) -> bool:
        return self.state in ("SUCCEEDED", "FAILED", "CANCELLED")

    def operation(self) -> Dict[str, Any]:
        metadata: Dict[str, Any] = {
            "@type": OPERATION_METADATA_TYPE,
            "state": self.state,
            "description": self.request.description,
            "priority": self.request.priority,
            "createTime": rfc3339(self.create_time),
            "updateTime": rfc3339(self.update_time or self.create_time),
            "type": "EXPORT_IMAGE",
            "destinationUris": list(self.destination_uris),
            "attempt": self.attempt,
        }
        if self.start_time is not None:
            metadata["startTime"] = rfc3339(self.start_time)
        if self.end_time is not None:
            metadata["endTime"] = rfc3339(self.end_time)
        if self.state != "PENDING":
            metadata["progress"] = round(self.progress, 6)
        if self.eecu_seconds:
            metadata["batchEecuUsageSeconds"] = round(self.eecu_seconds, 3)
        op: Dict[str, Any] = {"name": self.name, "metadata": metadata}
        if self.done:
            op["done"] = True
            if self.state == "SUCCEEDED":
                op["response"] = {"@type": EMPTY_RESPONSE_TYPE}
            else:
                code, message = self.error or (CODE_INTERNAL, "An internal error has occurred.")
                op["error"] = {"code": code, "message": message}
        return op


def _new_operation_id() -> str:
    return base64.b32encode(uuid.uuid4().bytes).decode("ascii")[:24]


def part_layout(grid: PixelGrid, file_width: int, file_height: int) -> List[Tuple[int, int, int, int]]:
    """(row offset, col offset, width, height) of each file, row by row."""
    parts = []
    for row in range(0, grid.height, file_height):
        for col in range(0, grid.width, file_width):
            parts.append((row, col, min(file_width, grid.width - col), min(file_height, grid.height - row)))
    return parts


def part_name(prefix: str, row: int, col: int, single: bool) -> str:
    return f"{prefix}.tif" if single else f"{prefix}-{row:010d}-{col:010d}.tif"


class ExportService:
    """Earth Engine's batch export system, on local disk. Thread-safe."""

    def __init__(self, config: SandboxConfig, engine: Any,
                 source: Optional[PixelSource] = None, clock: Callable[[], float] = time.time):
        self.config = config
        self.engine = engine
        self.source = source or PixelSource(engine, config)
        # The project's EECU ledger (quota.QuotaLedger); the server sets its own.
        self.quota: Optional[Any] = None
        self.clock = clock
        # Without a state_dir the sandbox is ephemeral: a private temporary folder, removed when
        # it stops (never the current folder, where old operations would come back).
        self._owned_state_dir = not config.state_dir
        state_dir = (Path(config.state_dir) if config.state_dir
                     else Path(tempfile.mkdtemp(prefix="eeextract-sandbox-state-")))
        self.state_dir = state_dir
        self.buckets = BucketStore(state_dir / "buckets", tuple(config.public_buckets),
                                   tuple(config.private_buckets),
                                   tuple(config.readonly_buckets or ()))
        self.drive = DriveStore(state_dir / "drive", tuple(config.drive_folders))
        self._tasks: Dict[str, ExportTask] = {}
        self._by_request_id: Dict[Tuple[str, str], str] = {}
        self._seq = 0
        self._rng = random.Random(f"{config.faults.seed}:export-memory-failure")
        self._lock = threading.Condition()
        self._workers: List[threading.Thread] = []
        self._closing = False
        self._running = 0
        # Pending tasks: a heap of (-priority, seq, id), stale entries skipped when popped.
        self._pending: List[Tuple[int, int, str]] = []
        self._pending_count = 0
        self._last_expiry = 0.0
        # Operations survive a restart of the sandbox (as Earth Engine keeps them): an append-only
        # journal replayed at start; tasks that had not finished run again.
        self._journal_path = state_dir / "operations.jsonl"
        self._load_journal()

    # -- public API --------------------------------------------------------------------------

    def start_export(self, project: str, body: Dict[str, Any]) -> Dict[str, Any]:
        request_id = body.get("requestId") or None
        with self._lock:
            if request_id is not None:
                known = self._by_request_id.get((project, request_id))
                if known is not None and known in self._tasks:
                    return self._tasks[known].operation()
        request = ExportRequest.parse(body)
        if request.destination == "gcs":
            assert request.bucket is not None
            if not self.buckets.exists(request.bucket):
                raise invalid_argument(f"Cloud Storage bucket '{request.bucket}' does not exist.")
        with self._lock:
            if self._closing:
                raise EEError(503, "UNAVAILABLE", "The service is shutting down.")
            if request_id is not None:
                known = self._by_request_id.get((project, request_id))
                if known is not None and known in self._tasks:
                    return self._tasks[known].operation()
            if self._pending_count >= self.config.max_pending_tasks:
                raise resource_exhausted(
                    f"Too many tasks already in the queue ({self.config.max_pending_tasks}). "
                    "Please wait for some of them to complete.")
            self._seq += 1
            now = self.clock()
            fail_memory = self._rng.random() < self.config.faults.export_memory_failure
            task = ExportTask(_new_operation_id(), project, request, request_id, self._seq, now,
                              fail_memory, self._destination_uris(request), update_time=now, body=body)
            self._add(task)
            self._journal({"event": "submit", "id": task.id, "project": project, "body": body,
                           "requestId": request_id, "seq": task.seq, "createTime": now,
                           "failMemory": fail_memory, "destinationUris": task.destination_uris})
            self._ensure_workers()
            self._lock.notify_all()
            log.info("export %s submitted: %s", task.id, request.description)
            return task.operation()

    def get_operation(self, name: str) -> Dict[str, Any]:
        with self._lock:
            self._expire()
            return self._find(name).operation()

    def list_operations(self, project: str, page_size: Optional[int] = None,
                        page_token: Optional[str] = None, filter: Optional[str] = None) -> Dict[str, Any]:
        size = 100 if not page_size else max(1, min(int(page_size), 1000))
        before = _decode_token(page_token) if page_token else None
        match = _operation_filter(filter)
        with self._lock:
            self._expire()
            tasks = sorted((t for t in self._tasks.values() if t.project == project),
                           key=lambda t: t.seq, reverse=True)
            if before is not None:
                tasks = [t for t in tasks if t.seq < before]
            page: List[Dict[str, Any]] = []
            last_seq = None
            more = False
            for task in tasks:
                op = task.operation()
                if not match(op):
                    continue
                if len(page) >= size:
                    more = True
                    break
                page.append(op)
                last_seq = task.seq
        result: Dict[str, Any] = {"operations": page} if page else {}
        if more and last_seq is not None:
            result["nextPageToken"] = _encode_token(last_seq)
        return result

    def cancel_operation(self, name: str) -> Dict[str, Any]:
        with self._lock:
            task = self._find(name)
            if task.state == "PENDING":
                self._pending_count -= 1
                self._finish(task, "CANCELLED", (CODE_CANCELLED, "Cancelled."))
            elif task.state == "RUNNING":
                task.state = "CANCELLING"
                task.update_time = self.clock()
                task.cancel.set()
            self._lock.notify_all()
        return {}

    def close(self) -> None:
        """Stop the workers; tasks still running stay as they are (the sandbox is going away)."""
        with self._lock:
            self._closing = True
            for task in self._tasks.values():
                task.cancel.set()
            self._lock.notify_all()
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout=10)
        if self._owned_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def tasks(self) -> List[Dict[str, Any]]:
        """Every operation, newest first (for diagnostics)."""
        with self._lock:
            return [t.operation() for t in sorted(self._tasks.values(), key=lambda t: -t.seq)]

    # -- bookkeeping -------------------------------------------------------------------------

    def _find(self, name: str) -> ExportTask:
        parts = name.strip("/").split("/")
        task = self._tasks.get(parts[-1]) if parts else None
        if task is None or (len(parts) >= 4 and parts[0] == "projects" and parts[1] != task.project):
            raise not_found(f"Operation {name} not found.")
        return task

    def _add(self, task: ExportTask) -> None:
        self._tasks[task.id] = task
        if task.request_id is not None:
            self._by_request_id[(task.project, task.request_id)] = task.id
        if task.state == "PENDING":
            heapq.heappush(self._pending, (-task.request.priority, task.seq, task.id))
            self._pending_count += 1

    def _expire(self) -> None:
        now = self.clock()
        if now - self._last_expiry < 60:
            return
        self._last_expiry = now
        horizon = now - TASK_RETENTION_S
        for task_id in [i for i, t in self._tasks.items() if t.done and (t.end_time or 0) < horizon]:
            task = self._tasks.pop(task_id)
            if task.request_id:
                self._by_request_id.pop((task.project, task.request_id), None)

    def _finish(self, task: ExportTask, state: str, error: Optional[Tuple[int, str]] = None) -> None:
        now = self.clock()
        task.state = state
        task.error = error
        task.end_time = now
        task.update_time = now
        if state == "SUCCEEDED":
            task.progress = 1.0
        self._journal({"event": "finish", "id": task.id, "state": state, "error": list(error) if error else None,
                       "startTime": task.start_time, "endTime": now, "progress": task.progress,
                       "eecu": task.eecu_seconds, "attempt": task.attempt})
        log.info("export %s %s%s", task.id, state, f": {error[1]}" if error else "")

    def _destination_uris(self, request: ExportRequest) -> List[str]:
        if request.destination == "gcs":
            directory = request.filename_prefix.rsplit("/", 1)[0] + "/" if "/" in request.filename_prefix else ""
            return [f"https://console.developers.google.com/storage/browser/{request.bucket}/{directory}"]
        if request.folder:
            folder = self.drive.ensure_folder(request.folder)
            return [f"https://drive.google.com/#folders/{folder.id}"]
        return ["https://drive.google.com/"]

    # -- the scheduler -----------------------------------------------------------------------

    def _ensure_workers(self) -> None:
        wanted = max(1, int(self.config.max_running_tasks))
        while len(self._workers) < wanted:
            worker = threading.Thread(target=self._work, name=f"sandbox-export-{len(self._workers)}",
                                      daemon=True)
            self._workers.append(worker)
            worker.start()

    def _next_pending(self) -> Optional[ExportTask]:
        """The pending task to run next (highest priority, then oldest), left in the heap."""
        while self._pending:
            task = self._tasks.get(self._pending[0][2])
            if task is not None and task.state == "PENDING":
                return task
            heapq.heappop(self._pending)
        return None

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._closing and (self._next_pending() is None
                                             or self._running >= self.config.max_running_tasks):
                    self._lock.wait()
                if self._closing:
                    return
                task = self._next_pending()
                assert task is not None
                heapq.heappop(self._pending)
                self._pending_count -= 1
                task.state = "RUNNING"
                task.start_time = task.update_time = self.clock()
                self._running += 1
            try:
                self._run(task)
            finally:
                with self._lock:
                    self._running -= 1
                    self._lock.notify_all()

    def _run(self, task: ExportTask) -> None:
        try:
            _ExportRun(self, task).run()
        except _ClosingError:
            return
        except _CancelledError:
            with self._lock:
                self._finish(task, "CANCELLED", (CODE_CANCELLED, "Cancelled."))
        except TaskFailedError as failure:
            with self._lock:
                self._finish(task, "FAILED", (failure.code, failure.message))
        except EEError as error:
            with self._lock:
                self._finish(task, "FAILED", (_GRPC_CODE.get(error.code, CODE_INTERNAL), error.message))
        except Exception:  # a bug in the sandbox: the task fails, the service goes on
            log.exception("export %s failed unexpectedly", task.id)
            with self._lock:
                self._finish(task, "FAILED", (CODE_INTERNAL, "An internal error has occurred."))
        else:
            with self._lock:
                if task.cancel.is_set() and task.state == "CANCELLING":
                    self._finish(task, "CANCELLED", (CODE_CANCELLED, "Cancelled."))
                else:
                    self._finish(task, "SUCCEEDED")

    # -- the journal ---------------------------------------------------------------------------

    def _journal(self, record: Dict[str, Any]) -> None:
        try:
            self._journal_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._journal_path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
        except OSError:
            log.warning("cannot write the operations journal %s", self._journal_path, exc_info=True)

    def _load_journal(self) -> None:
        if not self._journal_path.is_file():
            return
        horizon = self.clock() - TASK_RETENTION_S
        records: Dict[str, Dict[str, Any]] = {}
        with open(self._journal_path, encoding="utf-8") as journal:
            for line in journal:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if record.get("event") == "submit":
                    records[record["id"]] = {"submit": record}
                elif record.get("event") == "finish" and record.get("id") in records:
                    records[record["id"]]["finish"] = record
        kept: List[Dict[str, Any]] = []
        for entry in records.values():
            submit, finish = entry["submit"], entry.get("finish")
            if finish and (finish.get("endTime") or 0) < horizon:
                continue
            try:
                request = ExportRequest.parse(submit["body"])
            except EEError:
                continue
            task = ExportTask(submit["id"], submit["project"], request, submit.get("requestId"), submit["seq"],
                              submit["createTime"], bool(submit.get("failMemory")),
                              list(submit.get("destinationUris") or []), update_time=submit["createTime"],
                              body=submit["body"])
            if finish:
                task.state = finish["state"]
                task.error = tuple(finish["error"]) if finish.get("error") else None  # type: ignore[assignment]
                task.start_time = finish.get("startTime")
                task.end_time = task.update_time = finish["endTime"]
                task.progress = finish.get("progress") or 0.0
                task.eecu_seconds = finish.get("eecu") or 0.0
                task.attempt = finish.get("attempt") or 1
            self._seq = max(self._seq, task.seq)
            self._add(task)
            kept.append(entry)
        # Compact: rewrite the journal with what was kept.
        temp = self._journal_path.with_suffix(".tmp")
        with open(temp, "w", encoding="utf-8") as out:
            for entry in sorted(kept, key=lambda e: e["submit"]["seq"]):
                out.write(json.dumps(entry["submit"], separators=(",", ":")) + "\n")
                if entry.get("finish"):
                    out.write(json.dumps(entry["finish"], separators=(",", ":")) + "\n")
        os.replace(temp, self._journal_path)
        if self._pending_count:
            self._ensure_workers()
        log.info("restored %d export operations (%d to run)", len(kept), self._pending_count)

    # Used by _ExportRun.
    def _wait(self, task: ExportTask, seconds: float) -> None:
        """Sleep up to ``seconds``; raise when the task is cancelled or the service closes."""
        if seconds > 0:
            task.cancel.wait(seconds)
        self._check(task)

    def _check(self, task: ExportTask) -> None:
        if self._closing:
            raise _ClosingError()
        if task.cancel.is_set():
            raise _CancelledError()

    def _progress(self, task: ExportTask, fraction: float) -> None:
        with self._lock:
            task.progress = max(task.progress, min(1.0, fraction))
            task.update_time = self.clock()

    def _charge(self, task: ExportTask, pixels_read: int, output_pixels: int) -> None:
        """A block's EECU (the quota model's cost): to the task's batchEecuUsageSeconds and to
        the project's monthly usage."""
        eecu = self.config.quota.cost(pixels_read, output_pixels, interactive=False)
        with self._lock:
            task.eecu_seconds += eecu
        if self.quota is not None:
            self.quota.charge(task.project, eecu, task.request.workload_tag)


class _ExportRun:
    """One run of one task: resolve the grid, check, then write each part block by block."""

    def __init__(self, service: ExportService, task: ExportTask):
        self.service = service
        self.task = task
        self.request = task.request
        timing = service.config.export_timing
        self.startup_s = float(timing.startup_s)
        self.rate = float(timing.megapixels_per_s) * 1e6 if timing.megapixels_per_s else math.inf

    def run(self) -> None:
        service, task, request = self.service, self.task, self.request
        image, grid = service.source.resolve(request.expression)
        total = grid.width * grid.height
        if total > request.max_pixels:
            raise TaskFailedError(
                f"Export too large: specified {total} pixels (max: {request.max_pixels}). "
                "Specify higher maxPixels value if you intend to export a large area.")
        if request.destination == "gcs" and not service.buckets.can_write(request.bucket or ""):
            raise TaskFailedError(
                f"Earth Engine does not have write access to the Cloud Storage bucket '{request.bucket}'. "
                "Permission 'storage.objects.create' denied.", CODE_PERMISSION_DENIED)
        service._wait(task, self.startup_s)
        parts = part_layout(grid, request.file_width, request.file_height)
        single = len(parts) == 1
        # The seeded memory failure strikes about halfway through.
        fail_after = total // 2 if task.fail_memory else None
        begun = time.monotonic()
        done = 0
        for row, col, width, height in parts:
            name = part_name(request.filename_prefix, row, col, single)
            done = self._write_part(image, grid.window(col, row, width, height), name, done, total,
                                    begun, fail_after)

    def _write_part(self, image: Any, grid: PixelGrid, name: str, done: int, total: int,
                    begun: float, fail_after: Optional[int]) -> int:
        service, task, request = self.service, self.task, self.request
        staging = (service.buckets.staging_dir(request.bucket or "") if request.destination == "gcs"
                   else service.drive.staging_dir())
        temp = staging / f".export-{task.id}-{uuid.uuid4().hex}.tif"
        writer: Optional[_PartWriter] = None
        any_valid = False
        try:
            for col, row, width, height in _blocks(grid.width, grid.height, request.shard_size):
                service._check(task)
                with metering() as meter:
                    raster = service.source.compute(image, grid.window(col, row, width, height))
                service._charge(task, meter.pixels, width * height * len(raster.bands))
                if writer is None:
                    writer = _PartWriter(temp, grid, raster, request)
                any_valid = writer.write(raster, col, row) or any_valid
                del raster
                done += width * height
                if fail_after is not None and done >= fail_after:
                    raise TaskFailedError("User memory limit exceeded.", CODE_RESOURCE_EXHAUSTED)
                service._progress(task, done / total)
                # Pace to the configured rate.
                service._wait(task, done / self.rate - (time.monotonic() - begun))
            if writer is None:  # an empty grid cannot happen (width, height > 0)
                return done
            writer.close()
            service._check(task)
            if request.skip_empty_files and not any_valid:
                return done
            final = writer.finish(request.cloud_optimized, request.shard_size)
            if request.destination == "gcs":
                service.buckets.write(request.bucket or "", name, source=final)
            else:
                service.drive.write(request.folder or "", name, source=final)
            task.written.append(name)
            return done
        finally:
            if writer is not None:
                writer.discard()
            for leftover in (temp, temp.with_suffix(".cog.tif")):
                if leftover.exists():
                    leftover.unlink()


def _blocks(width: int, height: int, shard: int):
    """(col, row, width, height) blocks covering a part: whole shards, about BLOCK_PIXELS each."""
    block_w = min(width, max(shard, (4096 // shard) * shard))
    block_h = min(height, max(shard, ((BLOCK_PIXELS // block_w) // shard) * shard))
    for row in range(0, height, block_h):
        for col in range(0, width, block_w):
            yield col, row, min(block_w, width - col), min(block_h, height - row)


def _type_name(dtype: np.dtype) -> str:
    names = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
             "int32": "Int32", "float32": "Float32", "float64": "Float64", "int64": "Int64",
             "uint64": "UInt64", "bool": "Byte"}
    return names.get(np.dtype(dtype).name, np.dtype(dtype).name)


class _PartWriter:
    """A GeoTIFF part written block by block with GDAL (bounded memory)."""

    def __init__(self, path: Path, grid: PixelGrid, first: Raster, request: ExportRequest):
        from osgeo import gdal, osr

        gdal.UseExceptions()
        self.path = path
        self.band_names = first.band_names
        dtypes = {np.dtype(b.values.dtype) for b in first.bands}
        if len(dtypes) > 1:
            found = sorted({_type_name(d) for d in dtypes})
            raise TaskFailedError("Exported bands must have compatible data types; found inconsistent types: "
                              + " and ".join(found[:2]) + ".")
        dtype = dtypes.pop() if dtypes else np.dtype("uint8")
        if dtype == np.bool_:
            dtype = np.dtype("uint8")
        if dtype == np.int8 and not hasattr(gdal, "GDT_Int8"):
            dtype = np.dtype("int16")
        self.dtype = dtype
        from osgeo import gdal_array

        gdal_type = gdal_array.NumericTypeCodeToGDALTypeCode(dtype)
        tile = request.shard_size if request.shard_size % 16 == 0 else 256
        options = ["TILED=YES", f"BLOCKXSIZE={tile}", f"BLOCKYSIZE={tile}", "COMPRESS=DEFLATE",
                   "BIGTIFF=IF_SAFER", "INTERLEAVE=BAND"]
        driver = gdal.GetDriverByName("GTiff")
        self.dataset = driver.Create(str(path), grid.width, grid.height, max(1, len(first.bands)),
                                     gdal_type, options)
        self.dataset.SetGeoTransform(grid.gdal_geotransform)
        srs = osr.SpatialReference()
        srs.SetFromUserInput(grid.crs)
        self.dataset.SetProjection(srs.ExportToWkt())
        self.no_data = request.no_data
        for index, name in enumerate(self.band_names, start=1):
            band = self.dataset.GetRasterBand(index)
            band.SetDescription(name)
            if self.no_data is not None:
                band.SetNoDataValue(self.no_data)
        self.fill = np.array(self.no_data if self.no_data is not None else 0).astype(dtype)

    def write(self, raster: Raster, col: int, row: int) -> bool:
        """Write one block; True when it has any unmasked pixel."""
        any_valid = False
        if raster.band_names != self.band_names:
            raise TaskFailedError("Exported bands changed between blocks of one image.", CODE_INTERNAL)
        for index, band in enumerate(raster.bands, start=1):
            if np.dtype(band.values.dtype) not in (self.dtype, np.dtype(np.bool_)) \
                    and not (self.dtype == np.int16 and band.values.dtype == np.int8):
                raise TaskFailedError("Exported bands must have compatible data types; found inconsistent "
                                  f"types: {_type_name(self.dtype)} and {_type_name(band.values.dtype)}.")
            values = band.values.astype(self.dtype, copy=False)
            mask = np.asarray(band.mask, dtype=bool)
            if mask.shape != values.shape:
                mask = np.broadcast_to(mask, values.shape)
            if not mask.all():
                values = np.where(mask, values, self.fill)
            any_valid = any_valid or bool(mask.any())
            self.dataset.GetRasterBand(index).WriteArray(values, col, row)
        return any_valid

    def close(self) -> None:
        if self.dataset is not None:
            self.dataset.FlushCache()
            self.dataset = None

    def finish(self, cloud_optimized: bool, shard: int) -> Path:
        """The finished file: the part itself, or a Cloud-Optimized copy of it."""
        self.close()
        if not cloud_optimized:
            return self.path
        from osgeo import gdal

        cog = self.path.with_suffix(".cog.tif")
        block = shard if shard % 16 == 0 else 256
        gdal.Translate(str(cog), str(self.path), format="COG",
                       creationOptions=["COMPRESS=DEFLATE", f"BLOCKSIZE={block}", "BIGTIFF=IF_SAFER",
                                        "OVERVIEWS=AUTO"])
        self.path.unlink()
        return cog

    def discard(self) -> None:
        self.dataset = None


# --------------------------------------------------------------------------------------------
# listOperations helpers


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"ops:{seq}".encode()).decode("ascii")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        if not text.startswith("ops:"):
            raise ValueError(text)
        return int(text[4:])
    except (ValueError, UnicodeError):
        raise invalid_argument(f"Invalid page token '{token}'.") from None


def _operation_filter(expression: Optional[str]) -> Callable[[Dict[str, Any]], bool]:
    """A small subset of the AIP-160 filters: ``field = "value"`` terms joined by AND / OR.

    Fields are dotted paths into the Operation (``metadata.state``, ``done``); ``state`` is short
    for ``metadata.state``.
    """
    if not expression or not expression.strip():
        return lambda op: True
    import re

    alternatives = re.split(r"\s+OR\s+", expression.strip())
    clauses: List[List[Tuple[str, str, str]]] = []
    for alternative in alternatives:
        terms = []
        for term in re.split(r"\s+AND\s+", alternative.strip()):
            found = re.fullmatch(r"\s*\(?\s*([\w.@]+)\s*(=|!=|:)\s*\"?([^\"\)]*)\"?\s*\)?\s*", term)
            if not found:
                raise invalid_argument(f"Invalid filter: {expression}")
            key, op, value = found.groups()
            if key in ("state", "description", "type"):
                key = "metadata." + key
            terms.append((key, op, value))
        clauses.append(terms)

    def lookup(op: Dict[str, Any], key: str) -> str:
        value: Any = op
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None and key == "done":
            return "false"
        return "" if value is None else str(value)

    def match(op: Dict[str, Any]) -> bool:
        for terms in clauses:
            ok = True
            for key, comparison, value in terms:
                actual = lookup(op, key)
                if comparison == "=":
                    ok = actual == value
                elif comparison == "!=":
                    ok = actual != value
                else:
                    ok = value in actual
                if not ok:
                    break
            if ok:
                return True
        return False

    return match
