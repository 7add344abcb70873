"""Incremental Server-Sent Events decoder following the WHATWG ``text/event-stream`` rules; does no I/O.

>>> decoder = SSEDecoder()
>>> decoder.feed(b"event: ping\\ndata: {}\\n\\nda")
[ServerSentEvent(event='ping', data='{}', id=None, retry=None)]
>>> decoder.pending   # b"da" is the start of a line that has not ended yet
True

Chunks may be cut anywhere: inside a UTF-8 character, inside the leading BOM, between the CR and LF of a
CRLF. Bytes are split into lines and decoded (UTF-8, invalid bytes become U+FFFD) once per chunk.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEDecoder", "SSEProtocolError", "ServerSentEvent", "aiter_sse_events", "iter_sse_events"]

_BOM = b"\xef\xbb\xbf"
_LF = 10
_CR = 13


class SSEProtocolError(ValueError):
    """The decoder was misused, e.g. fed more bytes after :meth:`SSEDecoder.flush`."""


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is ``None`` when the event had no (or an empty) ``event:`` field, which means ``"message"``.
    ``id`` is the decoder's last event id at dispatch time, ``None`` if no ``id:`` field was ever seen.
    ``retry`` is the value of a valid ``retry:`` field inside this event, else ``None``.
    """

    event: str | None = None
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """``data`` parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.data)


class SSEDecoder:
    """Turns the bytes of an event stream into :class:`ServerSentEvent` objects, chunk by chunk.

    Call :meth:`feed` with each chunk as it arrives, then :meth:`flush` once at the end of the stream.
    """

    __slots__ = (
        "_buf",
        "_closed",
        "_data",
        "_event",
        "_event_retry",
        "_fields",
        "_id",
        "_started",
        "_skip_lf",
        "retry",
    )

    def __init__(self) -> None:
        self._buf = b""  # bytes of the current, unfinished line (never holds CR or LF)
        self._data: list[str] = []  # values of the data fields of the current event
        self._event = ""  # event type buffer
        self._event_retry: int | None = None  # retry field seen inside the current event
        self._fields = False  # a field line was seen since the last blank line
        self._id: str | None = None  # last event id, None until an id field is seen
        self._started = False  # the leading BOM (if any) has been dealt with
        self._skip_lf = False  # the previous chunk ended with CR: a LF opening the next one belongs to it
        self._closed = False
        self.retry: int | None = None
        """Reconnection time in milliseconds from the last valid ``retry:`` field, ``None`` if none was sent."""

    @property
    def last_event_id(self) -> str:
        """The last event id buffer: ``""`` until an ``id:`` field is seen; it persists across events."""
        return "" if self._id is None else self._id

    @last_event_id.setter
    def last_event_id(self, value: str) -> None:
        self._id = value

    @property
    def pending(self) -> bool:
        """True if an unfinished line or the fields of an event not dispatched yet are held (a stream cut here
        lost part of an event). Comments do not count; after :meth:`flush` this is ``False``."""
        return self._fields or bool(self._buf)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream and return the events it completed (often none)."""
        if self._closed:
            raise SSEProtocolError("SSEDecoder.feed() called after flush(); use a new decoder for a new stream")
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == _LF:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._buf:
            chunk = self._buf + chunk
        if not self._started:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._buf = chunk  # maybe the start of a BOM cut by the chunk boundary: wait for more
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if b"\r" in chunk:
            self._skip_lf = chunk[-1] == _CR
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = chunk.rfind(b"\n")
        if end < 0:
            self._buf = chunk
            return []
        self._buf = chunk[end + 1 :]
        return self._lines(chunk[:end].decode("utf-8", "replace").split("\n"))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: process a final unterminated line, then discard an event that did not end with a blank
        line (WHATWG: it is not dispatched). Returns the events dispatched (always empty, kept for symmetry)."""
        if self._closed:
            return []
        self._closed = True
        events: list[ServerSentEvent] = []
        if self._buf:
            events = self._lines([self._buf.decode("utf-8", "replace")])
            self._buf = b""
        self._data = []
        self._event = ""
        self._event_retry = None
        self._fields = False
        return events

    def _lines(self, lines: list[str]) -> list[ServerSentEvent]:
        """Process complete lines (without their line ends); state lives in locals inside the loop for speed."""
        out: list[ServerSentEvent] = []
        append = out.append
        data = self._data
        event = self._event
        event_retry = self._event_retry
        fields = self._fields
        last_id = self._id
        for line in lines:
            if not line:  # blank line: dispatch the event if it has data, then reset
                if data:
                    append(ServerSentEvent(event or None, "\n".join(data), last_id, event_retry))
                    data = []
                event = ""
                event_retry = None
                fields = False
                continue
            # "name: value" is the usual form. If there is no ": " or its colon is not the first one, split at the
            # first colon instead; the value then cannot start with a space, so nothing is left to strip.
            name, sep, value = line.partition(": ")
            if not sep or ":" in name:
                name, sep, value = line.partition(":")
            if not name:
                continue  # a comment (or ": x", also a comment)
            fields = True
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry":
                if value.isdigit() and value.isascii():
                    self.retry = event_retry = int(value)
            # any other field name is ignored
        self._data = data
        self._event = event
        self._event_retry = event_retry
        self._fields = fields
        self._id = last_id
        return out


def iter_sse_events(byte_iter: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks, e.g. ``iter_sse_events(response.iter_bytes())``.

    An incomplete last event (no blank line after it) is dropped, as the WHATWG rules say.
    """
    decoder = SSEDecoder()
    feed = decoder.feed
    for chunk in byte_iter:
        if chunk:
            yield from feed(chunk)
    yield from decoder.flush()


async def aiter_sse_events(byte_iter: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Async twin of :func:`iter_sse_events`, e.g. ``aiter_sse_events(response.aiter_bytes())``."""
    decoder = SSEDecoder()
    feed = decoder.feed
    async for chunk in byte_iter:
        if chunk:
            for event in feed(chunk):
                yield event
    for event in decoder.flush():
        yield event
