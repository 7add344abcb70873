"""The AWS eventstream parser and the Bedrock stream decoder, tested on bytes directly (no I/O)."""

from __future__ import annotations

import base64
import datetime
import json
import struct
import uuid
import zlib

import httpx
import pytest

import claude_web
from claude_web.lib.bedrock import EventStreamBuffer, EventStreamDecoder, EventStreamError, encode_message

CHUNK_HEADERS = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}


def chunk_frame(event: dict[str, object], padding: str = "abc") -> bytes:
    raw = json.dumps(event).encode()
    return encode_message(CHUNK_HEADERS, json.dumps({"bytes": base64.b64encode(raw).decode(), "p": padding}).encode())


def exception_frame(name: str, message: str) -> bytes:
    headers = {":exception-type": name, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, json.dumps({"message": message}).encode())


EVENTS = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "héllo ✓"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 2},
    },
    {"type": "message_stop"},
]


def stream_response() -> httpx.Response:
    request = httpx.Request(
        "POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke-with-response-stream"
    )
    return httpx.Response(200, headers={"content-type": "application/vnd.amazon.eventstream"}, request=request)


def test_known_frame_bytes() -> None:
    # a frame with no headers and no payload is 16 bytes: the prelude, its CRC and the message CRC
    frame = encode_message({}, b"")
    assert len(frame) == 16
    assert frame[:8] == struct.pack(">II", 16, 0)
    assert frame[8:12] == struct.pack(">I", zlib.crc32(frame[:8]))
    assert frame[12:] == struct.pack(">I", zlib.crc32(frame[:12]))
    assert EventStreamBuffer().feed(frame)[0].payload == b""


def test_every_header_type_round_trips() -> None:
    when = datetime.datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    headers = {
        "t": True,
        "f": False,
        "small": 7,
        "big": 2**40,
        "raw": b"\x00\x01",
        "s": "string ✓",
        "when": when,
        "id": ident,
    }
    [message] = EventStreamBuffer().feed(encode_message(headers, b"payload"))
    assert message.headers == headers
    assert message.payload == b"payload"
    assert message.header("s") == "string ✓"
    assert message.header("small") is None  # not a string


def test_byte_and_short_headers_are_read() -> None:
    # types 2 (byte) and 3 (short) are never written by encode_message; build them by hand
    raw_headers = b"\x01b\x02\xff" + b"\x01h\x03" + struct.pack(">h", -300)
    total = 16 + len(raw_headers)
    prelude = struct.pack(">II", total, len(raw_headers))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers
    frame = body + struct.pack(">I", zlib.crc32(body))
    [message] = EventStreamBuffer().feed(frame)
    assert message.headers == {"b": -1, "h": -300}


def test_frames_split_at_every_byte_boundary() -> None:
    data = b"".join(chunk_frame(event) for event in EVENTS)
    for cut in range(len(data) + 1):
        buffer = EventStreamBuffer()
        messages = buffer.feed(data[:cut]) + buffer.feed(data[cut:])
        assert len(messages) == len(EVENTS), cut
        assert not buffer.pending
    for cut_a in range(0, len(data), 37):  # and three pieces, with the second cut at many places after the first
        for cut_b in range(cut_a, len(data) + 1, 5):
            decoder = EventStreamDecoder()
            events = decoder.feed(data[:cut_a]) + decoder.feed(data[cut_a:cut_b]) + decoder.feed(data[cut_b:])
            assert [e.event for e in events] == [e["type"] for e in EVENTS]
            assert [json.loads(e.data) for e in events] == EVENTS


def test_byte_by_byte_feed_keeps_pending_until_the_frame_ends() -> None:
    frame = chunk_frame(EVENTS[-1])
    decoder = EventStreamDecoder()
    for i, byte in enumerate(frame):
        events = decoder.feed(bytes([byte]))
        if i < len(frame) - 1:
            assert events == [] and decoder.pending
    assert [e.event for e in events] == ["message_stop"]
    assert not decoder.pending
    assert decoder.flush() == []


def test_corrupted_prelude_crc_is_a_clear_error() -> None:
    frame = bytearray(chunk_frame(EVENTS[0]))
    frame[9] ^= 0xFF
    with pytest.raises(EventStreamError, match="prelude CRC mismatch"):
        EventStreamBuffer().feed(bytes(frame))


@pytest.mark.parametrize("where", [14, -10, -1])
def test_corrupted_message_crc_is_a_clear_error(where: int) -> None:
    frame = bytearray(chunk_frame(EVENTS[0]))
    frame[where] ^= 0x01
    with pytest.raises(EventStreamError, match="message CRC mismatch"):
        EventStreamBuffer().feed(bytes(frame))


