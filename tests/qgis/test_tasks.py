"""The task base class: run() wraps _run(), setProgress cancels, finished() reports."""

from __future__ import annotations

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.tasks import CallableTask, EETask, ExtractionTask


class Boom(EETask):
    def _run(self):
        raise RuntimeError("Image.load: Image asset 'X' not found (does not exist or caller "
                           "does not have access).\nmore detail")


def test_run_stores_the_exception_and_finished_reports_earth_engines_message(qgis_app):
    task = Boom("boom")
    failures, successes = [], []
    task.failed.connect(lambda msg, details: failures.append((msg, details)))
    task.succeeded.connect(successes.append)
    assert task.run() is False
    task.finished(False)
    assert successes == []
    assert failures[0][0].startswith("Image.load: Image asset 'X' not found")
    assert "\n" not in failures[0][0] and failures[0][0].endswith("more detail")  # whole, one line
    assert "RuntimeError" in failures[0][1]  # the traceback goes to the details


def test_success_hands_the_result_to_listeners(qgis_app):
    task = CallableTask("ok", lambda progress, cancelled: (progress(50), 42)[1])
    got = []
    task.succeeded.connect(got.append)
    assert task.run() is True
    task.finished(True)
    assert got == [42]
    assert task.progress() == 50


def test_set_progress_doubles_as_the_cancellation_check(qgis_app):
    reached = []

    def work(progress, cancelled):
        progress(10)
        reached.append("before")
        progress(20)  # raises: the task was cancelled meanwhile
        reached.append("after")

    task = CallableTask("cancellable", work)
    original = task.setProgress

    def set_progress_then_cancel(value):
        original(value)
        task.cancel()

    task.setProgress = set_progress_then_cancel  # cancel right after the first report
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))
    assert task.run() is True  # cancelled is no failure (QGIS shows a False task as "Task failed")
    task.finished(True)
    assert reached == ["before"]
    assert cancelled == [True]
    assert task.exception is None


def test_the_engine_polls_cancellation_and_its_progress_reports_never_raise(qgis_app):
    from eeextract_plugin.core.progress import ProgressReport, as_cancel_token

    seen = {}

    def run_job(progress, is_cancelled):
        token = as_cancel_token(is_cancelled)  # what the engine does with it
        progress(ProgressReport(units_done=1, units_total=4, bytes_done=10, elapsed_s=1.0,
                                rate_bytes_s=10.0, eta_s=3.0))
        seen["before"] = token.cancelled
        task.cancel()  # the user clicks Cancel while the engine runs
        progress(ProgressReport(units_done=2, units_total=4, bytes_done=20, elapsed_s=2.0,
                                rate_bytes_s=10.0, eta_s=2.0))  # must not raise in a fetch thread
        seen["after"] = token.cancelled
        return "stopped"

    task = ExtractionTask("job-1", "job", run_job)
    details = []
    task.progress_detail.connect(details.append)
    returned = []
    task.succeeded.connect(returned.append)  # the engine's own result says how it ended
    assert task.run() is True
    task.finished(True)
    assert seen == {"before": False, "after": True}
    assert task.progress() == 50
    assert details[0]["units_total"] == 4 and details[0]["rate_bytes_s"] == 10.0
    assert returned == ["stopped"] and task.exception is None
    try:
        task.check_cancelled()
    except Cancelled:
        pass
    else:  # pragma: no cover
        raise AssertionError("check_cancelled should raise after cancel()")


def test_an_error_after_cancel_counts_as_cancelled_not_failed(qgis_app):
    def run_job(progress, is_cancelled):
        task.cancel()
        raise RuntimeError("connection aborted")

    task = ExtractionTask("job-2", "job", run_job)
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))
    task.finished(task.run())
    assert task.exception is None and cancelled == [True]


def test_a_detached_task_reports_to_nobody(qgis_app):
    """After unload the task may still finish: its listeners are gone, nothing is called."""
    called = []
    task = CallableTask("late", lambda progress, cancelled: 1)
    task.succeeded.connect(called.append)
    task.detach()
    task.finished(task.run())
    assert called == []
