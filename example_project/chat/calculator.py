"""The arithmetic behind the demo's calculator tool (:mod:`chat.tools`): a small, safe evaluator.

>>> evaluate("(12 + 30) * 2")
84
>>> evaluate("__import__('os')")
Traceback (most recent call last):
...
chat.calculator.CalculatorError: only numbers and + - * / // % ** ( ) are allowed
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

__all__ = ["CalculatorError", "evaluate", "find_expression", "format_number"]

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_MAX_LENGTH = 200
_MAX_EXPONENT = 100
_MAX_MAGNITUDE = 10**60


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or its value is out of range."""


def evaluate(expression: str) -> int | float:
    """The value of ``expression`` (numbers, + - * / // % **, parentheses); raises :class:`CalculatorError`."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("the expression is empty")
    if len(expression) > _MAX_LENGTH:
        raise CalculatorError(f"the expression is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.replace("^", "**").replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError as exc:
        raise CalculatorError(f"not an arithmetic expression: {expression!r}") from exc
    return _eval(tree.body)


def _eval(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise CalculatorError(f"exponents above {_MAX_EXPONENT} are not allowed")
        try:
            return _check(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
    raise CalculatorError("only numbers and + - * / // % ** ( ) are allowed")


def _check(value: Any) -> int | float:
    if isinstance(value, complex) or abs(value) > _MAX_MAGNITUDE:
        raise CalculatorError("the result is out of range")
    return value  # type: ignore[no-any-return]


def format_number(value: int | float) -> str:
    """``84`` for whole numbers, else up to 10 significant decimals without trailing zeros."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


_CANDIDATE = re.compile(r"[\d(][\d\s.+\-*/%^()×÷]*[\d)]")


def find_expression(text: str) -> str | None:
    """The longest arithmetic-looking part of ``text`` that contains an operator (``None`` if there is none)."""
    found = [m.group(0).strip() for m in _CANDIDATE.finditer(text)]
    found = [f for f in found if re.search(r"\d\s*[-+*/%^×÷]", f)]
    return max(found, key=len) if found else None
