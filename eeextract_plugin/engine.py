"""The dock's narrow door onto the engine (``core/``): create, run, resume, estimate, list jobs.

Plain Python (no widgets, no project): the jobs board calls these on the main thread for quick
registry reads and from a QgsTask's worker for :func:`run_job` and :func:`estimate_job`.
Keeping every engine call here means the GUI code does not depend on the engine's internals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

LOGGER = logging.getLogger(__name__)

PathLike = Union[str, Path]


@dataclass
class JobResult:
    """What a finished run hands back to the main thread."""

    job_id: str
    state: str
    outputs: List[str] = field(default_factory=list)
    message: str = ""
    chip_index: Optional[str] = None
    zonal_tables: List[str] = field(default_factory=list)


@dataclass
class Estimate:
    pixels: int
    bytes: int
    requests: int
    files: int
    seconds: Optional[float]
    tasks: int = 0
    note: str = ""
    huge: bool = False

    def line(self) -> str:
        if self.seconds is None:
            t = "time unknown"
        elif self.seconds < 1:
            t = "under 1 s at the quota"
        else:
            t = f"≥ {_duration(self.seconds)} at the quota"
        work = f"{self.tasks:,} export task(s)" if self.tasks else f"{self.requests:,} request(s)"
        text = f"{self.pixels:,} px, {self.bytes / 1e6:,.1f} MB, {work}, {self.files:,} file(s), {t}"
        return f"{text} — {self.note}" if self.note else text


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def workdir_for(spec: Any) -> Path:
    """Where the engine keeps a job's registry and staging files (next to its outputs)."""
    from eeextract_plugin.core.runner import default_workdir

    return Path(default_workdir(spec))


def registry_path(workdir: PathLike) -> Path:
    from eeextract_plugin.core.registry import default_registry_path

    return Path(default_registry_path(workdir))


def _registry(path: PathLike) -> Any:
    from eeextract_plugin.core.registry import Registry

    return Registry(path)


def list_jobs(workdir: PathLike) -> List[Dict[str, Any]]:
    """Every job of a working folder's registry as plain dicts (state, unit counts, outputs)."""
    path = registry_path(workdir)
    if not path.is_file():
        return []
    out: List[Dict[str, Any]] = []
    try:
        reg = _registry(path)
    except Exception as exc:  # noqa: BLE001 - a broken registry must not break the dock
        LOGGER.warning("cannot read the job registry %s: %s", path, exc)
        return out
    with reg:
        from eeextract_plugin.core import registry as r

        for job in reg.jobs():
            counts = reg.unit_counts(job.id)
            total = sum(v for k, v in counts.items() if k not in (r.SPLIT, "bytes_done"))
            state = job.state
            if state == r.RUNNING and not r.pid_alive(job.pid):
                state = "interrupted"
            outputs = [o.path for o in reg.outputs(job.id) if o.state == r.DONE]
            out.append({
                "job_id": job.id, "name": job.name, "state": state, "message": job.message or "",
                "units_done": counts.get(r.DONE, 0), "units_total": total,
                "units_failed": counts.get(r.FAILED, 0), "outputs": outputs,
                "output_dir": (job.spec.get("output") or {}).get("directory", ""),
                "workdir": str(workdir), "created": job.created,
            })
    return out


def spec_of(workdir: PathLike, job_id: str) -> Any:
    from eeextract_plugin.core.spec import JobSpec

    with _registry(registry_path(workdir)) as reg:
        job = reg.job(job_id)
    if job is None:
        raise KeyError(f"no job {job_id} in {workdir}")
    return JobSpec.from_dict(job.spec)



def request_cancel(workdir: PathLike, job_id: str) -> None:
    """Ask the job to stop (also seen by an ``eeextract`` process running it)."""
    if registry_path(workdir).is_file():
        with _registry(registry_path(workdir)) as reg:
            reg.request_cancel(job_id)


def find_chip_index(outputs: List[str]) -> Optional[str]:
    for path in outputs:
        name = Path(path).name.lower()
        if name.endswith((".geojson", ".gpkg")) and ("index" in name or "footprint" in name):
            return path
    return None


