"""Stream capacity (``STREAMING["MAX_STREAMS"]``): the 503, the slot given back on every path, and the connection
pools sized for it. Live-server twins run under Django (``tests/django/test_dj_live.py``) and Flask
(``tests/flask/test_flask_streaming.py``)."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from claude_web import APITimeoutError
from claude_web.testing import FakeClaude, text
from claude_web.web import pool as pool_module
from claude_web.web.asgi import CapacityGate
from claude_web.web.errors import ServiceUnavailable
from claude_web.web.handlers import chat_stream, stream_response
from claude_web.web.http import WebRequest
from claude_web.web.pool import PoolSettings
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import ConfigError, parse_settings
from claude_web.web.streams import AsyncGuardedBody, GuardedBody, StreamSlots

BODY = {"messages": [{"role": "user", "content": "Hi"}]}


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def runtime(fake: FakeClaude, **sections: Any) -> WebRuntime:
    options = {"base_url": fake.base_url, "max_retries": 0}
    clients = {"default": {"BACKEND": "fake", "OPTIONS": options, **sections.pop("client", {})}}
    chat = {"LOGIN_REQUIRED": False, "MODELS": ["claude-haiku-4-5"]}
    return WebRuntime(parse_settings({"CLIENTS": clients, "CHAT": chat, **sections}))


def post(body: Any = BODY) -> WebRequest:
    return WebRequest("POST", "/chat", json.dumps(body).encode(), "application/json", remote_addr="10.0.0.1")


# -- the cap --------------------------------------------------------------------------------------------------


def test_slots_refuse_beyond_the_limit_with_a_503_and_retry_after() -> None:
    slots = StreamSlots(2)
    slots.acquire()
    slots.acquire()
    assert slots.full
    with pytest.raises(ServiceUnavailable) as refused:
        slots.acquire()
    response = refused.value.response()
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json["error"]["type"] == "too_many_streams"
    assert slots.used == 2
    with pytest.raises(ServiceUnavailable):
        slots.check()
    slots.release()
    slots.check()
    slots.acquire()
    assert slots.used == 2


def test_no_limit_counts_but_never_refuses() -> None:
    slots = StreamSlots(None)
    for _ in range(5000):
        slots.acquire()
    assert slots.used == 5000 and not slots.full


# -- sync bodies ------------------------------------------------------------------------------------------------


def frames(closed: list[str], fail_at: int | None = None) -> Iterator[bytes]:
    try:
        for i in range(3):
            if i == fail_at:
                raise OSError("upstream went away")
            yield b"frame %d" % i
    finally:
        closed.append("closed")


def test_sync_body_gives_the_slot_back_once_at_its_end() -> None:
    release, closed = Counter(), []
    body = GuardedBody(frames(closed), release)
    assert list(body) == [b"frame 0", b"frame 1", b"frame 2"]
    body.close()  # the server closes it afterwards: still once
    assert release.calls == 1 and closed == ["closed"]


def test_sync_body_gives_the_slot_back_on_an_error() -> None:
    release, closed = Counter(), []
    body = GuardedBody(frames(closed, fail_at=1), release)
    assert next(body) == b"frame 0"
    with pytest.raises(OSError):
        next(body)
    assert release.calls == 1 and closed == ["closed"]


def test_sync_body_closed_before_it_started() -> None:
    release, closed = Counter(), []
    body = GuardedBody(frames(closed), release)
    body.close()
    body.close()
    assert release.calls == 1
    assert closed == []  # never started: nothing to clean up


def test_sync_body_dropped_mid_stream_without_close() -> None:
    """A server that drops the body without closing it (against PEP 3333) must not leak the slot."""
    release, closed = Counter(), []
    body = GuardedBody(frames(closed), release)
    next(body)
    del body
    gc.collect()
    assert release.calls == 1 and closed == ["closed"]


# -- async bodies -----------------------------------------------------------------------------------------------


async def aframes(closed: list[str], pause: float = 0.0) -> AsyncIterator[bytes]:
    try:
        for i in range(3):
            yield b"frame %d" % i
            await asyncio.sleep(pause)
    finally:
        closed.append("closed")


async def test_async_body_gives_the_slot_back_at_its_end_and_on_aclose() -> None:
    release, closed = Counter(), []
    body = AsyncGuardedBody(aframes(closed), release)
    assert [chunk async for chunk in body] == [b"frame 0", b"frame 1", b"frame 2"]
    await body.aclose()
    body.close()
    assert release.calls == 1 and closed == ["closed"]


async def test_async_body_cancelled_mid_stream() -> None:
    """The browser went away while the server awaited the next frame: the server's task is cancelled."""
    release, closed = Counter(), []
    body = AsyncGuardedBody(aframes(closed, pause=10.0), release)

    async def serve() -> None:
        async for _ in body:
            pass

    task = asyncio.ensure_future(serve())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert release.calls == 1 and closed == ["closed"]


