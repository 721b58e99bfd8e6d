"""The command line's progress display: a tqdm bar on a terminal, a plain line every 10 seconds
otherwise (logs, CI). Fed by the engine's progress reports, from any thread."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from eeextract_plugin.core.progress import ProgressReport
from eeextract_plugin.core.wording import format_bytes, format_rate


class ProgressBar:
    def __init__(self, enabled: bool, desc: str) -> None:
        self.bar: Any = None
        self.desc = desc
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._last_line = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, report: ProgressReport) -> None:
        if not self.enabled:
            return
        if not self.tty:
            now = time.monotonic()
            if now - self._last_line >= 10 or report.units_done == report.units_total:
                self._last_line = now
                print(f"  {self.desc}: {report.line()}", file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

        with self._lock:
            if self.bar is None:
                self.bar = tqdm(total=report.units_total, desc=self.desc, unit="unit", initial=report.units_done)
            self.bar.total = report.units_total
            self.bar.n = report.units_done
            self.bar.set_postfix_str(f"{format_bytes(report.bytes_done)}, {format_rate(report.rate)}",
                                     refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
