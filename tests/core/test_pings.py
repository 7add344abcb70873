"""Upstream keep-alive pings: skipped by default (as anthropic does), surfaced on request for web heartbeats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

import claude_web
from claude_web.web_stream import browser_events, surface_pings

PARAMS: dict[str, Any] = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def quiet_stream(pings: int, gap: float) -> Iterator[bytes]:
    """A stream where Claude is quiet for a while (only pings) before it answers."""
    yield _sse(
        "message_start",
        '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
        '"model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
        '"usage":{"input_tokens":3,"output_tokens":1}}}',
    )
    yield _sse(
        "content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
    )
    for _ in range(pings):
        time.sleep(gap)
        yield _sse("ping", '{"type": "ping"}')
    yield _sse(
        "content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}'
    )
    yield _sse("content_block_stop", '{"type":"content_block_stop","index":0}')
    yield _sse(
        "message_delta",
        '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}',
    )
    yield _sse("message_stop", '{"type":"message_stop"}')


def client_for(pings: int, gap: float = 0.0) -> claude_web.Anthropic:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=quiet_stream(pings, gap))

    return claude_web.Anthropic(
        api_key="k",
        base_url="http://fake",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def test_pings_are_skipped_by_default() -> None:
    with client_for(3).messages.stream(**PARAMS) as stream:
        kinds = [e.type for e in stream]
    assert "ping" not in kinds and kinds[-1] == "message_stop"


def test_surfaced_pings_do_not_change_the_message() -> None:
    with client_for(3).messages.stream(**PARAMS) as stream:
        surface_pings(stream)
        kinds = [e.type for e in stream]
        final = stream.get_final_message()
    assert kinds.count("ping") == 3
    assert final.content[0].type == "text" and final.content[0].text == "ok" and final.usage.output_tokens == 2


def test_browser_events_mark_heartbeat_moments_only_when_asked() -> None:
    with client_for(2).messages.stream(**PARAMS) as stream:
        plain = [name for name, _ in browser_events(stream)]
    with client_for(2).messages.stream(**PARAMS) as stream:
        paced = [name for name, _ in browser_events(stream, heartbeats=True)]
    assert "heartbeat" not in plain
    assert paced.count("heartbeat") == 2
    assert [n for n in paced if n != "heartbeat"] == plain == ["start", "text", "done"]
