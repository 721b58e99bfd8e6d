"""Export tasks through the real client: submit, sweep operations, classify failures.

Submitting uses ``ee.batch.Export.image.toCloudStorage`` / ``toDrive`` to build the request (the
client folds the grid — crs, crsTransform, dimensions — into the expression) and
``ee.data.exportImage(request_id, config)`` to start it with a request id EE Extract chose and
recorded *before* the call: a start retried after a crash resends the same id, and Earth Engine
answers with the same operation instead of starting a second export.

Tracking is one sweep of ``operations.list`` per poll for all of a job's tasks (newest first,
stopping at the page that is older than the job's oldest in-flight task), never one request per
task. Progress comes from the operation metadata (``Task.status()`` drops it).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Set

from eeextract_plugin.core.grid import PixelGrid, crs_code

log = logging.getLogger(__name__)

# Operation states (Earth Engine's), and what EE Extract makes of them.
PENDING, RUNNING, CANCELLING = "PENDING", "RUNNING", "CANCELLING"
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
ACTIVE_STATES = (PENDING, RUNNING, CANCELLING)

# Failures that a resubmission cannot cure: the request itself is wrong.
_PERMANENT = ("maxpixels", "exceeds maxpixels", "not found", "permission", "does not have access",
              "invalid", "bucket", "no such", "too many pixels", "must be", "unsupported algorithm",
              "is not a valid")


def new_request_id() -> str:
    return str(uuid.uuid4())


def is_transient(message: str) -> bool:
    """Whether a FAILED export may succeed when submitted again (internal errors, time-outs,
    memory limits at a smaller shard size) — as opposed to a request that is simply wrong."""
    text = (message or "").lower()
    return not any(word in text for word in _PERMANENT)


def is_queue_full(message: str) -> bool:
    text = (message or "").lower()
    return "too many" in text and ("task" in text or "operation" in text) or "resource_exhausted" in text \
        or "quota" in text


@dataclass
class ExportTarget:
    """Where an export writes: Cloud Storage ``bucket`` or Drive ``folder``, under ``prefix``."""

    kind: str  # "gcs" | "drive"
    prefix: str
    bucket: Optional[str] = None
    folder: Optional[str] = None


def build_export_config(ee: Any, image: Any, grid: PixelGrid, description: str, target: ExportTarget,
                        file_dimensions: int, shard_size: int, cloud_optimized: bool = True,
                        nodata: Optional[float] = None) -> Dict[str, Any]:
    """The ExportImageRequest for ``image`` on exactly ``grid`` (the same grid the direct path
    would fetch, so both methods give the same pixels)."""
    pixels = grid.width * grid.height
    common = dict(
        image=image,
        description=_description(description),
        crs=crs_code(grid.crs),
        crsTransform=list(grid.transform),
        dimensions=f"{grid.width}x{grid.height}",
        maxPixels=max(int(1e8), int(math.ceil(pixels * 1.01)) + 1),
        shardSize=shard_size,
        fileDimensions=file_dimensions,
        skipEmptyTiles=False,
        fileFormat="GeoTIFF",
        # Without noData, Earth Engine writes masked pixels as 0.
        formatOptions={"cloudOptimized": bool(cloud_optimized),
                       **({"noData": nodata} if nodata is not None else {})},
    )
    if target.kind == "gcs":
        task = ee.batch.Export.image.toCloudStorage(bucket=target.bucket, fileNamePrefix=target.prefix, **common)
    else:
        task = ee.batch.Export.image.toDrive(folder=target.folder, fileNamePrefix=target.prefix, **common)
    return dict(task.config)


def _description(text: str) -> str:
    # Earth Engine accepts at most 100 characters of letters, digits and ".,:;_-" and spaces.
    safe = "".join(c if c.isalnum() or c in " .,:;_-" else "_" for c in text)
    return safe[:100] or "eeextract"


def submit(ee: Any, request_id: str, config: Dict[str, Any]) -> Dict[str, Any]:
    """Starts an export; returns the Operation. Raises ``ee.EEException`` with EE's message."""
    return ee.data.exportImage(request_id, config)


