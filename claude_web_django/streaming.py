"""``messages.stream(...)`` to a ``StreamingHttpResponse`` of browser Server-Sent Events.

>>> from claude_web_django.streaming import stream_chat
>>> def chat(request):
...     return stream_chat(request, {"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [...]})

Each event has an id, an ``event:`` name (``start``, ``text``, ``thinking``, ``tool_use``, ``done``, ``error``;
see :mod:`claude_web.web_stream`) and JSON ``data:``. A comment is sent at once so the browser sees the headers
before the first token. Under WSGI the body is a sync iterator; under ASGI an async one built on the serving
event loop's client, with ``: heartbeat`` comments while upstream is quiet. When the browser goes away the
server closes the iterator and the upstream stream is closed at once (usage record: ``aborted``).

Under WSGI no heartbeat is written: the worker thread is blocked reading upstream between events, and the core
stream swallows upstream ``ping`` events, so there is no moment to write one (see the module's ``event_stream``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from contextlib import suppress
from typing import Any, cast

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

from claude_web import AnthropicError
from claude_web.sse_encoder import SSE_HEADERS, SSEStreamEncoder, encode_comment
from claude_web.web_stream import abrowser_events, browser_events, safe_error

from .clients import get_async_client, get_client, request_context
from .conf import claude_settings

__all__ = [
    "aevent_stream",
    "astream_chat",
    "event_stream",
    "sse_response",
    "stream_chat",
]

log = logging.getLogger("claude_web_django.streaming")

OPEN_COMMENT = "stream open"


def _failure(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, AnthropicError):
        log.warning("upstream stream failed to open: %s", type(exc).__name__, exc_info=True)
    else:
        log.error("could not open the upstream stream", exc_info=exc)
    return safe_error(exc)


def event_stream(open_stream: Callable[[], Any], *, heartbeat: float | None = None) -> Iterator[bytes]:
    """SSE bytes from a sync stream: ``open_stream()`` returns ``client.messages.stream(...)`` (not entered).

    The request upstream is sent on the first iteration, so an upstream error becomes an ``error`` event.
    Closing the iterator closes the upstream stream. A heartbeat comment goes out when one is due and an upstream
    event (Claude's keep-alive pings included) arrives: this thread blocks on the upstream read in between.
    """
    interval = claude_settings().streaming.heartbeat if heartbeat is None else heartbeat
    encoder = SSEStreamEncoder(heartbeat=interval)
    yield encode_comment(OPEN_COMMENT)
    try:
        stream = open_stream().__enter__()
    except Exception as exc:
        yield encoder.event("error", _failure(exc))
        return
    events = cast("Generator[tuple[str, dict[str, Any]], None, None]", browser_events(stream, heartbeats=True))
    try:
        for name, payload in events:
            if name == "heartbeat":  # an upstream ping: this thread's chance to keep the browser connection alive
                if encoder.heartbeat_due():
                    yield encoder.heartbeat()
                continue
            yield encoder.event(name, payload)
    finally:
        events.close()
        stream.close()


async def _upstream_events(open_stream: Callable[[], Any]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    try:
        stream = await open_stream().__aenter__()
    except Exception as exc:
        yield ("error", _failure(exc))
        return
    try:
        async for item in abrowser_events(stream):
            yield item
    finally:
        await stream.close()


async def aevent_stream(open_stream: Callable[[], Any], *, heartbeat: float | None = None) -> AsyncIterator[bytes]:
    """SSE bytes from an async stream: ``open_stream()`` returns ``async_client.messages.stream(...)``.

    It is called on the event loop that iterates this generator, so it may use :func:`get_async_client`.
    Heartbeat comments are sent whenever upstream is quiet for ``heartbeat`` seconds, also while waiting for
    the upstream response to begin. Cancelling or closing the generator closes the upstream stream.
    """
    interval = claude_settings().streaming.heartbeat if heartbeat is None else heartbeat
    encoder = SSEStreamEncoder(heartbeat=interval)
    yield encode_comment(OPEN_COMMENT)
    events = cast("AsyncGenerator[tuple[str, dict[str, Any]], None]", _upstream_events(open_stream))
    pending: asyncio.Future[tuple[str, dict[str, Any]]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=encoder.seconds_until_heartbeat())
            if not done:
                yield encoder.heartbeat()
                continue
            finished, pending = pending, None
            try:
                name, payload = finished.result()
            except StopAsyncIteration:
                break
            yield encoder.event(name, payload)
    finally:
        if pending is not None:
            pending.cancel()
            with suppress(BaseException):
                await pending
        with suppress(RuntimeError):
            await events.aclose()


def sse_response(
    content: Iterator[bytes] | AsyncIterator[bytes], *, status: int = 200, headers: Mapping[str, str] | None = None
) -> StreamingHttpResponse:
    """A ``StreamingHttpResponse`` with the SSE headers (``Cache-Control: no-cache``, ``X-Accel-Buffering: no``)."""
    response = StreamingHttpResponse(content, status=status, content_type=SSE_HEADERS["Content-Type"])
    for name, value in SSE_HEADERS.items():
        if name != "Content-Type":
            response[name] = value
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def stream_chat(
    request: Any,
    params: Mapping[str, Any],
    *,
    alias: str | None = None,
    context: Mapping[str, Any] | None = None,
    heartbeat: float | None = None,
) -> StreamingHttpResponse:
    """Stream ``messages.stream(**params)`` to the browser from a sync view.

    Under ASGI (a sync view run by Django's ASGI handler) the body is still an async iterator on the server's
    event loop, so nothing is buffered.
    """
    name = alias or claude_settings().chat.client
    kwargs = dict(params)
    usage_context = {**request_context(request, name), **(context or {})}
    if isinstance(request, ASGIRequest):

        def open_async() -> Any:
            return get_async_client(name).with_options(usage_context=usage_context).messages.stream(**kwargs)

        return sse_response(aevent_stream(open_async, heartbeat=heartbeat), headers=_id_header(usage_context))
    client = get_client(name).with_options(usage_context=usage_context)
    return sse_response(
        event_stream(lambda: client.messages.stream(**kwargs), heartbeat=heartbeat), headers=_id_header(usage_context)
    )


async def astream_chat(
    request: Any,
    params: Mapping[str, Any],
    *,
    alias: str | None = None,
    context: Mapping[str, Any] | None = None,
    heartbeat: float | None = None,
) -> StreamingHttpResponse:
    """Stream ``messages.stream(**params)`` to the browser from an async view (ASGI)."""
    name = alias or claude_settings().chat.client
    user = None
    auser = getattr(request, "auser", None)
    if auser is not None:
        user = await auser()
    usage_context = {**request_context(request, name, user), **(context or {})}
    client = get_async_client(name).with_options(usage_context=usage_context)
    kwargs = dict(params)
    return sse_response(
        aevent_stream(lambda: client.messages.stream(**kwargs), heartbeat=heartbeat), headers=_id_header(usage_context)
    )


def _id_header(context: Mapping[str, Any]) -> dict[str, str]:
    rid = context.get("request_id")
    return {"X-Request-ID": rid} if isinstance(rid, str) else {}
