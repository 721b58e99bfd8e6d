"""The table of Earth Engine algorithms the sandbox implements.

Each implementation registers itself under Earth Engine's name::

    @algorithm("Image.select")
    def image_select(input, bandSelectors, newNames=None): ...

The evaluator calls the function with the invocation's arguments as keyword arguments (already
evaluated, except those listed in ``lazy`` which arrive as unevaluated nodes). A name that is
not registered is answered with a 400 that names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple


@dataclass(frozen=True)
class Algorithm:
    name: str
    function: Callable[..., Any]
    lazy: Tuple[str, ...] = ()


_ALGORITHMS: Dict[str, Algorithm] = {}


def algorithm(name: str, lazy: Tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in _ALGORITHMS:
            raise ValueError(f"algorithm {name} registered twice")
        _ALGORITHMS[name] = Algorithm(name, function, tuple(lazy))
        return function

    return register


def lookup(name: str) -> Optional[Algorithm]:
    return _ALGORITHMS.get(name)


def implemented() -> Dict[str, Algorithm]:
    return dict(_ALGORITHMS)
