"""Plain values (numbers, strings, lists, dictionaries), element properties, and the conversion
of any evaluated value to the JSON ``getInfo`` returns (:func:`to_info`).

Numbers, strings, lists and dictionaries are plain Python values in the sandbox. Model objects
(Image, Feature, collections, Geometry, Date, Projection, Reducer…) convert themselves through a
``to_info()`` method.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Dict, List, Optional

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.model.element import Element


def to_info(value: Any) -> Any:
    """The JSON-ready form of an evaluated value, shaped as Earth Engine's ``getInfo`` answers."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, np.generic):
        return to_info(value.item())
    if isinstance(value, np.ndarray):
        return to_info(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_info(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_info(v) for k, v in value.items()}
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    method = getattr(value, "to_info", None)
    if callable(method):
        return method()
    if callable(value):
        raise invalid_argument("A function cannot be returned as a value.")
    raise invalid_argument(f"Cannot return a value of type {type(value).__name__}.")


def comparable(value: Any) -> Any:
    """A sort / comparison key: Dates compare by millis, numbers as numbers, else as text."""
    millis = getattr(value, "millis", None)
    if millis is not None and not callable(millis):
        return (0, float(millis))
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, (int, float, np.number)):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value)
    return (2, repr(value))


def hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def as_number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise invalid_argument(f"{where}: Invalid type.\nExpected type: Number.")


def _require_element(value: Any, name: str) -> Element:
    if not isinstance(value, Element):
        raise invalid_argument(f"{name}, argument 'object': Invalid type.\nExpected type: Element.")
    return value


# --------------------------------------------------------------------------- Element


@algorithm("Element.get")
def element_get(object, property):
    return _require_element(object, "Element.get").get(str(property))


@algorithm("Element.getNumber")
def element_get_number(object, property):
    value = _require_element(object, "Element.getNumber").get(str(property))
    return as_number(value, "Element.getNumber") if value is not None else None


@algorithm("Element.getString")
def element_get_string(object, property):
    value = _require_element(object, "Element.getString").get(str(property))
    return None if value is None else str(value)


@algorithm("Element.getArray")
def element_get_array(object, property):
    return _require_element(object, "Element.getArray").get(str(property))


@algorithm("Element.set")
def element_set(object, key, value=None):
    return _require_element(object, "Element.set").with_properties({str(key): value})


@algorithm("Element.setMulti")
def element_set_multi(object, properties):
    if not isinstance(properties, dict):
        raise invalid_argument("Element.setMulti, argument 'properties': Invalid type.\nExpected type: Dictionary.")
    return _require_element(object, "Element.setMulti").with_properties(dict(properties))


@algorithm("Element.propertyNames")
def element_property_names(element):
    return _require_element(element, "Element.propertyNames").property_names()


@algorithm("Element.toDictionary")
def element_to_dictionary(element, properties=None):
    element = _require_element(element, "Element.toDictionary")
    names = properties if properties is not None else [k for k in element.properties if not k.startswith("system:")]
    return {n: element.properties[n] for n in names if n in element.properties}


@algorithm("Element.copyProperties")
def element_copy_properties(destination, source=None, properties=None, exclude=None):
    destination = _require_element(destination, "Element.copyProperties")
    if source is None:
        return destination
    source = _require_element(source, "Element.copyProperties")
    if properties is not None:
        names = list(properties)
    else:
        names = [k for k in source.properties if not k.startswith("system:")]
    excluded = set(exclude or [])
    updates = {n: source.properties[n] for n in names if n in source.properties and n not in excluded}
    return destination.with_properties(updates)


# --------------------------------------------------------------------------- Number


def _binary(name, op):
    @algorithm(name)
    def implementation(left, right):
        if left is None or right is None:
            raise invalid_argument(f"{name}: Parameter 'left' is required and may not be null.")
        return op(as_number(left, name), as_number(right, name))

    return implementation


def _divide(a, b):
    if b == 0:
        return None
    result = a / b
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return result


for _name, _op in {
    "Number.add": lambda a, b: a + b,
    "Number.subtract": lambda a, b: a - b,
    "Number.multiply": lambda a, b: a * b,
    "Number.divide": _divide,
    "Number.max": max,
    "Number.min": min,
    "Number.pow": lambda a, b: a ** b,
    "Number.mod": lambda a, b: math.fmod(a, b) if b != 0 else None,
    "Number.eq": lambda a, b: int(a == b),
    "Number.neq": lambda a, b: int(a != b),
    "Number.lt": lambda a, b: int(a < b),
    "Number.lte": lambda a, b: int(a <= b),
    "Number.gt": lambda a, b: int(a > b),
    "Number.gte": lambda a, b: int(a >= b),
}.items():
    _binary(_name, _op)


def _unary(name, op):
    @algorithm(name)
    def implementation(input):
        return op(as_number(input, name))

    return implementation