class OperationSweeper:
    """Reads the state of many operations with as few ``operations.list`` requests as possible."""

    def __init__(self, ee: Any, project_path: str, page_size: int = 500) -> None:
        self.ee = ee
        self.project_path = project_path
        self.page_size = page_size
        self.requests = 0  # list requests sent (benchmark figure: polling requests per task)
        self.get_requests = 0

    def sweep(self, names: Iterable[str], oldest_create_s: Optional[float] = None) -> Dict[str, Dict[str, Any]]:
        wanted: Set[str] = set(names)
        found: Dict[str, Dict[str, Any]] = {}
        if not wanted:
            return found
        for page in self._pages():
            older = False
            for op in page:
                name = op.get("name")
                if name in wanted:
                    found[name] = op
                created = _rfc3339_seconds((op.get("metadata") or {}).get("createTime"))
                if oldest_create_s is not None and created is not None and created < oldest_create_s - 60:
                    older = True
            if len(found) == len(wanted) or older:
                break
        # An operation the listing did not show (expired from the list, or eventual consistency):
        # ask for it by name.
        for name in wanted - set(found):
            try:
                self.get_requests += 1
                found[name] = self.ee.data.getOperation(name)
            except Exception as exc:  # noqa: BLE001 — reported as missing, retried next poll
                log.warning("operation %s: %s", name, exc)
        return found

    def _pages(self):
        projects = getattr(self.ee.data, "_get_cloud_projects", None)
        if projects is None:  # a client without the resource: the public, unpaged call
            self.requests += 1
            yield self.ee.data.listOperations()
            return
        resource = projects().operations()
        request = resource.list(pageSize=self.page_size, name=self.project_path)
        while request is not None:
            self.requests += 1
            response = self.ee.data._execute_cloud_call(request)
            yield response.get("operations", [])
            request = resource.list_next(request, response)


def operation_state(op: Dict[str, Any]) -> str:
    meta = op.get("metadata") or {}
    state = meta.get("state")
    if state:
        return state
    if op.get("done"):
        return FAILED if op.get("error") else SUCCEEDED
    return PENDING


def operation_progress(op: Dict[str, Any]) -> float:
    meta = op.get("metadata") or {}
    try:
        return float(meta.get("progress") or (1.0 if operation_state(op) == SUCCEEDED else 0.0))
    except (TypeError, ValueError):
        return 0.0


def operation_error(op: Dict[str, Any]) -> str:
    err = op.get("error") or {}
    return str(err.get("message") or "the export failed without a message")


def _rfc3339_seconds(text: Optional[str]) -> Optional[float]:
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class PollInterval:
    """Adaptive polling: seconds when tasks are about to finish, up to ``maximum`` when nothing
    moves. The next poll is set to half the shortest predicted time to completion among running
    tasks (from their progress rate), within [minimum, maximum]."""

    def __init__(self, minimum: float = 2.0, maximum: float = 60.0) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.current = minimum
        self._seen: Dict[str, tuple] = {}

    def next(self, ops: Dict[str, Dict[str, Any]], changed: bool) -> float:
        now = time.monotonic()
        predictions: List[float] = []
        for name, op in ops.items():
            if operation_state(op) != RUNNING:
                continue
            p = operation_progress(op)
            prev = self._seen.get(name)
            self._seen[name] = (now, p)
            if prev and p > prev[1] and now > prev[0]:
                rate = (p - prev[1]) / (now - prev[0])
                predictions.append((1.0 - p) / rate)
        if changed:
            self.current = self.minimum
        elif predictions:
            self.current = min(self.maximum, max(self.minimum, min(predictions) / 2))
        else:
            self.current = min(self.maximum, self.current * 1.5)
        return self.current
