"""QgsTask adapters around the pure-Python engine.

Every task follows the same contract (Gispo's task base class, LINZ's tasks):

* ``__init__`` runs on the main thread. It reads everything the work needs from layers, the
  project, settings and QGIS's authentication database, and keeps plain copies.
* ``run()`` runs on a worker thread. It calls :meth:`EETask._run`, stores any exception instead
  of raising it, and returns ``False`` on failure or cancellation. ``_run()`` may NOT touch the
  project, add or read layers, emit to widgets, show dialogs or print: it works on its copies and
  reports through :meth:`setProgress` (which doubles as the cancellation check) and ``logging``.
* ``finished()`` runs on the main thread. It emits :attr:`succeeded`, :attr:`failed` or
  :attr:`cancelled`; listeners (the dock, the plugin) then add layers and push messages.

Lifetime rules (the test suite segfaulted now and then until these held):

* A signal a task emits on a worker thread is listed in :attr:`EETask.worker_signals`. Qt queues
  such an emission to the main thread; :meth:`EETask.finished` disconnects these signals, so an
  emission still queued then is dropped instead of reaching a listener after the outcome.
* A finished task is not part of a reference cycle: :meth:`EETask.finished` drops the work
  function (it may close over the task), disconnects every listener once the outcome is
  reported (a listener may refer to the task), and a stored exception keeps no traceback (its
  frames refer to the task). The task is then freed by reference counting, where its last user
  lets go of it, never by the cyclic garbage collector at a moment and on a thread nobody chose.

Why: PyQt5 (5.15) reports a Python slot connected to a QObject's signal as a reference held by
that QObject when the garbage collector traverses it (a lambda or a ``functools.partial`` is held
by PyQt's slot proxy), but does not release it when the QObject is deallocated (the proxy goes
later, with ``deleteLater``). When the collector frees a Python-owned task that sits in a cycle,
it therefore clears the slot callables too although the proxies still hold them; a signal
emission still queued for such a proxy then calls a cleared ``functools.partial`` (segfault in
``partial_call``) or a lambda whose defaults are gone ("missing 1 required positional
argument"). Tasks handed to QgsTaskManager are owned by C++ and deleted by it, which hides the
problem; tasks run directly (the tests' synchronous launcher) are owned by Python.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable, Dict, Optional, Tuple

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from eeextract_plugin.core.errors import Cancelled

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """The one line a user should read: Earth Engine's own message when there is one."""
    text = str(exc).strip() or exc.__class__.__name__
    first = text.splitlines()[0]
    return first


class EETask(QgsTask):
    """Base class: ``run()`` wraps ``_run()``; ``setProgress`` raises when cancelled."""

    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str, str)  # user message, details (traceback)
    cancelled = pyqtSignal()

    #: Signals emitted on worker threads (queued to the main thread); disconnected by finished().
    worker_signals: Tuple[str, ...] = ()

    def __init__(self, description: str, flags: QgsTask.Flags = QgsTask.CanCancel) -> None:
        super().__init__(description, flags)
        self.result_value: Any = None
        self.exception: Optional[BaseException] = None
        self.details: str = ""
        self._outcome = ""
        # Set by cancel() too: the engine polls a plain threading.Event, never the QObject.
        self.cancel_event = threading.Event()

    # -- worker thread -------------------------------------------------------------------------
    def run(self) -> bool:  # noqa: D401 (QGIS's name)
        self._run_and_store()
        if self._outcome == "cancelled":
            log.info("%s: cancelled", self.description())
            return False
        if self._outcome == "failed":
            log.debug("%s failed:\n%s", self.description(), self.details)
            return False
        return not (self.isCanceled() or self.cancel_event.is_set())

    def _run_and_store(self) -> None:
        try:
            self.result_value = self._run()
            self._outcome = "done"
        except Cancelled:
            self._outcome = "cancelled"
        except Exception as exc:  # noqa: BLE001 - stored, reported in finished()
            if self.isCanceled() or self.cancel_event.is_set():
                log.info("%s: cancelled (%s)", self.description(), exc)
                self._outcome = "cancelled"
                return
            self.details = traceback.format_exc()
            self.exception = _without_tracebacks(exc)  # its frames refer to this task
            self._outcome = "failed"

    def _run(self) -> Any:
        raise NotImplementedError

    def _release_work(self) -> None:
        """Drop the work function (it may close over the task: a reference cycle)."""

    def setProgress(self, progress: float) -> None:  # noqa: N802 (QGIS's name)
        """Report progress (0..100); raise :class:`~eeextract_plugin.core.errors.Cancelled` if the
        task was cancelled."""
        self.check_cancelled()
        super().setProgress(max(0.0, min(100.0, float(progress))))

    def check_cancelled(self) -> None:
        if self.isCanceled() or self.cancel_event.is_set():
            raise Cancelled()

    def is_cancelled(self) -> bool:
        return self.isCanceled() or self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()
        super().cancel()

    def detach(self) -> None:
        """Disconnect every listener (plugin unload: the task may outlive the dock)."""
        self._disconnect(("succeeded", "failed", "cancelled") + self.worker_signals)

    def _disconnect(self, names: Tuple[str, ...]) -> None:
        for name in names:
            try:
                getattr(self, name).disconnect()
            except (TypeError, RuntimeError):  # nothing connected / already deleted
                pass

    # -- main thread ---------------------------------------------------------------------------
    def finished(self, result: bool) -> None:
        # The run is over (see the module's lifetime rules): no worker-thread emission still
        # queued reaches a listener after the outcome, and nothing keeps the task in a cycle.
        self._disconnect(self.worker_signals)
        self._release_work()
        try:
            if result:
                self.succeeded.emit(self.result_value)
            elif self.exception is not None:
                message = user_message(self.exception)
                log.error("%s failed: %s", self.description(), message)
                self.failed.emit(message, self.details)
            else:
                self.cancelled.emit()
        finally:
            self.detach()  # reported once; a listener that refers to the task makes no cycle


