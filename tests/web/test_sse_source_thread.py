"""The threaded SSE writer (``write_events(..., source_thread=True)``): heartbeats on time while the source
blocks, each in two writes; the source closed on its own thread when the body is closed; errors passed on."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from claude_web.web.sse import probe_delay, write_events


class _Blocking:
    """A source that yields, then blocks until interrupted (as an upstream read does)."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.closed_on: str | None = None
        self.ran_on: str | None = None

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        self.ran_on = threading.current_thread().name
        try:
            yield ("start", {"id": "m1"})
            self.wake.wait(10)
            yield ("text", {"text": "late"})
        finally:
            self.closed_on = threading.current_thread().name


def test_heartbeats_flow_while_the_source_blocks_and_close_interrupts_it() -> None:
    source = _Blocking()
    done_on: list[str] = []
    body = write_events(
        source.events(),
        heartbeat=0.2,
        source_thread=True,
        interrupt=source.wake.set,
        thread_done=lambda: done_on.append(threading.current_thread().name),
    )
    times: list[tuple[float, bytes]] = []
    started = time.monotonic()
    for chunk in body:
        times.append((time.monotonic() - started, chunk))
        if len(times) >= 8:
            break
    body.close()  # type: ignore[attr-defined]  # the browser went away
    chunks = [c for _, c in times]
    assert chunks[0].startswith(b": stream open")
    assert chunks[1].startswith(b"event: start")
    assert chunks[2:] == [b": heartbeat\n", b"\n"] * 3  # each heartbeat in two writes
    gaps = [b - a for (a, _), (b, _) in zip(times[2:], times[3:], strict=False)]
    assert all(abs(g - probe_delay(0.2)) < 0.1 for g in gaps[0::2])  # comment, then its blank line soon after
    deadline = time.monotonic() + 2
    while source.closed_on is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.ran_on is not None and source.ran_on.startswith("claude-web-source-")
    assert source.closed_on == source.ran_on  # closed on the thread that ran it, not the writer's
    assert done_on == [source.ran_on]


def test_an_event_in_the_middle_of_a_heartbeat_finishes_it_first() -> None:
    def slow() -> Iterator[tuple[str, dict[str, Any]]]:
        time.sleep(0.22)  # after the heartbeat's comment line (0.2 s), before its blank line (0.25 s)
        yield ("text", {"text": "x"})

    out = b"".join(write_events(slow(), heartbeat=0.2, source_thread=True))
    assert re.fullmatch(rb': stream open\n\n(: heartbeat\n\n)+event: text\nid: 1\ndata: \{"text":"x"\}\n\n', out), out


def test_errors_of_the_source_reach_the_writer() -> None:
    def broken() -> Iterator[tuple[str, dict[str, Any]]]:
        yield ("start", {})
        raise RuntimeError("boom")

    body = write_events(broken(), heartbeat=5.0, source_thread=True)
    assert next(body).startswith(b": stream open")
    assert next(body).startswith(b"event: start")
    with pytest.raises(RuntimeError, match="boom"):
        next(body)
