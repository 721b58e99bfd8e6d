"""``Image.expression``: the client sends ``Image.parseExpression(expression, argName, vars)`` and
then invokes the function it returns with the images (``functionReference``).

The expression language (Earth Engine's): numbers, variables (the ``vars``; band names of the
default image), ``b('name')`` / ``b(index)`` on the default image, ``image.band`` and
``image['band']`` / ``image[0]``, operators ``+ - * / % **``, comparisons ``== != < <= > >=``,
logic ``&& || !``, the ternary ``cond ? a : b``, and the functions abs, sqrt, exp, log, log10,
floor, ceil, round, min, max, pow, sin, cos, tan, asin, acos, atan, signum. Everything maps onto
the Image algorithms, so types, masks and band matching are those of ``Image.add`` & co.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm, lookup
from eeextract_plugin.sandbox.imagery.image import DOUBLE, FunctionBand, Image

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:()\[\],.])
""", re.VERBOSE)

_BINARY = {
    "||": (1, "Image.or"), "&&": (2, "Image.and"),
    "==": (3, "Image.eq"), "!=": (3, "Image.neq"),
    "<": (4, "Image.lt"), "<=": (4, "Image.lte"), ">": (4, "Image.gt"), ">=": (4, "Image.gte"),
    "+": (5, "Image.add"), "-": (5, "Image.subtract"),
    "*": (6, "Image.multiply"), "/": (6, "Image.divide"), "%": (6, None),
    "**": (8, "Image.pow"),
}


