"""Tools for the conversation tests, imported by dotted path (``cwdj_tools.calculator``) as a project's would be."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from claude_web.web.tools import ToolContext, ToolError, tool


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression.

    Args:
        expression: Plain arithmetic, e.g. 6 * 7.
    """
    allowed = set("0123456789+-*/(). ")
    if not set(expression) <= allowed:
        raise ToolError(f"Only arithmetic is allowed, not {expression!r}.")
    return str(eval(expression))  # checked above: digits and operators only


@tool
def whoami(*, context: ToolContext) -> dict[str, str | None]:
    """Who is asking, and in which conversation."""
    return {"user_id": context.user_id, "conversation_id": context.conversation_id}


@tool
def broken(city: str) -> str:
    """Always fails."""
    raise KeyError(city)


@tool
def not_json(city: str) -> Decimal:
    """Returns something that is not JSON."""
    return Decimal("1.5")


@tool(timeout=0.3)
def slow(city: str) -> str:
    """Takes too long."""
    time.sleep(2)
    return "late"


@tool
async def async_double(number: int) -> int:
    """Doubles a number, asynchronously."""
    await asyncio.sleep(0.01)
    return number * 2
