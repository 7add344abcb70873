"""Differential tests of streams against anthropic==0.125.0: the helper events and their ``to_dict()`` (the
``input_json`` snapshot included), the ``Parsed*`` class names, an event whose data has no ``type``; and the
public way to ask a stream for Claude's keep-alive pings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

import claude_web
from claude_web.testing import FakeClaude, text, thinking, tool_use

LIBS = (claude_web, anthropic)
USER = [{"role": "user", "content": "Go"}]


def _strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("<id>" if k in ("id", "signature") and isinstance(v, str) else _strip_ids(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


def _helper_stream(fake: FakeClaude, reply: Callable[[], Any]) -> list[Any]:
    seen = []
    for lib in LIBS:
        fake.clear()
        fake.queue(reply())
        client = lib.Anthropic(api_key="k", base_url=fake.base_url)
        with client.messages.stream(model="m", max_tokens=50, messages=USER) as stream:
            events = [(type(e).__name__, _strip_ids(e.to_dict()), _strip_ids(e.model_dump())) for e in stream]
            final = stream.get_final_message()
            snapshot = stream.current_message_snapshot
        seen.append((events, type(final).__name__, [type(b).__name__ for b in final.content], type(snapshot).__name__))
    return seen


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # raised by anthropic's models
@pytest.mark.parametrize(
    "reply",
    [
        lambda: tool_use("calc", {"expression": "2+2", "steps": [1, 2, 3]}, text="Let me see", chunks=6),
        lambda: text("Hello there, streaming world", chunks=4),
        lambda: thinking("Hmm, let me think", "Answer"),
    ],
    ids=["tool_use", "text", "thinking"],
)
def test_helper_events_and_their_dicts_same(fake_claude: FakeClaude, reply: Callable[[], Any]) -> None:
    ours, theirs = _helper_stream(fake_claude, reply)
    assert ours == theirs


def test_input_json_event_carries_its_snapshot(fake_claude: FakeClaude) -> None:
    fake_claude.queue(tool_use("calc", {"expression": "2+2"}, chunks=4))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with client.messages.stream(model="m", max_tokens=50, messages=USER) as stream:
        events = [e for e in stream if e.type == "input_json"]
    assert len(events) == 4
    dumps = [e.to_dict() for e in events]
    assert all("snapshot" in d for d in dumps)
    assert dumps[-1]["snapshot"] == {"expression": "2+2"}
    assert events[-1].model_dump_json().endswith('"snapshot":{"expression":"2+2"}}')
    assert "snapshot=" in repr(events[0]) and events[0].model_fields_set == {"type", "partial_json", "snapshot"}
    assert events[1] == events[1].model_copy()


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


TYPELESS = [
    _sse(
        "message_start",
        '{"message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],'
        '"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}',
    ),
    _sse("content_block_start", '{"index":0,"content_block":{"type":"text","text":""}}'),
    _sse("ping", "{}"),
    _sse("content_block_delta", '{"index":0,"delta":{"type":"text_delta","text":"no type"}}'),
    _sse("content_block_stop", '{"index":0}'),
    _sse("message_delta", '{"delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}'),
    _sse("message_stop", "{}"),
]


def _sse_client(lib: Any, chunks: list[bytes]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"".join(chunks))

    return lib.Anthropic(
        api_key="k", base_url="http://sse.test", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )


def test_event_without_type_takes_the_event_name() -> None:
    seen = []
    for lib in LIBS:
        client = _sse_client(lib, TYPELESS)
        raw = [e.to_dict() for e in client.messages.create(model="m", max_tokens=5, messages=USER, stream=True)]
        with client.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
            final = stream.get_final_message().to_dict()
        seen.append((raw, final))
    assert seen[0] == seen[1]
    assert [e["type"] for e in seen[0][0]] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert seen[0][1]["content"] == [{"type": "text", "text": "no type"}]


def test_pings_skipped_by_default_as_anthropic_and_on_request(fake_claude: FakeClaude) -> None:
    kinds = []
    for lib in LIBS:
        fake_claude.clear()
        fake_claude.queue(text("a b c", chunks=3, pings=2))
        client = lib.Anthropic(api_key="k", base_url=fake_claude.base_url)
        kinds.append([e.type for e in client.messages.create(model="m", max_tokens=5, messages=USER, stream=True)])
    assert kinds[0] == kinds[1] and "ping" not in kinds[0]

    fake_claude.queue(text("a b c", chunks=3, pings=2), text("a b c", chunks=3, pings=2))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    raw = client.messages.create(model="m", max_tokens=5, messages=USER, stream=True)
    assert raw.include_pings() is raw
    assert [e.type for e in raw].count("ping") == 2
    with client.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
        assert stream.include_pings() is stream
        events = list(stream)
        assert [e.type for e in events].count("ping") == 2
        assert isinstance(next(e for e in events if e.type == "ping"), claude_web.types.PingEvent)
        assert stream.get_final_text() == "a b c"


def test_async_include_pings(fake_claude: FakeClaude) -> None:
    async def run() -> list[str]:
        fake_claude.queue(text("x y", chunks=2, pings=3))
        client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url)
        async with client.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
            return [e.type async for e in stream.include_pings()]

    assert asyncio.run(run()).count("ping") == 3
