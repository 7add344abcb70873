"""Server-Sent Events for browsers: the bytes a Django/Flask streaming view sends to an ``EventSource``.

>>> encode_event({"text": "hi"}, event="delta", id=3)
b'event: delta\\nid: 3\\ndata: {"text":"hi"}\\n\\n'
>>> encode_comment("keep-alive")
b': keep-alive\\n\\n'

Send :data:`SSE_HEADERS` with the response so proxies (nginx) and browsers neither buffer nor cache the stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SSE_HEADERS", "SSEStreamEncoder", "encode_comment", "encode_event"]

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
    browser's ``Last-Event-ID``), ``retry:`` on the first event only, and a heartbeat timer.

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

    @property
    def last_id(self) -> int:
        """The id of the last event encoded (``start_id`` before the first one)."""
        return self._last_id

    def event(self, name: str, data: Any) -> bytes:
        """The next event, with the next id; resets the heartbeat timer."""
        out = encode_event(data, event=name, id=self._last_id + 1, retry=self._retry)
        self._retry = None  # only the first event carries it
        self._last_id += 1
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
