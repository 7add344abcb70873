"""The bytes of Server-Sent Events: events with ids, heartbeat comments, the response headers, and the
:class:`StreamProtocol` base that turns browser events into frames (our own vocabulary; the AI SDK's UI message
stream subclasses it in :mod:`claude_web.web.aisdk`). The writers that drive them are in :mod:`claude_web.web.sse`.

>>> encode_event({"text": "hi"}, event="delta", id=3)
b'event: delta\\nid: 3\\ndata: {"text":"hi"}\\n\\n'
>>> encode_comment("keep-alive")
b': keep-alive\\n\\n'

Send :data:`SSE_HEADERS` with the response so proxies (nginx) and browsers neither buffer nor cache the stream.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "OPEN_COMMENT",
    "SSE_HEADERS",
    "Item",
    "SSEStreamEncoder",
    "StreamProtocol",
    "encode_comment",
    "encode_event",
    "opening",
    "sse_headers",
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


def opening(retry: int | None) -> bytes:
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

    >>> proto = StreamProtocol()
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
