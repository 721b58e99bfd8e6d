"""Runs inside the real QGIS desktop (``qgis --code driver.py``): plays one scenario of steps with
real input events and writes what a user would see to ``report.json``. Not a pytest module.

A scenario module (``EEX_DESKTOP_SCENARIO``) has ``STEPS``: generator functions taking the
:class:`~ui.Ui`. A step yields what it waits for (``ui.wait(ms)``, ``ui.until(predicate)``)
and records checks (``ui.check(name, ok, detail)``); the driver resumes it from Qt's event loop,
so QGIS keeps running (tasks, dialogs, rendering) between two actions. A step that raises is
recorded as failed, with a screenshot, and the next step runs. After the last step the scenario
quits QGIS the way a user does; the harness checks that the process ended.

Python's audit hooks record every connection attempt and every HTTP request of this process
from QGIS's start (``sitecustomize`` in the harness) to its end: ``network.jsonl``.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer

HERE = Path(os.environ["EEX_DESKTOP_SCENARIO"]).resolve().parent  # exec'd by QGIS: no __file__
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import ui as ui_module  # noqa: E402 - after the path is set

WORK = Path(os.environ["EEX_DESKTOP_WORK"])
_FAULTS = open(WORK / "faults.log", "w")  # noqa: SIM115 - open for the life of QGIS
faulthandler.enable(_FAULTS, all_threads=True)


def _log_message(message, tag, level):
    with open(WORK / "messages.log", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"t": time.monotonic(), "tag": tag, "level": int(level),
                             "message": message}) + "\n")


QgsApplication.messageLog().messageReceived.connect(_log_message)


def _load_scenario():
    path = Path(os.environ["EEX_DESKTOP_SCENARIO"])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Driver:
    def __init__(self, scenario) -> None:
        self.scenario = scenario
        self.ui = ui_module.Ui(WORK)
        self.steps = list(scenario.STEPS)
        self.index = -1
        self.gen = None
        self.record = None
        self.records = []
        self.deadline = 0.0
        self.skip_rest = False

    def start(self) -> None:
        QTimer.singleShot(0, self.next_step)

    # -- steps -------------------------------------------------------------------------------
    def next_step(self) -> None:
        self.index += 1
        if self.index >= len(self.steps):
            self.write()
            return
        function = self.steps[self.index]
        self.record = {"step": function.__name__, "checks": [], "error": None,
                       "started": time.monotonic(), "ended": None}
        self.records.append(self.record)
        self.ui.current = self.record
        self.ui.flush = self.write  # checks are written as they are made (QGIS may quit)
        self.write()
        if self.skip_rest and not getattr(function, "always", False):
            self.record["error"] = "skipped: an earlier step that this one needs failed"
            self.finish_step()
            return
        try:
            self.gen = function(self.ui)
        except Exception:  # noqa: BLE001 - recorded
            self.fail(traceback.format_exc())
            return
        self.advance(None)

    def advance(self, value=None, error=None) -> None:
        try:
            instruction = self.gen.throw(error) if error is not None else self.gen.send(value)
        except StopIteration:
            self.finish_step()
            return
        except Exception:  # noqa: BLE001 - recorded
            self.fail(traceback.format_exc())
            return
        self.schedule(instruction)

    def schedule(self, instruction) -> None:
        if isinstance(instruction, ui_module.Wait):
            QTimer.singleShot(int(instruction.ms), self.advance)
        elif isinstance(instruction, ui_module.Until):
            self.deadline = time.monotonic() + instruction.timeout_s
            self.poll(instruction)
        else:
            self.advance(error=TypeError(f"a step yielded {instruction!r}"))

    def poll(self, instruction) -> None:
        try:
            value = instruction.predicate()
        except Exception as error:  # noqa: BLE001 - handed to the step
            self.advance(error=error)
            return
        if value:
            self.advance(value)
        elif time.monotonic() > self.deadline:
            self.advance(error=TimeoutError(f"waited {instruction.timeout_s:g} s for: {instruction.what}"))
        else:
            QTimer.singleShot(instruction.every_ms, lambda: self.poll(instruction))

    def fail(self, text: str) -> None:
        self.record["error"] = text
        if getattr(self.steps[self.index], "required", False):
            self.skip_rest = True
        try:
            self.ui.shot(f"failed-{self.record['step']}")
        except Exception:  # noqa: BLE001
            pass
        self.finish_step()

    def finish_step(self) -> None:
        self.record["ended"] = time.monotonic()
        self.gen = None
        self.write()
        QTimer.singleShot(0, self.next_step)

    def write(self) -> None:
        data = {"steps": self.records, "done": self.index >= len(self.steps)}
        tmp = WORK / "report.json.tmp"
        tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        tmp.replace(WORK / "report.json")


DRIVER = Driver(_load_scenario())
# Give QGIS a moment to finish starting (welcome page, plugins' start-up timers).
QTimer.singleShot(1500, DRIVER.start)
