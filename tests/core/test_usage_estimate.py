"""A stream that ends early records the output it received (estimated, marked so), not message_start's 1; a
finished stream records the API's exact count."""

from __future__ import annotations

import asyncio
import math

import pytest

import claude_web
from claude_web.testing import FakeClaude, text, tool_use
from claude_web.usage import UsageRecord

USER = [{"role": "user", "content": "Tell me a long story"}]
STORY = " ".join(f"word{i:03d} and more text" for i in range(200))  # ~4.6k characters


def _client(fake: FakeClaude, records: list[UsageRecord]) -> claude_web.Anthropic:
    return claude_web.Anthropic(api_key="k", base_url=fake.base_url, usage_recorder=records.append, max_retries=0)


def test_closed_stream_records_what_arrived_as_an_estimate(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    fake_claude.queue(text(STORY, chunks=50, event_delay=0.01))
    received = ""
    with _client(fake_claude, records).messages.stream(model="claude-haiku-4-5", max_tokens=2000, messages=USER) as s:
        for n, piece in enumerate(s.text_stream, start=1):
            received += piece
            if n == 20:
                break
    (record,) = records
    assert record.status == "aborted" and record.estimated is True
    assert record.output_tokens == math.ceil(len(received) / 4)
    full = math.ceil(len(STORY) / 4)
    assert 0.3 * full < record.output_tokens < 0.5 * full  # 20 of 50 chunks, not 1 and not the whole answer
    assert record.cost is not None and record.cost > 0


def test_finished_stream_records_the_exact_count(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    fake_claude.queue(text(STORY, chunks=50))
    with _client(fake_claude, records).messages.stream(model="claude-haiku-4-5", max_tokens=2000, messages=USER) as s:
        final = s.get_final_message()
    (record,) = records
    assert record.status == "ok" and record.estimated is False
    assert record.output_tokens == final.usage.output_tokens


def test_broken_stream_estimates_tool_input_too(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    fake_claude.queue(tool_use("save", {"body": "x" * 400}, text="Saving it", chunks=10, drop_after=9))
    chars = 0
    with pytest.raises(claude_web.APIConnectionError):
        with _client(fake_claude, records).messages.stream(model="m", max_tokens=500, messages=USER) as s:
            for event in s:
                if event.type == "content_block_delta":
                    delta = event.delta
                    chars += len(delta.text if delta.type == "text_delta" else delta.partial_json)  # type: ignore[union-attr]
    (record,) = records
    assert record.status == "error" and record.estimated is True
    assert chars > 40 and record.output_tokens == math.ceil(chars / 4)


def test_raw_stream_closed_early(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    fake_claude.queue(text(STORY, chunks=50))
    stream = _client(fake_claude, records).messages.create(model="m", max_tokens=2000, messages=USER, stream=True)
    chars = 0
    for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            chars += len(event.delta.text)
            if chars > 1000:
                break
    stream.close()
    (record,) = records
    assert record.estimated is True and record.output_tokens == math.ceil(chars / 4)


def test_cancelled_async_stream(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    fake_claude.queue(text(STORY, chunks=50, event_delay=0.02))

    async def run() -> None:
        client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url, usage_recorder=records.append)

        async def consume() -> None:
            async with client.messages.stream(model="m", max_tokens=2000, messages=USER) as s:
                async for _ in s.text_stream:
                    pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.35)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    (record,) = records
    assert record.status == "aborted" and record.estimated is True
    assert 1 < record.output_tokens < math.ceil(len(STORY) / 4)


def test_record_field_order_and_dict() -> None:
    record = UsageRecord(operation="messages.stream", model="m", estimated=True)
    names = list(record.to_dict())
    assert names[names.index("error_type") + 1] == "estimated"
    assert record.to_dict()["estimated"] is True
