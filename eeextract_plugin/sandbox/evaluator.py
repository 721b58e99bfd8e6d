"""Evaluates Earth Engine's serialized expression graph (``{"result": "0", "values": {...}}``).

Node kinds (see ``ee/serializer.py`` and ``earth-engine-facts.md`` §3): ``constantValue``,
``integerValue``, ``bytesValue``, ``arrayValue``, ``dictionaryValue``, ``functionInvocationValue``
(``functionName`` or ``functionReference``), ``functionDefinitionValue`` (a closure, e.g. the body of
``Collection.map``), ``valueReference`` (a shared sub-value, evaluated once) and
``argumentReference`` (a closure's argument).

Implementations are looked up in :mod:`eeextract_plugin.sandbox.functions` and called with the
invocation's arguments as keyword arguments under Earth Engine's argument names. Anything the
sandbox does not implement is answered with a 400 that names it; a malformed graph with a 400.

Algorithms that need the sandbox's state (its settings, the catalog of assets) read it from
:func:`current_context`, which :class:`~eeextract_plugin.sandbox.engine.Engine` sets around each
evaluation.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import inspect
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from eeextract_plugin.sandbox import functions
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, invalid_argument

log = logging.getLogger(__name__)

# How deep closures may nest (recursion guard against malicious or broken graphs).
MAX_DEPTH = 200


@dataclass
class EvaluationContext:
    """What algorithms may need beyond their arguments while an expression is evaluated.

    ``catalog`` is the imagery catalog (``imagery.catalog.ImageCatalog``) or ``None``;
    ``tables`` is the table catalog (``model.tables.TableCatalog``).
    """

    config: SandboxConfig
    catalog: Any = None
    tables: Any = None
    extras: Dict[str, Any] = field(default_factory=dict)
    # time.monotonic() after which a long computation fails with "Computation timed out."
    # (interactive requests; None for batch work).
    deadline: Optional[float] = None

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise invalid_argument("Computation timed out.")


_CONTEXT: contextvars.ContextVar[Optional[EvaluationContext]] = contextvars.ContextVar(
    "eeextract_sandbox_context", default=None
)


def current_context() -> EvaluationContext:
    """The context of the evaluation in progress (a default one outside any evaluation)."""
    context = _CONTEXT.get()
    if context is None:
        context = EvaluationContext(SandboxConfig())
    return context


@contextlib.contextmanager
def evaluation_context(context: EvaluationContext) -> Iterator[EvaluationContext]:
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


class Closure:
    """A ``functionDefinitionValue``: call it with positional or keyword arguments.

    ``Collection.map`` receives one as ``baseAlgorithm`` and calls ``baseAlgorithm(element)``.
    """

    def __init__(self, evaluator: Evaluator, argument_names: Sequence[str], body: str, scope: Scope):
        self.evaluator = evaluator
        self.argument_names = list(argument_names)
        self.body = body
        self.scope = scope
        # Lazy collections may call the closure after the evaluation returned (pixels computed
        # later, exports in a worker thread): the call re-enters the context it was made in.
        self.context = _CONTEXT.get()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.context is not None and _CONTEXT.get() is not self.context:
            with evaluation_context(self.context):
                return self._call(*args, **kwargs)
        return self._call(*args, **kwargs)

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(self.argument_names):
            raise invalid_argument(
                f"Function takes {len(self.argument_names)} arguments, got {len(args)}."
            )
        bindings = dict(zip(self.argument_names, args))
        for name, value in kwargs.items():
            if name not in self.argument_names:
                raise invalid_argument(f"Function has no argument named '{name}'.")
            bindings[name] = value
        missing = [n for n in self.argument_names if n not in bindings]
        if missing:
            raise invalid_argument(f"Required argument ({missing[0]}) missing to function.")
        scope = Scope(bindings, self.scope)
        return self.evaluator.evaluate_reference(self.body, scope)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Closure({self.argument_names} -> {self.body})"


class Scope:
    """Argument bindings of one closure call, chained to the enclosing call's."""

    __slots__ = ("bindings", "parent", "depth", "memo")

    def __init__(self, bindings: Dict[str, Any], parent: Optional[Scope]):
        self.bindings = bindings
        self.memo: Dict[str, Any] = {}
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        if self.depth > MAX_DEPTH:
            raise invalid_argument("Expression too deeply nested.")

    def lookup(self, name: str) -> Any:
        scope: Optional[Scope] = self
        while scope is not None:
            if name in scope.bindings:
                return scope.bindings[name]
            scope = scope.parent
        raise invalid_argument(f"Unknown argument reference: '{name}'.")