async def test_async_body_closed_from_a_thread_after_it_started() -> None:
    """Django calls ``response.close()`` in a worker thread: the slot comes back at once, and the body (so the
    upstream stream) is closed on its own loop."""
    release, closed = Counter(), []
    body = AsyncGuardedBody(aframes(closed, pause=10.0), release)
    assert await body.__anext__() == b"frame 0"
    thread = threading.Thread(target=body.close)
    thread.start()
    thread.join()
    assert release.calls == 1
    for _ in range(100):
        if closed:
            break
        await asyncio.sleep(0.01)
    assert closed == ["closed"]


async def test_async_body_closed_before_it_started() -> None:
    release, closed = Counter(), []
    body = AsyncGuardedBody(aframes(closed), release)
    await asyncio.to_thread(body.close)
    await asyncio.sleep(0.01)
    assert release.calls == 1 and closed == []


async def test_async_body_dropped_without_close() -> None:
    release, closed = Counter(), []
    body = AsyncGuardedBody(aframes(closed, pause=10.0), release)
    await body.__anext__()
    del body
    gc.collect()
    assert release.calls == 1


# -- the chat handler -------------------------------------------------------------------------------------------


def test_full_process_refuses_before_any_upstream_call_and_before_the_quota_counts(fake_claude: FakeClaude) -> None:
    app = runtime(fake_claude, STREAMING={"MAX_STREAMS": 1}, QUOTAS={"REQUESTS_PER_MINUTE": 2, "STORE": "memory"})
    fake_claude.queue(text("first"), text("second"))
    held = chat_stream(app, post())
    assert held.status == 200 and app.streams.used == 1
    for _ in range(3):  # more than the quota allows: a refusal for capacity must not count as a request
        refused = chat_stream(app, post())
        assert refused.status == 503
        assert refused.headers["Retry-After"] == "2"
        assert refused.json["error"]["type"] == "too_many_streams"
    assert held.stream is not None
    assert b"event: done" in b"".join(held.stream)
    assert app.streams.used == 0
    second = chat_stream(app, post())
    assert second.status == 200  # the quota counted 2 requests, not 5
    assert second.stream is not None
    second.stream.close()
    assert chat_stream(app, post()).status == 429
    assert len(fake_claude.requests) == 1  # only the stream that was read reached upstream
    app.close()


