"""Server-run tools: Python functions the assistant may call, declared with :func:`tool` and named in settings.

A tool is a typed function; its input schema comes from the signature and its description from the docstring,
by the same rules as :func:`claude_web.beta_tool` (they share the code). A keyword-only ``context`` parameter
receives a :class:`ToolContext` (who is asking, in which conversation), so a tool can enforce permissions:

>>> @tool(timeout=5)
... def order_status(order_id: int, *, context: ToolContext) -> dict:
...     '''The status of one of the signed-in user's orders.
...
...     Args:
...         order_id: The order number.
...     '''
...     order = Order.objects.get(pk=order_id, customer_id=context.user_id)   # never another user's order
...     return {"status": order.status}

and in settings ``"ASSISTANTS": {"support": {"TOOLS": ["shop.tools.order_status"], ...}}``. ``async def`` tools
work too (awaited on an event loop of their own where the turn runs, cancelled at their timeout).

What the model gets back is always a valid ``tool_result``: a string as is, a list of content blocks as is, any
other JSON value as JSON text. Everything else becomes an ``is_error`` result with a sentence a person can read:
an exception (:class:`ToolError`'s message is passed on; other exceptions only name their class, details go to
the log), a value that is not JSON, a call that runs past its timeout, input that does not fit the signature.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from ..lib.tools import BaseFunctionTool, BetaFunctionTool, ToolCallResult, ToolTimeoutError
from ..lib.tools._support import await_with_timeout, caller_locals, run_with_timeout
from .clients import import_string
from .settings import ConfigError

__all__ = [
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResultError",
    "readable_tool_error",
    "tool",
    "tool_content",
]

log = logging.getLogger("claude_web.tools")

_F = TypeVar("_F", bound=Callable[..., Any])
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})


class ToolError(Exception):
    """Raise it in a tool to answer the model with an error it (and the user) can read: ``str(exc)`` is sent."""


class ToolResultError(ToolError):
    """The tool returned something that cannot be sent back (not JSON)."""


@dataclass(frozen=True)
class ToolContext:
    """What a tool knows about the call: the conversation's owner (``user:42`` or ``session:...``), the user id
    (``None`` for an anonymous visitor), the conversation, its assistant, and the job running the turn."""

    owner: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    assistant: str | None = None
    job_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def tool_content(name: str, value: Any) -> Any:
    """What a tool's return ``value`` becomes in its ``tool_result``; raises :class:`ToolResultError` when it
    is not JSON.

    >>> tool_content("t", "12 degrees"), tool_content("t", {"c": 12}), tool_content("t", None)
    ('12 degrees', '{"c": 12}', '')
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list) and value and all(isinstance(b, dict) and b.get("type") in _BLOCK_TYPES for b in value):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise ToolResultError(
            f"The tool {name!r} returned a {type(value).__name__} value, which is not JSON, so it could not be "
            "sent back."
        ) from None


def readable_tool_error(name: str, exc: BaseException | None, timeout: float | None = None) -> str:
    """The sentence a failed call answers with (the model reads it; the page shows it)."""
    if isinstance(exc, ToolTimeoutError):
        limit = f" {timeout:g} seconds" if timeout else " its time limit"
        return f"The tool {name!r} took longer than{limit} and was stopped."
    if isinstance(exc, ToolError):
        return str(exc) or f"The tool {name!r} failed."
    if isinstance(exc, ValueError) and str(exc).startswith("Invalid arguments for function"):
        return f"The tool {name!r} was called with input that does not fit its parameters."
    kind = type(exc).__name__ if exc is not None else "error"
    return f"The tool {name!r} failed with an unexpected error ({kind})."


def _run_coroutine(make: Callable[[], Any], timeout: float | None, name: str) -> Any:
    """Run an async tool on an event loop of its own (the calling thread has none), cancelled at ``timeout``."""
    return asyncio.run(await_with_timeout(make(), timeout, name))


