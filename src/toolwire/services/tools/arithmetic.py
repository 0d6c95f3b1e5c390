"""A safe arithmetic evaluator: numbers and `+ - * / // % **` only, never `eval`."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Final

from toolwire.services.errors import ToolError

Number = int | float

MAX_EXPRESSION_CHARS: Final = 1000
MAX_INT_BITS: Final = 4096
MAX_EXPONENT: Final = 10_000

_BINARY: Final[dict[type[ast.operator], Callable[[Number, Number], Number]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: Final[dict[type[ast.unaryop], Callable[[Number], Number]]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


class CalculationError(ToolError):
    """The expression is not safe arithmetic or has no finite value."""

    error_type = "calculation_error"


def evaluate(expression: str) -> Number:
    """Evaluate `expression` as arithmetic and return the number."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculationError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise CalculationError(f"not an arithmetic expression: {expression!r}") from exc
    try:
        return _check(_eval(tree.body))
    except ZeroDivisionError as exc:
        raise CalculationError("division by zero") from exc
    except OverflowError as exc:
        raise CalculationError("result is too large") from exc
    except RecursionError as exc:
        raise CalculationError("expression is nested too deeply") from exc


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CalculationError(f"only numbers are allowed, not {value!r}")
        return _check(value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    raise CalculationError(f"{type(node).__name__} is not allowed; use numbers and + - * / // % **")


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise CalculationError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    whole = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if whole and int(base).bit_length() * int(exponent) > MAX_INT_BITS:
        raise CalculationError("result is too large")
    if base == 0 and exponent < 0:
        raise ZeroDivisionError


def _check(value: Number | complex) -> Number:
    if isinstance(value, complex):
        raise CalculationError("result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculationError("result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculationError("result is not finite")
    return value
