"""FakeClaude over a real loopback socket with plain httpx: wire format, streams, faults, validation, models,
batches, recording, the control API of a subprocess server, and the in-process transports."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from claude_web.testing import (
    FakeClaude,
    RecordedRequest,
    delay,
    error,
    message,
    reply_from_json,
    reset,
    text,
    thinking,
    tool_use,
)

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"x-api-key": "sk-test-key", "anthropic-version": "2023-06-01"}
BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "Why is the sky blue during the day?"}],
}
STREAM = {**BODY, "stream": True}


@pytest.fixture
def http(fake_claude: FakeClaude) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_claude.base_url, headers=HEADERS, timeout=10) as client:
        yield client


def parse_sse(raw: str) -> list[tuple[str, str]]:
    """(event name, raw data) pairs, parsed by hand."""
    events: list[tuple[str, str]] = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((name, "\n".join(data)))
    return events


def sse_json(raw: str) -> list[tuple[str, Any]]:
    return [(name, json.loads(data)) for name, data in parse_sse(raw)]


def stream_names(raw: str) -> list[str]:
    return [name for name, _ in parse_sse(raw)]


# -- default replies -------------------------------------------------------------------------------------------


def test_default_reply_shape(fake_claude: FakeClaude, http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    request_id = response.headers["request-id"]
    assert request_id.startswith("req_") and len(request_id) == 4 + 24 and request_id[4:].isalnum()
    assert response.headers["anthropic-organization-id"]
    data = response.json()
    assert list(data) == ["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"]
    assert data["id"].startswith("msg_") and len(data["id"]) == 28
    assert data["type"] == "message" and data["role"] == "assistant" and data["model"] == "claude-sonnet-4-5"
    assert data["stop_reason"] == "end_turn" and data["stop_sequence"] is None
    [block] = data["content"]
    assert list(block) == ["type", "text"] and block["type"] == "text"
    assert '"Why is the sky blue during the day?"' in block["text"]
    assert 2 <= block["text"].count(". ") + 1 <= 5
    usage = data["usage"]
    question_chars = len(BODY["messages"][0]["content"])
    assert usage["input_tokens"] == max(1, question_chars // 4) + 3
    assert usage["output_tokens"] == max(1, len(block["text"]) // 4)
    assert usage["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    assert usage["cache_read_input_tokens"] == 0 and usage["service_tier"] == "standard"


def test_default_reply_is_deterministic_and_quotes_block_content(http: httpx.Client) -> None:
    body = {
        **BODY,
        "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "A much longer follow-up question that goes on and on"}],
            },
        ],
    }
    first = http.post("/v1/messages", json=body).json()["content"][0]["text"]
    second = http.post("/v1/messages", json=body).json()["content"][0]["text"]
    assert first == second
    assert '"A much longer follow-up question that go..."' in first
    assert "first question" not in first


def test_default_stream_is_word_chunked(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=STREAM)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = sse_json(response.text)
    deltas = [d["delta"]["text"] for name, d in events if name == "content_block_delta"]
    assert 6 <= len(deltas) <= 40
    assert all(1 <= len(piece.split()) <= 4 for piece in deltas)
    whole = http.post("/v1/messages", json=BODY).json()["content"][0]["text"]
    assert "".join(deltas) == whole


# -- streams -----------------------------------------------------------------------------------------------------


def test_text_stream_event_order_and_payloads(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("Hello there, how are you?", chunks=3, usage={"input_tokens": 11, "output_tokens": 7}))
    raw = http.post("/v1/messages", json=STREAM).text
    assert raw.endswith("\n\n")
    events = sse_json(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["stop_sequence"] is None
    assert start["usage"]["input_tokens"] == 11 and start["model"] == "claude-sonnet-4-5"
    assert events[1][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert 'data: {"type": "ping"}' in raw
    pieces = [d["delta"]["text"] for _, d in events[3:6]]
    assert "".join(pieces) == "Hello there, how are you?" and [len(p) for p in pieces] == [9, 8, 8]
    assert events[6][1] == {"type": "content_block_stop", "index": 0}
    assert events[7][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 7},
    }
    assert events[8][1] == {"type": "message_stop"}


def test_chunks_are_capped_at_the_text_length(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("abc", chunks=10))
    deltas = [d for name, d in sse_json(http.post("/v1/messages", json=STREAM).text) if name == "content_block_delta"]
    assert [d["delta"]["text"] for d in deltas] == ["a", "b", "c"]


def test_tool_use_stream_and_message(fake_claude: FakeClaude, http: httpx.Client) -> None:
    args = {"city": "Paris", "days": [1, 2, 3], "nested": {"a": None}}
    reply = tool_use("get_weather", args, text="Let me check.", chunks=5)
    fake_claude.queue(reply, reply)
    events = sse_json(http.post("/v1/messages", json=STREAM).text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names.count("ping") == 1
    tool_start = next(d for name, d in events if name == "content_block_start" and d["index"] == 1)
    block = tool_start["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "get_weather" and block["input"] == {}
    assert block["id"].startswith("toolu_") and len(block["id"]) == 30
    partial = [
        d["delta"]["partial_json"]
        for name, d in events
        if name == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert len(partial) == 5 and json.loads("".join(partial)) == args and "".join(partial) == json.dumps(args)
    assert all(d["index"] == 1 for name, d in events if name == "content_block_delta" and "partial_json" in d["delta"])
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    data = http.post("/v1/messages", json=BODY).json()
    assert data["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": block["id"], "name": "get_weather", "input": args},
    ]
    assert data["stop_reason"] == "tool_use"


def test_thinking_stream_order(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(thinking("Let me reason about it.", "The answer is 4.", signature="sig-abc", chunks=4))
    events = sse_json(http.post("/v1/messages", json=STREAM).text)
    shape = [
        (name, d.get("index"), d["delta"]["type"] if name == "content_block_delta" else None) for name, d in events
    ]
    assert shape[:8] == [
        ("message_start", None, None),
        ("content_block_start", 0, None),
        ("ping", None, None),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "signature_delta"),
    ]
    assert shape[8] == ("content_block_stop", 0, None) and shape[9] == ("content_block_start", 1, None)
    assert events[1][1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert "".join(d["delta"]["thinking"] for _, d in events[3:7]) == "Let me reason about it."
    assert events[7][1]["delta"] == {"type": "signature_delta", "signature": "sig-abc"}
    texts = [d["delta"]["text"] for name, d in events if name == "content_block_delta" and d["index"] == 1]
    assert "".join(texts) == "The answer is 4."


def test_thinking_message_has_default_signature(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(thinking("hmm", "yes"))
    content = http.post("/v1/messages", json=BODY).json()["content"]
    assert content[0]["type"] == "thinking" and content[0]["thinking"] == "hmm"
    assert len(content[0]["signature"]) > 40 and content[1] == {"type": "text", "text": "yes"}


def test_raw_message_blocks_pass_through(fake_claude: FakeClaude, http: httpx.Client) -> None:
    blocks = [{"type": "text", "text": "hi", "future_field": {"x": 1}}, {"type": "future_block", "data": [1, 2]}]
    fake_claude.queue(message(blocks, stop_reason="max_tokens"), message(blocks))
    data = http.post("/v1/messages", json=BODY).json()
    assert data["content"] == blocks and data["stop_reason"] == "max_tokens"
    events = sse_json(http.post("/v1/messages", json=STREAM).text)
    future = [d for name, d in events if name == "content_block_start" and d["index"] == 1]
    assert future == [{"type": "content_block_start", "index": 1, "content_block": blocks[1]}]
    assert ("content_block_stop", {"type": "content_block_stop", "index": 1}) in events


def test_stream_options_are_ignored_without_stream(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("plain answer", chunks=2, error_after=1, drop_after=1, event_delay=1.0))
    started = time.monotonic()
    response = http.post("/v1/messages", json=BODY)
    assert time.monotonic() - started < 0.9
    assert response.status_code == 200 and response.json()["content"] == [{"type": "text", "text": "plain answer"}]


# -- stream faults -----------------------------------------------------------------------------------------------


def test_error_after_sends_an_error_event_and_ends_cleanly(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("a b c d e f", chunks=6, error_after=5, error_type="rate_limit_error"), text("next"))
    raw = http.post("/v1/messages", json=STREAM).text
    events = sse_json(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "error",
    ]
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": events[-1][1]["error"]["message"]},
    }
    assert events[-1][1]["error"]["message"]
    # the chunked body was terminated properly: the keep-alive connection still serves the next request
    assert http.post("/v1/messages", json=BODY).json()["content"][0]["text"] == "next"


def test_drop_after_aborts_the_connection(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("one two three four", chunks=4, drop_after=5))
    lines: list[str] = []
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        with http.stream("POST", "/v1/messages", json=STREAM) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                lines.append(line)
    names = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
    assert names == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta"]
    # a drop is the fake's doing, not a client going away
    assert fake_claude.streams_aborted == 0


def test_malformed_after_inserts_a_broken_line_and_continues(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("x y z", chunks=3, malformed_after=4))
    raw = http.post("/v1/messages", json=STREAM).text
    events = parse_sse(raw)
    assert events[4] == ("content_block_delta", "{not json")
    assert [name for name, _ in events][-2:] == ["message_delta", "message_stop"]
    good = [json.loads(data) for name, data in events if data != "{not json"]
    assert "".join(d["delta"]["text"] for d in good if d["type"] == "content_block_delta") == "x y z"


def test_event_delay_spaces_events(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("a b c", chunks=3, event_delay=0.05))
    arrivals: list[float] = []
    started = time.monotonic()
    with http.stream("POST", "/v1/messages", json=STREAM) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 9
    assert arrivals[-1] >= 9 * 0.05 * 0.9
    assert arrivals[-1] - arrivals[0] >= 8 * 0.05 * 0.9, "events were sent as they were produced, not at the end"


def test_client_disconnect_mid_stream_counts_as_aborted(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text(" ".join(f"w{i}" for i in range(300)), chunks=300, event_delay=0.01))
    assert fake_claude.streams_aborted == 0
    with http.stream("POST", "/v1/messages", json=STREAM) as response:
        for i, _ in enumerate(response.iter_lines()):
            if i == 10:
                break
    assert fake_claude.wait_for_stream_abort(timeout=5.0)
    assert fake_claude.streams_aborted == 1
    fake_claude.clear()
    assert fake_claude.streams_aborted == 0
    assert not fake_claude.wait_for_stream_abort(timeout=0.05)


def test_client_reset_mid_stream_counts_as_aborted(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text("word " * 200, chunks=200, event_delay=0.01))
    body = json.dumps(STREAM).encode()
    sock = socket.create_connection(("127.0.0.1", int(fake_claude.base_url.rsplit(":", 1)[1])), timeout=5)
    sock.sendall(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
        b"content-type: application/json\r\n" + f"content-length: {len(body)}\r\n\r\n".encode() + body
    )
    received = b""
    while b"content_block_delta" not in received:
        chunk = sock.recv(4096)
        assert chunk
        received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in received.lower()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    assert fake_claude.wait_for_stream_abort(timeout=5.0)


# -- validation --------------------------------------------------------------------------------------------------


def _error_body(response: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    assert list(data) == ["type", "error", "request_id"] and data["type"] == "error"
    assert data["request_id"] == response.headers["request-id"]
    return data["error"]  # type: ignore[no-any-return]


def test_missing_api_key_is_401(fake_claude: FakeClaude) -> None:
    response = httpx.post(f"{fake_claude.base_url}/v1/messages", json=BODY, headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 401
    assert _error_body(response) == {"type": "authentication_error", "message": "x-api-key header is required"}
    bearer = httpx.post(
        f"{fake_claude.base_url}/v1/messages",
        json=BODY,
        headers={"anthropic-version": "2023-06-01", "authorization": "Bearer tok"},
    )
    assert bearer.status_code == 200


def test_missing_version_is_400(fake_claude: FakeClaude) -> None:
    response = httpx.post(f"{fake_claude.base_url}/v1/messages", json=BODY, headers={"x-api-key": "k"})
    assert response.status_code == 400
    assert _error_body(response) == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "ten"}, "max_tokens"),
        ({"max_tokens": None}, "max_tokens"),
        ({"model": None}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": None}, "messages"),
        ({"messages": "hi"}, "messages"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(
    fake_claude: FakeClaude, http: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    fake_claude.queue(text("kept for the next valid request"))
    response = http.post("/v1/messages", json=body)
    assert response.status_code == 400
    err = _error_body(response)
    assert err["type"] == "invalid_request_error" and err["message"].startswith(f"{field}:")
    if change == {"max_tokens": 0}:
        assert err["message"] == "max_tokens: Input should be greater than or equal to 1"
    assert http.post("/v1/messages", json=BODY).json()["content"][0]["text"] == "kept for the next valid request"


def test_non_json_body_is_400_and_unknown_route_404(http: httpx.Client) -> None:
    response = http.post("/v1/messages", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and _error_body(response)["type"] == "invalid_request_error"
    missing = http.get("/v1/nothing-here")
    assert missing.status_code == 404 and _error_body(missing)["type"] == "not_found_error"
    wrong_method = http.get("/v1/messages")
    assert wrong_method.status_code == 404 and _error_body(wrong_method)["type"] == "not_found_error"


def test_count_tokens(fake_claude: FakeClaude, http: httpx.Client) -> None:
    body = {"model": "m", "system": "s" * 40, "messages": [{"role": "user", "content": "x" * 80}]}
    response = http.post("/v1/messages/count_tokens", json=body)
    assert response.status_code == 200 and response.json() == {"input_tokens": 120 // 4 + 3}
    bad = http.post("/v1/messages/count_tokens", json={"model": "m"})
    assert bad.status_code == 400 and "messages" in _error_body(bad)["message"]
    assert fake_claude.last_request.path == "/v1/messages/count_tokens"


# -- scripted errors, resets, delays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "timeout_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
        (418, "api_error"),
    ],
)
def test_scripted_error_types(fake_claude: FakeClaude, http: httpx.Client, status: int, kind: str) -> None:
    fake_claude.queue(error(status))
    response = http.post("/v1/messages", json=BODY)
    assert response.status_code == status
    err = _error_body(response)
    assert err["type"] == kind and err["message"]


def test_error_headers_message_and_any_route(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(error(529, headers={"retry-after-ms": "10"}), error(429, type="custom_error", message="slow"))
    fake_claude.queue(text("for messages only"))
    overloaded = http.get("/v1/models")  # errors apply to whatever request comes next
    assert overloaded.status_code == 529 and overloaded.headers["retry-after-ms"] == "10"
    assert _error_body(overloaded) == {"type": "overloaded_error", "message": "Overloaded"}
    limited = http.post("/v1/messages/count_tokens", json=BODY)
    assert limited.status_code == 429 and _error_body(limited) == {"type": "custom_error", "message": "slow"}
    assert http.get("/v1/models").status_code == 200  # a text reply waits for POST /v1/messages
    assert http.post("/v1/messages", json=BODY).json()["content"][0]["text"] == "for messages only"
    assert fake_claude.queued == 0


def test_fail_next(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.fail_next(2, status=503, headers={"x-should-retry": "true"})
    codes = [http.post("/v1/messages", json=BODY).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    fake_claude.fail_next(1)
    assert http.post("/v1/messages", json=BODY).status_code == 529


def test_reset_closes_without_a_response(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(reset(), text("after the reset"))
    with pytest.raises(httpx.TransportError):
        http.post("/v1/messages", json=BODY)
    assert http.post("/v1/messages", json=BODY).json()["content"][0]["text"] == "after the reset"
    assert len(fake_claude.requests) == 2


def test_delay_then_reply_and_timeout(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(delay(0.3, then=text("late")), delay(0.2))
    started = time.monotonic()
    assert http.post("/v1/messages", json=BODY).json()["content"][0]["text"] == "late"
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    assert http.get("/v1/models").status_code == 200
    assert time.monotonic() - started >= 0.19
    fake_claude.queue(delay(1.0, then=error(500)))
    with pytest.raises(httpx.ReadTimeout):
        http.post("/v1/messages", json=BODY, timeout=0.2)


def test_delay_then_reset(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(delay(0.1, then=reset()))
    started = time.monotonic()
    with pytest.raises(httpx.TransportError):
        http.post("/v1/messages", json=BODY)
    assert time.monotonic() - started >= 0.09


# -- models --------------------------------------------------------------------------------------------------------


def test_models_pagination(http: httpx.Client) -> None:
    first = http.get("/v1/models").json()
    assert len(first["data"]) == 20 and first["has_more"] is True
    assert first["first_id"] == first["data"][0]["id"] and first["last_id"] == first["data"][-1]["id"]
    rest = http.get("/v1/models", params={"after_id": first["last_id"]}).json()
    assert len(rest["data"]) == 5 and rest["has_more"] is False
    every = [m["id"] for m in first["data"] + rest["data"]]
    assert len(set(every)) == 25 and "claude-sonnet-4-5-20250929" in every
    created = [m["created_at"] for m in first["data"] + rest["data"]]
    assert created == sorted(created, reverse=True), "newest first"
    assert all(set(m) == {"type", "id", "display_name", "created_at"} and m["type"] == "model" for m in first["data"])
    page = http.get("/v1/models", params={"limit": 3, "after_id": every[2]}).json()
    assert [m["id"] for m in page["data"]] == every[3:6] and page["has_more"] is True
    before = http.get("/v1/models", params={"limit": 2, "before_id": every[5]}).json()
    assert [m["id"] for m in before["data"]] == every[3:5] and before["has_more"] is True
    start = http.get("/v1/models", params={"limit": 2, "before_id": every[2]}).json()
    assert [m["id"] for m in start["data"]] == every[0:2] and start["has_more"] is False
    assert http.get("/v1/models", params={"limit": 0}).status_code == 400
    assert http.get("/v1/models", params={"limit": 1001}).status_code == 400


def test_model_retrieve(http: httpx.Client) -> None:
    one = http.get("/v1/models/claude-opus-4-1-20250805")
    assert one.status_code == 200 and one.json()["display_name"] == "Claude Opus 4.1"
    alias = http.get("/v1/models/claude-sonnet-4-5")
    assert alias.json()["id"] == "claude-sonnet-4-5-20250929"
    missing = http.get("/v1/models/no-such-model")
    assert missing.status_code == 404 and _error_body(missing)["type"] == "not_found_error"


# -- batches -------------------------------------------------------------------------------------------------------


def _batch_body(n: int) -> dict[str, Any]:
    return {"requests": [{"custom_id": f"r{i}", "params": {**BODY, "model": "claude-haiku-4-5"}} for i in range(n)]}


def test_batch_lifecycle(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.batch_polls_until_end = 2
    created = http.post("/v1/messages/batches", json=_batch_body(3)).json()
    assert created["id"].startswith("msgbatch_") and created["type"] == "message_batch"
    assert created["processing_status"] == "in_progress" and created["results_url"] is None
    assert created["request_counts"] == {"processing": 3, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    assert created["ended_at"] is None and created["created_at"].endswith("Z") and created["expires_at"]
    batch_id = created["id"]
    refused = http.delete(f"/v1/messages/batches/{batch_id}")
    assert refused.status_code == 400 and _error_body(refused)["type"] == "invalid_request_error"
    early = http.get(f"/v1/messages/batches/{batch_id}/results")
    assert early.status_code >= 400
    assert http.get(f"/v1/messages/batches/{batch_id}").json()["processing_status"] == "in_progress"
    ended = http.get(f"/v1/messages/batches/{batch_id}").json()
    assert ended["processing_status"] == "ended" and ended["ended_at"]
    assert ended["request_counts"]["succeeded"] == 3 and ended["request_counts"]["processing"] == 0
    assert ended["results_url"] == f"{fake_claude.base_url}/v1/messages/batches/{batch_id}/results"
    results = http.get(f"/v1/messages/batches/{batch_id}/results")
    assert results.status_code == 200 and results.headers["content-type"] == "application/x-jsonl"
    lines = [json.loads(line) for line in results.text.splitlines() if line]
    assert [r["custom_id"] for r in lines] == ["r0", "r1", "r2"]
    assert all(
        r["result"]["type"] == "succeeded"
        and r["result"]["message"]["type"] == "message"
        and r["result"]["message"]["model"] == "claude-haiku-4-5"
        for r in lines
    )
    listed = http.get("/v1/messages/batches").json()
    assert [b["id"] for b in listed["data"]] == [batch_id] and listed["has_more"] is False
    deleted = http.delete(f"/v1/messages/batches/{batch_id}")
    assert deleted.json() == {"id": batch_id, "type": "message_batch_deleted"}
    assert http.get(f"/v1/messages/batches/{batch_id}").status_code == 404
    assert http.get(f"/v1/messages/batches/{batch_id}/results").status_code == 404


def test_batch_cancel_and_list_order(fake_claude: FakeClaude, http: httpx.Client) -> None:
    first = http.post("/v1/messages/batches", json=_batch_body(1)).json()["id"]
    second = http.post("/v1/messages/batches", json=_batch_body(2)).json()["id"]
    listed = http.get("/v1/messages/batches", params={"limit": 1}).json()
    assert [b["id"] for b in listed["data"]] == [second] and listed["has_more"] is True
    nxt = http.get("/v1/messages/batches", params={"limit": 1, "after_id": second}).json()
    assert [b["id"] for b in nxt["data"]] == [first]
    canceling = http.post(f"/v1/messages/batches/{second}/cancel").json()
    assert canceling["processing_status"] == "canceling" and canceling["cancel_initiated_at"]
    ended = http.get(f"/v1/messages/batches/{second}").json()
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"]["canceled"] == 2 and ended["request_counts"]["succeeded"] == 0
    results = [json.loads(x) for x in http.get(f"/v1/messages/batches/{second}/results").text.splitlines()]
    assert [r["result"] for r in results] == [{"type": "canceled"}, {"type": "canceled"}]
    bad = http.post("/v1/messages/batches", json={"requests": [{"custom_id": "a", "params": {"model": "m"}}]})
    assert bad.status_code == 400 and "requests.0.params" in _error_body(bad)["message"]
    fake_claude.clear()
    assert http.get(f"/v1/messages/batches/{first}").status_code == 404


# -- recording ---------------------------------------------------------------------------------------------------


def test_requests_are_recorded(fake_claude: FakeClaude, http: httpx.Client) -> None:
    with pytest.raises(AssertionError, match="not received any request"):
        _ = fake_claude.last_request
    before = time.time()
    http.post("/v1/messages", json=BODY, params={"debug": "yes"}, headers={"X-Custom": "Value"})
    http.get("/v1/models", params={"limit": 2})
    httpx.get(f"{fake_claude.base_url}/_fake/requests")  # control calls are not recorded
    recorded = fake_claude.requests
    assert len(recorded) == 2
    first = recorded[0]
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST" and first.path == "/v1/messages" and first.query == {"debug": "yes"}
    assert first.headers["x-custom"] == "Value" and first.headers["x-api-key"] == "sk-test-key"
    assert first.json == BODY and json.loads(first.body) == BODY
    assert before <= first.received_at <= time.time()
    assert fake_claude.last_request.path == "/v1/models" and fake_claude.last_request.json is None
    recorded.clear()  # a copy
    assert len(fake_claude.requests) == 2
    assert RecordedRequest.from_json(json.loads(json.dumps(first.to_json()))) == first
    with pytest.raises(dataclass_frozen_error()):
        first.path = "/changed"  # type: ignore[misc]


def dataclass_frozen_error() -> type[Exception]:
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_clear_forgets_everything(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(error(500), text("x"))
    fake_claude.batch_polls_until_end = 5
    http.get("/v1/models")
    fake_claude.clear()
    assert fake_claude.requests == [] and fake_claude.queued == 0 and fake_claude.batch_polls_until_end == 1
    assert http.post("/v1/messages", json=BODY).status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(fake_claude: FakeClaude) -> None:
    port = int(fake_claude.base_url.rsplit(":", 1)[1])
    body = json.dumps(BODY).encode()
    request = (
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(request)
            status = reader.readline()
            assert status == b"HTTP/1.1 200 OK\r\n"
            length = 0
            while (line := reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert json.loads(reader.read(length))["type"] == "message"
    assert len(fake_claude.requests) == 3


def test_concurrent_clients(fake_claude: FakeClaude) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with httpx.Client(base_url=fake_claude.base_url, headers=HEADERS) as client:
                for _ in range(20):
                    assert client.post("/v1/messages", json=STREAM).text.endswith('data: {"type":"message_stop"}\n\n')
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(fake_claude.requests) == 160


# -- replies serialise ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        text(
            "hello",
            chunks=2,
            usage={"output_tokens": 3},
            event_delay=0.01,
            error_after=3,
            drop_after=4,
            malformed_after=1,
            error_type="api_error",
        ),
        tool_use("calc", {"a": 1}, text="Computing", chunks=3, id="toolu_fixed"),
        thinking("think", "answer", signature="sig"),
        message([{"type": "future", "x": 1}], stop_reason=None),
        error(529, headers={"retry-after": "1"}),
        reset(),
        delay(0.5, then=error(500, message="m")),
        delay(0.1),
    ],
)
def test_replies_round_trip_through_json(reply: Any) -> None:
    data = json.loads(json.dumps(reply.to_json()))
    assert reply_from_json(data) == reply
    assert reply_from_json(json.dumps(data)) == reply


def test_builders_validate_arguments() -> None:
    with pytest.raises(ValueError):
        text("x", chunks=0)
    with pytest.raises(ValueError):
        delay(-1)
    with pytest.raises(ValueError):
        reply_from_json({"kind": "nope"})
    with pytest.raises(TypeError):
        FakeClaude().queue("not a reply")  # type: ignore[arg-type]


# -- transports ----------------------------------------------------------------------------------------------------


def _strip_request_id(headers: httpx.Headers) -> list[tuple[str, str]]:
    skip = {"request-id", "content-length", "transfer-encoding"}
    return [(k, v) for k, v in headers.items() if k not in skip]


def _without(raw: str, ids: tuple[str, ...]) -> str:
    for request_id in ids:
        raw = raw.replace(request_id, "")
    return raw


def test_transport_matches_the_socket(fake_claude: FakeClaude, http: httpx.Client) -> None:
    reply = tool_use("lookup", {"q": "x" * 30}, text="Looking", chunks=4)
    streamed = text("same stream here", chunks=3, malformed_after=5)
    with httpx.Client(transport=fake_claude.transport(), base_url="http://fake.local", headers=HEADERS) as local:
        for payload, scripted in ((BODY, reply), (STREAM, streamed), (BODY, error(529))):
            fake_claude.queue(scripted)
            over_socket = http.post("/v1/messages", json=payload)
            fake_claude.queue(scripted)
            in_process = local.post("/v1/messages", json=payload)
            assert over_socket.status_code == in_process.status_code
            assert _strip_request_id(over_socket.headers) == _strip_request_id(in_process.headers)
            if scripted is not streamed and payload is BODY and over_socket.status_code == 200:
                assert over_socket.content == in_process.content
            else:
                ids = (over_socket.headers["request-id"], in_process.headers["request-id"])
                assert _without(over_socket.text, ids) == _without(in_process.text, ids)
        assert local.get("/v1/models", params={"limit": 5}).json() == http.get("/v1/models", params={"limit": 5}).json()
    assert [r.path for r in fake_claude.requests].count("/v1/messages") == 6


def test_transport_faults(fake_claude: FakeClaude) -> None:
    fake_claude.queue(reset(), text("a b c", chunks=3, drop_after=4), text("a b c d e", chunks=5, event_delay=0.01))
    with httpx.Client(transport=fake_claude.transport(), base_url="http://fake.local", headers=HEADERS) as local:
        with pytest.raises(httpx.RemoteProtocolError):
            local.post("/v1/messages", json=BODY)
        with pytest.raises(httpx.ReadError):
            local.post("/v1/messages", json=STREAM)
        assert fake_claude.streams_aborted == 0
        with local.stream("POST", "/v1/messages", json=STREAM) as response:
            next(response.iter_lines())
    assert fake_claude.streams_aborted == 1


async def test_async_transport(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text("async hello", chunks=2, event_delay=0.01), delay(0.05, then=error(500)))
    async with httpx.AsyncClient(
        transport=fake_claude.async_transport(), base_url="http://fake.local", headers=HEADERS
    ) as local:
        response = await local.post("/v1/messages", json=STREAM)
        assert response.headers["content-type"].startswith("text/event-stream")
        assert stream_names(response.text)[-1] == "message_stop"
        deltas = [d["delta"]["text"] for name, d in sse_json(response.text) if name == "content_block_delta"]
        assert deltas == ["async ", "hello"]
        failed = await local.post("/v1/messages", json=BODY)
        assert failed.status_code == 500
        models = await local.get("/v1/models/claude-opus-4-1-20250805")
        assert models.json()["id"] == "claude-opus-4-1-20250805"
    assert len(fake_claude.requests) == 3


def test_transport_without_a_socket() -> None:
    fake = FakeClaude()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    with httpx.Client(transport=fake.transport(), base_url="http://x", headers=HEADERS) as local:
        assert local.post("/v1/messages", json=BODY).json()["type"] == "message"
    assert len(fake.requests) == 1


def test_start_stop_and_context_manager() -> None:
    fake = FakeClaude().start()
    try:
        url = fake.base_url
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/")
        assert httpx.get(f"{url}/v1/models", headers=HEADERS).status_code == 200
    finally:
        fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/models", headers=HEADERS, timeout=2)
    with FakeClaude() as other:
        assert other.base_url != url or other.running


# -- the CLI and the control API -------------------------------------------------------------------------------------


@pytest.fixture
def subprocess_fake() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_web.testing", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("FakeClaude listening on http://127.0.0.1:"), line
        yield proc, line.split()[-1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_cli_server_and_remote_control(subprocess_fake: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = subprocess_fake
    remote = FakeClaude.connect(url)
    assert remote.base_url == url
    remote.queue(
        text("from afar", chunks=2),
        error(529, headers={"retry-after-ms": "5"}),
        tool_use("t", {"k": [1, 2]}, id="toolu_remote"),
    )
    with httpx.Client(base_url=url, headers=HEADERS) as http:
        events = sse_json(http.post("/v1/messages", json=STREAM).text)
        assert [d["delta"]["text"] for n, d in events if n == "content_block_delta"] == ["from ", "afar"]
        overloaded = http.post("/v1/messages", json=BODY)
        assert overloaded.status_code == 529 and overloaded.headers["retry-after-ms"] == "5"
        block = http.post("/v1/messages", json=BODY, params={"x": "1"}).json()["content"][0]
        assert block == {"type": "tool_use", "id": "toolu_remote", "name": "t", "input": {"k": [1, 2]}}
    recorded = remote.requests
    assert [r.path for r in recorded] == ["/v1/messages"] * 3
    assert recorded[-1].query == {"x": "1"} and recorded[-1].json == BODY
    assert recorded[0].headers["x-api-key"] == "sk-test-key"
    remote.clear()
    assert remote.requests == [] and remote.streams_aborted == 0
    bad = httpx.post(f"{url}/_fake/queue", json=[{"kind": "bogus"}])
    assert bad.status_code == 400
    remote.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_cli_exits_cleanly_on_sigint(subprocess_fake: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = subprocess_fake
    assert httpx.get(f"{url}/v1/models", headers=HEADERS).status_code == 200
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0


# -- the pytest plugin -----------------------------------------------------------------------------------------------


def test_plugin_fixture_starts_clean(fake_claude: FakeClaude, fake_claude_base_url: str) -> None:
    assert fake_claude_base_url == fake_claude.base_url
    assert fake_claude.requests == [] and fake_claude.queued == 0 and fake_claude.streams_aborted == 0
    fake_claude.queue(text("left behind on purpose"))  # the next test must not see it


def test_plugin_fixture_starts_clean_again(fake_claude: FakeClaude) -> None:
    assert fake_claude.queued == 0 and fake_claude.requests == []


def test_default_reply_calls_a_fitting_tool_then_summarises_its_result() -> None:
    from claude_web import Anthropic

    tools = [
        {
            "name": "calculator",
            "description": "Evaluate arithmetic",
            "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
        },
        {
            "name": "get_weather",
            "description": "Weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    ]
    with FakeClaude() as fake:
        client = Anthropic(api_key="k", base_url=fake.base_url)
        first = client.messages.create(
            model="m",
            max_tokens=100,
            tools=tools,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "What is (12 + 30) * 2?"}],
        )
        assert first.stop_reason == "tool_use"
        call = first.content[1]
        assert call.type == "tool_use" and call.name == "calculator" and call.input == {"expression": "(12 + 30) * 2"}
        weather = client.messages.create(
            model="m",
            max_tokens=100,
            tools=tools,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Weather in Paris please"}],
        )
        assert weather.content[1].type == "tool_use" and weather.content[1].input == {"city": "Paris"}
        second = client.messages.create(
            model="m",
            max_tokens=100,
            tools=tools,
            messages=[  # type: ignore[arg-type]
                {"role": "user", "content": "What is (12 + 30) * 2?"},
                {"role": "assistant", "content": [b.to_dict() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "84"}]},
            ],
        )
        assert second.stop_reason == "end_turn" and "84" in second.content[0].text  # type: ignore[union-attr]
        plain = client.messages.create(
            model="m",
            max_tokens=100,
            tools=tools,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "tell me a story"}],
        )
        assert plain.content[0].type == "text" and plain.stop_reason == "end_turn"


def test_default_event_delay_paces_unscripted_streams() -> None:
    import time as _time

    with FakeClaude() as fake:
        fake.default_event_delay = 0.02
        stamps = []
        with (
            httpx.Client(base_url=fake.base_url) as http,
            http.stream(
                "POST",
                "/v1/messages",
                headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
                json={
                    "model": "m",
                    "max_tokens": 50,
                    "stream": True,
                    "messages": [{"role": "user", "content": "pace me"}],
                },
            ) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("event:"):
                    stamps.append(_time.monotonic())
        assert len(stamps) > 5
        assert stamps[-1] - stamps[0] >= 0.02 * (len(stamps) - 2)