for _name, _op in {
    "Number.abs": abs,
    "Number.round": lambda x: float(math.floor(x + 0.5)),
    "Number.floor": lambda x: float(math.floor(x)),
    "Number.ceil": lambda x: float(math.ceil(x)),
    "Number.sqrt": math.sqrt,
    "Number.toInt": int,
    "Number.int": int,
    "Number.toFloat": float,
    "Number.float": float,
    "Number.double": float,
    "Number.toDouble": float,
    "Number.toLong": int,
    "Number.long": int,
}.items():
    _unary(_name, _op)


@algorithm("Number.format")
def number_format(number, pattern="%s"):
    try:
        return pattern % as_number(number, "Number.format")
    except (TypeError, ValueError):
        raise invalid_argument(f"Number.format: invalid pattern '{pattern}'.") from None


@algorithm("Number.parse")
def number_parse(input, radix=10):
    try:
        return int(str(input), int(radix)) if int(radix) != 10 else _parse_decimal(str(input))
    except ValueError:
        raise invalid_argument(f"Number.parse: cannot parse '{input}'.") from None


def _parse_decimal(text: str):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


# --------------------------------------------------------------------------- String


@algorithm("String")
def string_new(input):
    return input if isinstance(input, str) else str(to_info(input))


@algorithm("String.cat")
def string_cat(string1, string2):
    return f"{string1}{string2}"


@algorithm("String.length")
def string_length(string):
    return len(string)


@algorithm("String.compareTo")
def string_compare(string1, string2):
    return (string1 > string2) - (string1 < string2)


@algorithm("String.equals")
def string_equals(reference, target):
    return reference == target


@algorithm("String.toUpperCase")
def string_upper(string):
    return string.upper()


@algorithm("String.toLowerCase")
def string_lower(string):
    return string.lower()


@algorithm("String.slice")
def string_slice(string, start, end=None):
    return string[int(start): None if end is None else int(end)]


@algorithm("String.replace")
def string_replace(input, regex, replacement, flags=""):
    import re

    count = 0 if "g" in (flags or "") else 1
    return re.sub(regex, replacement.replace("$", "\\"), input, count=count,
                  flags=re.IGNORECASE if "i" in (flags or "") else 0)


@algorithm("String.split")
def string_split(string, regex, flags=""):
    import re

    return re.split(regex, string) if regex else list(string)


@algorithm("String.trim")
def string_trim(string):
    return string.strip()


# --------------------------------------------------------------------------- List


def _list(value: Any, name: str) -> List[Any]:
    if not isinstance(value, list):
        raise invalid_argument(f"{name}, argument 'list': Invalid type.\nExpected type: List<Object>.")
    return value


@algorithm("List.get")
def list_get(list, index):
    items = _list(list, "List.get")
    i = int(index)
    if i < 0:
        i += len(items)
    if not 0 <= i < len(items):
        raise invalid_argument(f"List.get: List index must be between 0 and {len(items) - 1}, or -{len(items)} and -1. Found {int(index)}.")
    return items[i]


@algorithm("List.size")
def list_size(list):
    return len(_list(list, "List.size"))


@algorithm("List.length")
def list_length(list):
    return len(_list(list, "List.length"))


@algorithm("List.slice")
def list_slice(list, start, end=None, step=None):
    return _list(list, "List.slice")[int(start): None if end is None else int(end): None if step is None else int(step)]


@algorithm("List.add")
def list_add(list, element):
    return _list(list, "List.add") + [element]


@algorithm("List.cat")
def list_cat(list, other):
    return _list(list, "List.cat") + _list(other, "List.cat")


@algorithm("List.contains")
def list_contains(list, element):
    return element in _list(list, "List.contains")


@algorithm("List.indexOf")
def list_index_of(list, element):
    items = _list(list, "List.indexOf")
    return items.index(element) if element in items else -1


@algorithm("List.flatten")
def list_flatten(list):
    out: List[Any] = []

    def walk(items):
        for item in items:
            if isinstance(item, builtins.list):
                walk(item)
            else:
                out.append(item)

    walk(_list(list, "List.flatten"))
    return out


