"""How times, sizes and counts are worded, once for every front end (command line, dock,
Processing log): ``format_duration(75)`` → ``"1 min 15 s"``."""

from __future__ import annotations

import math
from typing import Optional


def format_duration(seconds: Optional[float]) -> str:
    """A duration in the largest units that keep two significant parts.

    ``None`` → ``"unknown"``; under a second → ``"under 1 s"``; ``9.5`` → ``"9.5 s"``;
    ``42`` → ``"42 s"``; ``75`` → ``"1 min 15 s"``; ``3720`` → ``"1 h 02 min"``;
    ``200000`` → ``"2.3 days"``.
    """
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    s = max(0.0, float(seconds))
    if s < 1:
        return "under 1 s"
    if s < 10:
        return f"{s:.1f} s"
    if s < 59.5:
        return f"{s:.0f} s"
    whole = int(round(s))
    if whole < 3600:
        m, sec = divmod(whole, 60)
        return f"{m} min {sec:02d} s" if m < 10 and sec else f"{m} min"
    if whole < 48 * 3600:
        h, rest = divmod(whole, 3600)
        return f"{h} h {rest // 60:02d} min"
    return f"{s / 86400:.1f} days"


def format_bytes(n: Optional[float]) -> str:
    """``1234567`` → ``"1.2 MB"`` (decimal units, as Earth Engine's limits are stated)."""
    if n is None:
        return "unknown"
    v = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(v) < 1000 or unit == "TB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1000
    return f"{v:.1f} TB"  # pragma: no cover


def format_time_bound(seconds: Optional[float]) -> str:
    """A plan's time bound said as what it is: the least the job can take, when every request
    is answered as fast as the quota allows; Earth Engine's computation time is not known
    before the first requests come back."""
    return (f"{format_duration(seconds)} at best, if Earth Engine answers at full speed "
            "(heavy computations take longer)")


def format_measured(units_done: int, elapsed_s: Optional[float], eta_s: Optional[float]) -> str:
    """What a running job has measured: its pace so far, and the time left at that pace."""
    if not units_done or not elapsed_s:
        return "measuring the first requests…"
    per_unit = elapsed_s / units_done
    left = f"; about {format_duration(eta_s)} left at this pace" if eta_s is not None else ""
    return f"measured: {units_done:,} unit(s) in {format_duration(elapsed_s)} ({per_unit:.2g} s each){left}"


def format_rate(bytes_per_s: Optional[float]) -> str:
    return "" if not bytes_per_s else f"{format_bytes(bytes_per_s)}/s"


__all__ = ["format_duration", "format_bytes", "format_rate", "format_time_bound", "format_measured"]
