"""Progress reports and cancellation: plain Python, usable from a QgsTask, Processing feedback
or a terminal progress bar.

The engine calls ``progress(report)`` with a :class:`ProgressReport` from worker threads; the
callback must be quick and thread-safe (a QgsTask adapter calls ``setProgress(report.percent)``;
the CLI updates tqdm). Cancellation: the engine polls ``cancel.cancelled``; a front end calls
``cancel.cancel()`` (or wraps its own flag with ``CancelToken(lambda: feedback.isCanceled())``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from eeextract_plugin.core.wording import format_bytes, format_duration, format_rate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressReport:
    units_done: int
    units_total: int
    bytes_done: int
    elapsed_s: float
    rate_bytes_s: float
    eta_s: Optional[float]
    units_failed: int = 0
    in_flight: int = 0
    message: str = ""
    #: The plan's bound as a rate (bytes / the direct plan's bound at the quota); 0: unknown.
    bound_rate_bytes_s: float = 0.0

    @property
    def of_bound(self) -> Optional[float]:
        """The measured rate as a fraction of the bound (None before anything was measured)."""
        if self.bound_rate_bytes_s <= 0 or self.rate_bytes_s <= 0:
            return None
        return self.rate_bytes_s / self.bound_rate_bytes_s

    @property
    def fraction(self) -> float:
        return 1.0 if self.units_total == 0 else min(1.0, self.units_done / self.units_total)

    @property
    def rate(self) -> float:
        """Bytes per second of this run."""
        return self.rate_bytes_s

    @property
    def bytes(self) -> int:
        return self.bytes_done

    @property
    def percent(self) -> float:
        return 100.0 * self.fraction

    def line(self) -> str:
        of_bound = f" ({self.of_bound:.2f} of the bound)" if self.of_bound is not None else ""
        return (f"{self.units_done}/{self.units_total} units, {format_bytes(self.bytes_done)}, "
                f"{format_rate(self.rate_bytes_s) or '0 B/s'}{of_bound}, ETA {format_duration(self.eta_s)}")


ProgressCallback = Callable[[ProgressReport], None]


class CancelToken:
    """A cancel flag. ``CancelToken()`` is set by :meth:`cancel`; ``CancelToken(poll)`` is also
    cancelled when ``poll()`` returns true (e.g. ``lambda: feedback.isCanceled()``)."""

    def __init__(self, poll: Optional[Callable[[], bool]] = None) -> None:
        self._event = threading.Event()
        self._poll = poll

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        if self._poll is not None:
            try:
                if self._poll():
                    self._event.set()
                    return True
            except Exception:  # a front end's poll must never break the engine
                log.debug("cancel poll raised", exc_info=True)
        return False

    def wait(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``; returns True (early) when cancelled."""
        end = time.monotonic() + seconds
        while True:
            if self.cancelled:
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._event.wait(min(left, 0.2))


class ProgressTracker:
    """Counts units and bytes, computes rate (bytes of this run / its elapsed time) and ETA,
    and calls the callback at most every ``interval_s`` (always on the last unit)."""

    def __init__(self, total: int, callback: Optional[ProgressCallback] = None,
                 done: int = 0, bytes_done: int = 0, interval_s: float = 0.2,
                 bound_rate_bytes_s: float = 0.0) -> None:
        self.total = total
        self.done = done
        self.failed = 0
        self.bytes_done = bytes_done
        self._start_done = done
        self._run_bytes = 0
        self._callback = callback
        self._interval = interval_s
        self._t0 = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self.in_flight = 0
        self.bound_rate_bytes_s = bound_rate_bytes_s

    def report(self, message: str = "") -> ProgressReport:
        elapsed = max(1e-9, time.monotonic() - self._t0)
        run_units = self.done - self._start_done
        rate = self._run_bytes / elapsed
        eta = None
        if run_units > 0:
            eta = (self.total - self.done) * elapsed / run_units
        return ProgressReport(self.done, self.total, self.bytes_done, elapsed, rate, eta,
                              self.failed, self.in_flight, message, self.bound_rate_bytes_s)

    def unit_done(self, nbytes: int, failed: bool = False) -> None:
        with self._lock:
            if failed:
                self.failed += 1
            else:
                self.done += 1
                self.bytes_done += nbytes
                self._run_bytes += nbytes
            self._emit(force=self.done + self.failed >= self.total)

    def add_total(self, n: int) -> None:
        with self._lock:
            self.total += n

    def message(self, text: str) -> None:
        with self._lock:
            self._emit(force=True, message=text)

    def _emit(self, force: bool = False, message: str = "") -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        try:
            self._callback(self.report(message))
        except Exception:
            log.warning("progress callback raised", exc_info=True)


def as_cancel_token(cancel: object = None) -> CancelToken:
    """A :class:`CancelToken` from what a front end has: a token, a ``threading.Event``, an
    object with ``isCanceled()`` (QgsFeedback) or ``is_set()``, a callable, or ``None``."""
    if cancel is None:
        return CancelToken()
    if isinstance(cancel, CancelToken):
        return cancel
    if hasattr(cancel, "isCanceled"):
        return CancelToken(cancel.isCanceled)  # type: ignore[attr-defined]
    if hasattr(cancel, "is_set"):
        return CancelToken(cancel.is_set)  # type: ignore[attr-defined]
    if callable(cancel):
        return CancelToken(cancel)  # type: ignore[arg-type]
    raise TypeError(f"cannot use {type(cancel).__name__} as a cancel token")
