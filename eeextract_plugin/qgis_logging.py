"""Python logging → the "EE Extract" tab of QGIS's log panel (and, for errors, the message bar).

The engine logs with plain ``logging`` (one logger per module under ``eeextract_plugin``); inside
QGIS this handler shows those records in the log panel. ``QgsMessageLog.logMessage`` is safe to
call from any thread. The message bar is a widget: records that ask for it (``extra={"bar":
True}``) are passed through a queued signal so the bar is touched only on the main thread.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Optional

from qgis.core import Qgis, QgsMessageLog
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal

LOG_TAG = "EE Extract"  # i18n: not translated (the log panel's tab: the plugin's name)
ROOT_LOGGER = "eeextract_plugin"

# Never let anything looking like a secret reach the log panel (belt and braces: the code
# does not log secrets, but a library error message could echo a token or a key).
_SECRET_PATTERNS = [
    re.compile(r"(-----BEGIN [A-Z ]*PRIVATE KEY-----).*?(-----END [A-Z ]*PRIVATE KEY-----)", re.S),  # i18n: not translated (a pattern)
    re.compile(r'("private_key"\s*:\s*")[^"]*(")'),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+"),
    re.compile(r"(access_token=)[^&\s]+"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(r"\1…redacted…\2", text)
        else:
            text = pattern.sub(r"\1…redacted…", text)
    return text


def _qgis_level(levelno: int) -> Qgis.MessageLevel:
    if levelno >= logging.ERROR:
        return Qgis.Critical
    if levelno >= logging.WARNING:
        return Qgis.Warning
    return Qgis.Info


class _BarBridge(QObject):
    """Lives on the main thread; a signal emitted from any thread reaches the slot there."""

    message = pyqtSignal(str, str, int)

    def __init__(self, push: Callable[[str, str, int], None]) -> None:
        super().__init__()
        self._push = push
        self.message.connect(self._deliver, Qt.QueuedConnection)

    def _deliver(self, title: str, text: str, level: int) -> None:
        self._push(title, text, level)


class QgisLogHandler(logging.Handler):
    """Forwards records to the "EE Extract" log tab; ``extra={"bar": True}`` also to the bar."""

    def __init__(
        self,
        push_to_bar: Optional[Callable[[str, str, int], None]] = None,
        level: int = logging.INFO,
    ) -> None:
        super().__init__(level)
        # No level in the text: the log panel shows it ("INFO INFO" otherwise).
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self._bridge = _BarBridge(push_to_bar) if push_to_bar is not None else None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = redact(self.format(record))
            QgsMessageLog.logMessage(text, LOG_TAG, _qgis_level(record.levelno), False)
            if self._bridge is not None and getattr(record, "bar", False):
                self._bridge.message.emit(
                    LOG_TAG, redact(record.getMessage()), int(_qgis_level(record.levelno))
                )
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def install(push_to_bar: Optional[Callable[[str, str, int], None]] = None) -> QgisLogHandler:
    """Attach a handler to the package's logger; undo with :func:`uninstall`."""
    handler = QgisLogHandler(push_to_bar)
    logger = logging.getLogger(ROOT_LOGGER)
    handler._previous_level = logger.level  # type: ignore[attr-defined]
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


def uninstall(handler: Optional[QgisLogHandler]) -> None:
    if handler is None:
        return
    logger = logging.getLogger(ROOT_LOGGER)
    logger.removeHandler(handler)
    logger.setLevel(getattr(handler, "_previous_level", logging.NOTSET))
    handler.close()