def test_a_stream_that_cannot_be_built_takes_no_slot(fake_claude: FakeClaude) -> None:
    app = runtime(fake_claude, STREAMING={"MAX_STREAMS": 1})
    with pytest.raises(KeyError):
        stream_response(app, post(), {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": []}, alias="nope")
    assert app.streams.used == 0
    app.close()


# -- connection pools -------------------------------------------------------------------------------------------


def _pool_of(client: Any) -> Any:
    return client._client._transport._pool  # httpcore's pool behind the httpx client the registry built


def test_pool_follows_the_stream_capacity() -> None:
    assert PoolSettings().limits(None) == httpx.Limits(max_connections=None, max_keepalive_connections=100)
    assert PoolSettings().limits(2000) == httpx.Limits(max_connections=2100, max_keepalive_connections=100)
    assert PoolSettings().limits(10).max_connections == 1000  # never below the library's default
    assert PoolSettings(max_connections=50, max_keepalive=5).limits(2000) == httpx.Limits(
        max_connections=50, max_keepalive_connections=5
    )


async def test_registry_builds_clients_with_pools_sized_for_the_capacity(fake_claude: FakeClaude) -> None:
    app = runtime(fake_claude, STREAMING={"MAX_STREAMS": 2000})
    sync_pool = _pool_of(app.clients.get("default"))
    assert sync_pool._max_connections == 2100
    assert sync_pool._max_keepalive_connections == 100
    sharded = app.clients.get_async("default")._client._transport
    assert sharded._max_shards * sharded._limits.max_connections >= 2100  # the shards hold the whole pool
    custom = runtime(fake_claude, client={"POOL": {"MAX_CONNECTIONS": 7}})
    assert _pool_of(custom.clients.get_async("default"))._max_connections == 7  # small: one plain pool
    await app.clients.aclose()
    await custom.clients.aclose()
    app.close()
    custom.close()


async def test_async_pool_shards_spread_the_streams_and_count_them_back(
    fake_claude: FakeClaude, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpcore rescans a whole pool on every request start and end: big pools are split into shards, each request
    going to the least busy one, and a shard is told when its response is closed."""
    monkeypatch.setattr(pool_module, "SHARD_SIZE", 4)
    app = runtime(fake_claude, STREAMING={"MAX_STREAMS": 20})  # 120 connections: 30 shards of 4 at most
    client = app.clients.get_async("default")
    transport = client._client._transport
    fake_claude.queue(*(text("slow " * 10, chunks=10, event_delay=0.05) for _ in range(10)))
    params: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": BODY["messages"]}
    streams = [await client.messages.stream(**params).__aenter__() for _ in range(10)]
    assert [shard.in_flight for shard in transport._shards] == [4, 4, 2]
    assert all(len(shard.transport._pool.connections) <= 4 for shard in transport._shards)
    texts = await asyncio.gather(*(stream.get_final_text() for stream in streams))
    assert texts == ["slow " * 10] * 10
    for stream in streams:
        await stream.close()
    assert [shard.in_flight for shard in transport._shards] == [0, 0, 0]
    fake_claude.queue(text("again"))
    async with client.messages.stream(**params) as stream:  # the least busy shard, no new one
        assert await stream.get_final_text() == "again"
    assert len(transport._shards) == 3
    await app.clients.aclose()
    app.close()


async def test_waiting_for_a_connection_fails_after_the_pool_timeout(fake_claude: FakeClaude) -> None:
    """One connection, held by a slow stream: the next call fails after POOL TIMEOUT, not the 10-minute timeout."""
    app = runtime(fake_claude, client={"POOL": {"MAX_CONNECTIONS": 1, "TIMEOUT": 0.3}})
    client = app.clients.get_async("default")
    fake_claude.queue(text("slow " * 40, chunks=40, event_delay=0.1), text("second"))
    params: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": BODY["messages"]}
    async with client.messages.stream(**params) as stream:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as failed:
            await client.messages.create(**params)
        assert time.monotonic() - started < 5.0
        assert isinstance(failed.value.__cause__, httpx.PoolTimeout)
        await stream.close()
    await app.clients.aclose()
    app.close()


def test_pool_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"\['POOL'\] has unknown key\(s\) 'SIZE'"):
        parse_settings({"CLIENTS": {"default": {"POOL": {"SIZE": 3}}}})
    with pytest.raises(ConfigError, match=r"\['MAX_CONNECTIONS'\] must be a positive integer"):
        parse_settings({"CLIENTS": {"default": {"POOL": {"MAX_CONNECTIONS": 0}}}})
    with pytest.raises(ConfigError, match=r"\['TIMEOUT'\] must be a positive number"):
        parse_settings({"CLIENTS": {"default": {"POOL": {"TIMEOUT": -1}}}})
    parsed = parse_settings({"CLIENTS": {"default": {"POOL": {"MAX_CONNECTIONS": 3000, "TIMEOUT": 5}}}})
    assert parsed.clients["default"].pool == PoolSettings(max_connections=3000, timeout=5.0)


# -- the ASGI gate ----------------------------------------------------------------------------------------------


async def test_asgi_gate_answers_a_full_process_before_the_app() -> None:
    slots = StreamSlots(1)
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = CapacityGate(app, lambda: slots, paths={"/claude/achat/"})

    async def call(method: str, path: str) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await gate({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
        return sent

    assert (await call("POST", "/claude/achat/"))[0]["status"] == 200  # room left: the app answers
    slots.acquire()
    start, body = await call("POST", "/claude/achat/")
    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"2"
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body["body"])["error"]["type"] == "too_many_streams"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert (await call("POST", "/other/"))[0]["status"] == 200  # other paths and methods pass through
    assert (await call("GET", "/claude/achat/"))[0]["status"] == 200
    assert seen == ["/claude/achat/", "/other/", "/claude/achat/"]
    slots.release()
    assert (await call("POST", "/claude/achat/"))[0]["status"] == 200
