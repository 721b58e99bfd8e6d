"""QgsTask adapters around the pure-Python engine.

Every task follows the same contract (Gispo's task base class, LINZ's tasks):

* ``__init__`` runs on the main thread. It reads everything the work needs from layers, the
  project, settings and QGIS's authentication database, and keeps plain copies.
* ``run()`` runs on a worker thread. It runs the work (a plain function of a :class:`Relay`,
  holding no reference to the task) on a fresh Python thread, passes its reports on, stores any
  exception instead of raising it, and returns ``False`` on failure. The work may NOT touch the
  project, layers, widgets or the task: it works on its copies and reports through the relay
  (whose ``set_fraction`` doubles as the cancellation check) and ``logging``. Cancelled, the
  task stops waiting after :data:`ABANDON_AFTER_S`; requests in flight end in the background.
* ``finished()`` runs on the main thread. It emits :attr:`succeeded`, :attr:`failed` or
  :attr:`cancelled`; listeners (the dock, the plugin) then add layers and push messages.

Lifetime rules (the test suite segfaulted now and then until these held):

* A signal a task may emit on a worker thread (reports passed on while ``run()`` waits) is
  listed in :attr:`EETask.worker_signals`. Qt queues such an emission to the main thread;
  :meth:`EETask.finished` disconnects these signals, so an emission still queued then is dropped
  instead of reaching a listener after the outcome.
* A finished task is not part of a reference cycle: :meth:`EETask.finished` drops the work
  function (it may close over the task), disconnects every listener once the outcome is
  reported (a listener may refer to the task), and a stored exception keeps no traceback (its
  frames may refer to the task). The task is then freed by reference counting, where its last
  user lets go of it, never by the cyclic garbage collector at a moment and on a thread nobody
  chose.

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

import inspect
import logging
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from qgis.core import QgsTask
from qgis.PyQt.QtCore import QTimer, pyqtSignal

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """The one line a user should read: Earth Engine's own message when there is one, whole
    (a message of several lines joined, not cut after its first)."""
    text = str(exc).strip() or exc.__class__.__name__
    return " ".join(text.split())


#: How long a cancelled task waits for the work in flight before it lets it go: the user sees the
#: job stop at once; requests already sent finish (or time out) on their own in the background.
ABANDON_AFTER_S = 1.5


class Relay:
    """What a task shares with the thread doing its work: plain Python only.

    The task is a QObject that QGIS's task manager deletes on the main thread once it ended; a
    worker the task stopped waiting for (a cancelled job's requests in flight) must never touch
    it. The worker reports here; the task's own thread passes reports on while it waits.
    """

    def __init__(self, cancel_event: threading.Event) -> None:
        self.cancel_event = cancel_event
        self.done = threading.Event()
        self.abandoned = False
        self._lock = threading.Lock()
        self._progress: Optional[Dict[str, Any]] = None
        self._created: List[str] = []
        self.outcome = ""
        self.result: Any = None
        self.exception: Optional[BaseException] = None
        self.details = ""

    # -- the worker's side ----------------------------------------------------------------------
    def is_cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def set_fraction(self, percent: float) -> None:
        """CallableTask's progress (0..100); doubles as the cancellation check."""
        if self.cancel_event.is_set():
            raise Cancelled()
        with self._lock:
            self._progress = {"percent": max(0.0, min(100.0, float(percent)))}

    def report(self, info: Any) -> None:
        """The engine's progress callback (from its fetch threads): never raises."""
        detail = _progress_dict(info)
        with self._lock:
            self._progress = detail

    def job_created(self, job_id: str) -> None:
        with self._lock:
            self._created.append(job_id)

    def execute(self, work: Callable[[Relay], Any]) -> None:
        try:
            self.result = work(self)
            self.outcome = "done"
        except Cancelled:
            self.outcome = "cancelled"
        except Exception as exc:  # noqa: BLE001 - stored, reported in finished()
            if self.cancel_event.is_set():
                log.info("stopped after cancel (%s)", exc)
                self.outcome = "cancelled"
            else:
                self.details = traceback.format_exc()
                self.exception = _without_tracebacks(exc)  # its frames may refer to the task
                self.outcome = "failed"
        finally:
            self.done.set()

    # -- the task's side ------------------------------------------------------------------------
    def take(self) -> Tuple[Optional[Dict[str, Any]], List[str]]:
        with self._lock:
            progress, created = self._progress, self._created
            self._progress, self._created = None, []
        return progress, created


class EETask(QgsTask):
    """Base class: ``run()`` runs :meth:`_work` on a plain Python thread and waits for it,
    passing its reports on; a cancel is felt within :data:`ABANDON_AFTER_S`."""

    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str, str)  # user message, details (traceback)
    cancelled = pyqtSignal()

    #: Signals that may be emitted on a worker thread (queued to the main thread); disconnected
    #: by finished().
    worker_signals: Tuple[str, ...] = ()

    def __init__(self, description: str, flags: QgsTask.Flags = QgsTask.CanCancel) -> None:
        super().__init__(description, flags)
        # Set by cancel() too: the work polls a plain threading.Event, never the QObject.
        self.cancel_event = threading.Event()
        self.relay = Relay(self.cancel_event)
        #: the thread still finishing a cancelled run's requests (None when it ended in time)
        self.engine_thread: Optional[threading.Thread] = None
        self._thread: Optional[threading.Thread] = None
        self._pump: Optional[QTimer] = None

    def start_now(self) -> None:
        """Main thread, right after the task was handed to the task manager: start the work at
        once, not when the task manager's thread pool (shared with map rendering, two threads
        on two cores) gets to it; its reports are passed on from the main thread meanwhile."""
        if self._thread is not None:
            return
        self._thread = self._start_thread()
        self._pump = QTimer(self)
        self._pump.setInterval(200)
        self._pump.timeout.connect(self._deliver)
        self._pump.start()

    def _start_thread(self) -> threading.Thread:
        # A plain Python thread holding only the relay: it may outlive the task (a cancelled
        # job's requests in flight) without ever touching a Qt object.
        thread = threading.Thread(target=self.relay.execute, args=(self._work(False),), daemon=True,
                                  name=f"eeextract-{self.description()[:40]}")
        thread.start()
        return thread

    @property
    def result_value(self) -> Any:
        return self.relay.result

    @property
    def exception(self) -> Optional[BaseException]:
        return self.relay.exception

    @property
    def details(self) -> str:
        return self.relay.details

    def _work(self, synchronous: bool) -> Callable[[Relay], Any]:
        """The work as a plain function of the relay; on another thread (``synchronous``
        False) it must hold no reference to the task (the default runs :meth:`_run`, for
        subclasses that are run synchronously)."""
        run = self._run
        return lambda relay: run()

    def _run(self) -> Any:
        raise NotImplementedError

    # -- the task manager's worker thread --------------------------------------------------------
    def run(self) -> bool:  # noqa: D401 (QGIS's name)
        relay = self.relay
        started_here = self._thread is None
        if started_here and threading.current_thread() is threading.main_thread():
            relay.execute(self._work(True))  # called directly (tests, synchronous use)
        else:
            thread = self._thread or self._start_thread()
            cancelled_at: Optional[float] = None
            while not relay.done.wait(0.1):
                if self.cancel_event.is_set() or self.isCanceled():
                    self.cancel_event.set()
                    cancelled_at = cancelled_at or time.monotonic()
                    if time.monotonic() - cancelled_at >= ABANDON_AFTER_S:
                        relay.abandoned = True
                        self.engine_thread = thread
                        log.info("%s: cancelled; the requests in flight finish in the background",
                                 self.description())
                        break
                elif started_here or threading.current_thread() is threading.main_thread():
                    self._deliver()  # nobody else passes the reports on (or: we are the main thread)
        if relay.abandoned or relay.outcome == "cancelled":
            # Not False: QGIS reports a task that returns False as "Task failed".
            return True
        if relay.outcome == "failed":
            log.debug("%s failed:\n%s", self.description(), relay.details)
            return False
        return True

    def _deliver(self) -> None:
        """The worker's latest reports, passed on from the task's thread (none after a cancel:
        a cancelled job's count stops where the user stopped it)."""
        progress, created = self.relay.take()
        for job_id in created:
            self._on_created(job_id)
        if progress is not None and not self.cancel_event.is_set():
            self._on_progress(progress)

    def _on_created(self, job_id: str) -> None:
        pass

    def _on_progress(self, detail: Dict[str, Any]) -> None:
        if "percent" in detail:
            QgsTask.setProgress(self, detail["percent"])

    def setProgress(self, progress: float) -> None:  # noqa: N802 (QGIS's name)
        """Report progress (0..100); raise :class:`~eeextract_plugin.core.errors.Cancelled` if the
        task was cancelled."""
        self.check_cancelled()
        super().setProgress(max(0.0, min(100.0, float(progress))))

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise Cancelled()

    def is_cancelled(self) -> bool:
        return self.cancel_event.is_set() or self.isCanceled()

    def cancel(self) -> None:
        self.cancel_event.set()
        super().cancel()

    def detach(self) -> None:
        """Disconnect every listener (plugin unload: the task may outlive the dock)."""
        self._disconnect(("succeeded", "failed", "cancelled") + self.worker_signals)

    def _disconnect(self, names: Tuple[str, ...]) -> None:
        for name in names:
            signal = getattr(self, name, None)
            if signal is None:
                continue
            try:
                signal.disconnect()
            except (TypeError, RuntimeError):  # nothing connected / already deleted
                pass

    def _release_work(self) -> None:
        """Drop the work function (it may close over the task: a reference cycle)."""

    # -- main thread ---------------------------------------------------------------------------
    def finished(self, result: bool) -> None:
        relay = self.relay
        if self._pump is not None:
            self._pump.stop()
        self._deliver()
        # The run is over (see the module's lifetime rules): no worker-thread emission still
        # queued reaches a listener after the outcome, and nothing keeps the task in a cycle.
        self._disconnect(self.worker_signals)
        self._release_work()
        try:
            if relay.abandoned or relay.outcome == "cancelled" or (not relay.outcome and self.is_cancelled()):
                self.cancelled.emit()
            elif relay.outcome == "done":
                self.succeeded.emit(relay.result)
            elif relay.exception is not None:
                message = user_message(relay.exception)
                log.error("%s failed: %s", self.description(), message)
                self.failed.emit(message, relay.details)
            else:
                self.cancelled.emit()
        finally:
            self.detach()  # reported once; a listener that refers to the task makes no cycle


