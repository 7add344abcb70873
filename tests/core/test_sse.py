"""The incremental SSE decoder against the WHATWG event-stream rules, chunk boundaries anywhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_web._sse import (
    ServerSentEvent,
    SSEDecoder,
    SSEProtocolError,
    aiter_sse_events,
    iter_sse_events,
)
from claude_web.sse_encoder import encode_event


def decode(stream: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = decoder.feed(stream)
    events += decoder.flush()
    return events


def decode_chunks(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.flush()
    return events


def bytewise(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


def triples(events: list[ServerSentEvent]) -> list[tuple[str | None, str, str | None]]:
    return [(e.event, e.data, e.id) for e in events]


# --- line ends -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_each_line_end(eol: bytes) -> None:
    stream = eol.join([b"event: a", b"data: 1", b"", b"data: 2", b"", b""])
    assert triples(decode(stream)) == [("a", "1", None), (None, "2", None)]


def test_mixed_line_ends_in_one_stream() -> None:
    stream = b"data: a\rdata: b\r\ndata: c\n\r\n"
    assert [e.data for e in decode(stream)] == ["a\nb\nc"]


def test_cr_then_lf_in_next_chunk_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    # the LF completes the CR of the previous chunk; only the *next* line end is the blank line
    assert decoder.feed(b"\n") == []
    assert [e.data for e in decoder.feed(b"\r\n")] == ["x"]


def test_cr_at_chunk_end_ends_line_immediately_and_lf_after_empty_chunk_skipped() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r\r") == [ServerSentEvent(None, "x", None, None)]
    assert not decoder.pending
    assert decoder.feed(b"") == []
    # this LF belongs to the CR that ended the previous chunk: it must not be a second blank line
    assert decoder.feed(b"\ndata: y\n") == []
    assert decoder.pending
    assert [e.data for e in decoder.feed(b"\n")] == ["y"]


def test_two_crs_are_two_line_ends() -> None:
    assert [e.data for e in decode_chunks([b"data: x\r", b"\r"])] == ["x"]


# --- fields ----------------------------------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_lf() -> None:
    assert decode(b"data: one\ndata: two\ndata:\ndata: four\n\n")[0].data == "one\ntwo\n\nfour"


def test_comments_are_ignored() -> None:
    stream = b": hello\n:\ndata: a\n: inside\ndata: b\n\n: trailing\n"
    events = decode(stream)
    assert [e.data for e in events] == ["a\nb"]


def test_comment_only_does_not_make_pending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": ping\n") == []
    assert not decoder.pending


def test_field_without_colon_has_empty_value() -> None:
    # "data" alone appends an empty line to the data buffer, so the event is dispatched with data ""
    events = decode(b"data\n\n")
    assert len(events) == 1 and events[0].data == ""
    # "event" alone sets an empty event type -> the default type
    assert decode(b"event: x\nevent\ndata: 1\n\n")[0].event is None


def test_no_space_after_colon() -> None:
    assert triples(decode(b"event:e\ndata:v\nid:7\n\n")) == [("e", "v", "7")]


def test_only_one_leading_space_removed() -> None:
    events = decode(b"event:  e\ndata:  two spaces\ndata:\tt\n\n")
    assert events[0].event == " e"
    assert events[0].data == " two spaces\n\tt"


def test_value_keeps_later_colons() -> None:
    assert decode(b"data: a: b:c\n\n")[0].data == "a: b:c"
    assert decode(b"data:x: y\n\n")[0].data == "x: y"


def test_unknown_fields_are_ignored() -> None:
    events = decode(b"foo: bar\nDATA: no\ndata: yes\n\n")
    assert triples(events) == [(None, "yes", None)]


def test_event_type_and_retry_reset_after_dispatch() -> None:
    events = decode(b"event: a\nretry: 5\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.retry) for e in events] == [("a", 5), (None, None)]


def test_empty_data_buffer_does_not_dispatch_and_resets_event_type() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: lost\n\n") == []
    assert decoder.feed(b"id: 3\n\n") == []
    events = decoder.feed(b"data: x\n\n")
    assert triples(events) == [(None, "x", "3")]


def test_empty_data_line_still_dispatches() -> None:
    assert triples(decode(b"event: e\ndata:\n\n")) == [("e", "", None)]


# --- id / retry ------------------------------------------------------------------------------------------------


def test_id_is_none_until_set_then_persists() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    first = decoder.feed(b"data: a\n\n")
    assert first[0].id is None
    events = decoder.feed(b"id: 10\ndata: b\n\ndata: c\n\n")
    assert [e.id for e in events] == ["10", "10"]
    assert decoder.last_event_id == "10"
    # an empty id field resets it to "" (still "set")
    events = decoder.feed(b"id\ndata: d\n\n")
    assert events[0].id == "" and decoder.last_event_id == ""


def test_id_set_by_event_without_data_persists() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 42\n\n")
    assert decoder.last_event_id == "42"
    assert decoder.feed(b"data: x\n\n")[0].id == "42"


def test_id_with_null_is_ignored() -> None:
    events = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_last_event_id_can_be_preset() -> None:
    decoder = SSEDecoder()
    decoder.last_event_id = "99"
    assert decoder.feed(b"data: x\n\n")[0].id == "99"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"3000", 3000),
        (b"0", 0),
        (b"", None),
        (b"12a", None),
        (b"-1", None),
        (b" 5", None),
        (b"1.5", None),
        ("\u0663".encode(), None),
        ("\u00b2".encode(), None),
    ],
)
def test_retry_only_ascii_digits(value: bytes, expected: int | None) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: " + value + b"\ndata: x\n\n")
    assert events[0].retry == expected
    assert decoder.retry == expected


def test_decoder_retry_persists() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 100\n\ndata: x\n\n")
    assert decoder.retry == 100


# --- BOM and UTF-8 ---------------------------------------------------------------------------------------------


def test_leading_bom_skipped() -> None:
    assert triples(decode(b"\xef\xbb\xbfdata: x\n\n")) == [(None, "x", None)]


def test_only_first_bom_skipped() -> None:
    # a second BOM makes the first line's field name "\ufeffdata", which is unknown -> ignored
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []
    # a BOM later in the stream is just data
    assert decode(b"data: x\n\n\xef\xbb\xbfdata: y\n\n")[0].data == "x"
    assert len(decode(b"data: x\n\n\xef\xbb\xbfdata: y\n\n")) == 1


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_bom_split_across_chunks(cut: int) -> None:
    stream = b"\xef\xbb\xbfdata: x\n\n"
    assert triples(decode_chunks([stream[:cut], stream[cut:]])) == [(None, "x", None)]
    assert triples(decode_chunks(bytewise(stream))) == [(None, "x", None)]


def test_bom_prefix_that_is_not_a_bom() -> None:
    # \xef\xbb then a normal byte: not a BOM, decoded with replacement, so the first field name is unknown
    assert decode_chunks([b"\xef", b"\xbbdata: x\n\ndata: y\n\n"]) == [ServerSentEvent(None, "y", None, None)]


def test_multibyte_utf8_split_across_chunks() -> None:
    text = "h\u00e9 \u20ac \U0001f600"
    stream = f"data: {text}\n\n".encode()
    for cut in range(len(stream) + 1):
        assert [e.data for e in decode_chunks([stream[:cut], stream[cut:]])] == [text], cut
    assert [e.data for e in decode_chunks(bytewise(stream))] == [text]


def test_invalid_utf8_is_replaced() -> None:
    assert decode(b"data: a\xffb\n\n")[0].data == "a\ufffdb"


# --- end of stream / pending -----------------------------------------------------------------------------------


def test_event_without_blank_line_discarded_at_flush() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: 1\n\ndata: 2\n")] == ["1"]
    assert decoder.pending
    assert decoder.flush() == []
    assert not decoder.pending


def test_unterminated_last_line_is_pending_and_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n\ndata: 2") == [ServerSentEvent(None, "1", None, None)]
    assert decoder.pending
    assert decoder.flush() == []


def test_unterminated_id_line_is_processed_at_flush() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: 1\n\nid: 7")
    assert decoder.last_event_id == ""
    decoder.flush()
    assert decoder.last_event_id == "7"


def test_not_pending_after_complete_event() -> None:
    decoder = SSEDecoder()
    assert not decoder.pending
    decoder.feed(b"event: a\ndata: 1\n")
    assert decoder.pending
    decoder.feed(b"\n")
    assert not decoder.pending


def test_partial_line_is_pending() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"da")
    assert decoder.pending


def test_feed_after_flush_raises() -> None:
    decoder = SSEDecoder()
    decoder.flush()
    assert decoder.flush() == []  # idempotent
    with pytest.raises(SSEProtocolError):
        decoder.feed(b"data: x\n\n")
    assert issubclass(SSEProtocolError, ValueError)


def test_json_helper() -> None:
    event = decode(b'event: message_start\ndata: {"a": [1, "\xc3\xa9"]}\n\n')[0]
    assert event.json() == {"a": [1, "\u00e9"]}
    with pytest.raises(ValueError):
        ServerSentEvent(data="not json").json()


def test_iter_sse_events() -> None:
    chunks = [b"event: a\nda", b"ta: 1\n", b"\nid: 5\ndata: 2\n\n", b"data: cut"]
    assert triples(list(iter_sse_events(iter(chunks)))) == [("a", "1", None), (None, "2", "5")]


async def test_aiter_sse_events() -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in (b"data: 1\r", b"\n\r\n", b"", b"event: e\r\ndata: 2\r\n\r\n", b"data: cut\n"):
            yield chunk

    events = [e async for e in aiter_sse_events(source())]
    assert triples(events) == [(None, "1", None), ("e", "2", None)]


def test_typical_anthropic_stream() -> None:
    stream = (
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"id":"msg_1"}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    events = decode_chunks([stream[i : i + 7] for i in range(0, len(stream), 7)])
    assert [e.event for e in events] == ["message_start", "ping", "content_block_delta", "message_stop"]
    assert [e.json()["type"] for e in events] == [e.event for e in events]


# --- properties ------------------------------------------------------------------------------------------------

# Event names / ids: no line ends, no NUL, not starting with a space (one leading space would be stripped).
_line_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00")
_name = st.text(_line_chars, min_size=1, max_size=12).filter(lambda s: not s.startswith(" "))
_data_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20)
_event = st.tuples(
    st.one_of(st.none(), _name),
    st.lists(_data_line, min_size=1, max_size=4),
    st.one_of(st.none(), _name),
    st.booleans(),  # add a comment line
)
_eol = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def _streams(draw: st.DrawFn) -> tuple[bytes, list[tuple[str | None, str, str | None]]]:
    events = draw(st.lists(_event, max_size=8))
    bom = draw(st.booleans())
    out: list[str] = []
    expected: list[tuple[str | None, str, str | None]] = []
    last_id: str | None = None
    for name, data_lines, event_id, comment in events:
        lines: list[str] = []
        if comment:
            lines.append(": " + draw(_data_line))
        if name is not None:
            lines.append("event: " + name)
        if event_id is not None:
            lines.append("id: " + event_id)
            last_id = event_id
        lines += ["data: " + line for line in data_lines]
        lines.append("")
        for line in lines:
            eol = draw(_eol)
            if not line and eol == "\n" and out and out[-1].endswith("\r"):
                eol = "\r"  # CR + LF would be one line end, not two
            out.append(line + eol)
        expected.append((name, "\n".join(data_lines), last_id))
    stream = "".join(out).encode()
    return (b"\xef\xbb\xbf" + stream if bom else stream), expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=_streams(), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_chunking_gives_the_generated_events(
    data: tuple[bytes, list[tuple[str | None, str, str | None]]], cuts: list[int]
) -> None:
    stream, expected = data
    whole = decode(stream)
    assert triples(whole) == expected
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    assert b"".join(chunks) == stream
    assert decode_chunks(chunks) == whole


@settings(max_examples=100)
@given(data=_streams())
def test_one_byte_chunks_give_the_same_events(data: tuple[bytes, list[tuple[str | None, str, str | None]]]) -> None:
    stream, expected = data
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in bytewise(stream):
        events += decoder.feed(chunk)
    assert not decoder.pending
    assert triples(events) == expected


_json_leaves = st.none() | st.booleans() | st.integers() | st.text(st.characters(blacklist_categories=("Cs",)))
_json_containers = st.recursive(
    _json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
).filter(lambda v: not isinstance(v, str))  # a str is sent as-is, not as JSON


@settings(max_examples=200)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs",))),
    name=st.one_of(st.none(), _name),
    event_id=st.one_of(st.none(), _name, st.integers(min_value=0)),
    retry=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
)
def test_encoder_round_trip_text(text: str, name: str | None, event_id: str | int | None, retry: int | None) -> None:
    events = decode_chunks(bytewise(encode_event(text, event=name, id=event_id, retry=retry)))
    assert len(events) == 1
    event = events[0]
    # the decoder turns CRLF / CR into LF: those are the line ends SSE knows
    assert event.data == text.replace("\r\n", "\n").replace("\r", "\n")
    assert event.event == name
    assert event.id == (None if event_id is None else str(event_id))
    assert event.retry == retry


@settings(max_examples=200)
@given(value=_json_containers)
def test_encoder_round_trip_json(value: object) -> None:
    events = decode(encode_event(value, event="e"))
    assert len(events) == 1
    assert events[0].json() == value
    assert json.loads(events[0].data) == value
