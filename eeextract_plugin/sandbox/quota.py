"""The 2026 noncommercial quota model: per-project monthly EECU accounting, tiers, restricted mode.

Earth Engine (from 2026-04-27) gives each noncommercial project a monthly budget of EECU-hours by
tier: Community 150, Contributor 1,000, Partner 100,000. A project over its budget is put in
**restricted mode** until the month ends: every response to it carries
``x-earth-engine-quota-status: parallelism_restricted=true`` (earthengine-api >= 1.7.19 warns on
it) and its parallelism is reduced.

The sandbox's model (a model, not a measurement: Earth Engine publishes no per-pixel price):

- **EECU cost** of a computation = ``eecu_seconds_per_request`` (interactive requests) +
  ``eecu_seconds_per_megapixel`` x (pixels read from stored bands + pixels of the answer, each
  band counted) / 10**6. Pixels read include every image of a composite and every native pixel
  a pyramid block is made of (:mod:`.metering`), so a 10-image median costs about 10 times a
  single image, as on the service. Defaults: 0.01 EECU-s a request, 1 EECU-s a megapixel.
- An **interactive request** (value:compute, computePixels, getPixels, thumbnail / download
  pixels, map tiles, computeFeatures, listFeatures) is charged when it is answered; a **batch
  export** block by block while it runs, and its operation's ``batchEecuUsageSeconds`` shows the
  task's total.
- Usage is kept per project and per calendar month (UTC), and per workload tag within it.
- **Restricted mode** starts with the answer to the request that takes the month's usage past
  the budget (``monthly_eecu_hours``, or the tier's) and lasts until the month ends. While restricted the
  project's concurrent interactive requests are limited to ``restricted_max_concurrent`` (Earth
  Engine does not publish the number: a setting) and every answer to the project carries the
  header.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from eeextract_plugin.sandbox.errors import invalid_argument

TIER_EECU_HOURS: Dict[str, float] = {"community": 150.0, "contributor": 1000.0, "partner": 100000.0}
QUOTA_STATUS_HEADER = "x-earth-engine-quota-status"
RESTRICTED_STATUS = "parallelism_restricted=true"

_WORKLOAD_TAG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")


def validate_workload_tag(tag: Any) -> Optional[str]:
    """A request's ``workloadTag``: 1-63 characters, alphanumeric at both ends, ``-``, ``_`` and
    ``.`` between (Earth Engine's rule); empty or absent is no tag. Otherwise 400."""
    if tag is None or tag == "":
        return None
    text = str(tag)
    if not _WORKLOAD_TAG.match(text):
        raise invalid_argument(
            f'Invalid workload tag "{text}". Workload tags must be 1-63 characters, beginning and ending '
            "with an alphanumeric character ([a-z0-9A-Z]) with dashes (-), underscores (_), dots (.), "
            "and alphanumerics between.")
    return text


@dataclass
class QuotaModel:
    """Settings of the quota model (``--tier``, ``--monthly-eecu-hours`` ...)."""

    tier: str = "community"
    # Overrides the tier's budget (e.g. a tiny one to rehearse restricted mode).
    monthly_eecu_hours: Optional[float] = None
    eecu_seconds_per_megapixel: float = 1.0
    eecu_seconds_per_request: float = 0.01
    restricted_max_concurrent: int = 4

    def __post_init__(self) -> None:
        if self.tier not in TIER_EECU_HOURS:
            raise ValueError(f"tier must be one of {', '.join(TIER_EECU_HOURS)}, not {self.tier!r}")

    @property
    def budget_eecu_seconds(self) -> float:
        hours = self.monthly_eecu_hours if self.monthly_eecu_hours is not None else TIER_EECU_HOURS[self.tier]
        return float(hours) * 3600.0

    def cost(self, pixels_read: int, output_pixels: int, interactive: bool) -> float:
        """EECU-seconds of a computation that read ``pixels_read`` stored pixels and produced
        ``output_pixels`` (bands counted)."""
        base = self.eecu_seconds_per_request if interactive else 0.0
        return base + self.eecu_seconds_per_megapixel * (int(pixels_read) + int(output_pixels)) / 1e6


def month_of(timestamp: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(timestamp))


class QuotaLedger:
    """Per-project, per-month EECU usage and restricted mode. Thread-safe."""

    def __init__(self, model: QuotaModel, clock: Callable[[], float] = time.time):
        self.model = model
        self._clock = clock
        self._lock = threading.Lock()
        # (project, month) -> {"total": s, "tags": {tag: s}, "restricted": bool}
        self._usage: Dict[tuple, Dict[str, Any]] = {}

    def _entry(self, project: str) -> Dict[str, Any]:
        key = (_project_id(project), month_of(self._clock()))
        entry = self._usage.get(key)
        if entry is None:
            entry = self._usage[key] = {"total": 0.0, "tags": {}, "restricted": False}
        return entry

    def charge(self, project: str, eecu_seconds: float, workload_tag: Optional[str] = None) -> None:
        if eecu_seconds <= 0:
            return
        with self._lock:
            entry = self._entry(project)
            entry["total"] += eecu_seconds
            tag = workload_tag or ""
            entry["tags"][tag] = entry["tags"].get(tag, 0.0) + eecu_seconds

    def restricted(self, project: str) -> bool:
        """True once the month's usage has passed the budget (until the month ends)."""
        with self._lock:
            entry = self._entry(project)
            if not entry["restricted"] and entry["total"] > self.model.budget_eecu_seconds:
                entry["restricted"] = True
            return entry["restricted"]

    def max_concurrent(self, project: str, normal: int) -> int:
        if not self.restricted(project):
            return normal
        limit = int(self.model.restricted_max_concurrent)
        return min(normal, limit) if normal else limit

    def usage(self, project: str) -> Dict[str, Any]:
        """What the sandbox reports at ``GET /sandbox/quota/{project}`` (not an Earth Engine API)."""
        restricted = self.restricted(project)
        with self._lock:
            entry = self._entry(project)
            return {
                "project": _project_id(project),
                "month": month_of(self._clock()),
                "tier": self.model.tier,
                "budgetEecuSeconds": self.model.budget_eecu_seconds,
                "eecuSeconds": round(entry["total"], 6),
                "eecuSecondsByWorkloadTag": {k: round(v, 6) for k, v in sorted(entry["tags"].items())},
                "restricted": restricted,
                "restrictedMaxConcurrent": int(self.model.restricted_max_concurrent),
            }


def _project_id(project: str) -> str:
    return project.split("/", 1)[1] if project.startswith("projects/") else project