class LazyArgument:
    """An argument an algorithm asked to receive unevaluated (``@algorithm(..., lazy=(...))``)."""

    def __init__(self, evaluator: Evaluator, node: Any, scope: Optional[Scope]):
        self.evaluator = evaluator
        self.node = node
        self.scope = scope

    def evaluate(self) -> Any:
        return self.evaluator.evaluate_node(self.node, self.scope)


_NODE_KINDS = (
    "constantValue",
    "integerValue",
    "bytesValue",
    "arrayValue",
    "dictionaryValue",
    "functionInvocationValue",
    "functionDefinitionValue",
    "valueReference",
    "argumentReference",
)


class Evaluator:
    """Evaluates one serialized expression. Not shared between requests."""

    def __init__(self, expression: Mapping[str, Any]):
        if not isinstance(expression, Mapping):
            raise invalid_argument("Invalid expression: expected an object with 'result' and 'values'.")
        result = expression.get("result")
        values = expression.get("values")
        if not isinstance(result, str) or not isinstance(values, Mapping):
            raise invalid_argument("Invalid expression: expected an object with 'result' and 'values'.")
        if result not in values:
            raise invalid_argument(f"Invalid expression: result '{result}' is not among its values.")
        self.result = result
        self.values: Mapping[str, Any] = values
        self._memo: Dict[Any, Any] = {}
        self._in_progress: set = set()
        self._free: Dict[str, bool] = {}

    # ---------------------------------------------------------------- public

    def evaluate(self) -> Any:
        try:
            return self.evaluate_reference(self.result, None)
        except RecursionError:
            raise invalid_argument("Invalid expression: too deeply nested.") from None

    # --------------------------------------------------------------- internal

    def evaluate_reference(self, ref: Any, scope: Optional[Scope]) -> Any:
        if not isinstance(ref, str) or ref not in self.values:
            raise invalid_argument(f"Invalid expression: unknown value reference '{ref}'.")
        # A shared value that does not depend on any closure argument is evaluated once for the
        # whole expression; one that does is evaluated once per closure call (memo on the scope).
        memo = self._memo if (scope is None or not self._uses_arguments(ref)) else scope.memo
        if ref in memo:
            return memo[ref]
        key = (ref, id(scope))
        if key in self._in_progress:
            raise invalid_argument(f"Invalid expression: value '{ref}' refers to itself.")
        self._in_progress.add(key)
        try:
            value = self.evaluate_node(self.values[ref], scope)
        finally:
            self._in_progress.discard(key)
        memo[ref] = value
        return value

    def _uses_arguments(self, ref: str) -> bool:
        """Whether the value ``ref`` (transitively) contains an argumentReference."""
        if ref in self._free:
            return self._free[ref]
        self._free[ref] = True  # conservative while the graph is walked (cycles)
        uses = self._node_uses_arguments(self.values.get(ref), 0)
        self._free[ref] = uses
        return uses

    def _node_uses_arguments(self, node: Any, depth: int) -> bool:
        if depth > 10000:
            return True
        if isinstance(node, Mapping):
            if "argumentReference" in node:
                return True
            if "valueReference" in node:
                ref = node["valueReference"]
                return isinstance(ref, str) and ref in self.values and self._uses_arguments(ref)
            if "constantValue" in node:
                return False
            if "functionDefinitionValue" in node:
                body = node["functionDefinitionValue"].get("body") if isinstance(
                    node["functionDefinitionValue"], Mapping) else None
                # A closure captures enclosing arguments only if its body uses names it does not bind.
                return isinstance(body, str) and body in self.values and self._uses_arguments(body)
            return any(self._node_uses_arguments(v, depth + 1) for v in node.values())
        if isinstance(node, list):
            return any(self._node_uses_arguments(v, depth + 1) for v in node)
        return False

    def evaluate_node(self, node: Any, scope: Optional[Scope]) -> Any:
        if not isinstance(node, Mapping):
            raise invalid_argument(f"Invalid expression: expected a value node, got {type(node).__name__}.")
        kinds = [k for k in node if k in _NODE_KINDS]
        if len(kinds) != 1:
            raise invalid_argument(f"Invalid expression: cannot interpret value node {_short(node)}.")
        kind = kinds[0]
        payload = node[kind]
        if kind == "constantValue":
            return payload
        if kind == "integerValue":
            try:
                return int(payload)
            except (TypeError, ValueError):
                raise invalid_argument(f"Invalid expression: bad integerValue {payload!r}.") from None
        if kind == "bytesValue":
            try:
                return base64.b64decode(payload)
            except (TypeError, ValueError):
                raise invalid_argument("Invalid expression: bad bytesValue.") from None
        if kind == "arrayValue":
            items = payload.get("values", []) if isinstance(payload, Mapping) else None
            if not isinstance(items, list):
                raise invalid_argument("Invalid expression: arrayValue needs a list of values.")
            return [self.evaluate_node(item, scope) for item in items]
        if kind == "dictionaryValue":
            items = payload.get("values", {}) if isinstance(payload, Mapping) else None
            if not isinstance(items, Mapping):
                raise invalid_argument("Invalid expression: dictionaryValue needs an object of values.")
            return {str(k): self.evaluate_node(v, scope) for k, v in items.items()}
        if kind == "valueReference":
            return self.evaluate_reference(payload, scope)
        if kind == "argumentReference":
            if scope is None:
                raise invalid_argument(f"Invalid expression: argument '{payload}' used outside a function.")
            return scope.lookup(str(payload))
        if kind == "functionDefinitionValue":
            if not isinstance(payload, Mapping):
                raise invalid_argument("Invalid expression: bad functionDefinitionValue.")
            names = payload.get("argumentNames", [])
            body = payload.get("body")
            if not isinstance(names, list) or not isinstance(body, str) or body not in self.values:
                raise invalid_argument("Invalid expression: bad functionDefinitionValue.")
            return Closure(self, [str(n) for n in names], body, scope if scope is not None else Scope({}, None))
        return self._invoke(payload, scope)

    def _invoke(self, payload: Any, scope: Optional[Scope]) -> Any:
        if not isinstance(payload, Mapping):
            raise invalid_argument("Invalid expression: bad functionInvocationValue.")
        arguments = payload.get("arguments", {}) or {}
        if not isinstance(arguments, Mapping):
            raise invalid_argument("Invalid expression: function arguments must be an object.")
        if "functionReference" in payload:
            target = self.evaluate_reference(payload["functionReference"], scope)
            if not callable(target):
                raise invalid_argument("Invalid expression: functionReference does not name a function.")
            kwargs = {str(k): self.evaluate_node(v, scope) for k, v in arguments.items()}
            return target(**kwargs)
        name = payload.get("functionName")
        if not isinstance(name, str):
            raise invalid_argument("Invalid expression: function invocation without functionName.")
        impl = functions.lookup(name)
        if impl is None:
            raise invalid_argument(f"Unsupported algorithm in sandbox: {name}")
        kwargs = {}
        for arg_name, arg_node in arguments.items():
            if arg_name in impl.lazy:
                kwargs[arg_name] = LazyArgument(self, arg_node, scope)
            else:
                kwargs[arg_name] = self.evaluate_node(arg_node, scope)
        return call_algorithm(impl, kwargs)


