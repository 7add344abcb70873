"""The browser-facing SSE encoder: exact bytes, ids, retry, heartbeats."""

from __future__ import annotations

import pytest

from claude_web._sse import SSEDecoder
from claude_web.sse_encoder import SSE_HEADERS, SSEStreamEncoder, encode_comment, encode_event


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_headers() -> None:
    assert SSE_HEADERS == {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    }


def test_json_data_is_compact_and_not_ascii_escaped() -> None:
    out = encode_event({"text": "h\u00e9llo \u20ac", "n": [1, 2]}, event="delta")
    assert out == 'event: delta\ndata: {"text":"h\u00e9llo \u20ac","n":[1,2]}\n\n'.encode()


def test_non_str_scalars_are_json() -> None:
    assert encode_event(None) == b"data: null\n\n"
    assert encode_event(3) == b"data: 3\n\n"
    assert encode_event(["a\nb"]) == b'data: ["a\\nb"]\n\n'


def test_string_data_sent_as_is() -> None:
    assert encode_event("plain {not json}") == b"data: plain {not json}\n\n"
    assert encode_event("") == b"data:\n\n"


def test_multi_line_string_data() -> None:
    out = encode_event("one\ntwo\r\nthree\rfour\n", event="text")
    assert out == b"event: text\ndata: one\ndata: two\ndata: three\ndata: four\ndata:\n\n"
    decoder = SSEDecoder()
    events = decoder.feed(out)
    assert [(e.event, e.data) for e in events] == [("text", "one\ntwo\nthree\nfour\n")]


def test_other_unicode_line_separators_are_not_split() -> None:
    # str.splitlines would split here; SSE parsers do not
    assert encode_event("a\u2028b\x0bc") == "data: a\u2028b\x0bc\n\n".encode()


def test_field_order_and_id_retry() -> None:
    assert encode_event("x", event="e", id=7, retry=1500) == b"event: e\nid: 7\nretry: 1500\ndata: x\n\n"
    assert encode_event("x", id="abc") == b"id: abc\ndata: x\n\n"


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "\r\n", "x\n"])
def test_cr_lf_in_event_name_or_id_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        encode_event("x", event=bad)
    with pytest.raises(ValueError, match="CR or LF"):
        encode_event("x", id=bad)


def test_nul_in_id_and_bad_retry_rejected() -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode_event("x", id="a\0b")
    with pytest.raises(ValueError):
        encode_event("x", retry=-1)
    with pytest.raises(ValueError):
        encode_event("x", retry=True)


def test_comments() -> None:
    assert encode_comment("ping") == b": ping\n\n"
    assert encode_comment() == b":\n\n"
    assert encode_comment("a\nb\r\nc") == b": a\n: b\n: c\n\n"
    assert encode_comment("\u00e9") == ": \u00e9\n\n".encode()
    decoder = SSEDecoder()
    events = decoder.feed(encode_comment("a\nb") + encode_event("x", event="e"))
    assert [(e.event, e.data) for e in events] == [("e", "x")]
    assert not decoder.pending


def test_stream_ids_increase_from_one() -> None:
    enc = SSEStreamEncoder()
    assert enc.last_id == 0
    first = enc.event("a", {"i": 1})
    second = enc.event("b", "two")
    assert first == b'event: a\nid: 1\ndata: {"i":1}\n\n'
    assert second == b"event: b\nid: 2\ndata: two\n\n"
    assert enc.last_id == 2
    events = SSEDecoder().feed(first + second)
    assert [(e.event, e.id) for e in events] == [("a", "1"), ("b", "2")]


def test_stream_resumes_after_start_id() -> None:
    enc = SSEStreamEncoder(start_id=41)
    assert enc.last_id == 41
    assert b"id: 42\n" in enc.event("a", 1)
    assert enc.last_id == 42


def test_retry_on_first_event_only() -> None:
    enc = SSEStreamEncoder(retry=2500)
    first, second = enc.event("a", 1), enc.event("a", 2)
    assert b"retry: 2500\n" in first
    assert b"retry" not in second
    assert b"retry" not in SSEStreamEncoder().event("a", 1)


def test_retry_kept_when_first_event_is_rejected() -> None:
    enc = SSEStreamEncoder(retry=10)
    with pytest.raises(ValueError):
        enc.event("bad\nname", 1)
    assert enc.last_id == 0
    assert b"retry: 10\n" in enc.event("good", 1)
    assert enc.last_id == 1


def test_heartbeat_timing_with_fake_clock() -> None:
    clock = FakeClock()
    enc = SSEStreamEncoder(heartbeat=10.0, clock=clock)
    assert not enc.heartbeat_due()
    assert enc.seconds_until_heartbeat() == 10.0
    clock.now += 9.9
    assert not enc.heartbeat_due()
    clock.now += 0.1
    assert enc.heartbeat_due()
    assert enc.seconds_until_heartbeat() == 0.0
    beat = enc.heartbeat()
    assert beat.startswith(b":") and beat.endswith(b"\n\n")
    assert SSEDecoder().feed(beat) == []
    assert not enc.heartbeat_due()  # heartbeat resets the timer
    assert enc.last_id == 0  # heartbeats carry no id
    clock.now += 7
    enc.event("a", 1)  # any event resets it too
    clock.now += 7
    assert not enc.heartbeat_due()
    assert enc.seconds_until_heartbeat() == pytest.approx(3.0)
    clock.now += 3
    assert enc.heartbeat_due()


def test_invalid_heartbeat_interval() -> None:
    with pytest.raises(ValueError):
        SSEStreamEncoder(heartbeat=0)
    with pytest.raises(ValueError):
        SSEStreamEncoder(retry=-5)
