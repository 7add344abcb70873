"""From an upstream ``MessageStream`` to the small event vocabulary our browser endpoints speak.

Events (name, JSON payload):

- ``start``    ``{"id", "model"}``
- ``text``     ``{"text"}``                       one per text delta, as it arrives
- ``thinking`` ``{"thinking"}``
- ``tool_use`` ``{"id", "name", "input"}``       when a tool block is complete
- ``done``     ``{"stop_reason", "usage", "cost"}``  ``cost``: USD as a string, ``null`` for an unpriced model
- ``error``    ``{"type", "message"}``            a safe message: no key, no trace, no upstream body

The generators close the upstream stream in ``finally``: when the browser goes away the web server closes
our generator, the HTTP connection upstream is released at once and the usage record says ``aborted``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from ._exceptions import APIConnectionError, APIError, APIStatusError, APITimeoutError
from .lib.streaming import AsyncMessageStream, MessageStream
from .pricing import ModelPrice, compute_cost_breakdown, format_cost

__all__ = ["BrowserEvent", "abrowser_events", "browser_events", "done_payload", "safe_error", "surface_pings"]

log = logging.getLogger("claude_web.web_stream")

BrowserEvent = tuple[str, dict[str, Any]]

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
    """The ``done`` event of a finished ``message``: stop reason, usage, and the cost priced with ``pricing``
    (pass the client's table, ``client.pricing``; ``None`` is the default table) as a string, or ``None`` when
    the model has no price.

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


def _translate(event: Any, pricing: Mapping[str, ModelPrice] | None = None) -> BrowserEvent | None:
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


def surface_pings(stream: MessageStream | AsyncMessageStream) -> None:
    """Let ``stream`` yield the upstream keep-alive ``ping`` events (``type == "ping"``) it normally skips.

    A WSGI view blocks on the upstream read between events, so the pings Claude sends while it is quiet are its
    only chance to send the browser a heartbeat comment. Call it before iterating the stream.
    """
    raw = getattr(stream, "_raw", None)
    if raw is not None:
        raw._yield_pings = True


def browser_events(stream: MessageStream, *, heartbeats: bool = False) -> Iterator[BrowserEvent]:
    """Translate a sync stream; errors become one final ``error`` event. Closes ``stream`` when done or closed.

    With ``heartbeats=True`` every upstream ping also yields ``("heartbeat", {})``: not for the browser, but the
    moment to send a heartbeat comment if one is due.
    """
    if heartbeats:
        surface_pings(stream)
    try:
        for event in stream:
            out = _translate(event)
            if out is not None:
                yield out
            elif heartbeats and getattr(event, "type", None) == "ping":
                yield ("heartbeat", {})
    except APIError as exc:
        log.warning("upstream stream failed: %s", exc.__class__.__name__, exc_info=True)
        yield ("error", safe_error(exc))
    finally:
        stream.close()


async def abrowser_events(stream: AsyncMessageStream) -> AsyncIterator[BrowserEvent]:
    """The async twin of :func:`browser_events`."""
    try:
        async for event in stream:
            out = _translate(event)
            if out is not None:
                yield out
    except APIError as exc:
        log.warning("upstream stream failed: %s", exc.__class__.__name__, exc_info=True)
        yield ("error", safe_error(exc))
    finally:
        await stream.close()
