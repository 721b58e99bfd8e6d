"""A job's status row: what ``eeextract status``, the dock's jobs list and Processing show.

Read from the registry only (no session, no Earth Engine call). One rule for a job recorded as
running whose lock no process holds (:mod:`.joblock`): its state reads ``interrupted``
(resumable).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.errors import JobNotFound
from eeextract_plugin.core.joblock import is_running
from eeextract_plugin.core.wording import format_bytes

INTERRUPTED = "interrupted"
#: States a job can be resumed from.
RESUMABLE = (reg.PLANNED, reg.CANCELLED, reg.FAILED, INTERRUPTED, reg.COMPLETED_WITH_FAILURES)


def effective_state(job: reg.JobRecord, workdir: Union[str, Path]) -> str:
    """The recorded state, except a job recorded as running whose lock no process holds (it
    died: ``kill -9``, a crash, a reboot): ``interrupted``. The lock, not a process id, decides
    (:mod:`.joblock`): a reused PID cannot keep a dead job "running"."""
    if job.state == reg.RUNNING and not is_running(workdir, job.id):
        return INTERRUPTED
    return job.state


@dataclass
class JobStatus:
    id: str
    name: str
    kind: str
    state: str
    message: str
    units_done: int
    units_total: int  # live units (a split unit counts as its children)
    units_failed: int
    bytes_done: int
    outputs_done: int
    outputs_total: int
    output_paths: List[str] = field(default_factory=list)  # files written so far
    output_dir: str = ""
    workdir: str = ""
    created: float = 0.0
    updated: float = 0.0
    summary: Dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        if self.units_total:
            return self.units_done / self.units_total
        return 1.0 if self.state == reg.COMPLETED else 0.0

    @property
    def resumable(self) -> bool:
        return self.state in RESUMABLE

    def line(self) -> str:
        """One line, as ``eeextract status`` prints it."""
        failed = f", {self.units_failed} failed" if self.units_failed else ""
        return (f"{self.id}  {self.state}  units {self.units_done}/{self.units_total} done{failed}; "
                f"files {self.outputs_done}/{self.outputs_total}; {format_bytes(self.bytes_done)}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def status_of(registry: reg.Registry, job: reg.JobRecord, workdir: Union[str, Path] = "") -> JobStatus:
    counts = registry.unit_counts(job.id)
    outputs = registry.outputs(job.id)
    live = sum(v for k, v in counts.items() if k in (reg.PENDING, reg.DONE, reg.FAILED, reg.RUNNING))
    return JobStatus(
        id=job.id, name=job.name, kind=job.kind, state=effective_state(job, registry.path.parent),
        message=job.message or "",
        units_done=counts.get(reg.DONE, 0), units_total=live, units_failed=counts.get(reg.FAILED, 0),
        bytes_done=counts.get("bytes_done", 0),
        outputs_done=sum(o.state == reg.DONE for o in outputs), outputs_total=len(outputs),
        output_paths=[o.path for o in outputs if o.state == reg.DONE],
        output_dir=str((job.spec.get("output") or {}).get("directory", "")),
        workdir=str(workdir), created=job.created, updated=job.updated, summary=job.summary or {})


def job_status(job_id: str, workdir: Union[str, Path]) -> JobStatus:
    """The status of one job (id or unique prefix) of a working folder's registry."""
    path = reg.default_registry_path(workdir)
    if not os.path.lexists(path):  # a folder or a damaged file is reported by Registry
        raise JobNotFound(job_id)
    with reg.Registry(path) as registry:
        job = registry.find_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return status_of(registry, job, workdir)


def list_jobs(workdir: Union[str, Path]) -> List[JobStatus]:
    """Every job of a working folder's registry, oldest first (empty when there is none)."""
    path = reg.default_registry_path(workdir)
    if not os.path.lexists(path):  # a folder or a damaged file is reported by Registry
        return []
    with reg.Registry(path) as registry:
        return [status_of(registry, job, workdir) for job in registry.jobs()]


def find_job_status(job_id: str, workdir: Union[str, Path]) -> Optional[JobStatus]:
    try:
        return job_status(job_id, workdir)
    except JobNotFound:
        return None


__all__ = ["JobStatus", "job_status", "list_jobs", "status_of", "effective_state", "RESUMABLE",
           "INTERRUPTED", "find_job_status"]
