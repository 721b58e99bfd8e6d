"""The jobs list: one QgsTask per job, state from the engine's registry, results as layers.

:class:`JobBoard` (no widgets) starts, cancels, resumes and retries jobs, records them in the
project, and loads their results when they finish; :class:`JobsView` shows the board in the
dock's "Jobs" tab. Jobs live in the engine's SQLite registry, so they survive a QGIS restart:
unfinished ones are offered for resume.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.core import Qgis, QgsApplication, QgsProject, QgsSettings
from qgis.PyQt.QtCore import QObject, QSize, Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QHeaderView, QProgressBar, QPushButton, QTreeWidgetItem

from eeextract_plugin import layers, project_jobs
from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.core import runner
from eeextract_plugin.core.errors import BadInput, EEExtractError, JobNotFound, SessionError
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.status import RESUMABLE, JobStatus
from eeextract_plugin.gui.messages import form_message, reword
from eeextract_plugin.i18n import PLUGIN_NAME, duration, number, rate, tr
from eeextract_plugin.qgis_session import SessionSource, open_session
from eeextract_plugin.tasks import ExtractionTask

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "cancelling")


@dataclass
class JobEntry:
    key: str  # stable key in the board (the job id once the engine has registered the job)
    name: str
    workdir: str
    job_id: str = ""
    spec_path: str = ""
    state: str = "planned"
    fraction: float = 0.0
    units_done: int = 0
    units_total: int = 0
    units_failed: int = 0
    files_done: int = 0  # output files finished (from the registry after a run)
    files_total: int = 0
    rate_bytes_s: float = 0.0
    eta_s: Optional[float] = None
    message: str = ""
    outputs: List[str] = field(default_factory=list)
    output_dir: str = ""
    load_results: bool = True
    task: Any = None
    result: Optional[JobResult] = None  # the last run's typed result (this session)
    phase: str = ""  # what a starting job is doing before its first unit
    elapsed_s: float = 0.0
    units_at_start: int = 0  # units done before this run (a resume)
    run_units_done: int = 0
    winding_down: Any = None  # a cancelled run's thread, finishing its requests in flight

    def rate_text(self) -> str:
        return rate(self.rate_bytes_s) if self.state == "running" else ""

    def state_text(self) -> str:
        """One or two words for the State column ("connecting", "running", "completed with
        failures"); what a starting job is doing at length is :attr:`phase`."""
        if self.state == "queued" and self.phase:
            return phase_word(self.phase)
        return state_label(self.state)

    def eta_text(self) -> str:
        if self.eta_s is None or self.state not in ACTIVE:
            return ""
        return duration(self.eta_s)


# What a starting job is doing before its first unit (ids; the list shows phase_text()).
PHASE_STARTING = "starting"
PHASE_WAITING = "waiting for the cancelled run to stop"  # i18n: not translated (ids: phase_text() says them)
PHASE_CONNECTING = "connecting to Earth Engine"  # i18n: not translated (ids: phase_text() says them)
PHASE_PLANNING = "planning: asking Earth Engine about the source"  # i18n: not translated (ids: phase_text() says them)
PHASE_RESUMING = "resuming: reading what is done"  # i18n: not translated (ids: phase_text() says them)


def phase_text(phase: str) -> str:
    """A phase in the user's language."""
    return {PHASE_STARTING: tr("starting"),
            PHASE_WAITING: tr("waiting for the cancelled run to stop"),
            PHASE_CONNECTING: tr("connecting to Earth Engine"),
            PHASE_PLANNING: tr("planning: asking Earth Engine about the source"),
            PHASE_RESUMING: tr("resuming: reading what is done")}.get(phase, phase)


def phase_word(phase: str) -> str:
    """A phase in one or two words, for the State column (:func:`phase_text` says it at length)."""
    return {PHASE_STARTING: tr("starting"),
            PHASE_WAITING: tr("waiting"),
            PHASE_CONNECTING: tr("connecting"),
            PHASE_PLANNING: tr("planning"),
            PHASE_RESUMING: tr("resuming")}.get(phase, phase)


def state_label(state: str) -> str:
    """A job's state (the registry's word) in the user's language."""
    return {"planned": tr("planned"), "queued": tr("queued"), "running": tr("running"),
            "cancelling": tr("cancelling"), "cancelled": tr("cancelled"), "failed": tr("failed"),
            "completed": tr("completed"), "completed_with_failures": tr("completed with failures"),
            "interrupted": tr("interrupted"), "not started": tr("not started")}.get(state, state.replace("_", " "))  # i18n: not translated (state ids)

WORKDIRS_KEY = "eeextract/workdirs"
STOPPED_KEY = "eeextract/stopped_at_shutdown"  # job ids stopped because QGIS closed


def known_workdirs() -> List[str]:
    value = QgsSettings().value(WORKDIRS_KEY, []) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def remember_workdir(workdir: str) -> None:
    dirs = known_workdirs()
    if workdir not in dirs:
        QgsSettings().setValue(WORKDIRS_KEY, (dirs + [workdir])[-200:])


def stopped_at_shutdown() -> List[str]:
    value = QgsSettings().value(STOPPED_KEY, []) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def set_stopped_at_shutdown(job_ids: List[str]) -> None:
    if job_ids:
        QgsSettings().setValue(STOPPED_KEY, job_ids)
    else:
        QgsSettings().remove(STOPPED_KEY)


class JobBoard(QObject):
    """All jobs this QGIS knows: running ones (with their task) and those in registries.

    The engine keeps one registry per working folder (``<output folder>/.eeextract``); the
    board remembers those folders in QgsSettings (and the project records its own), so after a
    restart every job is listed and the unfinished ones can be resumed.
    """

    changed = pyqtSignal(str)  # entry key ("" for the whole list)
    jobFinished = pyqtSignal(str, str)  # entry key, final state

    def __init__(self, iface: Any, sessions: SessionSource, parent: Optional[QObject] = None,
                 launch: Optional[Callable[[Any], None]] = None,
                 project: Optional[QgsProject] = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.sessions = sessions
        self.launch = launch or (lambda task: QgsApplication.taskManager().addTask(task))
        # With QGIS's task manager a job's work starts at once (the task manager may get to it
        # later); a launcher of the caller's (tests run tasks synchronously) runs it itself.
        self.start_immediately = launch is None
        self.project = project or QgsProject.instance()
        self.jobs: Dict[str, JobEntry] = {}
        self._counter = 0
        self.project.readProject.connect(self._project_read)
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------
    def workdirs(self) -> List[str]:
        dirs = known_workdirs()
        for rec in project_jobs.read_jobs(self.project):
            if rec.workdir and rec.workdir not in dirs:
                dirs.append(rec.workdir)
        return dirs

    def refresh(self) -> None:
        """Jobs from every known registry (a running task knows better than its registry)."""
        for workdir in self.workdirs():
            by_job = {e.job_id: e for e in self.jobs.values() if e.job_id}
            for status in _list_jobs(workdir):
                key = status.id
                entry = by_job.get(key)  # a job started here is keyed "new-n" until registered
                if entry is None:
                    entry = JobEntry(key=key, name=status.name, workdir=workdir, job_id=key,
                                     spec_path=str(Path(workdir) / f"{key}.json"))
                    self.jobs[key] = entry
                if entry.task is None:
                    _copy_status(entry, status)
                    entry.outputs = list(status.output_paths)
                    entry.output_dir = status.output_dir
        self.changed.emit("")

    def resumable(self) -> List[JobEntry]:
        return [j for j in self.jobs.values() if j.task is None and j.job_id and j.state in RESUMABLE]

    def _project_read(self, *_a: Any) -> None:
        self.refresh()

    # -- starting --------------------------------------------------------------------------------
    def start(self, spec: Any, load_results: bool = True) -> Optional[JobEntry]:
        """Run a new job for ``spec`` in a QgsTask (planned and registered on the worker)."""
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self._bar(tr("Cannot start: {why}").format(why=exc.outside()), Qgis.Warning)
            return None
        self._counter += 1
        workdir = str(runner.default_workdir(spec))
        entry = JobEntry(key=f"new-{self._counter}", name=spec.name, workdir=workdir,
                         output_dir=spec.output.directory, load_results=load_results)
        self.jobs[entry.key] = entry
        remember_workdir(workdir)

        def run_job(progress: Callable[[Any], None], is_cancelled: Callable[[], bool],
                    on_created: Callable[[str], None]) -> Any:
            # Worker thread: plain data only (the spec copy, the resolved connection).
            progress({"message": PHASE_CONNECTING})
            session = open_session(conn)
            progress({"message": PHASE_PLANNING})
            return runner.run_job(spec, session, progress=progress, cancel=is_cancelled,
                                  on_created=on_created)

        task = ExtractionTask(entry.key, entry.name, run_job)
        task.jobCreated.connect(partial(self._created, entry.key))
        self._launch(entry, task)
        return entry

    def resume(self, key: str, retry_failed: bool = True) -> Optional[JobEntry]:
        """Run a registered job again (failed units are retried: the engine resets them)."""
        entry = self.jobs.get(key)
        if entry is None or entry.task is not None or not entry.job_id:
            return entry
        try:
            conn = self.sessions.resolve()
        except qs.SettingsError as exc:
            self._bar(tr("Cannot resume: {why}").format(why=exc.outside()), Qgis.Warning)
            return None
        workdir, job_id = entry.workdir, entry.job_id
        previous, entry.winding_down = entry.winding_down, None
        execution = qs.load_settings().execution_dict()  # the quota and engine set now (Jobs tab)

        def run_job(progress: Callable[[Any], None], is_cancelled: Callable[[], bool]) -> Any:
            if previous is not None and previous.is_alive():  # the cancelled run's last requests
                progress({"message": PHASE_WAITING})
                previous.join()
            progress({"message": PHASE_CONNECTING})
            session = open_session(conn)
            progress({"message": PHASE_RESUMING})
            return runner.resume_job(job_id, session, workdir, progress=progress, cancel=is_cancelled,
                                     retry_failed=retry_failed, execution=execution)

        set_stopped_at_shutdown([j for j in stopped_at_shutdown() if j != job_id])
        self._launch(entry, ExtractionTask(job_id, entry.name, run_job))
        return entry

    def _launch(self, entry: JobEntry, task: ExtractionTask) -> None:
        key = entry.key
        # The entry's key bound first, the signal's arguments after (no default-argument lambdas:
        # PyQt retries a slot with fewer arguments when a call raises TypeError).
        task.progress_detail.connect(partial(self._progress, key))
        task.succeeded.connect(partial(self._succeeded, key))
        task.failed.connect(partial(self._failed, key))
        task.cancelled.connect(partial(self._cancelled, key))
        entry.task = task
        entry.state = "queued"
        entry.phase = PHASE_STARTING
        entry.message = ""
        entry.eta_s = None
        entry.rate_bytes_s = 0.0
        entry.units_at_start, entry.run_units_done, entry.elapsed_s = entry.units_done, 0, 0.0
        self.changed.emit(key)
        if self.start_immediately:
            task.start_now()  # the work starts now, whatever else the task manager is running
        self.launch(task)

    def _created(self, key: str, job_id: str) -> None:
        entry = self.jobs.get(key)
        if entry is None:
            return
        entry.job_id = job_id
        entry.spec_path = str(Path(entry.workdir) / f"{job_id}.json")
        self._record(entry)
        self.changed.emit(key)

    # -- during ----------------------------------------------------------------------------------
    def _progress(self, key: str, detail: Dict[str, Any]) -> None:
        entry = self.jobs.get(key)
        if entry is None or entry.task is None or entry.state == "cancelling":
            return  # a cancelled job's count stops where the user stopped it
        if "units_total" not in detail:  # what the job is doing before its first unit
            entry.phase = str(detail.get("message") or entry.phase)
            self.changed.emit(key)
            return
        if entry.state == "queued":
            entry.state = "running"
        entry.phase = ""
        entry.fraction = float(detail.get("fraction", entry.fraction) or 0.0)
        entry.units_done = int(detail.get("units_done", entry.units_done) or 0)
        entry.units_total = int(detail.get("units_total", entry.units_total) or 0)
        entry.units_failed = int(detail.get("units_failed", entry.units_failed) or 0)
        entry.rate_bytes_s = float(detail.get("rate_bytes_s", entry.rate_bytes_s) or 0.0)
        entry.eta_s = detail.get("eta_s", entry.eta_s)
        entry.elapsed_s = float(detail.get("elapsed_s", entry.elapsed_s) or 0.0)
        entry.run_units_done = entry.units_done - entry.units_at_start
        self.changed.emit(key)

    def cancel(self, key: str) -> None:
        entry = self.jobs.get(key)
        if entry is None:
            return
        if entry.task is not None:
            entry.state = "cancelling"
            try:
                entry.task.cancel()
            except RuntimeError:  # the task object is gone
                entry.task = None
        if entry.job_id:
            try:
                runner.cancel_job(entry.job_id, entry.workdir)
            except (JobNotFound, OSError, EEExtractError) as exc:
                log.warning("cannot record the cancel of %s: %s", entry.job_id, exc)
        self.changed.emit(key)

    # -- after (main thread, from the task's finished()) -----------------------------------------
    def _succeeded(self, key: str, result: JobResult) -> None:
        entry = self.jobs[key]
        self._note_who_stopped(entry, result.state)
        entry.task = None
        entry.result = result
        entry.state = result.state
        entry.eta_s = None
        entry.outputs = list(result.outputs)
        entry.message = result.message or ""
        if entry.state == "completed":
            entry.fraction = 1.0
        self._record(entry)
        self.refresh_entry(key)
        # Layers for a job that got to its end; a cancelled or failed job's files stay on disk
        # (Load shows them, Resume completes the job) instead of looking like its result.
        if entry.load_results and entry.outputs and result.finished:
            self.load_results(key, result)
        if entry.state == "completed":
            # The folder by its name (a whole path wraps out of the message bar), with a button
            # that opens it; the path is the button's tooltip.
            folder = Path(entry.output_dir).name if entry.output_dir else ""
            text = (tr("Job {name} finished: %Ln file(s) in {folder}.", None, len(entry.outputs)) if folder
                    else tr("Job {name} finished: %Ln file(s).", None, len(entry.outputs)))
            self._bar(text.format(name=entry.name, folder=folder), Qgis.Success, folder=entry.output_dir)
        elif entry.state == "cancelled":
            self._bar(self._stopped_text(entry), Qgis.Info)
        else:
            log.error("job %s: %s: %s", entry.name, entry.state, entry.message)
            self._bar(tr("Job {name} {state}: {message}").format(
                name=entry.name, state=state_label(entry.state), message=reword(entry.message)),
                Qgis.Critical if entry.state == "failed" else Qgis.Warning)
        self.changed.emit(key)
        self.jobFinished.emit(key, entry.state)

    @staticmethod
    def _stopped_text(entry: JobEntry) -> str:
        if not entry.files_done:
            return tr("Job {name} cancelled before a file was finished: Resume completes it.").format(name=entry.name)
        return tr("Job {name} cancelled: {done} of {total} file(s) kept, not loaded (Load shows them). "
                  "Resume completes it.").format(name=entry.name, done=entry.files_done,
                                                 total=entry.files_total or "?")

    def _failed(self, key: str, message: str, details: str) -> None:
        entry = self.jobs[key]
        error = getattr(entry.task, "exception", None)
        entry.task = None
        if not entry.job_id and isinstance(error, (BadInput, SessionError)):
            # Refused before the job existed (an output in the way, no connection): nothing to
            # list, nothing to resume; said in the form's words.
            log.warning("job %s not started: %s", entry.name, message)
            del self.jobs[key]
            self._bar(tr("Job {name} not started: {message}").format(name=entry.name, message=form_message(error)),
                      Qgis.Warning)
            self.changed.emit("")
            self.jobFinished.emit(key, "not started")  # i18n: not translated (a state id)
            return
        entry.state = "failed"
        entry.eta_s = None
        entry.message = message
        log.error("job %s failed: %s\n%s", entry.name, message, details)
        self._bar(tr("Job {name} failed: {message}").format(name=entry.name, message=reword(message)), Qgis.Critical)
        self.changed.emit(key)
        self.jobFinished.emit(key, "failed")

    def _note_who_stopped(self, entry: JobEntry, state: str) -> None:
        """A run cancelled without the user's Cancel (QGIS cancels every task when it is
        closed with jobs running) is an unfinished job, offered at QGIS's next start; one the
        user cancelled waits in the list."""
        if state == "cancelled" and entry.state != "cancelling" and entry.job_id:
            log.info("job %s stopped by QGIS; offered for resume at the next start", entry.name)
            set_stopped_at_shutdown(sorted(set(stopped_at_shutdown()) | {entry.job_id}))

    def _cancelled(self, key: str) -> None:
        entry = self.jobs[key]
        self._note_who_stopped(entry, "cancelled")
        entry.winding_down = getattr(entry.task, "engine_thread", None)
        entry.task = None
        entry.state = "cancelled"
        entry.eta_s = None
        log.info("job %s cancelled; finished units are kept, resume to complete it", entry.name)
        self.refresh_entry(key)
        self._bar(self._stopped_text(entry), Qgis.Info)
        self.changed.emit(key)
        self.jobFinished.emit(key, "cancelled")

    def refresh_entry(self, key: str) -> None:
        """Unit counts from the registry after a run (the task's last report may be stale)."""
        entry = self.jobs.get(key)
        if entry is None or not entry.job_id:
            return
        for status in _list_jobs(entry.workdir):
            if status.id == entry.job_id:
                entry.units_done = status.units_done
                entry.units_total = status.units_total
                entry.units_failed = status.units_failed
                entry.files_done, entry.files_total = status.outputs_done, status.outputs_total
                if entry.units_total:
                    entry.fraction = status.fraction
                if entry.state not in ("completed", "completed_with_failures"):
                    entry.outputs = list(status.output_paths)  # the finished files, for Load

    def load_results(self, key: str, result: Optional[JobResult] = None) -> List[Any]:
        """The job's outputs as layers in its group; zonal tables joined to the zone layer."""
        entry = self.jobs[key]
        result = result or entry.result
        if result is None and entry.job_id:
            try:
                result = runner.result_of(entry.job_id, entry.workdir)
            except (JobNotFound, OSError, EEExtractError) as exc:
                self._bar(tr("Cannot load the results of {name}: {error}").format(name=entry.name, error=exc),
                          Qgis.Warning)
                return []
        if result is None:
            return []
        job_id = entry.job_id or key
        loaded = layers.load_results(self.project, entry.name, result, job_id)
        if not result.finished and entry.task is None:
            self._bar(tr("Job {name} is not finished: {done} of {total} file(s) loaded. Resume completes it.").format(
                name=entry.name, done=len(result.rasters) + len(result.tables), total=entry.files_total or "?"),
                Qgis.Info)
        if result.zonal_tables and entry.job_id:
            try:
                spec = runner.spec_of(entry.job_id, entry.workdir)
            except (JobNotFound, OSError, EEExtractError):
                spec = None
            if spec is not None and spec.zonal is not None:
                loaded += self._load_zonal(entry, job_id, spec.zonal, result.zonal_tables)
        return loaded

    def _load_zonal(self, entry: JobEntry, job_id: str, zonal: Any, tables: List[str]) -> List[Any]:
        # The CSV is joined to the zones; its GeoPackage twin (same rows, with geometry) is not
        # loaded again.
        csvs = {str(Path(t).with_suffix("")) for t in tables if t.lower().endswith(".csv")}
        tables = [t for t in tables if t.lower().endswith(".csv") or str(Path(t).with_suffix("")) not in csvs]
        group = layers.job_group(self.project, entry.name)
        zones = layers.find_vector_layer(self.project, zonal.polygons, zonal.layer)
        added: List[Any] = []
        if zones is None:
            uri = zonal.polygons + (f"|layername={zonal.layer}" if zonal.layer else "")
            zones = layers.load_table(uri, self.project, group, job_id,
                                      name=tr("{job} zones").format(job=entry.name))
            if zones is not None:
                added.append(zones)
        existing = {lyr.source() for lyr in self.project.mapLayers().values()}
        for path in tables:
            if any(src.startswith(Path(path).resolve().as_uri()) for src in existing):
                continue
            table = layers.load_table(path, self.project, group, job_id)
            if table is None:
                continue
            added.append(table)
            if zones is not None:
                layers.join_table_to_zones(zones, table, zonal.id_field)
        return added

    def _record(self, entry: JobEntry) -> None:
        if not entry.job_id:
            return
        project_jobs.record_job(self.project, project_jobs.ProjectJob(
            job_id=entry.job_id, name=entry.name, spec_path=entry.spec_path,
            workdir=entry.workdir, outputs=list(entry.outputs)))

    def _bar(self, text: str, level: Any, folder: str = "") -> None:
        """A message in QGIS's message bar; with ``folder``, a button that opens it."""
        bar = self.iface.messageBar()
        if folder:
            try:
                widget = bar.createMessage(PLUGIN_NAME, text)
                button = QPushButton(tr("Open folder"), widget)
                button.setToolTip(folder)
                button.clicked.connect(partial(QDesktopServices.openUrl, QUrl.fromLocalFile(folder)))
                widget.layout().addWidget(button)
                bar.pushWidget(widget, level, 8)
                return
            except (AttributeError, TypeError):  # a minimal iface (tests) has no createMessage
                pass
        try:
            bar.pushMessage(PLUGIN_NAME, text, level=level, duration=8)
        except Exception:  # noqa: BLE001
            log.info("%s", text)

    def open_folder(self, key: str) -> None:
        entry = self.jobs.get(key)
        folder = entry.output_dir if entry else ""
        if folder and Path(folder).is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def shutdown(self) -> None:
        """Unload: cancel running tasks (finished units stay in the registry for resume)."""
        try:
            self.project.readProject.disconnect(self._project_read)
        except TypeError:
            pass
        stopped = []
        for entry in self.jobs.values():
            if entry.task is not None:
                if entry.job_id:
                    stopped.append(entry.job_id)
                try:
                    entry.task.detach()  # its finished() must not reach a deleted board
                    entry.task.cancel()
                except RuntimeError:  # the task manager already deleted it
                    pass
                entry.task = None
        if stopped:  # offered for resume when QGIS starts again
            set_stopped_at_shutdown(sorted(set(stopped_at_shutdown()) | set(stopped)))


def _list_jobs(workdir: str) -> List[JobStatus]:
    """The status rows of one registry; a registry that cannot be read is logged, not fatal."""
    try:
        return runner.list_jobs(workdir)
    except Exception as exc:  # noqa: BLE001 - a broken registry must not break the dock
        log.warning("cannot read the job registry in %s: %s", workdir, exc)
        return []


def _copy_status(entry: JobEntry, status: JobStatus) -> None:
    entry.state = status.state
    entry.message = status.message
    entry.units_done = status.units_done
    entry.units_total = status.units_total
    entry.units_failed = status.units_failed
    entry.files_done, entry.files_total = status.outputs_done, status.outputs_total
    entry.fraction = status.fraction


#: The Jobs tab's columns.
COLUMN_JOB, COLUMN_STATE, COLUMN_PROGRESS, COLUMN_LEFT = range(4)


class JobProgressBar(QProgressBar):
    """A job's progress with its text inside the bar, as wide as that text needs: the
    Progress column (sized to its contents) grows to fit it and never cuts it."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(0, 1000)
        self.setTextVisible(True)
        self.setMaximumHeight(18)

    def text_width(self) -> int:
        return self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.fontMetrics().averageCharWidth() + 8

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(max(60, self.text_width()), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self.sizeHint()

    def show_progress(self, fraction: float, text: str) -> None:
        self.setValue(int(round(1000 * max(0.0, min(1.0, fraction)))))
        if text != self.format():
            self.setFormat(text)
            self.updateGeometry()


class JobsView(QObject):
    """Binds a :class:`JobBoard` to the dock's "Jobs" tab (tree + buttons)."""

    def __init__(self, form: Any, board: JobBoard, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.form = form
        self.board = board
        self.items: Dict[str, QTreeWidgetItem] = {}
        tree = form.treeJobs
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COLUMN_JOB, QHeaderView.Stretch)
        for column in range(1, tree.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        board.changed.connect(self.update)
        tree.itemSelectionChanged.connect(self._selection_changed)
        form.btnJobCancel.clicked.connect(lambda: self._with_selected(board.cancel))
        form.btnJobResume.clicked.connect(lambda: self._with_selected(board.resume))
        form.btnJobRetry.clicked.connect(lambda: self._with_selected(lambda k: board.resume(k, True)))
        form.btnJobOpenFolder.clicked.connect(lambda: self._with_selected(board.open_folder))
        form.btnJobLoad.clicked.connect(lambda: self._with_selected(board.load_results))
        self.update("")

    def selected(self) -> Optional[str]:
        items = self.form.treeJobs.selectedItems()
        return items[0].data(0, Qt.UserRole) if items else None

    def _with_selected(self, fn: Callable[[str], Any]) -> None:
        job_id = self.selected()
        if job_id:
            fn(job_id)

    def update(self, job_id: str = "") -> None:
        tree = self.form.treeJobs
        ids = [job_id] if job_id else list(self.board.jobs)
        for jid in ids:
            entry = self.board.jobs.get(jid)
            if entry is None:
                continue
            item = self.items.get(jid)
            if item is None:
                item = QTreeWidgetItem()
                item.setData(0, Qt.UserRole, jid)
                tree.insertTopLevelItem(0, item)
                self.items[jid] = item
            item.setText(COLUMN_JOB, entry.name)
            item.setToolTip(COLUMN_JOB, "\n".join((entry.job_id or tr("planning…"), entry.spec_path)))
            item.setText(COLUMN_STATE, entry.state_text())
            item.setToolTip(COLUMN_STATE, phase_text(entry.phase) if entry.state == "queued" and entry.phase else "")
            text = progress_text(entry)
            item.setToolTip(COLUMN_PROGRESS, text)  # drawn by the bar only: the item's own text showed under it
            bar = tree.itemWidget(item, COLUMN_PROGRESS)
            if bar is None:
                bar = JobProgressBar()
                tree.setItemWidget(item, COLUMN_PROGRESS, bar)
            bar.show_progress(entry.fraction, text)
            item.setText(COLUMN_LEFT, entry.eta_text())
            item.setToolTip(COLUMN_LEFT, tr("Time left at the pace measured so far") if entry.eta_text() else "")
        tree.header().setSectionResizeMode(COLUMN_PROGRESS, QHeaderView.ResizeToContents)  # to the bar's text
        self._selection_changed()

    def _selection_changed(self) -> None:
        job_id = self.selected()
        entry = self.board.jobs.get(job_id) if job_id else None
        f = self.form
        running = entry is not None and entry.task is not None
        f.btnJobCancel.setEnabled(running)
        registered = entry is not None and bool(entry.job_id)  # not stopped before it was planned
        f.btnJobResume.setEnabled(registered and not running and entry.state in RESUMABLE)
        f.btnJobRetry.setEnabled(registered and not running and entry.units_failed > 0)
        f.btnJobOpenFolder.setEnabled(entry is not None and bool(entry.output_dir))
        f.btnJobLoad.setEnabled(entry is not None and bool(entry.outputs))
        if entry is None:
            f.lblJobDetail.setText("")
            return
        job = entry.job_id or tr("planning…")
        lines = [f"<b>{entry.name}</b> — {job}"]
        if entry.state == "running":
            measured = measured_text(entry.run_units_done, entry.elapsed_s, entry.eta_s)
            pace = entry.rate_text()
            lines.append(measured + (f" — {pace}" if pace and entry.run_units_done else ""))
        elif entry.state == "queued" and entry.phase:
            lines.append(phase_text(entry.phase) + " …")
        if entry.message:
            lines.append(reword(entry.message))
        if entry.output_dir:
            lines.append(tr("Folder: {folder}").format(folder=entry.output_dir))
        if entry.outputs:
            names = ", ".join(Path(p).name for p in entry.outputs[:4])
            more = len(entry.outputs) - 4
            lines.append(tr("Files: {names} and %Ln more", None, more).format(names=names) if more > 0
                         else tr("Files: {names}").format(names=names))
        f.lblJobDetail.setText("<br>".join(lines))


def progress_text(entry: JobEntry) -> str:
    """The progress bar's text: percent, and units done of all (and failed)."""
    percent = f"{100 * entry.fraction:.0f}%"
    if not entry.units_total:
        return percent
    if entry.units_failed:
        return tr("{percent} ({done}/{total}, {failed} failed)").format(
            percent=percent, done=number(entry.units_done), total=number(entry.units_total),
            failed=number(entry.units_failed))
    return f"{percent} ({number(entry.units_done)}/{number(entry.units_total)})"


def measured_text(units_done: int, elapsed_s: Optional[float], eta_s: Optional[float]) -> str:
    """What a running job has measured (the core's ``format_measured``, in the user's
    language): its pace so far, and the time left at that pace."""
    if not units_done or not elapsed_s:
        return tr("measuring the first requests…")
    per_unit = elapsed_s / units_done
    each = number(per_unit, max(0, 1 - math.floor(math.log10(per_unit))))  # two significant digits
    text = tr("measured: %Ln unit(s) in {elapsed} ({each} s each)", None, units_done).format(
        elapsed=duration(elapsed_s), each=each)
    if eta_s is None:
        return text
    return tr("{measured}; about {left} left at this pace").format(measured=text, left=duration(eta_s))

