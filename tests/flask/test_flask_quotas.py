"""Per-user quotas counted in a real Redis: 429 JSON with Retry-After before any upstream call."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from flask_helpers import chat_body, parse_sse, post_stream

from claude_web.testing import text
from claude_web_flask import get_state, quota_exceeded


@pytest.fixture
def quota_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"test:claude_web_flask:{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def _not_near_a_minute_boundary() -> None:
    """Requests per minute are counted in fixed calendar minutes: keep a test's requests inside one."""
    if time.time() % 60 > 50:
        time.sleep(60 - time.time() % 60 + 0.1)


def _quota_app(make_app: Any, redis_url: str, prefix: str, limits: dict[str, Any], user: str = "u1") -> Any:
    return make_app(
        CLAUDE_WEB_QUOTAS=limits,
        CLAUDE_WEB_QUOTA_REDIS_URL=redis_url,
        CLAUDE_WEB_QUOTA_KEY_PREFIX=prefix,
        CLAUDE_WEB_USER_LOADER=lambda: user,
    )


def test_requests_per_minute_gives_429_with_retry_after_before_upstream(
    make_app: Any, serve: Any, fake_claude: Any, redis_url: str, quota_prefix: str
) -> None:
    _not_near_a_minute_boundary()
    t = _quota_app(make_app, redis_url, quota_prefix, {"REQUESTS_PER_MINUTE": 2})
    refused: list[tuple[str, Any]] = []

    def on_refused(sender: Any, key: str, error: Any, **_: Any) -> None:
        refused.append((key, error))

    quota_exceeded.connect(on_refused, sender=t.app, weak=False)
    try:
        server = serve(t.app)
        for _ in range(2):
            fake_claude.queue(text("ok", chunks=1))
            response, chunks = post_stream(f"{server.url}/claude/chat", chat_body())
            assert response.status_code == 200
            assert any(e.get("event") == "done" for e in parse_sse("".join(c for _, c in chunks)))
        assert len(fake_claude.requests) == 2
        third = httpx.post(f"{server.url}/claude/chat", json=chat_body(), timeout=5)
        assert third.status_code == 429
        retry_after = int(third.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        payload = third.json()["error"]
        assert payload["type"] == "quota_exceeded"
        assert payload["limit"] == "requests_per_minute"
        assert payload["retry_after"] == retry_after
        assert len(fake_claude.requests) == 2  # no upstream call for the refused request
        assert [key for key, _ in refused] == ["user:u1"]
    finally:
        quota_exceeded.disconnect(on_refused, sender=t.app)
    # the counters really are in Redis, under the configured prefix
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter(f"{quota_prefix}*")]
    assert f"{quota_prefix}:w:u:user:u1" in keys, keys  # the sliding window of user u1's requests


def test_tokens_per_day_counts_usage_records_and_then_refuses(
    make_app: Any, serve: Any, fake_claude: Any, redis_url: str, quota_prefix: str
) -> None:
    # a call reserves its worst case: 15 estimated prompt tokens + max_tokens 80 = 95 of the 100
    t = _quota_app(make_app, redis_url, quota_prefix, {"TOKENS_PER_DAY": 100}, user="heavy")
    other = _quota_app(make_app, redis_url, quota_prefix, {"TOKENS_PER_DAY": 100}, user="light")
    server = serve(t.app)
    other_server = serve(other.app)
    fake_claude.queue(text("a fairly long answer that uses more than ten tokens in total", chunks=4))
    response, _ = post_stream(f"{server.url}/claude/chat", chat_body(max_tokens=80))
    assert response.status_code == 200
    [record] = t.usage.wait(1)
    assert record.total_tokens >= 10  # settled: 100 - used no longer takes another worst case
    refused = httpx.post(f"{server.url}/claude/chat", json=chat_body(max_tokens=80), timeout=5)
    assert refused.status_code == 429
    assert refused.json()["error"]["limit"] == "tokens_per_day"
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(fake_claude.requests) == 1
    # another user is not affected
    fake_claude.queue(text("hi", chunks=1))
    ok, _ = post_stream(f"{other_server.url}/claude/chat", chat_body(max_tokens=80))
    assert ok.status_code == 200
    assert len(fake_claude.requests) == 2


def test_quota_store_down_fails_open_or_closed(make_app: Any, fake_claude: Any) -> None:
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    open_app = make_app(CLAUDE_WEB_QUOTAS={"REQUESTS_PER_MINUTE": 5}, CLAUDE_WEB_QUOTA_REDIS_URL=dead)
    fake_claude.queue(text("still works", chunks=1))
    response = open_app.app.test_client().post("/claude/chat", json=chat_body())
    assert response.status_code == 200
    assert "still works" in "".join(
        e["data"]["text"] for e in parse_sse(response.get_data(as_text=True)) if e.get("event") == "text"
    )
    closed = make_app(
        CLAUDE_WEB_QUOTAS={"REQUESTS_PER_MINUTE": 5}, CLAUDE_WEB_QUOTA_REDIS_URL=dead, CLAUDE_WEB_QUOTA_FAIL_OPEN=False
    )
    before = len(fake_claude.requests)
    refused = closed.app.test_client().post("/claude/chat", json=chat_body())
    assert refused.status_code == 503
    assert refused.json["error"]["type"] == "quota_unavailable"
    assert len(fake_claude.requests) == before


def test_memory_quota_store_for_single_process_apps(make_app: Any, fake_claude: Any) -> None:
    _not_near_a_minute_boundary()
    t = make_app(CLAUDE_WEB_QUOTAS={"REQUESTS_PER_MINUTE": 1}, CLAUDE_WEB_QUOTA_STORE="memory")
    assert get_state(t.app).runtime.quota is not None
    fake_claude.queue(text("one", chunks=1))
    client = t.app.test_client()
    first = client.post("/claude/chat", json=chat_body())
    assert first.status_code == 200
    first.get_data()
    assert client.post("/claude/chat", json=chat_body()).status_code == 429
