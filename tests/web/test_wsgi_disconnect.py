"""A browser that goes away while Claude is silent is noticed within a heartbeat under every WSGI server.

Real servers in subprocesses (gunicorn with ``gthread`` workers, werkzeug, Django's ``runserver``) serve the chat
endpoint of each adapter. FakeClaude waits 5 s between events; the browser (a raw socket) hangs up once the
upstream call is under way. The server's next heartbeat (``STREAMING["HEARTBEAT"]`` = 0.5 s) fails to write, the
upstream read is interrupted, FakeClaude sees the connection close, and the usage row says ``aborted``: all well
before upstream would have spoken again.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from claude_web.testing import FakeClaude, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HEARTBEAT = 0.5
QUIET = 5.0  # seconds between upstream events
PROBE = min(HEARTBEAT / 4, 0.25)  # claude_web.web.sse.probe_delay: between a heartbeat's two writes
LIMIT = HEARTBEAT + PROBE + 0.25  # the next heartbeat's two writes (TCP reports a gone peer on the second), a margin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS: dict[str, Callable[[int], list[str]]] = {
    "gunicorn-gthread-flask": lambda port: [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "4", "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi_apps:flask_app()",
    ],
    "gunicorn-gthread-django": lambda port: [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "4", "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi_apps:django_app()",
    ],
    "werkzeug-flask": lambda port: [
        sys.executable, "-c",
        f"import wsgi_apps; wsgi_apps.flask_app().run(host='127.0.0.1', port={port}, threaded=True)",
    ],
    "runserver-django": lambda port: [
        sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}",
    ],
}  # fmt: skip


class Server:
    def __init__(self, name: str, fake: FakeClaude, tmp: Path) -> None:
        self.name = name
        self.django = name.endswith("django")
        self.usage = tmp / ("usage.sqlite3" if self.django else "usage.jsonl")
        self.port = _free_port()
        self.path = "/claude/chat/" if self.django else "/claude/chat"
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")]),
                "CW_FAKE_URL": fake.base_url,
                "CW_HEARTBEAT": str(HEARTBEAT),
                "CW_USAGE": str(self.usage),
                "DJANGO_SETTINGS_MODULE": "wsgi_apps",
            }
        )
        env.pop("ANTHROPIC_API_KEY", None)
        if self.django:
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=HERE, env=env, check=True, timeout=120
            )
        self.log = open(tmp / f"{name}.log", "wb")
        self.proc = subprocess.Popen(
            SERVERS[name](self.port), cwd=HERE, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} did not start:\n{(tmp / f'{name}.log').read_text()}") from None
                time.sleep(0.1)

    def statuses(self) -> list[str]:
        if self.django:
            with sqlite3.connect(self.usage) as db:
                return [row[0] for row in db.execute("select status from claude_web_tokenusage")]
        if not self.usage.exists():
            return []
        return [json.loads(line)["status"] for line in self.usage.read_text().splitlines() if line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, fake_claude: FakeClaude, tmp_path: Path) -> Iterator[Server]:
    running = Server(request.param, fake_claude, tmp_path)
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
