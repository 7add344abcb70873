"""Streaming over a real WSGI server: incremental delivery, headers, bad input, upstream errors, disconnects."""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

import httpx
import pytest
from flask import request
from flask_helpers import chat_body, parse_sse, post_stream

from claude_web.testing import error, text


def test_chat_streams_tokens_as_they_arrive(make_app: Any, serve: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("Hello there, how are you today?", chunks=6, event_delay=0.15))
    t = make_app()
    server = serve(t.app)
    response, chunks = post_stream(f"{server.url}/claude/chat", chat_body("Hi"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["cache-control"] == "no-cache"
    assert len(response.headers["x-request-id"]) == 32
    events = parse_sse("".join(c for _, c in chunks))
    named = [e for e in events if "event" in e]
    assert named[0]["event"] == "start"
    assert [e["event"] for e in named].count("text") == 6
    assert "".join(e["data"]["text"] for e in named if e["event"] == "text") == "Hello there, how are you today?"
    assert named[-1]["event"] == "done"
    assert named[-1]["data"]["stop_reason"] == "end_turn"
    ids = [int(e["id"]) for e in named]
    assert ids == list(range(1, len(named) + 1))
    # incremental: the first text reached us long before the last one (0.15 s between upstream events)
    text_times = [ts for ts, chunk in chunks if "event: text" in chunk]
    assert len(text_times) >= 2
    assert text_times[-1] - text_times[0] > 0.4
    # the headers and a first comment went out before Claude's first event
    assert chunks[0][1].startswith(":")
    [record] = t.usage.wait(1)
    assert record.status == "ok"
    assert record.operation == "messages.stream"
    assert record.output_tokens > 0
    assert record.time_to_first_token_ms is not None


def test_malformed_bodies_get_400_naming_the_field_and_no_upstream_call(
    make_app: Any, serve: Any, fake_claude: Any
) -> None:
    t = make_app(CLAUDE_WEB_CHAT_MAX_TOKENS=100)
    server = serve(t.app)
    cases: list[tuple[Any, str]] = [
        (b"{not json", "body"),
        ([1, 2], "body"),
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages[0].content"),
        (chat_body(model="gpt-4"), "model"),
        (chat_body(max_tokens=101), "max_tokens"),
        (chat_body(max_tokens="9"), "max_tokens"),
        (chat_body(stream=True), "stream"),
    ]
    with httpx.Client(timeout=5) as client:
        for body, field in cases:
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            resp = client.post(
                f"{server.url}/claude/chat", content=content, headers={"content-type": "application/json"}
            )
            assert resp.status_code == 400, (body, resp.text)
            payload = resp.json()
            assert payload["error"]["type"] == "invalid_request"
            assert payload["error"]["field"] == field, (body, payload)
    assert fake_claude.requests == []
    assert t.usage.records == []


def test_upstream_error_becomes_a_safe_sse_error_and_an_error_record(
    make_app: Any, serve: Any, fake_claude: Any
) -> None:
    fake_claude.queue(error(529))
    t = make_app()
    server = serve(t.app)
    response, chunks = post_stream(f"{server.url}/claude/chat", chat_body())
    assert response.status_code == 200  # the stream had started; the failure is an event in it
    raw = "".join(c for _, c in chunks)
    named = [e for e in parse_sse(raw) if "event" in e]
    assert [e["event"] for e in named] == ["error"]
    assert named[0]["data"]["type"] == "overloaded_error"
    assert "overloaded" in named[0]["data"]["message"].lower()
    assert "fake-claude-web-key" not in raw and "Traceback" not in raw
    [record] = t.usage.wait(1)
    assert record.status == "error"
    assert record.error_type == "overloaded_error"


def test_browser_disconnect_closes_upstream_and_records_aborted(make_app: Any, serve: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("word " * 200, chunks=200, event_delay=0.05))  # ~10 s if read to the end
    t = make_app()
    server = serve(t.app)
    body = json.dumps(chat_body("tell me a long story")).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(
        b"POST /claude/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"event: text" not in received:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the stream before the first text event"
        received += chunk
    assert b"200" in received.split(b"\r\n", 1)[0]
    # hang up hard (RST), like a closed browser tab
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    started = time.monotonic()
    assert fake_claude.wait_for_stream_abort(timeout=5)
    assert time.monotonic() - started < 5
    records = t.usage.wait(1, timeout=5)
    time.sleep(0.3)
    records = list(t.usage.records)
    assert len(records) == 1, records
    assert records[0].status == "aborted"
    assert records[0].output_tokens < 200


def test_stream_response_from_an_app_view(make_app: Any, serve: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("Short answer", chunks=2))
    t = make_app()

    @t.app.post("/summarize")
    def summarize() -> Any:
        return t.claude.stream_response(
            model="claude-haiku-4-5",
            max_tokens=64,
            system="Be brief.",
            messages=[{"role": "user", "content": request.get_json()["text"]}],
        )

    server = serve(t.app)
    response, chunks = post_stream(f"{server.url}/summarize", {"text": "A long article"})
    named = [e for e in parse_sse("".join(c for _, c in chunks)) if "event" in e]
    assert "".join(e["data"]["text"] for e in named if e["event"] == "text") == "Short answer"
    sent = fake_claude.last_request
    assert sent is not None
    assert t.usage.wait(1)[0].context["path"] == "/summarize"


def test_heartbeats_only_when_due(make_app: Any, serve: Any, fake_claude: Any) -> None:
    slow = make_app(CLAUDE_WEB_STREAM_HEARTBEAT=0.05)
    fast = make_app()  # the default: 15 s
    slow_server, fast_server = serve(slow.app), serve(fast.app)
    fake_claude.queue(text("one two three four", chunks=4, event_delay=0.1))
    _, chunks = post_stream(f"{slow_server.url}/claude/chat", chat_body())
    events = parse_sse("".join(c for _, c in chunks))
    assert {"comment": "heartbeat"} in events
    texts = [e for e in events if e.get("event") == "text"]
    assert "".join(e["data"]["text"] for e in texts) == "one two three four"
    fake_claude.queue(text("one two three four", chunks=4, event_delay=0.1))
    _, chunks = post_stream(f"{fast_server.url}/claude/chat", chat_body())
    assert {"comment": "heartbeat"} not in parse_sse("".join(c for _, c in chunks))


def test_no_key_in_responses_or_logs_on_failure(make_app: Any, serve: Any, fake_claude: Any, caplog: Any) -> None:
    t = make_app(
        CLAUDE_WEB_CLIENTS={
            "default": {
                "BACKEND": "fake",
                "OPTIONS": {"base_url": fake_claude.base_url, "api_key": "sk-ant-api03-TOPSECRET", "max_retries": 0},
            }
        }
    )
    server = serve(t.app)
    fake_claude.queue(error(401), text("partial answer", chunks=4, error_after=3))
    with caplog.at_level("DEBUG"):
        _, first = post_stream(f"{server.url}/claude/chat", chat_body())
        _, second = post_stream(f"{server.url}/claude/chat", chat_body())
    assert fake_claude.requests[0].headers.get("x-api-key") == "sk-ant-api03-TOPSECRET"  # it was really used
    raw = "".join(c for _, c in first + second)
    errors = [e for e in parse_sse(raw) if e.get("event") == "error"]
    assert [e["data"]["type"] for e in errors] == ["authentication_error", "overloaded_error"]
    assert "TOPSECRET" not in raw
    assert "TOPSECRET" not in caplog.text
    assert [r.status for r in t.usage.wait(2)] == ["error", "error"]


def test_async_view_can_return_a_streamed_response(make_app: Any, serve: Any, fake_claude: Any) -> None:
    pytest.importorskip("asgiref")
    t = make_app()

    @t.app.post("/async-stream")
    async def async_stream() -> Any:
        return t.claude.stream_response(
            model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
        )

    server = serve(t.app)
    fake_claude.queue(text("from an async view", chunks=3))
    _, chunks = post_stream(f"{server.url}/async-stream", {})
    events = parse_sse("".join(c for _, c in chunks))
    assert "".join(e["data"]["text"] for e in events if e.get("event") == "text") == "from an async view"
    [record] = t.usage.wait(1)
    assert record.status == "ok" and record.context["path"] == "/async-stream"


def test_concurrent_streams_keep_their_own_request_metadata(make_app: Any, serve: Any, fake_claude: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    t = make_app(CLAUDE_WEB_USER_LOADER=lambda: request.headers.get("X-User"))
    server = serve(t.app)
    fake_claude.queue(*[text("same answer for all", chunks=5, event_delay=0.05) for _ in range(6)])

    def one(i: int) -> str:
        _, chunks = post_stream(
            f"{server.url}/claude/chat", chat_body(f"q{i}"), headers={"X-Request-ID": f"req-{i}", "X-User": f"user-{i}"}
        )
        events = parse_sse("".join(c for _, c in chunks))
        return "".join(e["data"]["text"] for e in events if e.get("event") == "text")

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(one, range(6)))
    assert answers == ["same answer for all"] * 6
    records = t.usage.wait(6)
    assert len(records) == 6
    pairs = sorted((r.context["request_id"], r.context["user_id"]) for r in records)
    assert pairs == sorted((f"req-{i}", f"user-{i}") for i in range(6))
    assert {r.status for r in records} == {"ok"}


def test_heartbeats_while_claude_is_quiet(make_app: Any, serve: Any, fake_claude: Any) -> None:
    """Only keep-alive pings upstream for ~0.8 s: the WSGI body still sends several heartbeat comments."""
    t = make_app(CLAUDE_WEB_STREAM_HEARTBEAT=0.15)
    server = serve(t.app)
    fake_claude.queue(text("finally an answer", chunks=2, pings=8, event_delay=0.1))
    _, chunks = post_stream(f"{server.url}/claude/chat", chat_body())
    events = parse_sse("".join(c for _, c in chunks))
    order = ["heartbeat" if e.get("comment") == "heartbeat" else e.get("event") for e in events]
    assert order.count("heartbeat") >= 3, order
    assert order.index("heartbeat") < order.index("text")
    assert order[-1] == "done"


def test_full_capacity_answers_503_fast_and_a_disconnect_frees_the_slot(
    make_app: Any, serve: Any, fake_claude: Any
) -> None:
    """CLAUDE_WEB_STREAM_MAX_STREAMS = 1 under a threaded WSGI server: a second stream gets 503 + Retry-After at
    once, without an upstream call; the browser hanging up mid-stream gives the slot back."""
    fake_claude.queue(text("word " * 200, chunks=200, event_delay=0.05))
    t = make_app(CLAUDE_WEB_STREAM_MAX_STREAMS=1)
    slots = t.app.extensions["claude_web"].runtime.streams
    server = serve(t.app)
    url = f"{server.url}/claude/chat"
    with httpx.Client(timeout=10) as http:
        with http.stream("POST", url, json=chat_body()) as response:
            lines = response.iter_lines()  # kept open: closing this iterator would hang up
            assert "event: text" in (next(lines) for _ in range(40))
            assert slots.used == 1
            upstream_calls = len(fake_claude.requests)
            started = time.monotonic()
            refused = http.post(url, json=chat_body())
            elapsed = time.monotonic() - started
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "2"
            assert refused.json()["error"]["type"] == "too_many_streams"
            assert elapsed < 1.0
            assert len(fake_claude.requests) == upstream_calls
        assert fake_claude.wait_for_stream_abort(timeout=10)
        deadline = time.monotonic() + 10
        while slots.used and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slots.used == 0, "the slot was not given back"
        fake_claude.queue(text("served again"))
        resp, chunks = post_stream(url, chat_body())
        assert resp.status_code == 200
        assert parse_sse("".join(c for _, c in chunks))[-1]["event"] == "done"
