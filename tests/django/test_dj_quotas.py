"""Quotas: checked before the upstream call, counted in the Django cache, 429 with Retry-After."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from cwdj_helpers import chat_body, usage_rows
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from claude_web.quotas import Quota, QuotaExceeded, QuotaLimits
from claude_web.testing import text
from claude_web.usage import UsageRecord
from claude_web_django.quotas import CacheCounterStore, check_quota, consume_quota

pytestmark = pytest.mark.django_db(transaction=True)


def post(client: Any, url: str = "/claude/chat/") -> Any:
    return client.post(url, data=json.dumps(chat_body()), content_type="application/json")


def post_body(client: Any, body: dict[str, Any], url: str = "/claude/chat/") -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("url", ["/claude/chat/", "/claude/achat/"])
def test_requests_per_minute_gives_429_without_upstream_call(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, url: str
) -> None:
    claude_web_settings(QUOTAS={"REQUESTS_PER_MINUTE": 2})
    for _ in range(2):
        response = post(auth_client, url)
        assert response.status_code == 200
        if url.endswith("/chat/"):
            b"".join(response.streaming_content)
    calls = len(fake_claude.requests)
    response = post(auth_client, url)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    payload = response.json()["error"]
    assert payload["type"] == "quota_exceeded" and payload["limit"] == "requests_per_minute"
    assert len(fake_claude.requests) == calls  # no upstream call for the refused request


def test_tokens_per_day_counts_finished_calls(claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    # each call reserves its worst case (16 estimated prompt tokens + max_tokens 60 = 76) and settles to its use
    claude_web_settings(QUOTAS={"TOKENS_PER_DAY": 100})
    for _ in range(2):
        fake_claude.queue(text("a reasonably long answer with tokens", chunks=3))
        response = post_body(auth_client, chat_body(max_tokens=60))
        assert response.status_code == 200
        b"".join(response.streaming_content)
    rows = usage_rows()
    used = sum(row.total_tokens for row in rows)
    assert len(rows) == 2 and used == 26 and used + 76 > 100  # the third call's worst case no longer fits
    refused = post_body(auth_client, chat_body(max_tokens=60))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["limit"] == "tokens_per_day" and error["scope"] == "user"
    assert error["message"].startswith("You have reached your daily token limit. Try again tomorrow at 00:00 UTC")
    assert len(fake_claude.requests) == 2
    smaller = post_body(auth_client, chat_body(max_tokens=10))  # what is left still admits a smaller call
    assert smaller.status_code == 200
    b"".join(smaller.streaming_content)


def test_a_call_in_flight_holds_its_worst_case(claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    claude_web_settings(QUOTAS={"TOKENS_PER_DAY": 100})
    fake_claude.queue(text("slow answer", chunks=2, event_delay=0.05))
    first = post_body(auth_client, chat_body(max_tokens=60))  # admitted: 76 tokens held until it settles
    assert first.status_code == 200
    second = post_body(auth_client, chat_body(max_tokens=60))
    assert second.status_code == 429
    error = second.json()["error"]
    assert error["message"].startswith("Your daily token limit is taken up by answers still being written.")
    assert 1 <= int(second["Retry-After"]) <= 60
    b"".join(first.streaming_content)  # it finishes and settles to what it used: room again
    third = post_body(auth_client, chat_body(max_tokens=60))
    assert third.status_code == 200
    b"".join(third.streaming_content)


def test_quotas_are_per_user(claude_web_settings: Any, fake_claude: Any, django_user_model: Any) -> None:
    from django.test import Client

    claude_web_settings(QUOTAS={"REQUESTS_PER_MINUTE": 1})
    clients = []
    for name in ("ann", "bob"):
        client = Client()
        client.force_login(django_user_model.objects.create_user(username=name))
        clients.append(client)
    assert post(clients[0]).status_code == 200
    assert post(clients[1]).status_code == 200
    assert post(clients[0]).status_code == 429


def test_cost_per_month(claude_web_settings: Any) -> None:
    claude_web_settings(QUOTAS={"COST_PER_MONTH": "0.01"})
    record = UsageRecord(
        operation="messages.create",
        model="claude-haiku-4-5",
        cost=Decimal("0.02"),
        input_tokens=1,
        context={"quota_key": "user:9"},
    )
    check_quota("user:9")
    consume_quota(record)
    with pytest.raises(QuotaExceeded) as info:
        check_quota("user:9")
    assert info.value.limit == "cost_per_month"
    check_quota("user:10")  # someone else is fine


def test_no_limits_no_counting(claude_web_settings: Any) -> None:
    for _ in range(100):
        check_quota("user:1")
    assert caches["default"].get_many(["claude_web:quota:user:1"]) == {}


@pytest.mark.parametrize("backend", ["locmem", "db", "file"])
def test_cache_counter_store_only_on_caches_that_count_atomically(backend: str, tmp_path: Any) -> None:
    configs = {
        "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "quota-test"},
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "quota_cache_table"},
        "file": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)},
    }
    with override_settings(CACHES={"default": configs["locmem"], "q": configs[backend]}):
        if backend != "locmem":  # a read and a write: concurrent increments would be lost
            with pytest.raises(ImproperlyConfigured, match="cannot increment a counter atomically"):
                CacheCounterStore(caches["q"])
            return
        store = CacheCounterStore(caches["q"])
        assert store.incr("k", 2, 60) == 2
        assert store.incr("k", 3, 60) == 5
        assert store.get_many(["k", "missing"]) == {"k": 5}
        quota = Quota(QuotaLimits(requests_per_minute=1), store)
        quota.check("u")
        with pytest.raises(QuotaExceeded):
            quota.check("u")


def test_redis_cache_counts_across_clients(redis_url: str) -> None:
    config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "cwtest"}
    locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    with override_settings(CACHES={"default": locmem, "redis": config}):
        cache = caches["redis"]
        cache.delete("counter")
        first, second = CacheCounterStore(cache), CacheCounterStore(caches.create_connection("redis"))
        assert first.incr("counter", 4, 30) == 4
        assert second.incr("counter", 1, 30) == 5
        assert first.get_many(["counter"]) == {"counter": 5}
        assert 0 < cache._cache.get_client("counter").ttl(cache.make_and_validate_key("counter")) <= 30
        cache.delete("counter")