class CallableTask(EETask):
    """Runs a plain function on a worker: ``fn(progress, is_cancelled)`` → result.

    For the small background jobs of the dock (checking an asset ID, planning an estimate) whose
    function is pure Python from the core; the function gets copies only.
    """

    def __init__(
        self,
        description: str,
        fn: Callable[[Callable[[float], None], Callable[[], bool]], Any],
        flags: QgsTask.Flags = QgsTask.CanCancel,
    ) -> None:
        super().__init__(description, flags)
        self._fn = fn

    def _run(self) -> Any:
        return self._fn(self.setProgress, self.is_cancelled)

    def _release_work(self) -> None:
        self._fn = _spent


class ExtractionTask(EETask):
    """One QgsTask per job: runs one job of the engine (new or resumed).

    ``run_job(progress, is_cancelled)`` is called on the worker thread (the jobs board passes a
    closure over ``core.runner.run_job`` / ``resume_job`` with plain copies of the spec and the
    connection); it returns the core's typed ``JobResult``, which :meth:`finished` hands to
    listeners on the main thread.
    """

    progress_detail = pyqtSignal(object)  # a plain dict: done, total, bytes, rate, eta
    jobCreated = pyqtSignal(str)  # the engine's job id, once the job is registered
    worker_signals = ("progress_detail", "jobCreated")

    def __init__(
        self,
        job_id: str,
        job_name: str,
        run_job: Callable[..., Any],
        flags: QgsTask.Flags = QgsTask.CanCancel,
    ) -> None:
        super().__init__(f"EE Extract: {job_name}", flags)
        self.job_id = job_id
        self.job_name = job_name
        self._run_job = run_job
        self.last_progress: Dict[str, Any] = {}

    def _run(self) -> Any:
        log.info("job %s (%s) started", self.job_name, self.job_id)
        return self._run_job(self._on_progress, self.is_cancelled)

    def _release_work(self) -> None:
        self._run_job = _spent

    def _on_progress(self, info: Any) -> None:
        """Engine progress callback, from the engine's worker threads: never raises.

        The engine polls :meth:`is_cancelled` itself (its cancel token), so unlike
        :meth:`EETask.setProgress` this does not raise when the task was cancelled.
        """
        detail = _progress_dict(info)
        self.last_progress = detail
        self.progress_detail.emit(detail)  # queued to the main thread by Qt
        fraction = detail.get("fraction")
        if fraction is not None:
            QgsTask.setProgress(self, max(0.0, min(100.0, 100.0 * float(fraction))))


def _spent(*_args: Any) -> Any:
    """The work function of a finished task (released: it may refer to the task)."""
    raise RuntimeError("this task has finished; a QgsTask runs once")


def _without_tracebacks(exc: BaseException) -> BaseException:
    """``exc`` (and the exceptions it chains) without tracebacks: a stored traceback keeps the
    frames of ``run()``, and with them the task, alive in a reference cycle."""
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
    return exc


def _progress_dict(info: Any) -> Dict[str, Any]:
    """A plain dict of a progress report (the engine's ProgressReport, a dict or a fraction)."""
    if isinstance(info, dict):
        return dict(info)
    if isinstance(info, (int, float)):
        return {"fraction": float(info)}
    names = ("fraction", "units_done", "units_total", "units_failed", "bytes_done",
             "rate_bytes_s", "eta_s", "in_flight", "message")
    return {n: getattr(info, n) for n in names if hasattr(info, n)}
