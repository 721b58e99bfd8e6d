"""The statistics a user may ask for, their aliases, and the columns they produce.

Canonical names: ``count sum mean min max stddev median pNN majority minority variety frac``.
``pNN`` is any percentile from ``p0`` to ``p100`` (``p10``, ``p90``, ``p2.5``); ``frac`` gives one
column per class value found (``<band>_frac_<value>``), the share of the zone's valid pixels (or
of its covered area, with exactextract) that has that value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional

from eeextract_plugin.core.zonal.errors import ZonalError

SIMPLE_STATISTICS = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "stddev",
    "median",
    "majority",
    "minority",
    "variety",
)
ALIASES = {
    "std": "stddev",
    "stdev": "stddev",
    "stddev": "stddev",
    "stdDev": "stddev",
    "mode": "majority",
    "unique": "variety",
    "fractions": "frac",
    "frac": "frac",
    "avg": "mean",
    "average": "mean",
}
KNOWN_TEXT = ", ".join(SIMPLE_STATISTICS) + ", pNN (percentile 0-100, e.g. p10, p90), frac"

_PERCENTILE = re.compile(r"^(?:p|percentile_?|q)(\d{1,3}(?:\.\d+)?)$")


@dataclass(frozen=True)
class Statistic:
    """One requested statistic. ``name`` is canonical; ``percentile`` is set for ``pNN``."""

    name: str
    percentile: Optional[float] = None

    @property
    def is_percentile(self) -> bool:
        return self.percentile is not None

    def column(self, band: str) -> str:
        return f"{band}_{self.name}"


def _format_percentile(q: float) -> str:
    return f"p{int(q)}" if float(q).is_integer() else f"p{q:g}"


def parse_statistic(text: str) -> Statistic:
    """``"mean"``, ``"std"``, ``"p90"``, ``"percentile_10"``... → :class:`Statistic`."""
    if not isinstance(text, str) or not text.strip():
        raise ZonalError(f"unknown statistic {text!r}; known: {KNOWN_TEXT}")
    raw = text.strip()
    key = ALIASES.get(raw, ALIASES.get(raw.lower(), raw.lower()))
    if key in SIMPLE_STATISTICS or key == "frac":
        return Statistic(key)
    m = _PERCENTILE.match(key)
    if m:
        q = float(m.group(1))
        if not 0 <= q <= 100:
            raise ZonalError(f"statistic {raw!r}: percentile must be between 0 and 100")
        return Statistic(_format_percentile(q), percentile=q)
    raise ZonalError(f"unknown statistic {raw!r}; known: {KNOWN_TEXT}")


def parse_statistics(texts: Iterable[str]) -> List[Statistic]:
    """Parses and de-duplicates, keeping the order given; at least one is required."""
    if isinstance(texts, str):
        texts = [t for t in re.split(r"[,\s]+", texts) if t]
    out: List[Statistic] = []
    for t in texts:
        s = parse_statistic(t)
        if s not in out:
            out.append(s)
    if not out:
        raise ZonalError(f"no statistic requested; known: {KNOWN_TEXT}")
    return out


def class_label(value: float) -> str:
    """A class value as it appears in a column name: ``3`` not ``3.0``; ``-1``; ``0.5``."""
    v = float(value)
    if v.is_integer():
        return str(int(v)).replace("-", "m")
    return f"{v:g}".replace("-", "m").replace(".", "_")
