"""The AWS eventstream binary framing (``application/vnd.amazon.eventstream``): a parser, an encoder, and the
decoder Bedrock streams use to turn frames into the same :class:`~claude_web._sse.ServerSentEvent` objects the
direct API's SSE gives. No I/O here.

One message on the wire::

    total length   u32 big-endian   (the whole message, these 4 bytes and the final CRC included)
    headers length u32 big-endian
    prelude CRC    u32 big-endian   CRC-32 of the 8 bytes above
    headers        repeated: name length u8, name (UTF-8), value type u8, value
    payload        total - headers - 16 bytes
    message CRC    u32 big-endian   CRC-32 of everything before it

>>> buffer = EventStreamBuffer()
>>> frame = encode_message({":message-type": "event", ":event-type": "chunk"}, b"{}")
>>> [m.headers[":event-type"] for m in buffer.feed(frame[:5]) + buffer.feed(frame[5:])]
['chunk']
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx

from ..._exceptions import (
    AnthropicError,
    APIResponseValidationError,
    APIStatusError,
    status_error_class,
)
from ..._sse import ServerSentEvent

__all__ = [
    "EventStreamBuffer",
    "EventStreamDecoder",
    "EventStreamError",
    "EventStreamMessage",
    "HeaderValue",
    "encode_message",
    "exception_status",
]

HeaderValue: TypeAlias = "bool | int | bytes | str | datetime.datetime | uuid.UUID"

_PRELUDE = struct.Struct(">III")
_PRELUDE_LEN = 12
_CRC_LEN = 4
_MIN_MESSAGE = _PRELUDE_LEN + _CRC_LEN
MAX_HEADERS_LENGTH = 128 * 1024
MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024

# header value types
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_FIXED: dict[int, struct.Struct] = {
    _BYTE: struct.Struct(">b"),
    _SHORT: struct.Struct(">h"),
    _INT: struct.Struct(">i"),
    _LONG: struct.Struct(">q"),
    _TIMESTAMP: struct.Struct(">q"),
}
_U16 = struct.Struct(">H")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class EventStreamError(AnthropicError, ValueError):
    """The bytes are not a valid eventstream (bad CRC, impossible lengths, unknown header type...)."""


@dataclass(frozen=True)
class EventStreamMessage:
    """One decoded frame: its headers (name -> value) and its raw payload."""

    headers: dict[str, HeaderValue] = field(default_factory=dict)
    payload: bytes = b""

    def header(self, name: str) -> str | None:
        """A string header's value, or None when it is missing or not a string."""
        value = self.headers.get(name)
        return value if isinstance(value, str) else None