def _tokens(text: str) -> List[Tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise invalid_argument(f"Image.parseExpression: Unexpected character '{text[pos]}' at {pos}.")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
    out.append(("end", ""))
    return out


class _Parser:
    """A Pratt parser producing a tree of tuples."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> Tuple[str, str]:
        return self.tokens[self.i]

    def take(self, value: Optional[str] = None) -> Tuple[str, str]:
        tok = self.tokens[self.i]
        if value is not None and tok[1] != value:
            raise invalid_argument(f"Image.parseExpression: Expected '{value}' but found '{tok[1] or 'end'}'.")
        self.i += 1
        return tok

    def parse(self):
        node = self.ternary()
        if self.peek()[0] != "end":
            raise invalid_argument(f"Image.parseExpression: Unexpected '{self.peek()[1]}'.")
        return node

    def ternary(self):
        cond = self.binary(1)
        if self.peek()[1] == "?":
            self.take("?")
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return ("?", cond, a, b)
        return cond

    def binary(self, min_prec: int):
        left = self.unary()
        while True:
            op = self.peek()[1]
            if self.peek()[0] != "op" or op not in _BINARY or _BINARY[op][0] < min_prec:
                return left
            prec = _BINARY[op][0]
            self.take()
            right = self.binary(prec if op == "**" else prec + 1)
            left = ("bin", op, left, right)

    def unary(self):
        op = self.peek()[1]
        if self.peek()[0] == "op" and op in ("-", "+", "!"):
            self.take()
            return ("un", op, self.unary())
        return self.postfix(self.primary())

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "str":
            return ("str", value[1:-1])
        if kind == "name":
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.ternary())
                    while self.peek()[1] == ",":
                        self.take(",")
                        args.append(self.ternary())
                self.take(")")
                return ("call", value, args)
            return ("var", value)
        if value == "(":
            node = self.ternary()
            self.take(")")
            return node
        raise invalid_argument(f"Image.parseExpression: Unexpected '{value or 'end'}'.")

    def postfix(self, node):
        while True:
            if self.peek()[1] == ".":
                self.take(".")
                kind, name = self.take()
                if kind != "name":
                    raise invalid_argument("Image.parseExpression: Expected a band name after '.'.")
                node = ("band", node, ("str", name))
            elif self.peek()[1] == "[":
                self.take("[")
                index = self.ternary()
                self.take("]")
                node = ("band", node, index)
            else:
                return node


def _call(name: str, **kwargs):
    return lookup(name).function(**kwargs)


def _const(value: Any) -> Image:
    return _call("Image.constant", value=value)


def _unary_double(name: str, fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Image], Image]:
    def apply(image: Image) -> Image:
        bands = [FunctionBand(b.name, DOUBLE, b.projection, b.footprint, [b],
                              lambda inputs: (fn(inputs[0][0].astype(np.float64)), inputs[0][1]))
                 for b in image.bands]
        return Image(bands)

    apply.__name__ = name
    return apply


_FUNCTIONS_1: Dict[str, Callable[[Image], Image]] = {
    "abs": lambda i: _call("Image.abs", value=i),
    "sqrt": lambda i: _call("Image.sqrt", value=i),
    "exp": lambda i: _call("Image.exp", value=i),
    "log": lambda i: _call("Image.log", value=i),
    "floor": lambda i: _call("Image.floor", value=i),
    "ceil": lambda i: _call("Image.ceil", value=i),
    "round": lambda i: _call("Image.round", value=i),
    "log10": _unary_double("log10", np.log10),
    "sin": _unary_double("sin", np.sin),
    "cos": _unary_double("cos", np.cos),
    "tan": _unary_double("tan", np.tan),
    "asin": _unary_double("asin", np.arcsin),
    "acos": _unary_double("acos", np.arccos),
    "atan": _unary_double("atan", np.arctan),
    "signum": _unary_double("signum", np.sign),
}
_FUNCTIONS_2 = {"min": "Image.min", "max": "Image.max", "pow": "Image.pow"}


class _Evaluator:
    def __init__(self, default: Optional[Image], variables: Dict[str, Any]):
        self.default = default
        self.variables = variables
        self.free_vars_are_bands = True

    def image(self, node) -> Image:
        value = self.eval(node)
        if isinstance(value, str):
            raise invalid_argument(f"Image.parseExpression: A string ('{value}') is not an image.")
        return value

    def eval(self, node) -> Any:
        kind = node[0]
        if kind == "num":
            return _const(node[1])
        if kind == "str":
            return node[1]
        if kind == "var":
            return self.variable(node[1])
        if kind == "band":
            base = self.image(node[1])
            selector = node[2]
            key = selector[1] if selector[0] in ("str", "num") else None
            if key is None:
                raise invalid_argument("Image.parseExpression: A band selector must be a name or an index.")
            return _call("Image.select", input=base, bandSelectors=[key])
        if kind == "un":
            operand = self.image(node[2])
            if node[1] == "-":
                return _call("Image.multiply", image1=operand, image2=_const(-1))
            if node[1] == "!":
                return _call("Image.not", value=operand)
            return operand
        if kind == "bin":
            op = node[1]
            a, b = self.image(node[2]), self.image(node[3])
            if op == "%":
                return _modulo(a, b)
            name = _BINARY[op][1]
            return _call(name, image1=a, image2=b)
        if kind == "?":
            cond, a, b = self.image(node[1]), self.image(node[2]), self.image(node[3])
            return _call("Image.where", input=b, test=cond, value=a)
        if kind == "call":
            return self.function(node[1], node[2])
        raise invalid_argument("Image.parseExpression: Invalid expression.")

    def variable(self, name: str) -> Image:
        if name in self.variables:
            value = self.variables[name]
            return value if isinstance(value, Image) else _const(value)
        if self.free_vars_are_bands and self.default is not None and name in self.default.band_names():
            return _call("Image.select", input=self.default, bandSelectors=[name])
        raise invalid_argument(f"Image.parseExpression: Variable '{name}' is not defined.")

    def function(self, name: str, args: Sequence[Any]) -> Image:
        if name == "b":
            if self.default is None:
                raise invalid_argument("Image.parseExpression: b() needs a default image.")
            if not args:
                return self.default
            keys = []
            for a in args:
                if a[0] not in ("str", "num"):
                    raise invalid_argument("Image.parseExpression: b() takes band names or indices.")
                keys.append(a[1])
            return _call("Image.select", input=self.default, bandSelectors=keys)
        if name in _FUNCTIONS_1 and len(args) == 1:
            return _FUNCTIONS_1[name](self.image(args[0]))
        if name in _FUNCTIONS_2 and len(args) == 2:
            return _call(_FUNCTIONS_2[name], image1=self.image(args[0]), image2=self.image(args[1]))
        raise invalid_argument(f"Image.parseExpression: Unknown function '{name}' with {len(args)} arguments.")


def _modulo(a: Image, b: Image) -> Image:
    # a - b * trunc(a / b), in the union type (EE's % truncates toward zero like C).
    from eeextract_plugin.sandbox.imagery.algorithms import _pairs

    bands = []
    for x, y, name in _pairs(a, b, "Image.expression"):
        ptype = x.pixel_type.union(y.pixel_type)

        def fn(inputs, ptype=ptype):
            (va, ma), (vb, mb) = inputs
            fa = va.astype(np.float64)
            fb = vb.astype(np.float64)
            with np.errstate(all="ignore"):
                out = np.where(fb == 0, 0.0, np.fmod(fa, np.where(fb == 0, 1.0, fb)))
            return ptype.cast(out), ma & mb

        bands.append(FunctionBand(name, ptype, x.projection, x.footprint, [x, y], fn))
    return Image(bands)


@algorithm("Image.parseExpression")
def image_parse_expression(expression, argName="DEFAULT_EXPRESSION_IMAGE", vars=None,
                           mapFreeVarsToDefaultImageBands=None):
    if not isinstance(expression, str):
        raise invalid_argument("Image.parseExpression, argument 'expression': Invalid type.\nExpected type: String.")
    tree = _Parser(expression).parse()
    names = [str(v) for v in (vars or [])]

    def run(**kwargs: Any) -> Image:
        unknown = set(kwargs) - set(names) - {argName}
        if unknown:
            raise invalid_argument(f"Image.expression: Unknown argument(s): {sorted(unknown)}.")
        default = kwargs.get(argName)
        variables = {k: v for k, v in kwargs.items() if k != argName}
        evaluator = _Evaluator(default if isinstance(default, Image) else None, variables)
        evaluator.free_vars_are_bands = mapFreeVarsToDefaultImageBands is not False
        result = evaluator.image(tree)
        return result

    return run
