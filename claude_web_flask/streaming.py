"""A Claude stream as a Flask ``text/event-stream`` response.

The body is a generator run by the WSGI server after the view returned (inside ``stream_with_context``):

1. a first comment goes out at once, so the status line and headers reach the browser before Claude answers;
2. the upstream stream is opened; each upstream event becomes a browser event (``start``, ``text``,
   ``thinking``, ``tool_use``, ``done``; see :mod:`claude_web.web_stream`) with an event id, and when upstream
   events arrive that the browser does not need (``ping`` ...) a heartbeat comment is sent if one is due;
3. an upstream failure becomes an ``error`` event with a safe message (the core records usage ``error``);
4. when the browser goes away the WSGI server closes the generator: ``GeneratorExit`` closes the upstream
   stream in ``finally``, the connection to Claude is dropped at once and the usage record says ``aborted``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import Any, cast

from flask import Response, stream_with_context

from claude_web import Anthropic, APIError
from claude_web.lib.streaming import MessageStream
from claude_web.sse_encoder import SSE_HEADERS, SSEStreamEncoder, encode_comment
from claude_web.web_stream import BrowserEvent, browser_events, safe_error, surface_pings

__all__ = ["sse_body", "sse_response", "translate_event"]

log = logging.getLogger("claude_web_flask.streaming")

_INTERNAL_ERROR = {"type": "api_error", "message": "Something went wrong while answering. Please try again."}


class _OneEvent:
    """A one-event 'stream', so one upstream event can go through :func:`browser_events` (same vocabulary)."""

    __slots__ = ("_event",)

    def __init__(self, event: Any) -> None:
        self._event = event

    def __iter__(self) -> Iterator[Any]:
        yield self._event

    def close(self) -> None:
        return None


def translate_event(event: Any) -> BrowserEvent | None:
    """The browser event for one ``MessageStream`` event, or ``None`` when the browser does not need it."""
    events = cast(Generator[BrowserEvent, None, None], browser_events(cast(MessageStream, _OneEvent(event))))
    try:
        return next(events, None)
    finally:
        events.close()


def sse_body(client: Anthropic, params: dict[str, Any], *, heartbeat: float) -> Iterator[bytes]:
    """The SSE bytes of one ``client.messages.stream(**params)`` call (see the module docstring)."""
    encoder = SSEStreamEncoder(heartbeat=heartbeat)
    yield encode_comment("stream open")
    stream: MessageStream | None = None
    try:
        try:
            stream = client.messages.stream(**params).__enter__()
            surface_pings(stream)  # Claude's keep-alive pings pace the heartbeat comments
            for event in stream:
                out = translate_event(event)
                if out is not None:
                    yield encoder.event(out[0], out[1])
                elif encoder.heartbeat_due():
                    yield encoder.heartbeat()
        except APIError as exc:
            log.warning("Claude stream failed: %s", exc.__class__.__name__)
            yield encoder.event("error", safe_error(exc))
        except Exception:  # never a traceback (or a key) in the browser; the details go to the log
            log.exception("unexpected error while streaming a Claude answer")
            yield encoder.event("error", dict(_INTERNAL_ERROR))
    finally:
        if stream is not None:
            stream.close()


def sse_response(body: Iterator[bytes]) -> Response:
    """A streamed ``text/event-stream`` response (needs a request context: the body keeps it while it runs)."""
    headers = dict(SSE_HEADERS)
    mimetype = None if any(k.lower() == "content-type" for k in headers) else "text/event-stream"
    response = Response(stream_with_context(body), headers=headers, mimetype=mimetype)
    return response