class Tool(BetaFunctionTool[Any]):
    """A server-run tool: a (sync or async) function with its definition and a time limit (``timeout`` seconds;
    ``None``: the assistant's ``TOOL_TIMEOUT``). :meth:`call` returns the ``tool_result`` content."""

    def __init__(self, func: Callable[..., Any], *, timeout: float | None = None, **options: Any) -> None:
        super().__init__(func, **options)
        if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
            raise ValueError(f"a tool's timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout
        self.is_async = inspect.iscoroutinefunction(func)

    def with_timeout(self, default: float | None) -> Tool:
        """This tool with ``default`` as its time limit unless it has its own."""
        if self.timeout is not None or default is None:
            return self
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.timeout = default
        return copy

    def call(self, input: Mapping[str, Any], *, context: Any = None) -> Any:
        """Validate ``input``, run the function within its time limit, and return the content to send back."""
        args, kwargs = self._bind(input, context)
        if self.is_async:
            value = _run_coroutine(lambda: self.func(*args, **kwargs), self.timeout, self.name)
        elif self.timeout is not None:
            value = run_with_timeout(lambda: self.func(*args, **kwargs), self.timeout, self.name)
        else:
            value = self.func(*args, **kwargs)
        return tool_content(self.name, value)

    async def acall(self, input: Mapping[str, Any], *, context: Any = None) -> Any:
        """The same from async code: an async tool is awaited on the running loop, a sync one runs in a thread."""
        if not self.is_async:
            return await asyncio.to_thread(self.call, input, context=context)
        args, kwargs = self._bind(input, context)
        value = await await_with_timeout(self.func(*args, **kwargs), self.timeout, self.name)
        return tool_content(self.name, value)


@overload
def tool(func: _F) -> Tool: ...


@overload
def tool(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    strict: bool | None = None,
) -> Callable[[_F], Tool]: ...


def tool(func: _F | None = None, **options: Any) -> Tool | Callable[[_F], Tool]:
    """Make a server-run tool of a function: ``@tool`` or ``@tool(name=..., description=..., timeout=10)``."""
    localns = caller_locals(__name__)
    if func is not None:
        return Tool(func, _localns=localns, **options)

    def make(inner: _F) -> Tool:
        return Tool(inner, _localns=localns, **options)

    return make


def as_tool(item: Any) -> Tool:
    """A :class:`Tool` for ``item``: a tool already, a ``@beta_tool`` function, or a plain function."""
    if isinstance(item, Tool):
        return item
    if isinstance(item, BaseFunctionTool):
        return Tool(item.func, name=item.name, description=item.description, input_schema=item.input_schema)
    if callable(item):
        return Tool(item)
    raise TypeError(f"{item!r} is not a tool function")


class ToolRegistry:
    """Tools by dotted path, imported once per process (where the turn runs: a web process or a worker).

    >>> registry = ToolRegistry()
    >>> [t.name for t in registry.resolve(["myapp.tools.calculator"], where="ASSISTANTS['calc']['TOOLS']")]
    ['calculator']
    """

    def __init__(self) -> None:
        self._cache: dict[str, Tool] = {}
        self._lock = threading.Lock()

    def get(self, path: str, *, where: str = "TOOLS") -> Tool:
        """The tool at ``path`` (``ConfigError`` saying what to write when it cannot be imported)."""
        with self._lock:
            found = self._cache.get(path)
        if found is not None:
            return found
        try:
            made = as_tool(import_string(path))
        except (ImportError, TypeError) as exc:
            raise ConfigError(
                f"{where}: cannot use {path!r} as a tool ({exc}). Write the dotted path of a function decorated "
                "with @claude_web.web.tools.tool, e.g. 'myapp.tools.calculator'"
            ) from exc
        with self._lock:
            return self._cache.setdefault(path, made)

    def resolve(self, items: Iterable[Any], *, where: str = "TOOLS") -> list[Tool]:
        """Tools for ``items`` (dotted paths or tool objects); names must be unique."""
        tools = [self.get(i, where=f"{where}[{n}]") if isinstance(i, str) else as_tool(i) for n, i in enumerate(items)]
        names = [t.name for t in tools]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ConfigError(f"{where} has two tools named {duplicate!r}; give one a name=... in @tool(...)")
        return tools


def finish_result(result: ToolCallResult, timeout: float | None) -> ToolCallResult:
    """Make a failed call's content readable (the runner put ``repr(exc)`` there)."""
    if result.is_error and result.error is not None:
        result.content = readable_tool_error(result.name, result.error, timeout)
    return result
