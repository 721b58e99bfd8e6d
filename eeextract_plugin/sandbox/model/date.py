"""Dates and date ranges (UTC; milliseconds since the Unix epoch, as Earth Engine)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Date:
    millis: int

    def to_info(self) -> Dict[str, Any]:
        return {"type": "Date", "value": self.millis}

    @property
    def datetime(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(milliseconds=self.millis)

    @classmethod
    def from_datetime(cls, value: dt.datetime) -> Date:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        delta = value - _EPOCH
        return cls(int(delta.days * 86400000 + delta.seconds * 1000 + delta.microseconds // 1000))

    def iso(self) -> str:
        d = self.datetime
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class DateRange:
    start: int
    end: int

    def contains(self, millis: float) -> bool:
        return self.start <= millis < self.end

    def to_info(self) -> Dict[str, Any]:
        return {"type": "DateRange", "dates": [self.start, self.end]}


_ISO = re.compile(
    r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_date_string(text: str) -> int:
    """Milliseconds for an ISO 8601 date or date-time (UTC unless an offset is given)."""
    match = _ISO.match(text.strip())
    if not match:
        raise invalid_argument(f"Date: Unable to parse date string '{text}'.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        value = dt.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
            int(second or 0), int((fraction or "0").ljust(6, "0")[:6]), tzinfo=dt.timezone.utc,
        )
    except ValueError:
        raise invalid_argument(f"Date: Unable to parse date string '{text}'.") from None
    millis = Date.from_datetime(value).millis
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        millis -= sign * (int(digits[:2]) * 3600000 + int(digits[2:]) * 60000)
    return millis


def to_millis(value: Any, where: str = "Date") -> int:
    """Milliseconds for a Date, a number of milliseconds or an ISO string."""
    if isinstance(value, Date):
        return value.millis
    if isinstance(value, bool):
        raise invalid_argument(f"{where}: Invalid type.\nExpected type: Date.")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        return parse_date_string(value)
    if isinstance(value, dict) and value.get("type") == "Date":
        return int(value["value"])
    raise invalid_argument(f"{where}: Invalid type.\nExpected type: Date.")


def advance(millis: int, delta: float, unit: str) -> int:
    unit = unit.lower().rstrip("s") if unit.lower() != "s" else "s"
    fixed = {"second": 1000, "minute": 60000, "hour": 3600000, "day": 86400000, "week": 7 * 86400000}
    if unit in fixed:
        return int(round(millis + delta * fixed[unit]))
    if unit in ("month", "year"):
        months = delta * (12 if unit == "year" else 1)
        whole = int(months // 1)
        d = Date(millis).datetime
        total = d.month - 1 + whole
        year, month = d.year + total // 12, total % 12 + 1
        day = min(d.day, calendar.monthrange(year, month)[1])
        shifted = Date.from_datetime(d.replace(year=year, month=month, day=day)).millis
        fraction = months - whole
        if fraction:
            nxt = advance(shifted, 1, "month")
            shifted += int(round((nxt - shifted) * fraction))
        return shifted
    raise invalid_argument(f"Date.advance: Unknown unit '{unit}'.")


# --------------------------------------------------------------------------- algorithms


def _no_time_zone(timeZone: Optional[str], name: str) -> None:
    if timeZone not in (None, "UTC", "Etc/UTC", "GMT", "Z"):
        raise invalid_argument(f"{name}: time zones other than UTC are not supported in the sandbox.")


@algorithm("Date")
def date_new(value, timeZone=None):
    _no_time_zone(timeZone, "Date")
    return Date(to_millis(value))


@algorithm("Date.fromYMD")
def date_from_ymd(year, month, day, timeZone=None):
    _no_time_zone(timeZone, "Date.fromYMD")
    try:
        return Date.from_datetime(dt.datetime(int(year), int(month), int(day), tzinfo=dt.timezone.utc))
    except ValueError as exc:
        raise invalid_argument(f"Date.fromYMD: {exc}") from None


@algorithm("Date.advance")
def date_advance(date, delta, unit, timeZone=None):
    _no_time_zone(timeZone, "Date.advance")
    return Date(advance(to_millis(date, "Date.advance"), float(delta), str(unit)))


@algorithm("Date.millis")
def date_millis(date):
    return to_millis(date, "Date.millis")


def _month_difference(a: int, b: int) -> float:
    """Calendar months from ``b`` to ``a`` (fractional), as Joda/Earth Engine count them."""
    if a < b:
        return -_month_difference(b, a)
    da, db = Date(a).datetime, Date(b).datetime
    whole = (da.year - db.year) * 12 + (da.month - db.month)
    while whole > 0 and advance(b, whole, "month") > a:
        whole -= 1
    start = advance(b, whole, "month")
    end = advance(b, whole + 1, "month")
    return whole + (a - start) / (end - start)


@algorithm("Date.difference")
def date_difference(date, start, unit):
    a, b = to_millis(date), to_millis(start)
    fixed = {"second": 1000, "minute": 60000, "hour": 3600000, "day": 86400000, "week": 7 * 86400000}
    key = str(unit).lower().rstrip("s")
    if key in fixed:
        return (a - b) / fixed[key]
    if key == "month":
        return _month_difference(a, b)
    if key == "year":
        return _month_difference(a, b) / 12.0
    raise invalid_argument(f"Date.difference: Unknown unit '{unit}'.")


_FORMAT_TOKENS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S",
                  "DDD": "%j"}


def _joda_to_strftime(pattern: str) -> str:
    """The Joda pattern subset the sandbox supports, as a strftime pattern (else a 400)."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise invalid_argument(f"Date.format: unterminated quote in '{pattern}'.")
            out.append(pattern[i + 1:end].replace("%", "%%") or "'")
            i = end + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            token = pattern[i:j]
            if token == "SSS":
                out.append("\ue000")
            elif token in _FORMAT_TOKENS:
                out.append(_FORMAT_TOKENS[token])
            else:
                raise invalid_argument(f"Date.format: pattern letter(s) '{token}' are not supported in the sandbox.")
            i = j
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