def test_corruption_is_found_even_when_fed_byte_by_byte() -> None:
    frame = bytearray(chunk_frame(EVENTS[2]))
    frame[len(frame) // 2] ^= 0x40
    buffer = EventStreamBuffer()
    with pytest.raises(EventStreamError, match="CRC"):
        for byte in frame:
            buffer.feed(bytes([byte]))


def test_bound_decoder_raises_api_response_validation_error_naming_the_crc() -> None:
    frame = bytearray(chunk_frame(EVENTS[0]))
    frame[-2] ^= 0x01
    response = stream_response()
    with pytest.raises(claude_web.APIResponseValidationError, match="message CRC mismatch") as info:
        EventStreamDecoder(response).feed(bytes(frame))
    assert info.value.response is response


def test_impossible_lengths_are_rejected() -> None:
    prelude = struct.pack(">II", 10, 0)  # shorter than the 16-byte minimum
    with pytest.raises(EventStreamError, match="too small"):
        EventStreamBuffer().feed(prelude + struct.pack(">I", zlib.crc32(prelude)))
    prelude = struct.pack(">II", 200 * 1024, 130 * 1024)
    with pytest.raises(EventStreamError, match="headers length"):
        EventStreamBuffer().feed(prelude + struct.pack(">I", zlib.crc32(prelude)))


def test_unknown_header_type_is_an_error() -> None:
    raw_headers = b"\x01x\x0c"
    total = 16 + len(raw_headers)
    prelude = struct.pack(">II", total, len(raw_headers))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers
    with pytest.raises(EventStreamError, match="unknown value type 12"):
        EventStreamBuffer().feed(body + struct.pack(">I", zlib.crc32(body)))


def test_non_chunk_events_and_unknown_message_types_are_skipped() -> None:
    data = (
        encode_message({":message-type": "event", ":event-type": "initial-response"}, b"{}")
        + encode_message({":message-type": "something-new"}, b"")
        + chunk_frame(EVENTS[-1])
    )
    events = EventStreamDecoder().feed(data)
    assert [e.event for e in events] == ["message_stop"]
    assert events[0].id is None and events[0].retry is None


def test_chunk_that_is_not_base64_json_is_reported() -> None:
    bad = encode_message(CHUNK_HEADERS, json.dumps({"bytes": "%%%not base64"}).encode())
    with pytest.raises(claude_web.APIResponseValidationError, match="not base64-encoded JSON"):
        EventStreamDecoder(stream_response()).feed(bad)


@pytest.mark.parametrize(
    ("name", "cls", "status"),
    [
        ("throttlingException", claude_web.RateLimitError, 429),
        ("validationException", claude_web.BadRequestError, 400),
        ("modelStreamErrorException", claude_web.InternalServerError, 500),
        ("internalServerException", claude_web.InternalServerError, 500),
        ("serviceUnavailableException", claude_web.ServiceUnavailableError, 503),
        ("accessDeniedException", claude_web.PermissionDeniedError, 403),
        ("somethingNewException", claude_web.InternalServerError, 500),
    ],
)
def test_exception_frames_raise_the_matching_status_error(name: str, cls: type[Exception], status: int) -> None:
    decoder = EventStreamDecoder(stream_response())
    assert [e.event for e in decoder.feed(chunk_frame(EVENTS[0]))] == ["message_start"]
    with pytest.raises(cls) as info:
        decoder.feed(exception_frame(name, "Too many tokens, please wait"))
    error = info.value
    assert isinstance(error, claude_web.APIStatusError)
    assert error.status_code == status
    assert error.type == name
    assert "Too many tokens, please wait" in str(error)
    assert error.body == {"message": "Too many tokens, please wait"}


def test_service_unavailable_is_also_internal_server_error() -> None:
    with pytest.raises(claude_web.InternalServerError):
        EventStreamDecoder(stream_response()).feed(exception_frame("serviceUnavailableException", "busy"))


def test_error_message_type_uses_its_headers() -> None:
    frame = encode_message(
        {":message-type": "error", ":error-code": "ThrottlingException", ":error-message": "slow down"}, b""
    )
    with pytest.raises(claude_web.RateLimitError, match="slow down"):
        EventStreamDecoder(stream_response()).feed(frame)


def test_unbound_decoder_still_raises_an_anthropic_error() -> None:
    with pytest.raises(claude_web.AnthropicError, match="throttlingException: wait"):
        EventStreamDecoder().feed(exception_frame("throttlingException", "wait"))
