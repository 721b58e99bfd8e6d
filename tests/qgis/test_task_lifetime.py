"""A finished task leaves nothing behind that Qt or the garbage collector could trip over.

The whole suite used to segfault now and then in Qt's event processing: a task run directly
(owned by Python) sat in a reference cycle; the cyclic garbage collector freed it while progress
it had sent from a worker thread was still queued, and PyQt then called the slot (a
``functools.partial`` the collector had cleared). See the lifetime rules in
eeextract_plugin/tasks.py.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref
from functools import partial

# One process per scenario: without the rules this segfaults, which must fail this test, not
# end the test run.
SCENARIO = textwrap.dedent("""
    import gc, sys, threading
    from functools import partial
    from qgis.PyQt.QtCore import QCoreApplication
    app = QCoreApplication([])
    from eeextract_plugin.tasks import ExtractionTask

    class Board:  # what JobBoard does: one partial per task, bound to the job's key
        calls = 0
        def progress(self, key, detail):
            self.calls += 1

    board = Board()

    def start(i):
        def run_job(progress, is_cancelled):
            # The engine reports from its fetch threads: Qt queues these to the main thread.
            worker = threading.Thread(target=lambda: [progress({"fraction": k / 10}) for k in range(10)])
            worker.start()
            worker.join()
            task.jobCreated  # the work closes over its task (JobBoard.start does): a cycle
            return "done"
        task = ExtractionTask(f"new-{i}", "job", run_job)
        task.progress_detail.connect(partial(board.progress, task.job_id))
        task.succeeded.connect(lambda result: task.description())  # a listener refers to it too
        task.finished(task.run())  # the tests' synchronous launcher: the task is Python's

    for i in range(3):
        start(i)
        gc.collect()  # whenever a collection happens to run ...
        QCoreApplication.processEvents()  # ... before Qt delivers what was queued
    print("survived", board.calls)
""")


def test_a_collected_task_with_queued_progress_does_not_crash_the_process(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCENARIO], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stderr[-3000:]}"
    assert "survived" in done.stdout


def _progress_from_a_worker(progress):
    import threading

    worker = threading.Thread(target=lambda: [progress({"fraction": k / 4}) for k in range(4)])
    worker.start()
    worker.join()


def _delete_disconnected_slots():
    """PyQt deletes the proxy of a disconnected Python slot with deleteLater(), and with it its
    reference to the slot (here: lambdas that refer to the task): the event loop's next turn."""
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_a_finished_task_has_no_listeners_and_is_freed_without_the_garbage_collector(qgis_app):
    from eeextract_plugin.tasks import ExtractionTask

    calls = []

    def listener(key, *args):
        calls.append(key)

    def start():
        def run_job(progress, is_cancelled):
            _progress_from_a_worker(progress)
            task.jobCreated.emit("job-1")  # the closure refers to the task
            return "done"

        task = ExtractionTask("new-1", "job", run_job)
        task.progress_detail.connect(partial(listener, "progress"))
        task.jobCreated.connect(partial(listener, "created"))
        task.succeeded.connect(lambda result: calls.append(("succeeded", task.job_id, result)))
        task.finished(task.run())
        assert task.receivers(task.progress_detail) == 0
        assert task.receivers(task.jobCreated) == 0
        assert task.receivers(task.succeeded) == 0
        return weakref.ref(task)

    gc.disable()
    try:
        gone = start()
        _delete_disconnected_slots()
        assert gone() is None, "the finished task is still alive: something keeps it in a cycle"
    finally:
        gc.enable()
    assert ("succeeded", "new-1", "done") in calls and "created" in calls


def test_a_failed_task_keeps_its_message_and_details_but_no_frames(qgis_app):
    from eeextract_plugin.tasks import CallableTask

    def work(progress, is_cancelled):
        try:
            raise KeyError("band")
        except KeyError as exc:
            raise RuntimeError("Image.select: band 'B99' not found") from exc

    failures = []

    def launch():
        task = CallableTask("select", work)
        task.failed.connect(lambda message, details: failures.append((task.description(), message, details)))
        task.finished(task.run())
        return task.exception, weakref.ref(task)

    gc.disable()
    try:
        exception, gone = launch()
        _delete_disconnected_slots()
        assert gone() is None, "the failed task is still alive: something keeps it in a cycle"
    finally:
        gc.enable()
    [(description, message, details)] = failures
    assert description == "select" and message == "Image.select: band 'B99' not found"
    assert "KeyError: 'band'" in details and "RuntimeError" in details  # the whole chain
    assert exception.__traceback__ is None and exception.__cause__.__traceback__ is None
