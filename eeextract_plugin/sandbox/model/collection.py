"""Collections: lazy sequences of elements (features or images), and the ``Collection.*``
algorithms.

A collection is an :class:`Element` (it has properties) that yields its elements lazily through
:meth:`Collection.iter_elements`. Subclasses that can generate their elements cheaply for a
restricted time range or region (the synthetic ``SANDBOX/S2_SR`` collection) override
:meth:`Collection.apply_filter` and use the filter's pushdown helpers
(:meth:`Filter.date_range`, :meth:`Filter.bounds`). ``apply_filter`` must return a collection
whose elements are exactly those of ``self`` the filter matches, in the same order.

Materialising more than ``config.max_collection_elements`` elements (``getInfo`` of a collection,
``toList``, ``limit`` with a sort key) fails as Earth Engine fails:
"Collection query aborted after accumulating over 5000 elements."
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.model.element import Element

# Iterating (not accumulating) more elements than this is treated as a computation that would
# not finish on the service.
MAX_ITERATED_ELEMENTS = 2_000_000


def _max_elements() -> int:
    from eeextract_plugin.sandbox.evaluator import current_context

    return int(current_context().config.max_collection_elements)


def _watch(elements: Iterable[Element]) -> Iterator[Element]:
    """``elements``, checking the request's deadline every few hundred of them."""
    from eeextract_plugin.sandbox.evaluator import current_context

    context = current_context()
    for n, element in enumerate(elements):
        if n % 256 == 255:
            context.check_deadline()
        yield element


def accumulation_error(limit: int) -> Exception:
    return invalid_argument(f"Collection query aborted after accumulating over {limit} elements.")


class Collection(Element):
    """Base of FeatureCollection and ImageCollection.

    ``kind`` is what ``getInfo`` reports as ``type``: ``"FeatureCollection"`` or
    ``"ImageCollection"``. ``asset_id`` is set for collections loaded from an asset.
    """

    kind: str = "FeatureCollection"

    def __init__(self, properties: Optional[Dict[str, Any]] = None, asset_id: Optional[str] = None):
        super().__init__(properties)
        self.asset_id = asset_id

    # ----------------------------------------------------------- to override

    def iter_elements(self) -> Iterator[Element]:
        """Yields the elements, lazily, in the collection's order."""
        raise NotImplementedError

    def apply_filter(self, filter: Any) -> Collection:
        """The elements ``filter`` matches. Override to push the filter into generation."""
        return FilteredCollection(self, filter)

    def count(self) -> int:
        """Number of elements (``Collection.size``). Override when it can be known cheaply."""
        n = 0
        for n, _ in enumerate(_watch(self.iter_elements()), start=1):
            if n > MAX_ITERATED_ELEMENTS:
                raise invalid_argument("Computation timed out.")
        return n

    # -------------------------------------------------------------- derived

    def elements(self, limit: Optional[int] = None) -> List[Element]:
        """All elements (or the first ``limit``), refusing to accumulate too many."""
        cap = _max_elements()
        if limit is not None and limit <= cap:
            return list(itertools.islice(self.iter_elements(), max(0, int(limit))))
        out: List[Element] = []
        for element in _watch(self.iter_elements()):
            out.append(element)
            if len(out) > cap:
                raise accumulation_error(cap)
            if limit is not None and len(out) >= limit:
                break
        return out

    def iterate(self) -> Iterator[Element]:
        """Streams all elements (reductions: size, aggregates) with a guard against endless ones."""
        for n, element in enumerate(_watch(self.iter_elements()), start=1):
            if n > MAX_ITERATED_ELEMENTS:
                raise invalid_argument("Computation timed out.")
            yield element

    def first(self) -> Optional[Element]:
        return next(iter(self.iter_elements()), None)

    def map(self, function: Callable[[Element], Any], drop_nulls: bool = False) -> Collection:
        return MappedCollection(self, function, drop_nulls)

    def limit(self, n: Optional[int], key: Optional[str] = None, ascending: bool = True) -> Collection:
        return LimitedCollection(self, n, key, ascending)

    def derived(self, elements: Iterable[Element]) -> ListCollection:
        """A literal collection of ``elements`` of the same kind, keeping the properties."""
        out = ListCollection(list(elements), self.properties, kind=self.kind)
        return out

    def to_info(self) -> Dict[str, Any]:
        from eeextract_plugin.sandbox.model.values import to_info

        elements = self.elements()
        kind = self.kind
        if elements:
            images = [type(e).__name__ == "Image" for e in elements]
            kind = "ImageCollection" if all(images) else "FeatureCollection"
        info: Dict[str, Any] = {"type": kind}
        if kind == "ImageCollection":
            info["bands"] = []
        else:
            info["columns"] = _columns(elements)
        if self.asset_id:
            info["id"] = self.asset_id
        info["version"] = 1700000000000000 if self.asset_id else None
        if info["version"] is None:
            del info["version"]
        if self.properties:
            info["properties"] = to_info(self.properties)
        info["features"] = [to_info(e) for e in elements]
        return info

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{type(self).__name__}({self.asset_id or ''})"


