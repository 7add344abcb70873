"""Live servers over real sockets: the chat views under a WSGI server and under uvicorn (ASGI).

The SSE body is read incrementally with httpx: tokens must arrive in several steps (not buffered), and a client
that hangs up mid-stream must make the server close its upstream stream (FakeClaude sees the abort) and leave a
usage row saying ``aborted``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from cwdj_helpers import chat_body, usage_rows

from claude_web.testing import delay, text

pytestmark = pytest.mark.django_db(transaction=True)


class UvicornThread:
    """Django's ASGI application served by uvicorn in a thread of this process (same settings, same test DB)."""

    def __init__(self, app: Any = None) -> None:
        from django.core.asgi import get_asgi_application

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = get_asgi_application() if app is None else app
        config = uvicorn.Config(app, lifespan="off", log_level="warning", loop="asyncio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def asgi_server() -> Iterator[UvicornThread]:
    with UvicornThread() as server:
        yield server


@pytest.fixture(
    params=[("wsgi", "/claude/chat/"), ("asgi", "/claude/chat/"), ("asgi", "/claude/achat/")],
    ids=["wsgi-sync-view", "asgi-sync-view", "asgi-async-view"],
)
def endpoint(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(server base URL, view path): the sync view under both servers, the async view under ASGI."""
    kind, path = request.param
    if kind == "wsgi":
        return str(request.getfixturevalue("live_server").url), path
    return request.getfixturevalue("asgi_server").url, path


@contextmanager
def logged_in(base_url: str, user: Any) -> Iterator[httpx.Client]:
    """An httpx client with the user's session cookie and a CSRF token, like a browser after login."""
    from django.test import Client

    django_client = Client()
    django_client.force_login(user)
    session = django_client.cookies["sessionid"].value
    with httpx.Client(base_url=base_url, timeout=15.0) as http:
        http.cookies.set("sessionid", session)
        http.get("/admin/login/")  # the CSRF cookie
        http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
        yield http


def read_events(response: httpx.Response, stop_after: str | None = None) -> list[tuple[float, str, Any]]:
    """(arrival time, event name, data) as the events arrive; stops early after the first ``stop_after``."""
    events: list[tuple[float, str, Any]] = []
    name = data = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line.startswith(":"):
            events.append((time.monotonic(), "comment", line[1:].strip()))
        elif line == "" and name is not None:
            events.append((time.monotonic(), name, data))
            if name == stop_after:
                break
            name = data = None
    return events


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def test_tokens_arrive_incrementally(
    endpoint: tuple[str, str], claude_web_settings: Any, fake_claude: Any, user: Any
) -> None:
    server_url, path = endpoint
    fake_claude.queue(text("one two three four five six", chunks=6, event_delay=0.1))
    with logged_in(server_url, user) as http:
        started = time.monotonic()
        with http.stream("POST", path, json=chat_body()) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-accel-buffering"] == "no"
            events = read_events(response)
    texts = [(t, data["text"]) for t, name, data in events if name == "text"]
    assert "".join(piece for _, piece in texts) == "one two three four five six"
    assert events[0][1] == "comment"  # headers and a first byte before any token
    assert events[0][0] - started < 1.0
    # six deltas 0.1 s apart: they must reach us spread out, not in one buffered lump at the end
    assert texts[-1][0] - texts[0][0] >= 0.3
    assert len({round(t, 2) for t, _ in texts}) >= 4
    assert events[-1][1] == "done"
    row = wait_for(lambda: usage_rows(status="ok"))[0]
    assert row.user_id == user.pk and row.operation == "messages.stream"


def test_disconnect_mid_stream_aborts_upstream(
    endpoint: tuple[str, str], claude_web_settings: Any, fake_claude: Any, user: Any
) -> None:
    server_url, path = endpoint
    fake_claude.queue(text(" ".join(f"w{i}" for i in range(60)), chunks=60, event_delay=0.1))
    with logged_in(server_url, user) as http:
        with http.stream("POST", path, json=chat_body()) as response:
            events = read_events(response, stop_after="text")
            assert events[-1][1] == "text"
        # leaving the block closes our connection mid-stream
    assert fake_claude.wait_for_stream_abort(timeout=10.0)
    rows = wait_for(lambda: usage_rows(status="aborted"))
    assert len(rows) == 1
    (row,) = rows
    assert row.input_tokens > 0  # tokens seen so far are kept
    assert row.user_id == user.pk
    assert usage_rows(status="ok") == []


def test_asgi_heartbeats_while_upstream_is_quiet(
    asgi_server: UvicornThread, claude_web_settings: Any, fake_claude: Any, user: Any
) -> None:
    claude_web_settings(STREAMING={"HEARTBEAT": 0.2})
    fake_claude.queue(delay(1.0, then=text("late answer")))
    with logged_in(asgi_server.url, user) as http:
        with http.stream("POST", "/claude/achat/", json=chat_body()) as response:
            events = read_events(response)
    names = [name for _, name, _ in events]
    first_start = names.index("start")
    heartbeats = [data for _, name, data in events[:first_start] if name == "comment" and data == "heartbeat"]
    assert len(heartbeats) >= 3
    assert names[-1] == "done"


def test_heartbeats_while_claude_is_quiet(
    endpoint: tuple[str, str], claude_web_settings: Any, fake_claude: Any, user: Any
) -> None:
    """Claude thinks (only keep-alive pings for ~0.8 s): every server and view sends heartbeat comments, WSGI too."""
    server_url, path = endpoint
    claude_web_settings(STREAMING={"HEARTBEAT": 0.15})
    fake_claude.queue(text("finally an answer", chunks=2, pings=8, event_delay=0.1))
    with logged_in(server_url, user) as http, http.stream("POST", path, json=chat_body()) as response:
        assert response.status_code == 200
        events = read_events(response, stop_after="done")
    names = [name for _, name, _ in events]
    beats = [data for _, name, data in events if name == "comment" and data == "heartbeat"]
    assert len(beats) >= 3, names
    first_text = names.index("text")
    assert names.index("comment", 1) < first_text  # heartbeats came while waiting, before the answer
    assert names[-1] == "done"


def _runtime_streams() -> Any:
    from claude_web_django.runtime import get_runtime

    return get_runtime().streams


def test_full_capacity_answers_503_fast_and_a_disconnect_frees_the_slot(
    endpoint: tuple[str, str], claude_web_settings: Any, fake_claude: Any, user: Any
) -> None:
    """STREAMING["MAX_STREAMS"] = 1: a second stream gets 503 + Retry-After at once (no upstream call); the browser
    hanging up mid-stream gives the slot back, so the next stream is served."""
    server_url, path = endpoint
    claude_web_settings(STREAMING={"MAX_STREAMS": 1})
    fake_claude.queue(text(" ".join(f"w{i}" for i in range(60)), chunks=60, event_delay=0.1))
    with logged_in(server_url, user) as http:
        with http.stream("POST", path, json=chat_body()) as response:
            lines = response.iter_lines()  # kept open: closing this iterator would hang up
            assert "event: text" in (next(lines) for _ in range(40))
            assert _runtime_streams().used == 1
            upstream_calls = len(fake_claude.requests)
            started = time.monotonic()
            refused = http.post(path, json=chat_body())
            elapsed = time.monotonic() - started
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "2"
            assert refused.json()["error"]["type"] == "too_many_streams"
            assert elapsed < 1.0  # answered at once, not after a wait
            assert len(fake_claude.requests) == upstream_calls  # refused before any upstream call
        # leaving the block hangs up mid-stream
        assert fake_claude.wait_for_stream_abort(timeout=10.0)
        assert wait_for(lambda: _runtime_streams().used == 0), "the slot was not given back"
        fake_claude.queue(text("served again"))
        with http.stream("POST", path, json=chat_body()) as response:
            assert response.status_code == 200
            assert read_events(response)[-1][1] == "done"
    assert wait_for(lambda: _runtime_streams().used == 0)


def test_asgi_capacity_gate_refuses_before_django(claude_web_settings: Any, fake_claude: Any, user: Any) -> None:
    """claude_web_django.asgi.get_asgi_application(): a full process answers the stream URLs with the same 503 +
    Retry-After, without Django's request machinery (no request_started signal); other URLs are untouched."""
    from django.core.signals import request_started

    from claude_web_django.asgi import get_asgi_application

    claude_web_settings(STREAMING={"MAX_STREAMS": 1})
    started: list[object] = []

    def count(**kwargs: Any) -> None:
        started.append(kwargs.get("sender"))

    request_started.connect(count, weak=False)
    try:
        with UvicornThread(get_asgi_application()) as server, logged_in(server.url, user) as http:
            fake_claude.queue(text(" ".join(f"w{i}" for i in range(40)), chunks=40, event_delay=0.1))
            with http.stream("POST", "/claude/achat/", json=chat_body()) as response:
                lines = response.iter_lines()
                assert "event: text" in (next(lines) for _ in range(40))
                before = len(started)
                for path in ("/claude/achat/", "/claude/chat/"):
                    refused = http.post(path, json=chat_body())
                    assert refused.status_code == 503
                    assert refused.headers["Retry-After"] == "2"
                    assert refused.json()["error"]["type"] == "too_many_streams"
                assert len(started) == before  # Django never saw them
                assert http.get("/claude/usage/").status_code == 200  # not a stream URL: Django answers
                assert len(started) == before + 1
            assert wait_for(lambda: _runtime_streams().used == 0)
    finally:
        request_started.disconnect(count)
