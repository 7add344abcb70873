"""``Stream.interrupt()``: another thread stops a stream that a reader thread is blocked on (the threaded WSGI
writer does this when the browser has gone), against FakeClaude over a real socket."""

from __future__ import annotations

import threading
import time
from typing import Any

from claude_web import Anthropic
from claude_web.testing import FakeClaude, text
from claude_web.usage import UsageRecord

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "Think slowly"}],
}


def _reader(stream: Any, seen: list[str], ended: threading.Event) -> threading.Thread:
    def run() -> None:
        try:
            for event in stream:
                seen.append(event.type)
            seen.append("ended")
        finally:
            stream.close()
            ended.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_interrupt_wakes_a_blocked_reader_and_records_aborted(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    client = Anthropic(api_key="k", base_url=fake_claude.base_url, max_retries=0, usage_recorder=records.append)
    fake_claude.queue(text("one two three", chunks=3, event_delay=5.0))
    with client.messages.stream(**PARAMS) as stream:
        seen: list[str] = []
        ended = threading.Event()
        reader = _reader(stream, seen, ended)
        time.sleep(0.3)  # the reader waits for FakeClaude, which pauses 5 s before each event
        started = time.monotonic()
        stream.interrupt()
        assert ended.wait(2.0), "the reader was not woken"
        woke = time.monotonic() - started
        reader.join(2)
    assert woke < 1.0
    assert (
        seen[-1:] == ["ended"] and "message_stop" not in seen
    )  # the iteration just ended (an exception would have failed the thread)
    assert fake_claude.wait_for_stream_abort(timeout=2.0)  # the connection was really cut
    assert [r.status for r in records] == ["aborted"]


def test_interrupt_after_the_end_changes_nothing(fake_claude: FakeClaude) -> None:
    records: list[UsageRecord] = []
    client = Anthropic(api_key="k", base_url=fake_claude.base_url, max_retries=0, usage_recorder=records.append)
    fake_claude.queue(text("all here"))
    with client.messages.stream(**PARAMS) as stream:
        assert stream.get_final_text() == "all here"
        stream.interrupt()
    assert [r.status for r in records] == ["ok"]
    # the pool is still usable
    fake_claude.queue(text("again"))
    assert client.messages.create(**PARAMS).content[0].text == "again"  # type: ignore[union-attr]