def call_algorithm(impl: functions.Algorithm, kwargs: Dict[str, Any]) -> Any:
    """Calls ``impl`` with ``kwargs``; a wrong set of arguments is the caller's error (400)."""
    try:
        signature = _signature(impl.function)
        signature.bind(**kwargs)
    except TypeError as exc:
        message = str(exc)
        if "missing" in message:
            missing = message.split("'")[1] if "'" in message else "?"
            raise invalid_argument(f"Required argument ({missing}) missing to function: {impl.name}") from None
        if "unexpected keyword" in message:
            extra = message.split("'")[1] if "'" in message else "?"
            raise invalid_argument(f"Unrecognized argument ({extra}) to function: {impl.name}") from None
        raise invalid_argument(f"{impl.name}: {message}") from None
    except ValueError:  # builtins without a signature
        pass
    return impl.function(**kwargs)


_SIGNATURES: Dict[Any, inspect.Signature] = {}


def _signature(function: Any) -> inspect.Signature:
    sig = _SIGNATURES.get(function)
    if sig is None:
        sig = inspect.signature(function)
        _SIGNATURES[function] = sig
    return sig


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) < 120 else text[:117] + "..."


def evaluate(expression: Mapping[str, Any], context: Optional[EvaluationContext] = None) -> Any:
    """Evaluates ``expression`` (within ``context`` if given). Errors are :class:`EEError`."""
    if context is None:
        return Evaluator(expression).evaluate()
    with evaluation_context(context):
        return Evaluator(expression).evaluate()


__all__: List[str] = [
    "Closure",
    "EEError",
    "EvaluationContext",
    "Evaluator",
    "LazyArgument",
    "call_algorithm",
    "current_context",
    "evaluate",
    "evaluation_context",
]
