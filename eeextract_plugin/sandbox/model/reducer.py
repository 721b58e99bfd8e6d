"""Reducers: mean, median, min, max, count, sum, stdDev, variance, first, last, mode,
percentile, minMax, frequencyHistogram, ``Reducer.combine`` and ``setOutputs``.

Two ways to apply one:

- :meth:`Reducer.apply` on a 1-D array of valid values (region reductions, lists) →
  ``{output name: python value}``; empty input gives ``None`` (0 for count and sum), as Earth
  Engine.
- :meth:`Reducer.reduce_stack` on a stack ``(n, h, w)`` with a validity mask of the same shape
  (per-pixel ``ImageCollection.reduce``) → ``{output name: (values (h, w) float64 or int64,
  valid (h, w) bool)}``.

Output names follow Earth Engine: ``mean``, ``median``, ``min``, ``max``, ``count``, ``sum``,
``stdDev``, ``variance``, ``first``, ``last``, ``mode``, ``p<N>`` for percentiles, ``min`` and
``max`` for minMax, ``histogram`` for frequencyHistogram; ``combine`` concatenates them with an
optional prefix.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm

Stack = Tuple[np.ndarray, np.ndarray]


class Reducer:
    """Base class. ``outputs`` are the output names; subclasses implement ``_apply`` and
    ``_reduce_stack``."""

    name = "Reducer"

    def output_names(self) -> List[str]:
        raise NotImplementedError

    @property
    def num_inputs(self) -> int:
        return 1

    def apply(self, values: np.ndarray, weights: Optional[np.ndarray] = None) -> Dict[str, Any]:
        values = np.asarray(values).ravel()
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64).ravel()
        return self._apply(values, weights)

    def _apply(self, values: np.ndarray, weights: Optional[np.ndarray]) -> Dict[str, Any]:
        raise NotImplementedError

    def apply_inputs(self, columns: Sequence[Sequence[Any]], weights: Optional[Sequence[Any]] = None) -> Dict[str, Any]:
        """Reduce ``num_inputs`` parallel columns (one value per row; ``None`` is a missing
        value). A one-input reducer ignores missing values, as Earth Engine's do."""
        if len(columns) != self.num_inputs:
            raise invalid_argument(f"Need {self.num_inputs} inputs, got {len(columns)}.")
        rows = [i for i, v in enumerate(columns[0]) if v is not None]
        values = [columns[0][i] for i in rows]
        w = None if weights is None else [weights[i] for i in rows]
        return self.apply(np.asarray(values), None if w is None else np.asarray(w, dtype=np.float64))

    def reduce_stack(self, values: np.ndarray, valid: Optional[np.ndarray] = None) -> Dict[str, Stack]:
        values = np.asarray(values)
        if valid is None:
            valid = np.ones(values.shape, bool)
        return self._reduce_stack(values, np.asarray(valid, bool))

    def _reduce_stack(self, values: np.ndarray, valid: np.ndarray) -> Dict[str, Stack]:
        # Generic, slow path: one apply per pixel.
        n, h, w = values.shape
        names = self.output_names()
        out = {k: (np.zeros((h, w), np.float64), np.zeros((h, w), bool)) for k in names}
        for r in range(h):
            for c in range(w):
                sel = valid[:, r, c]
                result = self.apply(values[sel, r, c])
                for k in names:
                    v = result.get(k)
                    if v is not None and not isinstance(v, dict):
                        out[k][0][r, c] = v
                        out[k][1][r, c] = True
        return out

    def to_info(self) -> Any:
        raise invalid_argument("A Reducer cannot be returned as a value.")

    def __repr__(self) -> str:  # pragma: no cover
        return f"{type(self).__name__}({self.output_names()})"


