"""What the tool runner and the web layer's server-run tools share: time limits on a tool's call, and the names a
decorated function's annotations may refer to."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["ToolTimeoutError", "await_with_timeout", "caller_locals", "run_with_timeout"]


class ToolTimeoutError(TimeoutError):
    """A tool did not finish within the runner's ``tool_timeout`` (claude-web extension)."""


def _timed_out(name: str, timeout: float) -> ToolTimeoutError:
    return ToolTimeoutError(f"Tool {name!r} did not finish within {timeout} seconds")


def run_with_timeout(call: Callable[[], Any], timeout: float, name: str) -> Any:
    """``call()`` on a daemon thread, waited for at most ``timeout`` seconds (:class:`ToolTimeoutError` then; the
    thread is left to finish, as Python cannot stop it). Its exception is raised here."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the waiting thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"claude-web-tool-{name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _timed_out(name, timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def await_with_timeout(awaitable: Awaitable[Any], timeout: float | None, name: str) -> Any:
    """``await awaitable``, cancelled after ``timeout`` seconds (:class:`ToolTimeoutError`); ``None``: no limit."""
    if timeout is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise _timed_out(name, timeout) from None


def caller_locals(module: str) -> dict[str, Any]:
    """The local names of the nearest frame outside ``module`` that called into it (where a decorator was applied),
    so annotations naming local classes resolve."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == module:
        frame = frame.f_back  # type: ignore[assignment]
    return dict(frame.f_locals) if frame is not None else {}
