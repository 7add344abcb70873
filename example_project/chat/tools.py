"""The demo's server-run tool: the calculator, registered for the ``calculator`` assistant in settings
(``CLAUDE_WEB["ASSISTANTS"]["calculator"]["TOOLS"] = ["chat.tools.calculator"]``). claude-web's tool runner calls
it, streams the call and its result to the page, and stores both in the conversation."""

from __future__ import annotations

from claude_web.web.tools import ToolError, tool

from .calculator import CalculatorError, evaluate, format_number

__all__ = ["calculator"]


@tool(timeout=5)
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly. Supports + - * / // % ** and parentheses.

    Args:
        expression: The arithmetic to evaluate, e.g. (12.5 + 7) * 3
    """
    try:
        return format_number(evaluate(expression))
    except CalculatorError as exc:
        raise ToolError(f"The calculator could not evaluate {expression!r}: {exc}.") from exc
