"""Budgets under Django: kept in the database (migration 0004_budgets) or a Redis cache, rebuilt from TokenUsage,
enforced for chat views and jobs alike, a budget that runs out mid-answer, the alert signal, ``claude_budget``."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from cwdj_helpers import chat_body, parse_sse, usage_rows
from django.core.management import call_command
from django.test import override_settings

from claude_web.testing import text
from claude_web.web.budgets import RedisBudgetStore
from claude_web_django import budget_threshold_crossed, jobs
from claude_web_django.budgets import DjangoBudgetStore
from claude_web_django.models import BudgetCounter, BudgetReservation
from claude_web_django.runtime import get_runtime, reset_runtime

pytestmark = pytest.mark.django_db(transaction=True)

URL, AURL = "/claude/chat/", "/claude/achat/"


def post(client: Any, body: dict[str, Any], url: str = URL) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def drain(response: Any) -> list[dict[str, Any]]:
    return [e for e in parse_sse(b"".join(response.streaming_content)) if "event" in e]


def counters() -> dict[str, tuple[int, int]]:
    return {row.name.split(":c:", 1)[1]: (row.used, row.held) for row in BudgetCounter.objects.all()}


def test_the_database_store_reserves_and_settles(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, user: Any
) -> None:
    claude_web_settings(QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 1000, "GLOBAL": {"COST_PER_MONTH": "1"}})
    assert isinstance(get_runtime().budgets.store, DjangoBudgetStore)  # type: ignore[union-attr]
    fake_claude.queue(text("answer from the database store", chunks=3, event_delay=0.05))
    response = post(auth_client, chat_body(max_tokens=100))
    assert response.status_code == 200
    while_streaming = counters()  # the view returned: the call holds its worst case (16 + 100 tokens)
    assert while_streaming[f"u:user:{user.pk}:tok:d{time.strftime('%Y%m%d', time.gmtime())}"] == (0, 116)
    assert BudgetReservation.objects.count() == 1
    events = drain(response)
    assert events[-1]["event"] == "done"
    (row,) = usage_rows()
    assert row.context["reservation"] and row.context["reserved"]["tokens"] == 116
    after = counters()
    assert sorted(after.values()) == sorted([(row.total_tokens, 0), (int(row.cost * 10**8), 0)])
    assert BudgetReservation.objects.count() == 0


def test_a_refusal_says_when_to_come_back(claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    claude_web_settings(QUOTAS={"STORE": "database", "COST_PER_DAY": "0.0001"})
    refused = post(auth_client, chat_body(max_tokens=1000))  # its worst case is $0.005
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["message"] == "You have reached your daily spending limit. Try again tomorrow at 00:00 UTC."
    assert int(refused["Retry-After"]) == error["retry_after"] > 0
    assert fake_claude.requests == []


def test_a_restart_rebuilds_the_counters_from_token_usage(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any
) -> None:
    claude_web_settings(QUOTAS={"TOKENS_PER_DAY": 300})  # a local-memory cache: budgets in this process
    for _ in range(2):
        fake_claude.queue(text("x" * 400, chunks=4))  # 100 output tokens
        drain(post(auth_client, chat_body(max_tokens=100)))
    used = sum(row.total_tokens for row in usage_rows())
    assert used + 116 > 300  # 2 x 104: a third worst case (116) no longer fits
    reset_runtime()  # a restart: a new, empty memory store
    refused = post(auth_client, chat_body(max_tokens=100))
    assert refused.status_code == 429, f"a restart granted a fresh budget after {used} tokens"
    assert get_runtime().budgets is not None


def test_the_redis_cache_keeps_budgets_in_redis(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, redis_url: str
) -> None:
    prefix = f"cwtest:budget:{uuid.uuid4().hex}"
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
    }
    with override_settings(CACHES=caches):
        claude_web_settings(QUOTAS={"CACHE": "shared", "KEY_PREFIX": prefix, "TOKENS_PER_DAY": 500})
        store = get_runtime().budgets.store  # type: ignore[union-attr]
        try:
            assert isinstance(store, RedisBudgetStore)
            drain(post(auth_client, chat_body(max_tokens=100)))
            (row,) = usage_rows()
            (state,) = store.counters(time.time())
            assert (state.used, state.held) == (row.total_tokens, 0)
        finally:
            keys = list(store.redis.scan_iter(match=f"{prefix}*"))
            if keys:
                store.redis.delete(*keys)
            reset_runtime()


@pytest.mark.parametrize("server, url", [("wsgi", URL), ("asgi", URL), ("asgi", AURL)])
def test_a_budget_that_runs_out_mid_answer_stops_it(
    claude_web_settings: Any, fake_claude: Any, user: Any, auth_client: Any, async_client: Any, server: str, url: str
) -> None:
    claude_web_settings(QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 2000, "ON_EXHAUSTED": "stop"})
    # admitted on an estimate of 116 tokens; message_start reports a 5,000-token prompt the budget cannot hold
    fake_claude.queue(text("never " * 50, chunks=25, event_delay=0.02, usage={"input_tokens": 5000}))
    async_client.force_login(user)

    async def run() -> bytes:
        response = await async_client.post(url, data=chat_body(max_tokens=100), content_type="application/json")
        assert response.status_code == 200
        return b"".join([chunk async for chunk in response.streaming_content])

    if server == "asgi":
        events = [e for e in parse_sse(async_to_sync(run)()) if "event" in e]
    else:
        events = drain(post(auth_client, chat_body(max_tokens=100), url))
    assert [e["event"] for e in events] == ["done"]  # stopped at message_start: no text reached the browser
    assert events[0]["data"]["stop_reason"] == "budget"
    assert events[0]["data"]["usage"]["input_tokens"] == 5000
    assert fake_claude.wait_for_stream_abort()
    (row,) = usage_rows()
    assert row.status == "aborted" and row.error_type == "budget" and row.context["stop_reason"] == "budget"
    assert row.input_tokens == 5000  # what the call cost is counted in full
    assert {held for _, held in counters().values()} == {0}


def test_finish_policy_lets_the_answer_complete(claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    claude_web_settings(QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 2000})
    fake_claude.queue(text("all of it", chunks=3, usage={"input_tokens": 5000}))
    events = drain(post(auth_client, chat_body(max_tokens=100)))
    assert events[-1]["event"] == "done" and events[-1]["data"]["stop_reason"] == "end_turn"
    (row,) = usage_rows()
    assert row.status == "ok" and row.error_type == ""


@pytest.fixture
def alerts() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    budget_threshold_crossed.connect(receiver, dispatch_uid="test-budget-alerts")
    yield received
    budget_threshold_crossed.disconnect(dispatch_uid="test-budget-alerts")


def test_threshold_alerts_are_sent_once(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, user: Any, alerts: list[dict[str, Any]]
) -> None:
    claude_web_settings(QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 1000})
    for _ in range(4):
        fake_claude.queue(text("y" * 400, chunks=2))  # 100 output tokens + 4 input
        drain(post(auth_client, chat_body(max_tokens=100)))
    assert len(alerts) == 0  # 416 of 1,000
    for _ in range(4):
        fake_claude.queue(text("y" * 400, chunks=2))
        drain(post(auth_client, chat_body(max_tokens=100)))
    assert [(a["scope"], a["limit"], a["share"]) for a in alerts] == [
        (f"user:{user.pk}", "tokens_per_day", Decimal("0.8"))
    ]
    assert alerts[0]["alert"].used == 832 and alerts[0]["value"] == 1000


def test_claude_budget_command(claude_web_settings: Any, fake_claude: Any, auth_client: Any, user: Any) -> None:
    claude_web_settings(
        QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 1000, "GLOBAL": {"COST_PER_DAY": "5", "REQUESTS_PER_MINUTE": 60}}
    )
    drain(post(auth_client, chat_body(max_tokens=100)))
    (row,) = usage_rows()
    out = io.StringIO()
    call_command("claude_budget", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:6] == ["scope", "limit", "period", "used", "reserved", "remaining"]
    user_line = next(line.split() for line in lines if line.startswith(f"user:{user.pk} "))
    assert user_line[1:6] == ["tokens_per_day", time.strftime("%Y-%m-%d", time.gmtime()), str(row.total_tokens), "0",
                              str(1000 - row.total_tokens)]  # fmt: skip
    assert any(line.startswith("global") and "requests_per_minute" in line for line in lines)
    out = io.StringIO()
    call_command("claude_budget", "--format", "json", "--scope", "global", stdout=out)
    found = {item["limit"]: item for item in json.loads(out.getvalue())}
    assert found["cost_per_day"]["used"] == f"{row.cost:.8f}" and found["cost_per_day"]["value"] == "5.00000000"
    assert found["requests_per_minute"]["used"] == 1


def _jobs_urls(settings: Any) -> None:
    import sys
    import types

    from django.urls import include, path

    module = types.ModuleType("cwdj_budget_jobs_urls")
    module.urlpatterns = [path("claude-jobs/", include("claude_web_django.jobs"))]  # type: ignore[attr-defined]
    sys.modules["cwdj_budget_jobs_urls"] = module
    settings.ROOT_URLCONF = "cwdj_budget_jobs_urls"


def test_jobs_carry_their_reservation_and_give_it_back(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, settings: Any
) -> None:
    _jobs_urls(settings)
    claude_web_settings(JOBS={"THREADS": 1}, QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 300})
    jobs.set_job_service(None)
    try:
        hi = [{"role": "user", "content": "Hi"}]
        fake_claude.queue(text("a job's answer", chunks=3, event_delay=0.1))
        started = post(auth_client, {"kind": "stream", "params": {"messages": hi, "max_tokens": 200}}, "/claude-jobs/")
        assert started.status_code == 202
        over = post(auth_client, {"kind": "stream", "params": {"messages": hi, "max_tokens": 200}}, "/claude-jobs/")
        assert over.status_code == 429 and over.json()["error"]["limit"] == "tokens_per_day"  # the job holds 215
        job_id = started.json()["job_id"]
        deadline = time.monotonic() + 10
        while auth_client.get(f"/claude-jobs/{job_id}/").json()["state"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (row,) = usage_rows()
        assert row.context["job_id"] == job_id and row.context["reservation"]
        deadline = time.monotonic() + 5
        while BudgetReservation.objects.exists():  # the worker gives the rest back when the job ends
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert {held for _, held in counters().values()} == {0}
        assert {used for used, _ in counters().values()} == {row.total_tokens}
    finally:
        jobs.set_job_service(None)


def test_a_batch_reserves_every_request_at_the_batch_rate(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, settings: Any
) -> None:
    _jobs_urls(settings)
    claude_web_settings(JOBS={"THREADS": 1}, QUOTAS={"STORE": "database", "COST_PER_DAY": "0.004"})
    jobs.set_job_service(None)
    try:
        one = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1000}  # $0.005015 at full price
        batch = {"requests": [{"custom_id": f"r{i}", "params": one} for i in range(2)]}
        over = post(auth_client, {"kind": "batch", "params": batch}, "/claude-jobs/")
        assert over.status_code == 429  # 2 x $0.0025075 at half price: more than $0.004
        single = {"requests": [{"custom_id": "r0", "params": one}]}
        assert post(auth_client, {"kind": "batch", "params": single}, "/claude-jobs/").status_code == 202
        (reservation,) = BudgetReservation.objects.all()
        assert json.loads(reservation.holds) == {BudgetCounter.objects.get().name: 250750}
    finally:
        jobs.set_job_service(None)


@pytest.mark.django_db(databases=["default", "postgres"], transaction=True)
def test_postgres_store_and_ledger(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, postgres_dsn: str
) -> None:
    from django.db import connections

    if connections["postgres"].vendor != "postgresql":
        pytest.fail(f"the 'postgres' alias is not PostgreSQL ({postgres_dsn})")
    claude_web_settings(USAGE={"DATABASE": "postgres"}, QUOTAS={"STORE": "database", "TOKENS_PER_DAY": 300})
    store = get_runtime().budgets.store  # type: ignore[union-attr]
    assert isinstance(store, DjangoBudgetStore) and store.dialect == "postgresql"
    for _ in range(2):
        fake_claude.queue(text("z" * 400, chunks=2))
        drain(post(auth_client, chat_body(max_tokens=100)))
    from claude_web_django.models import TokenUsage
    from claude_web_django.receivers import wait_for_usage_writes

    assert wait_for_usage_writes(10.0)
    used = sum(row.total_tokens for row in TokenUsage.objects.using("postgres").all())
    assert used == 208
    assert [c.used for c in BudgetCounter.objects.using("postgres").all()] == [208]
    BudgetCounter.objects.using("postgres").all().delete()  # lost (a restored database, a bad migration...)
    refused = post(auth_client, chat_body(max_tokens=100))
    assert refused.status_code == 429  # rebuilt from the ledger in PostgreSQL: 208 + 116 > 300
    assert [c.used for c in BudgetCounter.objects.using("postgres").all()] == [208]