def run_new_job(spec: Any, session: Any, progress: Callable[[Any], None],
                is_cancelled: Callable[[], bool], on_created: Callable[[str], None]) -> JobResult:
    """Worker thread: plan, register (``on_created(job_id)``), run. Finished units are kept."""
    from eeextract_plugin.core import runner

    workdir = workdir_for(spec)
    job_runner = runner.JobRunner(session, workdir, progress=progress, cancel=is_cancelled)
    try:
        job_id = job_runner.create(spec)
        spec.to_file(Path(workdir) / f"{job_id}.json")
        on_created(job_id)
        result = job_runner.run(job_id)
    finally:
        job_runner.close()
    return _job_result(job_id, result, spec)


def resume_job(workdir: PathLike, job_id: str, session: Any, progress: Callable[[Any], None],
               is_cancelled: Callable[[], bool]) -> JobResult:
    """Worker thread: run a recorded job again; only units not done are fetched."""
    from eeextract_plugin.core import runner

    result = runner.resume_job(job_id, session, workdir, progress=progress, cancel=is_cancelled)
    return _job_result(job_id, result, spec_of(workdir, job_id))


def zonal_tables_of(spec: Any, outputs: List[str]) -> List[str]:
    """The zonal statistics tables the engine wrote next to each raster (``<stem>_zonal.csv``)."""
    if spec is None or getattr(spec, "zonal", None) is None:
        return []
    found = []
    for raster in outputs:
        if not raster.lower().endswith((".tif", ".tiff")):
            continue
        z = spec.zonal
        if z.output and z.output.lower().endswith(".csv"):
            candidate = Path(z.output)
        else:
            folder = Path(z.output) if z.output else Path(raster).parent
            candidate = folder / f"{Path(raster).stem}_zonal.csv"
        if candidate.is_file():
            found.append(str(candidate))
    return found


def _job_result(job_id: str, result: Any, spec: Any = None) -> JobResult:
    state = str(getattr(result, "state", "completed"))
    outputs = [str(p) for p in (getattr(result, "outputs", None) or [])]
    message = str(getattr(result, "message", "") or "")
    extra = getattr(result, "extra", None) or {}
    chip_index = extra.get("index") or extra.get("chip_index") or find_chip_index(outputs)
    zonal = [str(p) for p in (extra.get("zonal_outputs") or [])
             if isinstance(p, (str, Path))] or zonal_tables_of(spec, outputs)
    return JobResult(job_id=job_id, state=state, outputs=outputs, message=message,
                     chip_index=str(chip_index) if chip_index else None, zonal_tables=zonal)


RASTER_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


def post_process(spec: Any, result: JobResult, mosaic: bool) -> JobResult:
    """Worker thread, after a completed run: a VRT over many rasters (the dock's "Mosaic"
    option) and, for chips, a footprint index when the engine did not write one. GDAL only."""
    if result.state != "completed":
        return result
    from eeextract_plugin import layers

    out = Path(spec.output.directory)
    rasters = [p for p in result.outputs if p.lower().endswith(RASTER_SUFFIXES)]
    if spec.kind == "chips" and not result.chip_index and rasters:
        index = out / f"{spec.output_name}-footprints.geojson"
        result.chip_index = layers.write_chip_index(rasters, str(index))
    if mosaic and len(rasters) > 1:
        georeferenced = [p for p in rasters if p.lower().endswith((".tif", ".tiff"))]
        vrt = layers.build_vrt(georeferenced, str(out / f"{spec.output_name}-mosaic.vrt")) if georeferenced else None
        if vrt:
            result.outputs.insert(0, vrt)
    return result


def estimate_job(spec: Any, session: Any) -> Estimate:
    """Worker thread: the planner's figures for ``spec`` (pixels, bytes, requests, time).

    Plans in a throw-away working folder: estimating never touches the output folder.
    """
    import tempfile

    from eeextract_plugin.core import runner

    with tempfile.TemporaryDirectory(prefix="eeextract-estimate-") as tmp:
        job_runner = runner.JobRunner(session, tmp)
        try:
            summary = job_runner.plan(spec).summary()
        finally:
            job_runner.close()
    note = ""
    if getattr(summary, "huge", False):
        note = "large: you will be asked to confirm"
    exported = getattr(spec.method, "type", "direct") != "direct"
    return Estimate(pixels=int(summary.pixels), bytes=int(summary.bytes),
                    requests=int(summary.requests), files=int(summary.outputs),
                    tasks=int(summary.units) if exported else 0,
                    seconds=float(summary.lower_bound_s), note=note,
                    huge=bool(getattr(summary, "huge", False)))