def _columns(elements: List[Element]) -> Dict[str, str]:
    columns: Dict[str, str] = {}
    for element in elements:
        for name, value in element.properties.items():
            kind = _type_name(value)
            previous = columns.get(name)
            if previous is None:
                columns[name] = kind
            elif previous != kind:
                columns[name] = "Float" if {previous, kind} <= {"Integer", "Float", "Long"} else "Object"
    columns.setdefault("system:index", "String")
    return dict(sorted(columns.items()))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if -(2**31) <= value < 2**31 else "Long"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "List"
    if isinstance(value, dict):
        return "Dictionary"
    return type(value).__name__


class ListCollection(Collection):
    """A collection of known elements (a literal ``ee.FeatureCollection([...])``, a table)."""

    def __init__(self, elements: List[Element], properties: Optional[Dict[str, Any]] = None,
                 kind: str = "FeatureCollection", asset_id: Optional[str] = None):
        super().__init__(properties, asset_id)
        self._elements = list(elements)
        self.kind = kind

    def iter_elements(self) -> Iterator[Element]:
        return iter(self._elements)

    def count(self) -> int:
        return len(self._elements)


class FilteredCollection(Collection):
    def __init__(self, base: Collection, filter: Any):
        super().__init__(base.properties, None)
        self.base = base
        self.filter = filter
        self.kind = base.kind

    def iter_elements(self) -> Iterator[Element]:
        match = self.filter.matches
        return (e for e in _watch(self.base.iter_elements()) if match(e))

    def apply_filter(self, filter: Any) -> Collection:
        from eeextract_plugin.sandbox.model.filter import AndFilter

        return self.base.apply_filter(AndFilter([self.filter, filter]))


class MappedCollection(Collection):
    def __init__(self, base: Collection, function: Callable[[Element], Any], drop_nulls: bool):
        super().__init__(base.properties, None)
        self.base = base
        self.function = function
        self.drop_nulls = drop_nulls
        self.kind = base.kind

    def iter_elements(self) -> Iterator[Element]:
        for element in self.base.iter_elements():
            result = self.function(element)
            if result is None:
                if self.drop_nulls:
                    continue
                raise invalid_argument("Collection.map: A mapped algorithm must return a Feature or Image.")
            if not isinstance(result, Element) or isinstance(result, Collection):
                raise invalid_argument(
                    "Collection.map: A mapped algorithm must return a Feature or Image."
                )
            # Earth Engine keeps the input element's id on what the function returns.
            index = element.get("system:index")
            if index is not None and result.get("system:index") != index:
                result = result.with_properties({"system:index": index})
            yield result

    def count(self) -> int:
        if self.drop_nulls:
            return super().count()
        return self.base.count()


class LimitedCollection(Collection):
    def __init__(self, base: Collection, n: Optional[int], key: Optional[str], ascending: bool):
        super().__init__(base.properties, None)
        self.base = base
        self.n = None if n is None else max(0, int(n))
        self.key = key
        self.ascending = bool(ascending)
        self.kind = base.kind

    def iter_elements(self) -> Iterator[Element]:
        if self.key is None:
            source: Iterable[Element] = self.base.iter_elements()
        else:
            source = sort_elements(self.base.elements(), self.key, self.ascending)
        if self.n is None:
            return iter(source)
        return itertools.islice(source, self.n)


def sort_elements(elements: List[Element], key: str, ascending: bool = True) -> List[Element]:
    """Stable sort by property ``key``; elements without it go last (as Earth Engine)."""
    from eeextract_plugin.sandbox.model.values import comparable

    present = [e for e in elements if e.get(key) is not None]
    missing = [e for e in elements if e.get(key) is None]
    present.sort(key=lambda e: comparable(e.get(key)), reverse=not ascending)
    return present + missing


