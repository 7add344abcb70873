"""Server-Sent Events for browsers: the one writer behind every chat, conversation and job stream.

It owns the bytes (events with ids, ``retry:``, heartbeat comments) and the response headers (:func:`sse_headers`).
:func:`write_events` / :func:`awrite_events` turn a stream of browser events into the body of a response, in a
*protocol*: our own event vocabulary (:class:`StreamProtocol`, the default) or the Vercel AI SDK's UI message stream
(``protocol="ai-sdk"``, :class:`claude_web.web.aisdk.UIMessageStreamProtocol`). Every endpoint that streams passes
its protocol here, so the choice never reaches an adapter.

>>> encode_event({"text": "hi"}, event="delta", id=3)
b'event: delta\\nid: 3\\ndata: {"text":"hi"}\\n\\n'
>>> encode_comment("keep-alive")
b': keep-alive\\n\\n'

Send :data:`SSE_HEADERS` with the response so proxies (nginx) and browsers neither buffer nor cache the stream.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import suppress
from typing import Any, Protocol

from ._threads import END, QUIET, SourceThread

__all__ = [
    "OPEN_COMMENT",
    "SSE_HEADERS",
    "SSEStreamEncoder",
    "StreamProtocol",
    "awrite_events",
    "encode_comment",
    "encode_event",
    "probe_delay",
    "sse_headers",
    "own_protocol",
    "write_events",
]

SSE_HEADERS: dict[str, str] = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
"""Response headers for an event stream; ``X-Accel-Buffering: no`` stops nginx from buffering it."""


def _split_lines(text: str) -> list[str]:
    """Split at CRLF, CR and LF: exactly the line ends an SSE parser recognises (``str.splitlines`` splits at more)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _check_single_line(kind: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {kind} must not contain CR or LF: {value!r}")


def encode_event(
    data: Any, *, event: str | None = None, id: str | int | None = None, retry: int | None = None
) -> bytes:
    """One complete event, UTF-8, ending with its blank line.

    A ``str`` ``data`` is sent as-is, one ``data:`` line per line of it (the browser joins them back with ``\\n``);
    anything else is sent as compact JSON (``ensure_ascii=False``). ``event`` and ``id`` must be single lines
    (``ValueError`` otherwise); ``id`` must not contain NUL (browsers would ignore it); ``retry`` is the browser's
    reconnection delay in milliseconds and must be ``>= 0``.
    """
    parts: list[str] = []
    if event is not None:
        _check_single_line("event name", event)
        parts.append(f"event: {event}\n")
    if id is not None:
        id_text = str(id)
        _check_single_line("id", id_text)
        if "\0" in id_text:
            raise ValueError(f"SSE id must not contain NUL: {id_text!r}")
        parts.append(f"id: {id_text}\n")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"SSE retry must be a non-negative int (milliseconds), got {retry!r}")
        parts.append(f"retry: {retry}\n")
    if isinstance(data, str):
        for line in _split_lines(data):
            parts.append(f"data: {line}\n" if line else "data:\n")
    else:
        parts.append(f"data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """A comment (``: text``), ignored by browsers: use it as a heartbeat to keep proxies from closing the
    connection. Multi-line text gives one ``:`` line per line; empty text gives ``:``."""
    lines = "".join(f": {line}\n" if line else ":\n" for line in _split_lines(text))
    return (lines + "\n").encode("utf-8")


class SSEStreamEncoder:
    """Encodes the events of one stream: ids 1, 2, 3, ... (or ``start_id + 1``, ... when resuming after the
    browser's ``Last-Event-ID``), ``retry:`` on the first event only, and a heartbeat timer (``spread=True``: the
    first heartbeat comes a random part of half an interval early, so that the many streams a server opens at
    once, say browsers reconnecting after a restart, do not all send their heartbeats in the same moment).

    >>> enc = SSEStreamEncoder(retry=3000)
    >>> enc.event("delta", {"text": "Hi"})
    b'event: delta\\nid: 1\\nretry: 3000\\ndata: {"text":"Hi"}\\n\\n'
    >>> enc.heartbeat_due()   # True once ``heartbeat`` seconds passed since the last event or heartbeat
    False
    """

    def __init__(
        self,
        *,
        start_id: int = 0,
        heartbeat: float = 15.0,
        retry: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        spread: bool = False,
    ) -> None:
        if heartbeat <= 0:
            raise ValueError(f"heartbeat must be > 0 seconds, got {heartbeat!r}")
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int) or retry < 0):
            raise ValueError(f"retry must be a non-negative int (milliseconds), got {retry!r}")
        self._last_id = start_id
        self._interval = heartbeat
        self._retry = retry
        self._clock = clock
        self._last_sent = clock()
        if spread:  # the first heartbeat up to half an interval early: streams opened together beat apart
            self._last_sent -= random.uniform(0.0, heartbeat / 2)

    @property
    def interval(self) -> float:
        """Seconds of silence between heartbeats."""
        return self._interval

    @property
    def last_id(self) -> int:
        """The id of the last event encoded (``start_id`` before the first one)."""
        return self._last_id

    def event(self, name: str | None, data: Any, *, id: str | None = None) -> bytes:
        """The next event, with the next id (or ``id`` when the event has its own); resets the heartbeat timer.
        ``name`` ``None`` sends no ``event:`` line (a client that reads only ``data:``)."""
        out = encode_event(data, event=name, id=self._last_id + 1 if id is None else id, retry=self._retry)
        if id is None:
            self._last_id += 1
        self._retry = None  # only the first event carries it
        self._last_sent = self._clock()
        return out

    def seconds_until_heartbeat(self) -> float:
        """Seconds left before :meth:`heartbeat_due` turns true (``0.0`` if it already is); a handy queue timeout."""
        return max(0.0, self._last_sent + self._interval - self._clock())

    def heartbeat_due(self) -> bool:
        """True when ``heartbeat`` seconds have passed since the last event or heartbeat."""
        return self._clock() - self._last_sent >= self._interval

    def heartbeat(self) -> bytes:
        """A ``: heartbeat`` comment; resets the heartbeat timer."""
        self._last_sent = self._clock()
        return encode_comment("heartbeat")


OPEN_COMMENT = "stream open"
"""The comment every stream starts with, so the browser gets the status line and headers at once."""


def _opening(retry: int | None) -> bytes:
    """The first bytes of a stream: the open comment, and the browser's reconnection delay when given."""
    if retry is None:
        return encode_comment(OPEN_COMMENT)
    return f": {OPEN_COMMENT}\nretry: {int(retry)}\n\n".encode()


def sse_headers(
    request_id: str | None = None, extra: dict[str, str] | None = None, *, protocol: StreamProtocol | None = None
) -> dict[str, str]:
    """The headers of every event-stream response (``X-Request-ID`` when given, and the protocol's own)."""
    headers = dict(SSE_HEADERS)
    if request_id:
        headers["X-Request-ID"] = request_id
    if protocol is not None:
        headers.update(protocol.headers())
    if extra:
        headers.update(extra)
    return headers


class _Identified(Protocol):
    """An event that carries its own id (a relay event); an empty ``event`` name is a heartbeat."""

    @property
    def id(self) -> str: ...

    @property
    def event(self) -> str: ...

    @property
    def data(self) -> Any: ...


Item = tuple[str, Any] | _Identified


def _frame(encoder: SSEStreamEncoder, item: Item) -> bytes | None:
    """The bytes for one item; ``None`` for a heartbeat that is not due yet."""
    if isinstance(item, tuple):
        name, payload = item
        if name == "heartbeat":
            return encoder.heartbeat() if encoder.heartbeat_due() else None
        return encoder.event(name, payload)
    if not item.event:
        return encoder.heartbeat() if encoder.heartbeat_due() else None
    return encoder.event(item.event, item.data, id=item.id)


class StreamProtocol:
    """How the events of one stream become frames: this class is our own vocabulary (``event: text``,
    ``data: {...}``, one frame per event); subclasses speak other protocols. One instance per response (a protocol
    may keep state, as the AI SDK's translator does).

    ``replay`` says how a resume works: ``False`` (ours) continues after ``Last-Event-ID``; ``True`` (the AI SDK's)
    sends the whole stream again from its first event, because the client rebuilds the message from it.

    >>> proto = own_protocol("events")
    >>> proto.name, proto.replay, proto.headers()
    ('events', False, {})
    """

    name = "events"
    replay = False

    def headers(self) -> dict[str, str]:
        """Response headers this protocol adds to :data:`SSE_HEADERS`."""
        return {}

    def frames(self, encoder: SSEStreamEncoder, item: Item) -> list[bytes]:
        """The frames for one item of the source (none for a heartbeat that is not due)."""
        frame = _frame(encoder, item)
        return [] if frame is None else [frame]

    def end(self) -> list[bytes]:
        """The frames after the source's last item (a normal end)."""
        return []

    def failed(self, exc: Exception) -> list[bytes]:
        """The frames that end a stream whose source raised ``exc``; ours re-raises (the connection breaks)."""
        raise exc


def own_protocol(protocol: str | StreamProtocol | None) -> StreamProtocol:
    """``protocol`` as an instance: ours for ``None``/``"events"``; another protocol must come as an instance
    (made by :func:`claude_web.web.protocols.stream_protocol`, which knows every protocol by name)."""
    if isinstance(protocol, StreamProtocol):
        return protocol
    if protocol is None or protocol == "events":
        return StreamProtocol()
    raise ValueError(
        f"stream protocol {protocol!r}: pass an instance made by claude_web.web.protocols.stream_protocol()"
    )


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
        yield _opening(retry)
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
        yield _opening(retry)
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
        yield _opening(retry)
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