def _py(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class SimpleReducer(Reducer):
    """A reducer with one output computed by a function of the valid values."""

    def __init__(self, output: str, fn: Callable[[np.ndarray, Optional[np.ndarray]], Any],
                 stack_fn: Optional[Callable[[np.ndarray, np.ndarray], Stack]] = None,
                 empty: Any = None):
        self.output = output
        self.fn = fn
        self.stack_fn = stack_fn
        self.empty = empty

    def output_names(self) -> List[str]:
        return [self.output]

    def _apply(self, values: np.ndarray, weights: Optional[np.ndarray]) -> Dict[str, Any]:
        if values.size == 0:
            return {self.output: self.empty}
        return {self.output: _py(self.fn(values, weights))}

    def _reduce_stack(self, values: np.ndarray, valid: np.ndarray) -> Dict[str, Stack]:
        if self.stack_fn is None:
            return super()._reduce_stack(values, valid)
        with np.errstate(all="ignore"):
            result, ok = self.stack_fn(values, valid)
        return {self.output: (result, ok)}


def _as_float_nan(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, values.astype(np.float64), np.nan)


def _any(valid: np.ndarray) -> np.ndarray:
    return valid.any(axis=0)


def _finish(result: np.ndarray, ok: np.ndarray) -> Stack:
    return np.where(ok, result, 0.0), ok


def _mean(values, weights):
    if weights is None:
        return float(np.mean(values, dtype=np.float64))
    total = float(weights.sum())
    return float(np.sum(values * weights, dtype=np.float64) / total) if total > 0 else None


def _sum(values, weights):
    if weights is None:
        s = np.sum(values, dtype=np.float64 if values.dtype.kind == "f" else np.int64)
        return s
    return float(np.sum(values * weights, dtype=np.float64))


def _variance(values, weights):
    if weights is None:
        return float(np.var(values.astype(np.float64)))
    total = float(weights.sum())
    if total <= 0:
        return None
    mean = np.sum(values * weights) / total
    return float(np.sum(weights * (values - mean) ** 2) / total)


def _std(values, weights):
    var = _variance(values, weights)
    return None if var is None else float(np.sqrt(var))


def _mode(values, weights):
    uniques, counts = np.unique(values, return_counts=True)
    return uniques[int(np.argmax(counts))]


def _stack_mean(values, valid):
    return _finish(np.nanmean(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_median(values, valid):
    return _finish(np.nanmedian(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_min(values, valid):
    return _finish(np.nanmin(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_max(values, valid):
    return _finish(np.nanmax(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_sum(values, valid):
    return np.nansum(_as_float_nan(values, valid), axis=0), np.ones(values.shape[1:], bool)


def _stack_count(values, valid):
    return valid.sum(axis=0).astype(np.int64), np.ones(values.shape[1:], bool)


def _stack_std(values, valid):
    return _finish(np.nanstd(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_var(values, valid):
    return _finish(np.nanvar(_as_float_nan(values, valid), axis=0), _any(valid))


def _stack_first(values, valid):
    ok = _any(valid)
    index = np.argmax(valid, axis=0)
    picked = np.take_along_axis(values, index[None], axis=0)[0].astype(np.float64)
    return _finish(picked, ok)


def _stack_last(values, valid):
    ok = _any(valid)
    n = values.shape[0]
    index = n - 1 - np.argmax(valid[::-1], axis=0)
    picked = np.take_along_axis(values, index[None], axis=0)[0].astype(np.float64)
    return _finish(picked, ok)


def _percentile_fn(p: float):
    def fn(values, weights):
        return float(np.percentile(values.astype(np.float64), p))

    def stack(values, valid):
        return _finish(np.nanpercentile(_as_float_nan(values, valid), p, axis=0), _any(valid))

    return fn, stack


class CombinedReducer(Reducer):
    """Several reducers on the same input (``shared=True``), or on separate inputs."""

    def __init__(self, parts: Sequence[Reducer], prefix: str = "", shared: bool = True):
        self.parts = list(parts)
        self.prefix = prefix or ""
        self.shared = shared

    @property
    def num_inputs(self) -> int:
        if self.shared:
            return max(part.num_inputs for part in self.parts)
        return sum(part.num_inputs for part in self.parts)

    def _check_inputs(self) -> None:
        if self.num_inputs != 1:
            raise invalid_argument(
                f"Reducer.combine: this reducer takes {self.num_inputs} inputs (sharedInputs is false); "
                "the sandbox supports reducers on one input only. Use sharedInputs=true.")

    def apply(self, values, weights=None):
        self._check_inputs()
        return super().apply(values, weights)

    def reduce_stack(self, values, valid=None):
        self._check_inputs()
        return super().reduce_stack(values, valid)

    def output_names(self) -> List[str]:
        return [self.prefix + name for part in self.parts for name in part.output_names()]

    def apply_inputs(self, columns, weights=None):
        if self.shared:
            out: Dict[str, Any] = {}
            for part in self.parts:
                used = columns[:part.num_inputs]
                for k, v in part.apply_inputs(used, weights).items():
                    out[self.prefix + k] = v
            return out
        if len(columns) != self.num_inputs:
            raise invalid_argument(f"Need {self.num_inputs} inputs, got {len(columns)}.")
        out = {}
        start = 0
        for part in self.parts:
            used = columns[start:start + part.num_inputs]
            start += part.num_inputs
            for k, v in part.apply_inputs(used, weights).items():
                out[self.prefix + k] = v
        return out

    def _apply(self, values, weights):
        out: Dict[str, Any] = {}
        for part in self.parts:
            for k, v in part.apply(values, weights).items():
                out[self.prefix + k] = v
        return out

    def _reduce_stack(self, values, valid):
        out: Dict[str, Stack] = {}
        for part in self.parts:
            for k, v in part.reduce_stack(values, valid).items():
                out[self.prefix + k] = v
        return out


class RenamedReducer(Reducer):
    def __init__(self, inner: Reducer, names: Sequence[str]):
        if len(names) != len(inner.output_names()):
            raise invalid_argument(
                f"Reducer.setOutputs: Expected {len(inner.output_names())} output names, got {len(names)}.")
        self.inner = inner
        self.names = list(names)
        self.mapping = dict(zip(inner.output_names(), self.names))

    @property
    def num_inputs(self) -> int:
        return self.inner.num_inputs

    def output_names(self) -> List[str]:
        return list(self.names)

    def _apply(self, values, weights):
        return {self.mapping[k]: v for k, v in self.inner.apply(values, weights).items()}

    def apply_inputs(self, columns, weights=None):
        return {self.mapping[k]: v for k, v in self.inner.apply_inputs(columns, weights).items()}

    def _reduce_stack(self, values, valid):
        return {self.mapping[k]: v for k, v in self.inner.reduce_stack(values, valid).items()}


class HistogramReducer(Reducer):
    """frequencyHistogram: ``{"histogram": {value as string: count}}``."""

    def output_names(self) -> List[str]:
        return ["histogram"]

    def _apply(self, values, weights):
        if values.size == 0:
            return {"histogram": {}}
        uniques, counts = np.unique(values, return_counts=True)
        if weights is not None:
            counts = np.array([weights[values == u].sum() for u in uniques])
        out = {}
        for u, c in zip(uniques, counts):
            u = _py(u)
            key = str(int(u)) if isinstance(u, float) and u.is_integer() else str(u)
            c = _py(c)
            out[key] = int(c) if isinstance(c, float) and c.is_integer() else c
        return {"histogram": out}

    def _reduce_stack(self, values, valid):
        raise invalid_argument("Reducer.frequencyHistogram cannot be used per pixel in the sandbox.")


class ToListReducer(Reducer):
    """``Reducer.toList(tupleSize, numOptional)``: the inputs collected into ``list``, grouped in
    tuples when ``tupleSize`` is given (then it has that many inputs; a row whose required inputs
    are missing is dropped, the last ``numOptional`` may be null)."""

    def __init__(self, tuple_size: Optional[int] = None, num_optional: int = 0):
        if tuple_size is not None and int(tuple_size) < 1:
            raise invalid_argument("Reducer.toList: tupleSize must be positive.")
        self.tuple_size = None if tuple_size is None else int(tuple_size)
        self.num_optional = int(num_optional or 0)

    @property
    def num_inputs(self) -> int:
        return self.tuple_size or 1

    def output_names(self) -> List[str]:
        return ["list"]

    def _apply(self, values, weights):
        return {"list": [_py(v) for v in np.asarray(values).ravel().tolist()]}

    def apply_inputs(self, columns, weights=None):
        if len(columns) != self.num_inputs:
            raise invalid_argument(f"Need {self.num_inputs} inputs, got {len(columns)}.")
        required = self.num_inputs - self.num_optional
        out = []
        for row in zip(*columns):
            if any(v is None for v in row[:required]):
                continue
            row = [_py(v) for v in row]
            out.append(row if self.tuple_size is not None else row[0])
        return {"list": out}

    def _reduce_stack(self, values, valid):
        raise invalid_argument("Reducer.toList cannot be used per pixel in the sandbox.")


class RepeatedReducer(Reducer):
    """``Reducer.repeat(reducer, count)``: ``count`` copies on consecutive inputs; each output
    is the list of the copies' outputs."""

    def __init__(self, inner: Reducer, count: int):
        if int(count) < 1:
            raise invalid_argument("Reducer.repeat: count must be positive.")
        self.inner = inner
        self.count = int(count)

    @property
    def num_inputs(self) -> int:
        return self.inner.num_inputs * self.count

    def output_names(self) -> List[str]:
        return self.inner.output_names()

    def apply_inputs(self, columns, weights=None):
        if len(columns) != self.num_inputs:
            raise invalid_argument(f"Need {self.num_inputs} inputs, got {len(columns)}.")
        k = self.inner.num_inputs
        results = [self.inner.apply_inputs(columns[i * k:(i + 1) * k], weights) for i in range(self.count)]
        return {name: [r.get(name) for r in results] for name in self.output_names()}

    def _apply(self, values, weights):
        return self.apply_inputs([values] * self.count, weights)

    def _reduce_stack(self, values, valid):
        raise invalid_argument("Reducer.repeat cannot be used per pixel in the sandbox.")


def _make(output: str, fn, stack, empty=None) -> SimpleReducer:
    return SimpleReducer(output, fn, stack, empty)


REDUCERS: Dict[str, Callable[[], Reducer]] = {
    "mean": lambda: _make("mean", _mean, _stack_mean),
    "median": lambda: _make("median", lambda v, w: float(np.median(v.astype(np.float64))), _stack_median),
    "min": lambda: _make("min", lambda v, w: v.min(), _stack_min),
    "max": lambda: _make("max", lambda v, w: v.max(), _stack_max),
    "sum": lambda: _make("sum", _sum, _stack_sum, 0),
    "count": lambda: _make("count", lambda v, w: int(v.size), _stack_count, 0),
    "stdDev": lambda: _make("stdDev", _std, _stack_std),
    "variance": lambda: _make("variance", _variance, _stack_var),
    "first": lambda: _make("first", lambda v, w: v[0], _stack_first),
    "last": lambda: _make("last", lambda v, w: v[-1], _stack_last),
    "mode": lambda: _make("mode", _mode, None),
    "minMax": lambda: CombinedReducer([REDUCERS["min"](), REDUCERS["max"]()]),
    "frequencyHistogram": lambda: HistogramReducer(),
}


def _register_simple(name: str) -> None:
    @algorithm(f"Reducer.{name}")
    def implementation():
        return REDUCERS[name]()


for _name in REDUCERS:
    if _name not in ("min", "max", "median", "mode"):
        _register_simple(_name)


@algorithm("Reducer.median")
def reducer_median(maxBuckets=None, minBucketWidth=None, maxRaw=None):
    return REDUCERS["median"]()


@algorithm("Reducer.mode")
def reducer_mode(maxBuckets=None, minBucketWidth=None, maxRaw=None):
    return REDUCERS["mode"]()


@algorithm("Reducer.min")
def reducer_min(numInputs=1):
    if int(numInputs) != 1:
        raise invalid_argument("Reducer.min: numInputs other than 1 is not supported in the sandbox.")
    return REDUCERS["min"]()


@algorithm("Reducer.max")
def reducer_max(numInputs=1):
    if int(numInputs) != 1:
        raise invalid_argument("Reducer.max: numInputs other than 1 is not supported in the sandbox.")
    return REDUCERS["max"]()


def _percentile_name(p: float) -> str:
    return f"p{int(p)}" if float(p).is_integer() else f"p{p}"


@algorithm("Reducer.percentile")
def reducer_percentile(percentiles, outputNames=None, maxBuckets=None, minBucketWidth=None, maxRaw=None):
    if not isinstance(percentiles, list) or not percentiles:
        raise invalid_argument("Reducer.percentile: percentiles must be a non-empty list.")
    names = list(outputNames) if outputNames is not None else [_percentile_name(p) for p in percentiles]
    if len(names) != len(percentiles):
        raise invalid_argument("Reducer.percentile: outputNames must match percentiles.")
    parts = []
    for p, name in zip(percentiles, names):
        if not 0 <= float(p) <= 100:
            raise invalid_argument("Reducer.percentile: percentiles must be between 0 and 100.")
        fn, stack = _percentile_fn(float(p))
        parts.append(SimpleReducer(str(name), fn, stack))
    return parts[0] if len(parts) == 1 else CombinedReducer(parts)


@algorithm("Reducer.combine")
def reducer_combine(reducer1, reducer2, outputPrefix="", sharedInputs=False):
    for r, n in ((reducer1, "reducer1"), (reducer2, "reducer2")):
        if not isinstance(r, Reducer):
            raise invalid_argument(f"Reducer.combine, argument '{n}': Invalid type.\nExpected type: Reducer.")
    second: Reducer = reducer2
    if outputPrefix:
        second = CombinedReducer([reducer2], outputPrefix)
    return CombinedReducer([reducer1, second], shared=bool(sharedInputs))


@algorithm("Reducer.setOutputs")
def reducer_set_outputs(reducer, outputs):
    if not isinstance(reducer, Reducer):
        raise invalid_argument("Reducer.setOutputs, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    return RenamedReducer(reducer, [str(o) for o in outputs])


@algorithm("Reducer.getOutputs")
def reducer_get_outputs(reducer):
    return reducer.output_names()


@algorithm("Reducer.toList")
def reducer_to_list(tupleSize=None, numOptional=0):
    return ToListReducer(tupleSize, numOptional)


@algorithm("Reducer.repeat")
def reducer_repeat(reducer, count):
    if not isinstance(reducer, Reducer):
        raise invalid_argument("Reducer.repeat, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    return RepeatedReducer(reducer, count)


@algorithm("Reducer.unweighted")
def reducer_unweighted(reducer):
    return reducer
