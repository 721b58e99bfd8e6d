"""Filters: ``matches(element)`` plus pushdown helpers for collections that generate their
elements (``date_range()`` → ``(start_ms, end_ms)`` of ``system:time_start``, ``bounds()`` →
shapely geometry in EPSG:4326 the element's footprint must intersect). Both helpers are
*necessary* conditions: a collection may use them to skip generating elements, and must still
apply ``matches`` to what it generates (or return only elements ``matches`` accepts).

Binary filters take Earth Engine's four operands: ``leftField`` / ``leftValue`` and
``rightField`` / ``rightValue``; a field is read from the element (``.all`` / ``.geo`` is its
geometry), a value is a constant.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

import shapely
from shapely.geometry.base import BaseGeometry

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.model.date import Date, DateRange, to_millis
from eeextract_plugin.sandbox.model.element import Element

_MISSING = object()
GEOMETRY_FIELDS = (".all", ".geo")


def element_footprint(element: Element) -> Optional[BaseGeometry]:
    """The element's geometry in EPSG:4326 (shapely); None when unbounded or absent.

    Features: their geometry. Images: ``footprint()`` (the imagery model), else the
    ``system:footprint`` property.
    """
    from eeextract_plugin.sandbox.model.geometry import Geometry

    geometry = getattr(element, "geometry", None)
    if isinstance(geometry, Geometry):
        return geometry.to_wgs84()
    footprint = getattr(element, "footprint", None)
    if callable(footprint):
        shape = footprint()
        if shape is not None:
            return shape
    prop = element.get("system:footprint") if isinstance(element, Element) else None
    if isinstance(prop, Geometry):
        return prop.to_wgs84()
    if isinstance(prop, BaseGeometry):
        return prop
    return None


def _has_geometry(element: Element) -> bool:
    geometry = getattr(element, "geometry", _MISSING)
    if geometry is not _MISSING and not callable(geometry):
        return geometry is not None
    return True  # images: unbounded or with a footprint


class Filter:
    def matches(self, element: Element) -> bool:
        raise NotImplementedError

    def date_range(self) -> Optional[Tuple[int, int]]:
        return None

    def bounds(self) -> Optional[BaseGeometry]:
        return None

    def to_info(self) -> Any:
        raise invalid_argument("A Filter cannot be returned as a value.")


def _field(element: Element, name: str) -> Any:
    if name in GEOMETRY_FIELDS:
        # A feature without a geometry matches no spatial filter; an image without a footprint
        # is unbounded and intersects everything.
        return element_footprint(element) if _has_geometry(element) else _MISSING
    value = element.get(name)
    return _MISSING if value is None and name not in element.properties else value


class BinaryFilter(Filter):
    """``op(left, right)`` with each side a field of the element or a constant."""

    def __init__(self, name: str, op: Callable[[Any, Any], bool], leftField=None, rightValue=None,
                 rightField=None, leftValue=None, **extra: Any):
        self.name = name
        self.op = op
        self.leftField = leftField
        self.leftValue = leftValue
        self.rightField = rightField
        self.rightValue = rightValue
        self.extra = extra

    def _side(self, element: Element, field: Optional[str], value: Any) -> Any:
        if field is not None:
            return _field(element, str(field))
        return value

    def matches(self, element: Element) -> bool:
        left = self._side(element, self.leftField, self.leftValue)
        right = self._side(element, self.rightField, self.rightValue)
        if left is _MISSING or right is _MISSING:
            return False
        try:
            return bool(self.op(left, right))
        except (TypeError, ValueError):
            return False

    def date_range(self) -> Optional[Tuple[int, int]]:
        if self.name == "Filter.dateRangeContains" and self.rightField == "system:time_start" \
                and isinstance(self.leftValue, DateRange):
            return self.leftValue.start, self.leftValue.end
        return None

    def bounds(self) -> Optional[BaseGeometry]:
        if self.name == "Filter.intersects":
            if self.leftField in GEOMETRY_FIELDS and self.rightValue is not None:
                return _geometry_4326(self.rightValue)
            if self.rightField in GEOMETRY_FIELDS and self.leftValue is not None:
                return _geometry_4326(self.leftValue)
        return None


def _geometry_4326(value: Any) -> Optional[BaseGeometry]:
    from eeextract_plugin.sandbox.model.geometry import Geometry, as_geometry

    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, (Geometry, dict)) or hasattr(value, "geometry"):
        return as_geometry(value, "Filter").to_wgs84()
    return None


class AndFilter(Filter):
    def __init__(self, filters: Sequence[Filter]):
        self.filters: List[Filter] = []
        for f in filters:  # flatten nested ands
            self.filters.extend(f.filters if isinstance(f, AndFilter) else [f])

    def matches(self, element: Element) -> bool:
        return all(f.matches(element) for f in self.filters)

    def date_range(self) -> Optional[Tuple[int, int]]:
        ranges = [r for r in (f.date_range() for f in self.filters) if r is not None]
        if not ranges:
            return None
        return max(r[0] for r in ranges), min(r[1] for r in ranges)

    def bounds(self) -> Optional[BaseGeometry]:
        shapes = [b for b in (f.bounds() for f in self.filters) if b is not None]
        if not shapes:
            return None
        out = shapes[0]
        for s in shapes[1:]:
            out = out.intersection(s)
        return out


class OrFilter(Filter):
    def __init__(self, filters: Sequence[Filter]):
        self.filters = list(filters)

    def matches(self, element: Element) -> bool:
        return any(f.matches(element) for f in self.filters)

    def date_range(self) -> Optional[Tuple[int, int]]:
        ranges = [f.date_range() for f in self.filters]
        if not ranges or any(r is None for r in ranges):
            return None
        return min(r[0] for r in ranges), max(r[1] for r in ranges)  # type: ignore[index]

    def bounds(self) -> Optional[BaseGeometry]:
        shapes = [f.bounds() for f in self.filters]
        if not shapes or any(s is None for s in shapes):
            return None
        return shapely.union_all(shapes)


class NotFilter(Filter):
    def __init__(self, inner: Filter):
        self.inner = inner

    def matches(self, element: Element) -> bool:
        return not self.inner.matches(element)


class PredicateFilter(Filter):
    """A filter given by a function of the element (calendarRange, notNull, ...)."""

    def __init__(self, predicate: Callable[[Element], bool]):
        self.predicate = predicate

    def matches(self, element: Element) -> bool:
        try:
            return bool(self.predicate(element))
        except (TypeError, ValueError):
            return False


# --------------------------------------------------------------------------- comparisons


def _plain(value: Any) -> Any:
    if isinstance(value, Date):
        return value.millis
    return value


def _equals(a: Any, b: Any) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def _order(a: Any, b: Any) -> int:
    a, b = _plain(a), _plain(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    raise TypeError("not comparable")


def _date_range_contains(left: Any, right: Any) -> bool:
    if not isinstance(left, DateRange):
        raise TypeError
    if isinstance(right, DateRange):
        return left.start <= right.start and right.end <= left.end
    return left.contains(to_millis(right))


def _intersects(left: Any, right: Any) -> bool:
    a = _geometry_or_none(left)
    b = _geometry_or_none(right)
    if a is None or b is None:
        return True  # an unbounded element intersects everything
    return bool(a.intersects(b))


def _geometry_or_none(value: Any) -> Optional[BaseGeometry]:
    if value is None:
        return None
    shape = _geometry_4326(value)
    if shape is None:
        raise TypeError
    return shape


def _contains_geom(left: Any, right: Any) -> bool:
    a, b = _geometry_or_none(left), _geometry_or_none(right)
    if a is None or b is None:
        return False
    return bool(a.contains(b))


def _binary_algorithm(name: str, op: Callable[[Any, Any], bool]) -> None:
    @algorithm(name)
    def implementation(leftField=None, rightValue=None, rightField=None, leftValue=None, maxError=None):
        return BinaryFilter(name, op, leftField, rightValue, rightField, leftValue)


def _list_contains(left: Any, right: Any) -> bool:
    if not isinstance(left, list):
        raise TypeError
    return any(_equals(item, right) for item in left)


for _name, _op in {
    "Filter.equals": _equals,
    "Filter.eq": _equals,
    "Filter.notEquals": lambda a, b: not _equals(a, b),
    "Filter.neq": lambda a, b: not _equals(a, b),
    "Filter.lessThan": lambda a, b: _order(a, b) < 0,
    "Filter.lessThanOrEquals": lambda a, b: _order(a, b) <= 0,
    "Filter.greaterThan": lambda a, b: _order(a, b) > 0,
    "Filter.greaterThanOrEquals": lambda a, b: _order(a, b) >= 0,
    "Filter.stringContains": lambda a, b: str(b) in str(a),
    "Filter.stringStartsWith": lambda a, b: str(a).startswith(str(b)),
    "Filter.stringEndsWith": lambda a, b: str(a).endswith(str(b)),
    "Filter.listContains": _list_contains,
    "Filter.dateRangeContains": _date_range_contains,
    "Filter.intersects": _intersects,
    "Filter.contains": _contains_geom,
    "Filter.isContained": lambda a, b: _contains_geom(b, a),
}.items():
    _binary_algorithm(_name, _op)


@algorithm("Filter.inList")
def filter_in_list(leftField=None, rightValue=None, rightField=None, leftValue=None):
    # "leftField's value is in the list rightValue".
    return BinaryFilter("Filter.inList", lambda a, b: _list_contains(b, a), leftField, rightValue,
                        rightField, leftValue)


@algorithm("Filter.withinDistance")
def filter_within_distance(distance, leftField=None, rightValue=None, rightField=None, leftValue=None,
                           maxError=None):
    from eeextract_plugin.sandbox.model.geometry import Geometry

    def near(a: Any, b: Any) -> bool:
        ga, gb = _geometry_or_none(a), _geometry_or_none(b)
        if ga is None or gb is None:
            return False
        return Geometry(ga).buffer(float(distance)).to_wgs84().intersects(gb)

    return BinaryFilter("Filter.withinDistance", near, leftField, rightValue, rightField, leftValue)


@algorithm("Filter.and")
def filter_and(filters):
    return AndFilter(_filters(filters, "Filter.and"))


@algorithm("Filter.or")
def filter_or(filters):
    return OrFilter(_filters(filters, "Filter.or"))


@algorithm("Filter.not")
def filter_not(filter):
    if not isinstance(filter, Filter):
        raise invalid_argument("Filter.not, argument 'filter': Invalid type.\nExpected type: Filter.")
    return NotFilter(filter)


def _filters(value: Any, name: str) -> List[Filter]:
    if not isinstance(value, list) or not all(isinstance(f, Filter) for f in value):
        raise invalid_argument(f"{name}, argument 'filters': Invalid type.\nExpected type: List<Filter>.")
    return value


@algorithm("Filter.rangeContains")
def filter_range_contains(field, minValue, maxValue):
    def inside(element: Element) -> bool:
        value = _field(element, str(field))
        if value is _MISSING or value is None:
            return False
        return _order(minValue, value) <= 0 and _order(value, maxValue) <= 0

    return PredicateFilter(inside)


@algorithm("Filter.notNull")
def filter_not_null(properties):
    names = [properties] if isinstance(properties, str) else list(properties)
    return PredicateFilter(lambda e: all(e.get(n) is not None for n in names))


@algorithm("Filter.calendarRange")
def filter_calendar_range(start, end=None, field="day_of_year"):
    from eeextract_plugin.sandbox.model.date import Date as _Date

    end = start if end is None else end
    key = str(field).lower()

    def value_of(element: Element) -> int:
        t = element.get("system:time_start")
        d = _Date(to_millis(t)).datetime
        return {"year": d.year, "month": d.month, "week": d.isocalendar()[1], "day_of_year": d.timetuple().tm_yday,
                "day_of_month": d.day, "day_of_week": d.isoweekday(), "hour": d.hour, "minute": d.minute}[key]

    if key not in ("year", "month", "week", "day_of_year", "day_of_month", "day_of_week", "hour", "minute"):
        raise invalid_argument(f"Filter.calendarRange: Unknown field '{field}'.")
    s, e = int(start), int(end)

    def inside(element: Element) -> bool:
        v = value_of(element)
        return s <= v <= e if s <= e else (v >= s or v <= e)

    return PredicateFilter(inside)


@algorithm("Filter.dayOfYear")
def filter_day_of_year(start, end):
    return filter_calendar_range(start, end, "day_of_year")