def as_collection(value: Any, algorithm_name: str, argument: str = "collection") -> Collection:
    if not isinstance(value, Collection):
        raise invalid_argument(
            f"{algorithm_name}, argument '{argument}': Invalid type.\n"
            f"Expected type: FeatureCollection.\nActual type: {_ee_type(value)}."
        )
    return value


def _ee_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "List<Object>"
    if isinstance(value, dict):
        return "Dictionary<Object>"
    return type(value).__name__


# --------------------------------------------------------------------------- algorithms


@algorithm("Collection.filter")
def collection_filter(collection, filter):
    from eeextract_plugin.sandbox.model.filter import Filter

    collection = as_collection(collection, "Collection.filter")
    if not isinstance(filter, Filter):
        raise invalid_argument("Collection.filter, argument 'filter': Invalid type.\nExpected type: Filter.")
    return collection.apply_filter(filter)


@algorithm("Collection.map")
def collection_map(collection, baseAlgorithm, dropNulls=False):
    collection = as_collection(collection, "Collection.map")
    if not callable(baseAlgorithm):
        raise invalid_argument("Collection.map, argument 'baseAlgorithm': Invalid type.\nExpected type: Algorithm.")
    return collection.map(baseAlgorithm, bool(dropNulls))


@algorithm("Collection.first")
def collection_first(collection):
    return as_collection(collection, "Collection.first").first()


@algorithm("Collection.size")
def collection_size(collection):
    return as_collection(collection, "Collection.size").count()


@algorithm("Collection.limit")
def collection_limit(collection, limit=None, key=None, ascending=True):
    return as_collection(collection, "Collection.limit").limit(limit, key, ascending)


@algorithm("Collection.toList")
def collection_to_list(collection, count, offset=0):
    collection = as_collection(collection, "Collection.toList")
    count = int(count)
    offset = int(offset or 0)
    cap = _max_elements()
    if count > cap:
        # Earth Engine accumulates lazily too; only a real overflow fails.
        elements = list(itertools.islice(collection.iterate(), offset, offset + count))
        if len(elements) > cap:
            raise accumulation_error(cap)
        return elements
    return list(itertools.islice(collection.iter_elements(), offset, offset + count))


@algorithm("Collection.geometry")
def collection_geometry(collection, maxError=None):
    from eeextract_plugin.sandbox.model.geometry import Geometry, union_all

    collection = as_collection(collection, "Collection.geometry")
    geometries = [e.geometry for e in collection.iterate() if getattr(e, "geometry", None) is not None]
    if not geometries:
        return Geometry.empty()
    return union_all(geometries)


def aggregate_values(collection: Collection, property: str) -> List[Any]:
    """Values of ``property`` over the collection, skipping elements without it (as EE)."""
    out = []
    for element in collection.iterate():
        value = element.get(property)
        if value is not None:
            out.append(value)
    return out


@algorithm("AggregateFeatureCollection.array")
def aggregate_array(collection, property):
    return aggregate_values(as_collection(collection, "AggregateFeatureCollection.array"), property)


def _numbers(collection: Collection, property: str, name: str) -> List[float]:
    values = aggregate_values(as_collection(collection, name), property)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise invalid_argument(f"{name}: Property '{property}' is not a number.")
        out.append(v)
    return out


@algorithm("AggregateFeatureCollection.count")
def aggregate_count(collection, property):
    return len(aggregate_values(as_collection(collection, "AggregateFeatureCollection.count"), property))


@algorithm("AggregateFeatureCollection.sum")
def aggregate_sum(collection, property):
    return sum(_numbers(collection, property, "AggregateFeatureCollection.sum"))


@algorithm("AggregateFeatureCollection.mean")
def aggregate_mean(collection, property):
    values = _numbers(collection, property, "AggregateFeatureCollection.mean")
    return sum(values) / len(values) if values else None


@algorithm("AggregateFeatureCollection.min")
def aggregate_min(collection, property):
    values = _numbers(collection, property, "AggregateFeatureCollection.min")
    return min(values) if values else None


@algorithm("AggregateFeatureCollection.max")
def aggregate_max(collection, property):
    values = _numbers(collection, property, "AggregateFeatureCollection.max")
    return max(values) if values else None