@algorithm("Date.format")
def date_format(date, format=None, timeZone=None):
    _no_time_zone(timeZone, "Date.format")
    d = Date(to_millis(date))
    if not format:
        return d.iso()
    text = d.datetime.strftime(_joda_to_strftime(str(format)))
    return text.replace("\ue000", f"{d.datetime.microsecond // 1000:03d}")


@algorithm("Date.get")
def date_get(date, unit, timeZone=None):
    d = Date(to_millis(date)).datetime
    key = str(unit).lower()
    values = {"year": d.year, "month": d.month, "week": d.isocalendar()[1], "day": d.day,
              "hour": d.hour, "minute": d.minute, "second": d.second + d.microsecond / 1e6}
    if key not in values:
        raise invalid_argument(f"Date.get: Unknown unit '{unit}'.")
    return values[key]


@algorithm("Date.getRange")
def date_get_range(date, unit, timeZone=None):
    d = Date(to_millis(date)).datetime
    key = str(unit).lower()
    if key == "year":
        start = d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif key == "month":
        start = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif key == "day":
        start = d.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        raise invalid_argument(f"Date.getRange: Unknown unit '{unit}'.")
    s = Date.from_datetime(start).millis
    return DateRange(s, advance(s, 1, key))


@algorithm("DateRange")
def date_range_new(start, end=None, timeZone=None):
    _no_time_zone(timeZone, "DateRange")
    if isinstance(start, DateRange) and end is None:
        return start
    s = to_millis(start, "DateRange")
    e = s if end is None else to_millis(end, "DateRange")
    # Earth Engine: "start" defaults the end to one millisecond later.
    if end is None:
        e = s + 1
    return DateRange(s, e)


@algorithm("DateRange.start")
def date_range_start(dateRange):
    return Date(dateRange.start)


@algorithm("DateRange.end")
def date_range_end(dateRange):
    return Date(dateRange.end)


@algorithm("DateRange.contains")
def date_range_contains(dateRange, other):
    if isinstance(other, DateRange):
        return dateRange.start <= other.start and other.end <= dateRange.end
    return dateRange.contains(to_millis(other))
