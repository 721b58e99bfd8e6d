"""The jobs a project knows about, stored in the project file (``QgsProject.writeEntry``).

Only job ids, names, spec paths, the registry's location and output paths are written: never a
credential, never a connection setting. Reopening the project shows its jobs (state from the
engine's registry) and their layers (saved with the project as usual).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Dict, List

from qgis.core import QgsProject

log = logging.getLogger(__name__)

SCOPE = "eeextract"
KEY = "jobs"
_ALLOWED = ("job_id", "name", "spec_path", "workdir", "outputs")


@dataclass
class ProjectJob:
    job_id: str
    name: str
    spec_path: str
    workdir: str = ""
    outputs: List[str] = field(default_factory=list)


def read_jobs(project: QgsProject) -> List[ProjectJob]:
    values, ok = project.readListEntry(SCOPE, KEY)
    jobs: List[ProjectJob] = []
    if not ok:
        return jobs
    for raw in values:
        try:
            d = json.loads(raw)
            jobs.append(ProjectJob(**{k: d[k] for k in _ALLOWED if k in d}))
        except (ValueError, TypeError, KeyError):
            log.warning("ignoring an unreadable job entry in the project")
    return jobs


def write_jobs(project: QgsProject, jobs: List[ProjectJob]) -> None:
    values = [json.dumps({k: v for k, v in asdict(j).items() if k in _ALLOWED}) for j in jobs]
    project.writeEntry(SCOPE, KEY, values)


def record_job(project: QgsProject, job: ProjectJob) -> None:
    """Add or update one job (by id)."""
    jobs: Dict[str, ProjectJob] = {j.job_id: j for j in read_jobs(project)}
    jobs[job.job_id] = job
    write_jobs(project, list(jobs.values()))


def forget_job(project: QgsProject, job_id: str) -> None:
    write_jobs(project, [j for j in read_jobs(project) if j.job_id != job_id])
