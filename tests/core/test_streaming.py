"""Streaming against FakeClaude over a real socket: stream=True, messages.stream() helpers, faults, usage,
and differential checks against anthropic==0.125.0 on the same scripted streams."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

import claude_web
from claude_web import Anthropic, AsyncAnthropic
from claude_web.testing import FakeClaude, text, thinking, tool_use

KEY = "sk-ant-stream-SECRET-42"
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "Tell me something"}],
}


@pytest.fixture
def client(fake_claude: FakeClaude) -> Anthropic:
    return Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)


def test_stream_true_yields_typed_events_without_ping(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text("one two three four five six", chunks=6))
    with client.messages.create(**PARAMS, stream=True) as stream:
        events = list(stream)
        assert stream.request_id and stream.request_id.startswith("req_")
        assert stream.response.status_code == 200
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert "ping" not in kinds
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]  # type: ignore[union-attr]
    assert len(deltas) == 6 and "".join(deltas) == "one two three four five six"
    assert isinstance(events[0], claude_web.types.RawMessageStartEvent)
    assert fake_claude.last_request.json["stream"] is True
    assert fake_claude.last_request.headers["accept"] == "application/json"


def test_text_stream_and_final_message(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text("Streaming is fun to watch.", chunks=5, usage={"input_tokens": 11, "output_tokens": 7}))
    with client.messages.stream(**PARAMS) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
        assert stream.get_final_text() == "Streaming is fun to watch."
    assert len(pieces) == 5 and "".join(pieces) == "Streaming is fun to watch."
    assert final.usage.input_tokens == 11 and final.usage.output_tokens == 7
    assert final.stop_reason == "end_turn"
    assert fake_claude.last_request.headers["x-stainless-helper-method"] == "stream"


def test_helper_events_for_tool_use(fake_claude: FakeClaude, client: Anthropic) -> None:
    args = {"city": "Paris", "days": [1, 2, 3], "units": "metric"}
    fake_claude.queue(tool_use("get_weather", args, text="Checking.", chunks=12))
    snapshots = []
    stops = []
    with client.messages.stream(**PARAMS) as stream:
        for event in stream:
            if event.type == "input_json":
                snapshots.append(event.snapshot)
            elif event.type == "content_block_stop":
                stops.append(event.content_block)
        final = stream.get_final_message()
    assert len(snapshots) == 12 and snapshots[-1] == args
    assert any(isinstance(s, dict) and s != args for s in snapshots[:-1]), "snapshots should grow"
    assert [b.type for b in stops] == ["text", "tool_use"]
    assert final.content[1].input == args  # type: ignore[union-attr]
    assert final.stop_reason == "tool_use"


def test_thinking_and_signature_events(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(thinking("Let me reason about it.", "The answer is 4.", signature="sig-abc", chunks=4))
    kinds = []
    with client.messages.stream(**PARAMS) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "signature":
                assert event.signature == "sig-abc"
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds and "text" in kinds
    block = final.content[0]
    assert block.type == "thinking" and block.thinking == "Let me reason about it." and block.signature == "sig-abc"  # type: ignore[union-attr]


def test_in_stream_error_raises_status_subclass(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text("a b c d e f g h", chunks=8, error_after=5, error_type="overloaded_error"))
    with pytest.raises(claude_web.OverloadedError) as info:
        with client.messages.stream(**PARAMS) as stream:
            for _ in stream.text_stream:
                pass
    assert info.value.status_code == 529
    assert stream.current_message_snapshot.content, "what arrived before the error is kept"


def test_connection_drop_is_api_connection_error_and_snapshot_survives(
    fake_claude: FakeClaude, client: Anthropic
) -> None:
    fake_claude.queue(text("alpha beta gamma delta epsilon zeta", chunks=6, drop_after=6))
    got = []
    with pytest.raises(claude_web.APIConnectionError):
        with client.messages.stream(**PARAMS) as stream:
            for piece in stream.text_stream:
                got.append(piece)
    assert got, "some text arrived before the drop"
    snap = stream.current_message_snapshot
    assert snap.content[0].text == "".join(got)  # type: ignore[union-attr]


def test_malformed_line_is_validation_error(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text("x y z", chunks=3, malformed_after=4))
    with pytest.raises(claude_web.APIResponseValidationError, match="content_block_delta"):
        with client.messages.create(**PARAMS, stream=True) as stream:
            for _ in stream:
                pass


def test_closing_early_releases_the_connection(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text(" ".join(f"w{i}" for i in range(200)), chunks=200, event_delay=0.01))
    with client.messages.stream(**PARAMS) as stream:
        for i, _ in enumerate(stream.text_stream):
            if i == 3:
                break
        stream.close()
        assert stream.response.is_closed
    assert fake_claude.wait_for_stream_abort(timeout=5.0), "FakeClaude did not see the upstream stream closed"


def test_usage_records_for_ok_error_and_aborted(fake_claude: FakeClaude) -> None:
    records: list[Any] = []
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0, usage_recorder=records.append)
    fake_claude.queue(text("fine answer", chunks=2, usage={"input_tokens": 9, "output_tokens": 3}))
    with client.messages.stream(**PARAMS) as stream:
        stream.until_done()
    fake_claude.queue(text("a b c d", chunks=4, error_after=4))
    with pytest.raises(claude_web.APIStatusError):
        with client.messages.stream(**PARAMS) as stream:
            stream.until_done()
    fake_claude.queue(text(" ".join("x" * 100), chunks=100, event_delay=0.005))
    with client.messages.stream(**PARAMS) as stream:
        next(iter(stream.text_stream))
    assert [r.status for r in records] == ["ok", "error", "aborted"]
    ok = records[0]
    assert ok.input_tokens == 9 and ok.output_tokens == 3 and ok.operation == "messages.stream"
    assert ok.time_to_first_token_ms is not None and 0 <= ok.time_to_first_token_ms <= ok.latency_ms
    assert records[1].error_type == "overloaded_error"


def test_streaming_response_iterates_raw_lines(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(text("raw lines here", chunks=3))
    with client.messages.with_streaming_response.create(**PARAMS, stream=True) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = list(resp.iter_lines())
    names = [line.split(": ", 1)[1] for line in lines if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "message_stop" and "ping" in names


async def test_async_stream_and_helpers(fake_claude: FakeClaude) -> None:
    async with AsyncAnthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0) as client:
        fake_claude.queue(text("async tokens arrive", chunks=3))
        stream = await client.messages.create(**PARAMS, stream=True)
        kinds = [e.type async for e in stream]
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
        fake_claude.queue(tool_use("lookup", {"q": "x" * 50}, chunks=10))
        async with client.messages.stream(**PARAMS) as s:
            snaps = [e.snapshot async for e in s if e.type == "input_json"]
            final = await s.get_final_message()
        assert snaps[-1] == {"q": "x" * 50} and final.content[0].input == {"q": "x" * 50}  # type: ignore[union-attr]
        fake_claude.queue(text("p q r", chunks=3, error_after=3))
        with pytest.raises(claude_web.OverloadedError):
            async with client.messages.stream(**PARAMS) as s:
                async for _ in s.text_stream:
                    pass


# -- differential: the same scripted stream through both libraries -------------------------------------------


def _collect(lib: Any, base_url: str) -> tuple[list[Any], Any, str | None]:
    client = lib.Anthropic(api_key=KEY, base_url=base_url, max_retries=0)
    kinds: list[Any] = []
    try:
        with client.messages.stream(**PARAMS) as stream:
            for event in stream:
                if event.type == "input_json":
                    kinds.append(("input_json", event.partial_json, event.snapshot))
                elif event.type in ("text", "thinking"):
                    kinds.append((event.type, event.snapshot))
                else:
                    kinds.append(event.type)
            return kinds, stream.get_final_message().to_dict(), None
    except lib.APIStatusError as exc:
        # anthropic raises the base APIStatusError for an in-stream error; we raise the subclass matching the
        # error type (still an APIStatusError): compare the base class and the API's error type
        return kinds, None, f"APIStatusError:{exc.body['error']['type']}"  # type: ignore[index]
    except Exception as exc:  # the failure kind is what is compared
        return kinds, None, type(exc).__name__


@pytest.mark.parametrize(
    "reply",
    [
        text("Differential text with several words in it.", chunks=7),
        tool_use("calc", {"expr": "2+2", "nested": {"a": [1, 2, {"b": None}]}}, text="Computing.", chunks=9),
        thinking("Step one. Step two.", "Done.", chunks=3),
        text("bad things happen", chunks=3, error_after=4, error_type="overloaded_error"),
        text("rate limited midway", chunks=3, error_after=3, error_type="rate_limit_error"),
    ],
    ids=["text", "tool_use", "thinking", "overloaded", "rate_limit"],
)
def test_stream_matches_anthropic(fake_claude: FakeClaude, reply: Any) -> None:
    results = []
    for lib in (claude_web, anthropic):
        fake_claude.queue(reply)
        results.append(_collect(lib, fake_claude.base_url))
    ours, theirs = results
    assert ours[2] == theirs[2]
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    bodies = [json.loads(r.body) for r in fake_claude.requests]
    assert bodies[0] == bodies[1]


async def test_cancelled_async_call_records_aborted_once(fake_claude: FakeClaude) -> None:
    import asyncio

    from claude_web.testing import delay

    records: list[Any] = []
    async with AsyncAnthropic(api_key=KEY, base_url=fake_claude.base_url, usage_recorder=records.append) as client:
        fake_claude.queue(delay(2.0, then=text("too late")))
        task = asyncio.create_task(
            client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=PARAMS["messages"])
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [r.status for r in records] == ["aborted"]
    assert records[0].model == "claude-haiku-4-5"
