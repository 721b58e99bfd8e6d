"""The property-filter grammar of collection sources, the same in every front end.

``"CLOUDY_PIXEL_PERCENTAGE < 20; SPACECRAFT_NAME == Sentinel-2A"`` and
``"CLOUDY_PIXEL_PERCENTAGE lt 20; SPACECRAFT_NAME eq Sentinel-2A"`` mean the same: filters are
separated by ``;``, each is ``PROPERTY OP VALUE`` with OP one of ``== = eq``, ``!= <> neq``,
``< lt``, ``<= lte``, ``> gt``, ``>= gte`` (word operators need spaces around them, symbols do
not: ``CLOUD<20``). VALUE is a number, ``true``/``false``, or text (quotes optional; quoted text
stays text: ``'20'``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence

from eeextract_plugin.core.errors import BadInput

FIELD = "source.filters"
OPERATORS = {"==": "eq", "=": "eq", "eq": "eq", "!=": "neq", "<>": "neq", "neq": "neq",
             "<=": "lte", "lte": "lte", ">=": "gte", "gte": "gte", "<": "lt", "lt": "lt",
             ">": "gt", "gt": "gt"}
SYMBOLS = {"eq": "==", "neq": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
SYNTAX = ("PROPERTY OP VALUE, OP one of == != < <= > >= (or eq neq lt lte gt gte), "
          "filters separated by ';'")

_PROPERTY = r"([A-Za-z_][A-Za-z0-9_:.\-]*?)"
_SYMBOL_FILTER = re.compile(rf"^\s*{_PROPERTY}\s*(==|!=|<>|<=|>=|=|<|>)\s*(.+?)\s*$")
_WORD_FILTER = re.compile(rf"^\s*{_PROPERTY}\s+(eq|neq|lte|lt|gte|gt)\s+(.+?)\s*$", re.IGNORECASE)


def parse_value(raw: str) -> Any:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_filters(text: str) -> List[Dict[str, Any]]:
    """The spec's ``source.filters`` from their text form; :class:`BadInput` (field
    ``source.filters``) names the filter that cannot be read."""
    filters: List[Dict[str, Any]] = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = _WORD_FILTER.match(part) or _SYMBOL_FILTER.match(part)
        if not match or not match.group(3).strip():
            raise BadInput(field=FIELD, reason=f"cannot read {part.strip()!r}: write {SYNTAX}")
        prop, op, raw = match.groups()
        filters.append({"property": prop, "op": OPERATORS[op.lower()], "value": parse_value(raw)})
    return filters


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value != value.strip() or isinstance(parse_value(value), (int, float, bool))
                                   or ";" in value or value == ""):
        return f"'{value}'"
    return str(value)


def format_filters(filters: Sequence[Any]) -> str:
    """The text form of spec filters (dicts or ``PropertyFilter``); reads back the same."""
    parts = []
    for f in filters:
        d = f if isinstance(f, dict) else {"property": f.property, "op": f.op, "value": f.value}
        parts.append(f"{d['property']} {SYMBOLS[d['op']]} {format_value(d['value'])}")
    return "; ".join(parts)


__all__ = ["parse_filters", "format_filters", "OPERATORS", "SYNTAX"]
