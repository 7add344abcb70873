"""From an upstream ``MessageStream`` to the small event vocabulary our browser endpoints speak.

Events (name, JSON payload):

- ``start``    ``{"id", "model"}``
- ``text``     ``{"text"}``                       one per text delta, as it arrives
- ``thinking`` ``{"thinking"}``
- ``tool_use`` ``{"id", "name", "input"}``       when a tool block is complete
- ``done``     ``{"stop_reason", "usage", "cost"}``  cost: USD as a decimal string, ``null`` for an unpriced model;
                 ``stop_reason`` ``budget`` when a budget ran out mid-answer (``QUOTAS["ON_EXHAUSTED"] = "stop"``)
- ``error``    ``{"type", "message"}``            a safe message: no key, no trace, no upstream body

Job streams add ``cancelled`` ``{"reason"}``, ``reset`` ``{"attempt"}`` (a retried attempt starts the answer
again) and ``batch``. :func:`translate` is the one translator: chat views, job workers and tests all use it.

>>> translate(type("E", (), {"type": "text", "text": "Hi"})())
('text', {'text': 'Hi'})
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any

from .._exceptions import APIConnectionError, APIError, APIStatusError, APITimeoutError
from ..pricing import ModelPrice, compute_cost_breakdown, format_cost

__all__ = [
    "BrowserEvent",
    "EVENT_NAMES",
    "HEARTBEAT",
    "abrowser_events",
    "browser_events",
    "budget_done",
    "done_payload",
    "safe_error",
    "translate",
]

log = logging.getLogger("claude_web.web")

BrowserEvent = tuple[str, dict[str, Any]]
EVENT_NAMES = ("start", "text", "thinking", "tool_use", "tool_result", "done", "error", "cancelled", "reset", "batch")
HEARTBEAT: BrowserEvent = ("heartbeat", {})
"""Not for the browser: yielded on an upstream ``ping`` so a blocked writer may send a heartbeat comment."""

_SAFE_MESSAGES = {
    "overloaded_error": "Claude is overloaded right now. Please try again in a moment.",
    "rate_limit_error": "Too many requests upstream. Please try again in a moment.",
    "api_error": "The AI service had an internal error. Please try again.",
    "authentication_error": "The AI service rejected this site's credentials. Please tell the site's operators.",
    "permission_error": "This site is not allowed to use that model or feature.",
    "invalid_request_error": "The AI service could not accept this request.",
    "not_found_error": "The requested model or resource does not exist.",
    "request_too_large": "The conversation is too long to send.",
    "timeout": "The AI service took too long to answer. Please try again.",
    "connection_error": "The connection to the AI service broke. Please try again.",
    "stream_error": "The answer stream broke off. Please try again.",
}


def safe_error(exc: BaseException) -> dict[str, str]:
    """A browser-safe ``{"type", "message"}`` for an exception (the details go to the server log only)."""
    if isinstance(exc, APIStatusError):
        kind = exc.type or "api_error"
    elif isinstance(exc, APITimeoutError):
        kind = "timeout"
    elif isinstance(exc, APIConnectionError):
        kind = "connection_error"
    elif isinstance(exc, APIError):
        kind = "stream_error"
    else:
        kind = "api_error"
    return {"type": kind, "message": _SAFE_MESSAGES.get(kind, _SAFE_MESSAGES["api_error"])}


def done_payload(message: Any, pricing: Mapping[str, ModelPrice] | None = None) -> dict[str, Any]:
    """The ``done`` event of a finished ``message``: stop reason, usage, and its cost priced with ``pricing``
    (the client's table; ``None``: the default table) as a string, or ``None`` when the model has no price.

    >>> from claude_web.types import Message
    >>> message = Message.model_validate({"id": "m", "type": "message", "role": "assistant", "content": [],
    ...     "model": "claude-haiku-4-5", "stop_reason": "end_turn", "stop_sequence": None,
    ...     "usage": {"input_tokens": 100, "output_tokens": 10}})
    >>> done_payload(message)["cost"]
    '0.00015000'
    """
    breakdown = compute_cost_breakdown(message.model, message.usage, pricing=pricing)
    return {
        "stop_reason": message.stop_reason,
        "usage": message.usage.to_dict(mode="json"),
        "cost": None if breakdown is None else format_cost(breakdown.total),
    }


def budget_done(stream: Any, pricing: Mapping[str, ModelPrice] | None = None) -> dict[str, Any]:
    """The ``done`` payload of a stream a budget watch stopped: ``stop_reason`` ``budget``, the usage and cost
    reported so far."""
    try:
        message = stream.current_message_snapshot
    except Exception:  # stopped before message_start: nothing reported yet
        return {"stop_reason": "budget", "usage": None, "cost": None}
    return {**done_payload(message, pricing), "stop_reason": "budget"}


def translate(event: Any, *, pricing: Mapping[str, ModelPrice] | None = None) -> BrowserEvent | None:
    """The browser event for one ``MessageStream`` event, or ``None`` when the browser does not need it.

    ``pricing`` prices the ``done`` event's cost (pass the client's table).
    """
    kind = event.type
    if kind == "text":
        return ("text", {"text": event.text})
    if kind == "thinking":
        return ("thinking", {"thinking": event.thinking})
    if kind == "message_start":
        return ("start", {"id": event.message.id, "model": event.message.model})
    if kind == "content_block_stop":
        block = event.content_block
        if getattr(block, "type", None) == "tool_use":
            return ("tool_use", {"id": block.id, "name": block.name, "input": block.input})
        return None
    if kind == "message_stop":
        return ("done", done_payload(event.message, pricing))
    return None


def include_pings(stream: Any) -> None:
    """Ask ``stream`` to also yield Claude's keep-alive ``ping`` events (a blocked WSGI writer's only chance
    to send a heartbeat)."""
    stream.include_pings()


def browser_events(
    stream: Any,
    *,
    heartbeats: bool = False,
    pricing: Mapping[str, ModelPrice] | None = None,
    watch: Callable[[Any], bool] | None = None,
) -> Generator[BrowserEvent, None, None]:
    """Translate a sync stream; errors become one final ``error`` event. Closes ``stream`` when done or closed.

    With ``heartbeats=True`` every upstream ping also yields :data:`HEARTBEAT`. ``watch`` (a budget watch) sees
    each event first: when it says stop, the stream is closed and a final ``done`` says ``budget``.
    """
    if heartbeats:
        include_pings(stream)
    try:
        for event in stream:
            if watch is not None and watch(event):
                stream.close()
                yield ("done", budget_done(stream, pricing))
                return
            out = translate(event, pricing=pricing)
            if out is not None:
                yield out
            elif heartbeats and getattr(event, "type", None) == "ping":
                yield HEARTBEAT
    except APIError as exc:
        log.warning("upstream stream failed: %s", exc.__class__.__name__, exc_info=True)
        yield ("error", safe_error(exc))
    except Exception as exc:  # e.g. unparseable tool input: never a traceback in the browser
        log.exception("reading the upstream stream failed")
        yield ("error", safe_error(exc))
    finally:
        stream.close()


async def abrowser_events(
    stream: Any, *, pricing: Mapping[str, ModelPrice] | None = None, watch: Callable[[Any], bool] | None = None
) -> AsyncGenerator[BrowserEvent, None]:
    """The async twin of :func:`browser_events`."""
    try:
        async for event in stream:
            if watch is not None and watch(event):
                await stream.close()
                yield ("done", budget_done(stream, pricing))
                return
            out = translate(event, pricing=pricing)
            if out is not None:
                yield out
    except APIError as exc:
        log.warning("upstream stream failed: %s", exc.__class__.__name__, exc_info=True)
        yield ("error", safe_error(exc))
    except Exception as exc:
        log.exception("reading the upstream stream failed")
        yield ("error", safe_error(exc))
    finally:
        await stream.close()