@algorithm("AggregateFeatureCollection.first")
def aggregate_first(collection, property):
    values = aggregate_values(as_collection(collection, "AggregateFeatureCollection.first"), property)
    return values[0] if values else None


@algorithm("AggregateFeatureCollection.count_distinct")
def aggregate_count_distinct(collection, property):
    from eeextract_plugin.sandbox.model.values import hashable

    values = aggregate_values(as_collection(collection, "AggregateFeatureCollection.count_distinct"), property)
    return len({hashable(v) for v in values})


@algorithm("Collection.distinct")
def collection_distinct(collection, properties):
    from eeextract_plugin.sandbox.model.values import hashable

    collection = as_collection(collection, "Collection.distinct")
    names = [properties] if isinstance(properties, str) else list(properties)
    seen = set()
    kept = []
    for element in collection.iterate():
        key = tuple(hashable(element.get(n)) for n in names)
        if key in seen:
            continue
        seen.add(key)
        kept.append(element)
        if len(kept) > _max_elements():
            raise accumulation_error(_max_elements())
    return collection.derived(kept)


@algorithm("Collection.merge")
def collection_merge(collection1, collection2):
    a = as_collection(collection1, "Collection.merge", "collection1")
    b = as_collection(collection2, "Collection.merge", "collection2")
    return MergedCollection(a, b)


class MergedCollection(Collection):
    def __init__(self, a: Collection, b: Collection):
        super().__init__({}, None)
        self.a, self.b = a, b
        self.kind = a.kind

    def iter_elements(self) -> Iterator[Element]:
        # Earth Engine prefixes the indices so that they stay unique.
        for prefix, source in (("1_", self.a), ("2_", self.b)):
            for element in source.iter_elements():
                index = element.get("system:index")
                yield element.with_properties({"system:index": f"{prefix}{index}"}) if index is not None else element


@algorithm("AggregateFeatureCollection.stats")
def aggregate_stats(collection, property):
    values = _numbers(collection, property, "AggregateFeatureCollection.stats")
    n = len(values)
    total = float(sum(values))
    sum_sq = float(sum(v * v for v in values))
    mean = total / n if n else 0.0
    var = sum_sq / n - mean * mean if n else 0.0
    sample_var = (sum_sq - n * mean * mean) / (n - 1) if n > 1 else 0.0
    return {
        "max": max(values) if values else None, "mean": mean, "min": min(values) if values else None,
        "sample_sd": max(sample_var, 0.0) ** 0.5, "sample_var": sample_var, "sum": total, "sum_sq": sum_sq,
        "total_count": n, "total_sd": max(var, 0.0) ** 0.5, "total_var": var, "valid_count": n,
        "weight_sum": float(n), "weighted_sum": total,
    }


@algorithm("AggregateFeatureCollection.histogram")
def aggregate_histogram(collection, property):
    out: Dict[str, int] = {}
    for value in aggregate_values(as_collection(collection, "AggregateFeatureCollection.histogram"), property):
        key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        out[key] = out.get(key, 0) + 1
    return out


@algorithm("Collection.reduceColumns")
def collection_reduce_columns(collection, reducer, selectors, weightSelectors=None):
    from eeextract_plugin.sandbox.model.reducer import Reducer

    collection = as_collection(collection, "Collection.reduceColumns")
    if not isinstance(reducer, Reducer):
        raise invalid_argument("Collection.reduceColumns, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    if len(selectors) != reducer.num_inputs:
        raise invalid_argument(
            f"Collection.reduceColumns: Need {reducer.num_inputs} input selectors, got {len(selectors)}.")
    elements = list(collection.iterate())
    columns = [[e.get(str(name)) for e in elements] for name in selectors]
    weights = None
    if weightSelectors:
        weights = [e.get(str(weightSelectors[0])) for e in elements]
    return reducer.apply_inputs(columns, weights)


@algorithm("Collection.union")
def collection_union(collection, maxError=None):
    from eeextract_plugin.sandbox.model.feature import Feature

    geometry = collection_geometry(collection)
    return ListCollection([Feature(geometry, {"system:index": "0"})])


@algorithm("Collection.iterate")
def collection_iterate(collection, function, first=None):
    accumulator = first
    for element in as_collection(collection, "Collection.iterate").iterate():
        accumulator = function(element, accumulator)
    return accumulator
