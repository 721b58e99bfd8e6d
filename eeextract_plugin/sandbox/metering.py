"""Counting the pixels a computation reads: what the sandbox's EECU accounting charges for.

Stored (and synthetic) bands call :func:`count` with the number of native pixels they read —
every image of a composite, every pixel of a pyramid block — while a :func:`metering` block is
open in the same thread (the server opens one around each interactive request, the export
service around each block it computes).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Iterator, Optional

_METER: contextvars.ContextVar[Optional[PixelMeter]] = contextvars.ContextVar("eeextract_sandbox_meter",
                                                                              default=None)


class PixelMeter:
    def __init__(self) -> None:
        self.pixels = 0
        self._lock = threading.Lock()

    def add(self, pixels: int) -> None:
        with self._lock:
            self.pixels += int(pixels)


@contextlib.contextmanager
def metering() -> Iterator[PixelMeter]:
    """Count the pixels read inside the block (nested blocks count into the innermost)."""
    meter = PixelMeter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def count(pixels: int) -> None:
    meter = _METER.get()
    if meter is not None:
        meter.add(pixels)
