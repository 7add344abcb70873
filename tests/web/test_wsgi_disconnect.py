"""A browser that goes away while Claude is silent is noticed within a heartbeat under every WSGI server.

Real servers in subprocesses (gunicorn with ``gthread`` workers, werkzeug, Django's ``runserver``) serve the chat
endpoint of each adapter. FakeClaude waits 5 s between events; the browser (a raw socket) hangs up once the
upstream call is under way. The server's next heartbeat (``STREAMING["HEARTBEAT"]`` = 0.5 s) fails to write, the
upstream read is interrupted, FakeClaude sees the connection close, and the usage row says ``aborted``: all well
before upstream would have spoken again.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers import SERVERS, Server

from claude_web.testing import FakeClaude, text

HEARTBEAT = 0.5
QUIET = 5.0  # seconds between upstream events
PROBE = min(HEARTBEAT / 4, 0.25)  # claude_web.web.sse.probe_delay: between a heartbeat's two writes
LIMIT = HEARTBEAT + PROBE + 0.25  # the next heartbeat's two writes (TCP reports a gone peer on the second), a margin


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, fake_claude: FakeClaude, tmp_path: Path) -> Iterator[Server]:
    running = Server(request.param, fake_claude, tmp_path, heartbeat=HEARTBEAT)
    yield running
    running.stop()


def _browser_posts(server: Server) -> socket.socket:
    """A browser's chat POST over a raw socket; returns once the response has started (status line read)."""
    body = json.dumps({"messages": [{"role": "user", "content": "Hello"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = (
        f"POST {server.path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    received = b""
    while b"stream open" not in received:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 200") or received.startswith(b"HTTP/1.0 200"), received[:200]
    return sock


def _wait(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def test_a_closed_browser_is_noticed_within_a_heartbeat(server: Server, fake_claude: FakeClaude) -> None:
    fake_claude.queue(text("one two three four", chunks=4, event_delay=QUIET))
    sock = _browser_posts(server)
    assert _wait(lambda: fake_claude.requests, 5.0), "the upstream call was not made"
    time.sleep(0.3)  # the upstream stream is open and quiet
    sock.close()  # the browser goes away
    closed = time.monotonic()
    assert fake_claude.wait_for_stream_abort(timeout=QUIET + 2)
    upstream_closed = time.monotonic() - closed
    assert _wait(lambda: "aborted" in server.statuses(), QUIET + 2), server.statuses()
    row_written = time.monotonic() - closed
    assert upstream_closed < LIMIT, f"{server.name}: upstream closed {upstream_closed:.2f} s after the browser"
    assert row_written < LIMIT, f"{server.name}: aborted row {row_written:.2f} s after the browser"
    assert server.statuses() == ["aborted"]


def test_heartbeats_flow_while_upstream_is_silent(server: Server, fake_claude: FakeClaude) -> None:
    """Every HEARTBEAT seconds a comment, although upstream sends nothing (not even pings) for 5 s."""
    fake_claude.queue(text("late", chunks=1, pings=0, event_delay=2.0))
    sock = _browser_posts(server)
    sock.settimeout(10)
    received = b""
    started = time.monotonic()
    while time.monotonic() - started < 1.8:
        received += sock.recv(65536)
    sock.close()
    assert received.count(b": heartbeat") >= 2, received
