"""Server-Sent Events for browsers: the one writer behind every chat, conversation and job stream.

:func:`write_events` / :func:`awrite_events` turn a stream of browser events into the body of a response, in a
*protocol*: our own event vocabulary (:class:`StreamProtocol`, the default) or the Vercel AI SDK's UI message stream
(``protocol="ai-sdk"``, :class:`claude_web.web.aisdk.UIMessageStreamProtocol`). Every endpoint that streams passes
its protocol here, so the choice never reaches an adapter. The bytes themselves (events, heartbeats, headers) are
made in :mod:`claude_web.web.sse_frames`; its names are importable from here too.

>>> encode_event({"text": "hi"}, event="delta", id=3)
b'event: delta\\nid: 3\\ndata: {"text":"hi"}\\n\\n'
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import suppress
from typing import Any

from ._threads import END, QUIET, SourceThread
from .protocols import stream_protocol
from .sse_frames import (
    OPEN_COMMENT,
    SSE_HEADERS,
    Item,
    SSEStreamEncoder,
    StreamProtocol,
    encode_comment,
    encode_event,
    opening,
    sse_headers,
)

__all__ = [
    "OPEN_COMMENT",
    "SSE_HEADERS",
    "Item",
    "SSEStreamEncoder",
    "StreamProtocol",
    "awrite_events",
    "encode_comment",
    "encode_event",
    "own_protocol",
    "probe_delay",
    "sse_headers",
    "write_events",
]


def own_protocol(protocol: str | StreamProtocol | None) -> StreamProtocol:
    """``protocol`` as an instance for one response: ours for ``None``/``"events"``, the AI SDK's for ``"ai-sdk"``
    (see :func:`claude_web.web.protocols.stream_protocol`); an instance is used as it is.

    >>> own_protocol("ai-sdk").name
    'ai-sdk'
    """
    return stream_protocol(protocol)


def write_events(
    events: Iterable[Item],
    *,
    heartbeat: float = 15.0,
    retry: int | None = None,
    start_id: int = 0,
    protocol: str | StreamProtocol | None = None,
    source_thread: bool = False,
    interrupt: Callable[[], None] | None = None,
    thread_done: Callable[[], None] | None = None,
) -> Iterator[bytes]:
    """The body of an event-stream response from a sync iterator of events, in ``protocol`` (ours by default;
    see :func:`claude_web.web.protocols.stream_protocol`).

    ``(name, payload)`` items get ids ``start_id + 1, ...``; items with their own ``id`` (relay events) keep it.
    Closing the body closes ``events``.

    By default this thread pulls ``events`` itself, so it can only write between two items: a
    ``("heartbeat", {})`` item (or a relay heartbeat) sends a heartbeat comment when one is due. With
    ``source_thread=True`` ``events`` is pulled on a thread of its own while this one writes a heartbeat every
    ``heartbeat`` seconds of silence, whatever the source does: a WSGI server then learns that the browser went
    away at the next heartbeat (the write fails and it closes the body) even while upstream says nothing. Closing
    the body calls ``interrupt`` (on this thread, so it must be thread-safe: for a Claude stream,
    ``stream.interrupt``) to wake the source thread, which closes ``events`` there; ``thread_done`` runs last on
    the source thread (Django closes that thread's database connections).

    For example ``write_events(events, heartbeat=15, source_thread=True, interrupt=upstream.interrupt)``.
    """
    encoder = SSEStreamEncoder(heartbeat=heartbeat, start_id=start_id, spread=source_thread)
    proto = own_protocol(protocol)
    if source_thread:
        return _write_from_thread(events, encoder, retry, proto, interrupt, thread_done)
    return _write(events, encoder, retry, proto)


def _write(
    events: Iterable[Item], encoder: SSEStreamEncoder, retry: int | None, proto: StreamProtocol
) -> Iterator[bytes]:
    iterator = iter(events)
    try:
        yield opening(retry)
        try:
            for item in iterator:
                yield from proto.frames(encoder, item)
        except Exception as exc:
            yield from proto.failed(exc)
            return
        yield from proto.end()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _write_from_thread(
    events: Iterable[Item],
    encoder: SSEStreamEncoder,
    retry: int | None,
    proto: StreamProtocol,
    interrupt: Callable[[], None] | None,
    thread_done: Callable[[], None] | None,
) -> Iterator[bytes]:
    """Heartbeats on time whatever the source does. Each one goes out in two writes, its comment line and, a
    moment later (:func:`probe_delay`), its blank line: TCP reports a browser that has gone only on the write
    after the one its reset answers, so the second write fails within the same heartbeat."""
    source = SourceThread(events, thread_done=thread_done)
    probe = probe_delay(encoder.interval)
    half_sent = False  # the comment line of a heartbeat is out, its blank line is not
    try:
        yield opening(retry)
        while True:
            try:
                item = source.get(probe if half_sent else encoder.seconds_until_heartbeat())
            except Exception as exc:
                if half_sent:
                    yield b"\n"
                yield from proto.failed(exc)
                return
            if item is QUIET:
                if half_sent:
                    half_sent = False
                    yield b"\n"
                else:
                    half_sent = True
                    yield encoder.heartbeat()[:-1]
                continue
            if item is END:
                if half_sent:
                    yield b"\n"
                yield from proto.end()
                return
            frame = b"".join(proto.frames(encoder, item))
            if half_sent:
                half_sent = False
                frame = b"\n" + frame
            if frame:
                yield frame
    finally:
        source.stop(interrupt)


def probe_delay(heartbeat: float) -> float:
    """Seconds between the two writes of a threaded writer's heartbeat: a quarter of the interval, at most 0.25 s
    (longer than the round trip to most browsers, so the reset to the first write is in by then)."""
    return min(heartbeat / 4, 0.25)


async def awrite_events(
    events: AsyncIterator[Item],
    *,
    heartbeat: float = 15.0,
    retry: int | None = None,
    start_id: int = 0,
    protocol: str | StreamProtocol | None = None,
) -> AsyncIterator[bytes]:
    """The async twin of :func:`write_events`; heartbeats go out whenever the source is quiet for ``heartbeat``
    seconds (also before the first event). Cancelling or closing the body closes ``events``."""
    encoder = SSEStreamEncoder(heartbeat=heartbeat, start_id=start_id, spread=True)
    proto = own_protocol(protocol)
    pending: asyncio.Future[Any] | None = None
    try:
        yield opening(retry)
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=encoder.seconds_until_heartbeat())
            if not done:
                yield encoder.heartbeat()
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                break
            except Exception as exc:
                for frame in proto.failed(exc):
                    yield frame
                return
            for frame in proto.frames(encoder, item):
                yield frame
        for frame in proto.end():
            yield frame
    finally:
        if pending is not None:
            pending.cancel()
            with suppress(BaseException):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with suppress(RuntimeError):
                await aclose()