class CallableTask(EETask):
    """Runs a plain function on a worker: ``fn(progress, is_cancelled)`` → result.

    For the small background jobs of the dock (checking an asset ID, planning an estimate) whose
    function is pure Python from the core; the function gets copies only. ``progress(percent)``
    raises :class:`~eeextract_plugin.core.errors.Cancelled` once the task was cancelled.
    """

    def __init__(
        self,
        description: str,
        fn: Callable[[Callable[[float], None], Callable[[], bool]], Any],
        flags: QgsTask.Flags = QgsTask.CanCancel,
    ) -> None:
        super().__init__(description, flags)
        self._fn = fn

    def _release_work(self) -> None:
        self._fn = _spent

    def _work(self, synchronous: bool) -> Callable[[Relay], Any]:
        fn = self._fn
        if synchronous:
            # Synchronous use: progress goes through the task itself (tests replace it).
            return lambda relay: fn(self.setProgress, self.is_cancelled)
        return lambda relay: fn(relay.set_fraction, relay.is_cancelled)


class ExtractionTask(EETask):
    """One QgsTask per job: runs one job of the engine (new or resumed).

    ``run_job(progress, is_cancelled, on_created)`` is called on a worker thread (the jobs board
    passes a closure over ``core.runner.run_job`` / ``resume_job`` with plain copies of the spec
    and the connection); it returns the core's typed ``JobResult``, which :meth:`finished`
    hands to listeners on the main thread. Progress reports reach :attr:`progress_detail` and
    the job's id :attr:`jobCreated`, both queued to the main thread.
    """

    progress_detail = pyqtSignal(object)  # a plain dict: done, total, bytes, rate, eta, message
    jobCreated = pyqtSignal(str)  # the engine's job id, once the job is registered
    worker_signals = ("progress_detail", "jobCreated")

    def __init__(
        self,
        job_id: str,
        job_name: str,
        run_job: Callable[..., Any],
        flags: QgsTask.Flags = QgsTask.CanCancel,
    ) -> None:
        super().__init__(tr("EE Extract: {job}").format(job=job_name), flags)
        self.job_id = job_id
        self.job_name = job_name
        self._run_job = run_job
        self.last_progress: Dict[str, Any] = {}

    def _work(self, synchronous: bool) -> Callable[[Relay], Any]:
        run_job, name, job_id = self._run_job, self.job_name, self.job_id
        takes_on_created = _accepts(run_job, 3)
        if synchronous:
            # Synchronous use (tests): reports go straight through the task.
            def synchronous(relay: Relay) -> Any:
                log.info("job %s (%s) started", name, job_id)
                progress = lambda info: self._on_progress(_progress_dict(info))  # noqa: E731
                if takes_on_created:
                    return run_job(progress, self.is_cancelled, self._on_created)
                return run_job(progress, self.is_cancelled)
            return synchronous

        def work(relay: Relay) -> Any:
            log.info("job %s (%s) started", name, job_id)
            if takes_on_created:
                return run_job(relay.report, relay.is_cancelled, relay.job_created)
            return run_job(relay.report, relay.is_cancelled)
        return work

    def _release_work(self) -> None:
        self._run_job = _spent

    def _on_created(self, job_id: str) -> None:
        self.jobCreated.emit(job_id)

    def _on_progress(self, detail: Dict[str, Any]) -> None:
        """A progress report: passed on to listeners; the task's percentage follows it."""
        self.last_progress = detail
        self.progress_detail.emit(detail)  # queued to the main thread by Qt
        fraction = detail.get("fraction")
        if fraction is not None:
            QgsTask.setProgress(self, max(0.0, min(100.0, 100.0 * float(fraction))))


def _spent(*_args: Any) -> Any:
    """The work function of a finished task (released: it may refer to the task)."""
    raise RuntimeError("this task has finished; a QgsTask runs once")  # i18n: not translated (a programming error)


def _without_tracebacks(exc: BaseException) -> BaseException:
    """``exc`` (and the exceptions it chains) without tracebacks: a stored traceback keeps the
    frames of the work, and with them what they refer to, alive."""
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


def _accepts(function: Callable[..., Any], count: int) -> bool:
    try:
        inspect.signature(function).bind(*range(count))
    except (TypeError, ValueError):
        return False
    return True


def _progress_dict(info: Any) -> Dict[str, Any]:
    """A plain dict of a progress report (the engine's ProgressReport, a dict or a fraction)."""
    if isinstance(info, dict):
        return dict(info)
    if isinstance(info, (int, float)):
        return {"fraction": float(info)}
    names = ("fraction", "units_done", "units_total", "units_failed", "bytes_done",
             "rate_bytes_s", "eta_s", "elapsed_s", "in_flight", "message")
    return {n: getattr(info, n) for n in names if hasattr(info, n)}
