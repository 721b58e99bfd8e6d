"""Jobs through QGIS's real task manager: the engine on a worker thread, results on the main one.

The other tests run tasks synchronously; these let QgsTaskManager run them, and wait for the
board's ``jobFinished`` signal in a local event loop (with a generous guard, not a timing check).
"""

from __future__ import annotations

import pytest

from eeextract_plugin.core.spec import JobSpec

DEM_EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/DEM"}}}}}}


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory):
    """A sandbox whose requests take 50 ms: a job of many tiles lasts long enough to cancel."""
    from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    server = SandboxServer(SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("slow"),
                                         latency=LatencyModel(fixed_s=0.05))).start()
    yield server
    server.stop()


@pytest.fixture()
def board(qgis_iface, qgis_new_project, clean_settings, slow_sandbox, tmp_path):
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    qs.save_settings(qs.ConnectionSettings(mode=qs.MODE_CUSTOM_URL, custom_url=slow_sandbox.url,
                                           project="sandbox", concurrency=2))
    b = JobBoard(qgis_iface, SessionSource())  # QGIS's task manager
    yield b
    b.shutdown()


def spec(out_dir, name, tile_size=None):
    d = {"version": 1, "name": name, "kind": "mosaic",
         "source": {"type": "expression", "expression": DEM_EXPRESSION},
         "region": {"type": "bbox", "bbox": [7.0, 46.0, 7.1, 46.05], "crs": "EPSG:4326"},
         "grid": {"crs": "EPSG:4326", "scale": 0.000277777777778},
         "output": {"directory": str(out_dir), "format": "COG", "name": name},
         "execution": {"max_concurrent_requests": 2}}
    if tile_size:
        d["execution"]["tile_size"] = tile_size
    return JobSpec.from_dict(d)


def wait_for_finish(board, key, guard_s=120):
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    if board.jobs[key].task is None:
        return board.jobs[key].state
    loop = QEventLoop()
    board.jobFinished.connect(lambda k, state: k == key and loop.quit())
    QTimer.singleShot(guard_s * 1000, loop.quit)  # a guard against a hang, not a timing check
    loop.exec()
    return board.jobs[key].state


def test_a_job_in_the_task_manager_runs_on_a_worker_and_its_layer_is_added(board, tmp_path):
    import threading

    from qgis.core import QgsProject

    main = threading.get_ident()
    entry = board.start(spec(tmp_path / "out", "threaded"))
    task = entry.task
    assert task is not None
    seen_threads = []
    task.progress_detail.connect(lambda d: seen_threads.append(threading.get_ident()))
    assert wait_for_finish(board, entry.key) == "completed", entry.message
    assert seen_threads and set(seen_threads) == {main}  # progress reaches the main thread
    group = QgsProject.instance().layerTreeRoot().findGroup("threaded")
    assert group is not None and [n.layer().source() for n in group.findLayers()] == entry.outputs


def test_cancel_from_the_dock_stops_a_running_job_promptly_and_resume_finishes_it(board, tmp_path):
    entry = board.start(spec(tmp_path / "out", "to-cancel", tile_size=24))
    first = []

    def on_change(key):
        if key == entry.key and entry.units_done >= 1 and not first:
            first.append(entry.units_done)
            board.cancel(entry.key)  # the Cancel button

    board.changed.connect(on_change)
    assert wait_for_finish(board, entry.key) == "cancelled"
    board.changed.disconnect(on_change)
    board.refresh_entry(entry.key)
    assert first and entry.units_done < entry.units_total  # stopped well before the end
    board.resume(entry.key)
    assert wait_for_finish(board, entry.key) == "completed", entry.message
    assert entry.units_done == entry.units_total
