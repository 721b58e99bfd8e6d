"""Adapters from the engine's plain callbacks onto a ``QgsProcessingFeedback``.

The engine reports progress through a callable and asks "should I stop?" through another; it logs
with :mod:`logging`. Here those three are mapped onto the feedback: percentage and a status line,
``isCanceled()``, and ``pushInfo``/``pushWarning``/``reportError``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from qgis.core import QgsProcessingFeedback

from eeextract_plugin.i18n import tr

ENGINE_LOGGER = "eeextract_plugin.core"


class FeedbackProgress:
    """A progress callback for the engine that drives a feedback's percentage from ``start`` to
    ``end`` (the engine calls it from its worker threads: it only calls ``setProgress`` /
    ``setProgressText`` on the feedback itself, never through a QgsProcessingMultiStepFeedback,
    whose internal signal connection would be queued to the main thread and could fire after
    the feedback is gone).

    Accepts what the engine reports: a fraction in 0..1, or an object with ``fraction`` (and
    optionally ``done``, ``total``, ``eta_s``/``eta``, ``rate``) attributes or keys.
    """

    def __init__(self, feedback: QgsProcessingFeedback, label: str = "",
                 start: float = 0.0, end: float = 100.0) -> None:
        self.feedback = feedback
        self.label = label
        self.start, self.end = start, end
        self._last_text = ""
        self._lock = threading.Lock()

    def __call__(self, progress: Any = None, *args: Any, **kwargs: Any) -> None:
        fraction = _fraction(progress, args, kwargs)
        with self._lock:
            if fraction is not None:
                fraction = max(0.0, min(1.0, fraction))
                self.feedback.setProgress(self.start + (self.end - self.start) * fraction)
            text = _status_text(progress, self.label)
            if text and text != self._last_text:
                self._last_text = text
                self.feedback.setProgressText(text)

    def is_cancelled(self) -> bool:
        return bool(self.feedback.isCanceled())

    # Engines may ask either way.
    cancelled = is_cancelled
    should_stop = is_cancelled


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _fraction(progress: Any, args: tuple, kwargs: dict) -> Optional[float]:
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        if args and isinstance(args[0], (int, float)) and args[0]:
            return float(progress) / float(args[0])  # (done, total)
        return float(progress)
    if progress is None:
        progress = kwargs
    value = _get(progress, "fraction")
    if value is not None:
        return float(value)
    done, total = _get(progress, "done", "units_done"), _get(progress, "total", "units_total")
    if done is not None and total:
        return float(done) / float(total)
    return None


def _status_text(progress: Any, label: str) -> str:
    if progress is None or isinstance(progress, (int, float)):
        return ""
    done, total = _get(progress, "done", "units_done"), _get(progress, "total", "units_total")
    if done is None or not total:
        return ""
    eta = _get(progress, "eta_s", "eta")
    if isinstance(eta, (int, float)) and eta > 0:
        text = tr("{done}/{total} units, about {seconds} s left").format(done=done, total=total, seconds=f"{eta:.0f}")
    else:
        text = tr("{done}/{total} units").format(done=done, total=total)
    return f"{label}: {text}" if label else text


class FeedbackLogHandler(logging.Handler):
    """Forwards the engine's log records to the feedback while an algorithm runs."""

    def __init__(self, feedback: QgsProcessingFeedback, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.feedback = feedback

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.ERROR:
                self.feedback.reportError(message, False)
            elif record.levelno >= logging.WARNING:
                self.feedback.pushWarning(message)
            else:
                self.feedback.pushInfo(message)
        except Exception:  # a log line must never break the run
            self.handleError(record)


@contextmanager
def engine_logs_to(feedback: QgsProcessingFeedback, logger_name: str = ENGINE_LOGGER) -> Iterator[None]:
    """Route the engine's logging (INFO and above) to ``feedback`` for the duration of a block."""
    logger = logging.getLogger(logger_name)
    handler = FeedbackLogHandler(feedback)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