def _parse_headers(raw: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos = 0
    end = len(raw)
    try:
        while pos < end:
            name_len = raw[pos]
            pos += 1
            name = raw[pos : pos + name_len].decode("utf-8")
            pos += name_len
            kind = raw[pos]
            pos += 1
            value: HeaderValue
            if kind == _TRUE:
                value = True
            elif kind == _FALSE:
                value = False
            elif kind in (_BYTES, _STRING):
                (size,) = _U16.unpack_from(raw, pos)
                pos += 2
                data = raw[pos : pos + size]
                if len(data) != size:
                    raise EventStreamError(f"eventstream header {name!r} is cut short")
                pos += size
                value = data.decode("utf-8") if kind == _STRING else bytes(data)
            elif kind == _UUID:
                data = raw[pos : pos + 16]
                if len(data) != 16:
                    raise EventStreamError(f"eventstream header {name!r} is cut short")
                pos += 16
                value = uuid.UUID(bytes=bytes(data))
            elif kind in _FIXED:
                fmt = _FIXED[kind]
                (number,) = fmt.unpack_from(raw, pos)
                pos += fmt.size
                value = _EPOCH + datetime.timedelta(milliseconds=number) if kind == _TIMESTAMP else int(number)
            else:
                raise EventStreamError(f"eventstream header {name!r} has an unknown value type {kind}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise EventStreamError(f"eventstream headers are malformed ({exc})") from exc
    return headers


class EventStreamBuffer:
    """Incremental parser: ``feed(chunk)`` returns the messages the chunk completed; chunks may be cut anywhere.

    Both CRCs are checked; a mismatch raises :class:`EventStreamError` naming the CRC. Messages that parsed before
    a corrupted one in the same chunk are returned first; the error is raised by the next ``feed()`` (or
    :meth:`check`), so no good event is lost to a later bad one.
    """

    __slots__ = ("_buf", "_error", "_pos")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # start of the first message not parsed yet
        self._error: EventStreamError | None = None

    @property
    def pending(self) -> bool:
        """True when bytes of an incomplete (or corrupted) message are held: a stream ending here lost data."""
        return self._error is not None or len(self._buf) > self._pos

    def check(self) -> None:
        """Raise the error found after the messages the last ``feed()`` returned, if any."""
        error = self._error
        if error is not None:
            raise error

    def feed(self, chunk: bytes) -> list[EventStreamMessage]:
        self.check()
        if chunk:
            self._buf += chunk
        out: list[EventStreamMessage] = []
        try:
            self._parse(out)
        except EventStreamError as exc:
            self._error = exc
            if not out:
                raise
        finally:
            if self._pos:
                del self._buf[: self._pos]
                self._pos = 0
        return out

    def _parse(self, out: list[EventStreamMessage]) -> None:
        buf = self._buf
        while len(buf) - self._pos >= _PRELUDE_LEN:
            start = self._pos
            total, headers_len, prelude_crc = _PRELUDE.unpack_from(buf, start)
            actual = zlib.crc32(memoryview(buf)[start : start + 8])
            if actual != prelude_crc:
                raise EventStreamError(
                    f"eventstream prelude CRC mismatch: expected {prelude_crc:#010x}, computed {actual:#010x} "
                    "(the stream is corrupted)"
                )
            if headers_len > MAX_HEADERS_LENGTH:
                raise EventStreamError(f"eventstream headers length {headers_len} exceeds {MAX_HEADERS_LENGTH}")
            payload_len = total - headers_len - _MIN_MESSAGE
            if payload_len < 0:
                raise EventStreamError(
                    f"eventstream message length {total} is too small for {headers_len} bytes of headers"
                )
            if payload_len > MAX_PAYLOAD_LENGTH:
                raise EventStreamError(f"eventstream payload length {payload_len} exceeds {MAX_PAYLOAD_LENGTH}")
            if len(buf) - start < total:
                return
            body_end = start + total - _CRC_LEN
            (message_crc,) = struct.unpack_from(">I", buf, body_end)
            actual = zlib.crc32(memoryview(buf)[start:body_end])
            if actual != message_crc:
                raise EventStreamError(
                    f"eventstream message CRC mismatch: expected {message_crc:#010x}, computed {actual:#010x} "
                    "(the stream is corrupted)"
                )
            headers_start = start + _PRELUDE_LEN
            headers = _parse_headers(bytes(buf[headers_start : headers_start + headers_len]))
            out.append(EventStreamMessage(headers, bytes(buf[headers_start + headers_len : body_end])))
            self._pos = start + total


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode("utf-8")
    if len(raw_name) > 255:
        raise ValueError(f"eventstream header name too long: {name!r}")
    head = bytes([len(raw_name)]) + raw_name
    if isinstance(value, bool):
        return head + bytes([_TRUE if value else _FALSE])
    if isinstance(value, int):
        kind = _INT if -(2**31) <= value < 2**31 else _LONG
        return head + bytes([kind]) + _FIXED[kind].pack(value)
    if isinstance(value, datetime.datetime):
        millis = int((value - _EPOCH).total_seconds() * 1000)
        return head + bytes([_TIMESTAMP]) + _FIXED[_TIMESTAMP].pack(millis)
    if isinstance(value, uuid.UUID):
        return head + bytes([_UUID]) + value.bytes
    kind, data = (_STRING, value.encode("utf-8")) if isinstance(value, str) else (_BYTES, bytes(value))
    if len(data) > 0xFFFF:
        raise ValueError(f"eventstream header {name!r} value too long")
    return head + bytes([kind]) + _U16.pack(len(data)) + data


def encode_message(headers: Mapping[str, HeaderValue], payload: bytes) -> bytes:
    """One eventstream frame with both CRCs (used by the fake Bedrock server and by tests)."""
    raw_headers = b"".join(_encode_header(name, value) for name, value in headers.items())
    total = _MIN_MESSAGE + len(raw_headers) + len(payload)
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


# Bedrock's stream exceptions and the HTTP status each one stands for (names compared lower-cased)
_EXCEPTION_STATUS: dict[str, int] = {
    "validationexception": 400,
    "accessdeniedexception": 403,
    "resourcenotfoundexception": 404,
    "modeltimeoutexception": 408,
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "modelnotreadyexception": 429,
    "internalserverexception": 500,
    "modelstreamerrorexception": 500,
    "modelerrorexception": 500,
    "serviceunavailableexception": 503,
}


def exception_status(exception_type: str) -> int:
    """The HTTP status a Bedrock exception name maps to (``throttlingException`` -> 429; unknown -> 500)."""
    name = exception_type.split(":", 1)[0].strip().lower()
    return _EXCEPTION_STATUS.get(name, 500)


def make_bedrock_status_error(
    message: str, *, status: int, response: httpx.Response, body: object, error_type: str | None
) -> APIStatusError:
    """The :class:`APIStatusError` subclass for ``status``; 503 gives ``ServiceUnavailableError`` (as anthropic's
    Bedrock client does for HTTP 503) that is also an ``InternalServerError`` (as a plain 503 is elsewhere)."""
    from ._platform import ServiceUnavailableStatusError

    cls = ServiceUnavailableStatusError if status == 503 else status_error_class(status)
    error = cls(message, response=response, body=body)
    error.status_code = status
    if error_type is not None:
        error.type = error_type
    return error


class EventStreamDecoder:
    """The ``_make_sse_decoder()`` of the Bedrock clients: eventstream frames in, SSE-shaped events out.

    A ``chunk`` event's payload ``{"bytes": "<base64>"}`` holds one Messages API stream event as JSON; it becomes
    ``ServerSentEvent(event=<its "type">, data=<the JSON text>)``, so the normal ``Stream`` machinery types it.
    An exception frame raises the matching :class:`~claude_web.APIStatusError` subclass; corrupt framing raises
    :class:`~claude_web.APIResponseValidationError` naming the problem (:class:`EventStreamError` when no
    response is bound, e.g. when used on its own).
    """

    __slots__ = ("_buffer", "response")

    def __init__(self, response: httpx.Response | None = None) -> None:
        self._buffer = EventStreamBuffer()
        self.response = response

    def bind(self, response: httpx.Response) -> None:
        """Attach the HTTP response errors should carry (done by the Bedrock clients for every stream)."""
        self.response = response

    @property
    def pending(self) -> bool:
        """True when part of a message is held. A corruption found after the last events were delivered is
        raised here (``Stream`` asks at the end of the body), so it is reported, not mistaken for a cut."""
        try:
            self._buffer.check()
        except EventStreamError as exc:
            raise self._invalid(str(exc)) from exc
        return self._buffer.pending

    def flush(self) -> list[ServerSentEvent]:
        return []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        try:
            messages = self._buffer.feed(chunk)
        except EventStreamError as exc:
            raise self._invalid(str(exc)) from exc
        events: list[ServerSentEvent] = []
        for message in messages:
            event = self._to_sse(message)
            if event is not None:
                events.append(event)
        return events

    def _invalid(self, message: str) -> AnthropicError:
        if self.response is None:
            return EventStreamError(message)
        return APIResponseValidationError(self.response, None, message=f"Invalid Bedrock stream: {message}")

    def _to_sse(self, message: EventStreamMessage) -> ServerSentEvent | None:
        kind = message.header(":message-type")
        if kind == "event":
            if message.header(":event-type") != "chunk":
                return None  # e.g. an initial-response frame: nothing for the Messages API
            return self._chunk(message.payload)
        if kind == "exception":
            name = message.header(":exception-type") or "unknownException"
            raise self._status_error(name, message.payload)
        if kind == "error":
            name = message.header(":error-code") or "unknownError"
            text = message.header(":error-message") or ""
            raise self._status_error(name, json.dumps({"message": text}).encode())
        return None

    def _chunk(self, payload: bytes) -> ServerSentEvent:
        try:
            outer: Any = json.loads(payload)
            raw = base64.b64decode(outer["bytes"], validate=True)
            text = raw.decode("utf-8")
            inner: Any = json.loads(text)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            shown = payload[:200]
            raise self._invalid(f"a chunk is not base64-encoded JSON ({type(exc).__name__}): {shown!r}") from exc
        event_type = inner.get("type") if isinstance(inner, dict) else None
        return ServerSentEvent(event=event_type if isinstance(event_type, str) else None, data=text)

    def _status_error(self, name: str, payload: bytes) -> AnthropicError:
        body: object
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            body = payload.decode("utf-8", "replace")
        detail = body.get("message") if isinstance(body, dict) else body
        if not isinstance(detail, str) or not detail:
            detail = "(no message)"
        message = f"{name}: {detail}"
        if self.response is None:
            return EventStreamError(f"Bedrock stream exception {message}")
        return make_bedrock_status_error(
            message, status=exception_status(name), response=self.response, body=body, error_type=name
        )