@algorithm("List.distinct")
def list_distinct(list):
    seen = set()
    out = []
    for item in _list(list, "List.distinct"):
        key = hashable(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


@algorithm("List.sort")
def list_sort(list, keys=None):
    items = _list(list, "List.sort")
    if keys is None:
        return sorted(items, key=comparable)
    order = sorted(range(len(items)), key=lambda i: comparable(keys[i]))
    return [items[i] for i in order]


@algorithm("List.reverse")
def list_reverse(list):
    return _list(list, "List.reverse")[::-1]


@algorithm("List.sequence")
def list_sequence(start, end=None, step=None, count=None):
    start = as_number(start, "List.sequence")
    if count is not None:
        step = 1 if step is None else step
        return [start + i * step for i in range(int(count))]
    if end is None:
        raise invalid_argument("List.sequence: end or count is required.")
    step = 1 if step is None else as_number(step, "List.sequence")
    if step == 0:
        raise invalid_argument("List.sequence: step may not be 0.")
    out = []
    value = start
    while (step > 0 and value <= end + 1e-12) or (step < 0 and value >= end - 1e-12):
        out.append(value)
        value = start + len(out) * step
    return out


@algorithm("List.map")
def list_map(list, baseAlgorithm, dropNulls=False):
    out = []
    for item in _list(list, "List.map"):
        value = baseAlgorithm(item)
        if value is None and dropNulls:
            continue
        out.append(value)
    return out


@algorithm("List.iterate")
def list_iterate(list, function, first):
    accumulator = first
    for item in _list(list, "List.iterate"):
        accumulator = function(item, accumulator)
    return accumulator


@algorithm("List.zip")
def list_zip(list, other):
    return [[a, b] for a, b in zip(_list(list, "List.zip"), _list(other, "List.zip"))]


@algorithm("List.reduce")
def list_reduce(list, reducer):
    from eeextract_plugin.sandbox.model.reducer import Reducer

    if not isinstance(reducer, Reducer):
        raise invalid_argument("List.reduce, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    values = np.asarray([as_number(v, "List.reduce") for v in _list(list, "List.reduce")], dtype=float)
    result = reducer.apply(values)
    if len(result) == 1:
        return next(iter(result.values()))
    return result


# --------------------------------------------------------------------------- Dictionary


def _dict(value: Any, name: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"{name}, argument 'dictionary': Invalid type.\nExpected type: Dictionary<Object>.")
    return value


@algorithm("Dictionary")
def dictionary_new(input=None):
    if input is None:
        return {}
    if isinstance(input, dict):
        return dict(input)
    if isinstance(input, list) and len(input) % 2 == 0:
        return {str(input[i]): input[i + 1] for i in range(0, len(input), 2)}
    if isinstance(input, Element):
        return dict(input.properties)
    raise invalid_argument("Dictionary: Invalid type.")


@algorithm("Dictionary.get")
def dictionary_get(dictionary, key, defaultValue=None):
    items = _dict(dictionary, "Dictionary.get")
    if key in items:
        return items[key]
    if defaultValue is not None:
        return defaultValue
    raise invalid_argument(f"Dictionary.get: Dictionary does not contain key: '{key}'.")


@algorithm("Dictionary.getNumber")
def dictionary_get_number(dictionary, key, defaultValue=None):
    return dictionary_get(dictionary, key, defaultValue)


@algorithm("Dictionary.getString")
def dictionary_get_string(dictionary, key, defaultValue=None):
    return dictionary_get(dictionary, key, defaultValue)


@algorithm("Dictionary.keys")
def dictionary_keys(dictionary):
    return sorted(_dict(dictionary, "Dictionary.keys").keys())


@algorithm("Dictionary.values")
def dictionary_values(dictionary, keys=None):
    items = _dict(dictionary, "Dictionary.values")
    return [items[k] for k in (keys if keys is not None else sorted(items))]


@algorithm("Dictionary.contains")
def dictionary_contains(dictionary, key):
    return key in _dict(dictionary, "Dictionary.contains")


@algorithm("Dictionary.set")
def dictionary_set(dictionary, key, value):
    return {**_dict(dictionary, "Dictionary.set"), str(key): value}


@algorithm("Dictionary.size")
def dictionary_size(dictionary):
    return len(_dict(dictionary, "Dictionary.size"))


@algorithm("Dictionary.combine")
def dictionary_combine(first, second, overwrite=True):
    a, b = _dict(first, "Dictionary.combine"), _dict(second, "Dictionary.combine")
    return {**a, **b} if overwrite else {**b, **a}


@algorithm("Dictionary.select")
def dictionary_select(dictionary, selectors, ignoreMissing=False):
    import re

    items = _dict(dictionary, "Dictionary.select")
    out = {}
    for selector in selectors:
        matched = [key for key in items if re.fullmatch(str(selector), key)]
        if not matched and not ignoreMissing:
            raise invalid_argument(f"Dictionary.select: Key '{selector}' not found.")
        for key in matched:
            out[key] = items[key]
    return out


@algorithm("Dictionary.fromLists")
def dictionary_from_lists(keys, values):
    return dict(zip(keys, values))


# --------------------------------------------------------------------------- misc


@algorithm("ObjectType")
def object_type(value=None):
    if value is None:
        return "Object"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "List"
    if isinstance(value, dict):
        return "Dictionary"
    return type(value).__name__


@algorithm("If", lazy=("trueCase", "falseCase"))
def algorithms_if(condition=None, trueCase=None, falseCase=None):
    chosen = trueCase if _truthy(condition) else falseCase
    return chosen.evaluate() if chosen is not None else None


def _truthy(value: Any) -> bool:
    if isinstance(value, (list, dict, str)):
        return len(value) > 0
    return bool(value)


def maybe_none(value: Optional[Any]) -> Optional[Any]:
    return value
