"""Budgets: admission by reservation, settlement from usage records, scopes, rebuilds from the ledger, alerts,
watches, friendly refusals. A memory store unless the test is about another; the ledger is a list of records."""

from __future__ import annotations

import doctest
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from budget_helpers import Clock, ListLedger

import claude_web.quotas
import claude_web.web.budgets._estimate
import claude_web.web.budgets._manager
import claude_web.web.budgets._plan
import claude_web.web.budgets._store
from claude_web.pricing import DEFAULT_PRICING
from claude_web.quotas import QuotaExceeded
from claude_web.types import Message
from claude_web.usage import UsageRecord
from claude_web.web.budgets import (
    BudgetAlert,
    Budgets,
    BudgetUnpriced,
    MemoryBudgetStore,
    RedisBudgetStore,
    budget_report,
    render_budget_json,
    render_budget_table,
    worst_case,
    worst_case_of,
)
from claude_web.web.settings import QuotaSettings, parse_settings

NOW = 1_796_040_000.0  # 2026-11-30 12:00:00 UTC
HAIKU = "claude-haiku-4-5"


def params(max_tokens: int = 100, text: str = "Hello there", model: str = HAIKU, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": text}], **extra}


def quotas(**section: Any) -> QuotaSettings:
    return parse_settings({"QUOTAS": {"STORE": "memory", **section}}).quotas


class Harness:
    def __init__(self, settings: QuotaSettings, store: Any = None) -> None:
        self.clock = Clock(NOW)
        self.ledger = ListLedger()
        self.alerts: list[BudgetAlert] = []
        self.store = store or MemoryBudgetStore()
        self.budgets = self.make(settings)

    def make(self, settings: QuotaSettings, store: Any = None) -> Budgets:
        return Budgets(
            settings,
            store or self.store,
            pricing=DEFAULT_PRICING,
            ledger=self.ledger,
            on_alert=self.alerts.append,
            clock=self.clock,
        )

    def finish(
        self, context: dict[str, Any], input_tokens: int, output_tokens: int, *, alias: str = "default", **extra: Any
    ) -> UsageRecord:
        """The usage record of a call admitted with ``context``: stored in the ledger, then settled."""
        record = UsageRecord(
            operation="messages.stream",
            model=HAIKU,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            context={**context, "alias": alias, **extra},
            created_at=datetime.fromtimestamp(self.clock.now, timezone.utc),
        )
        record.apply_pricing(DEFAULT_PRICING)
        self.ledger.add(record)
        self.budgets.settle(record)
        return record

    def line(self, scope: str, limit: str) -> Any:
        for line in budget_report(self.budgets, now=self.clock.now):
            if line.scope == scope and line.limit == limit:
                return line
        raise AssertionError(f"no line {scope} {limit}")


def test_doctests() -> None:
    modules = (
        claude_web.quotas,
        claude_web.web.budgets._plan,
        claude_web.web.budgets._estimate,
        claude_web.web.budgets._store,
        claude_web.web.budgets._manager,
    )
    for module in modules:
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


# -- worst cases ----------------------------------------------------------------------------------------------


def test_worst_case_prices_every_possible_token_at_the_worst_rate() -> None:
    plain = worst_case(params(1000), DEFAULT_PRICING, prompt=2000)
    assert (plain.tokens, plain.cost) == (3000, 700_000)  # (2000 x $1 + 1000 x $5) / MTok = $0.007
    cached = worst_case(params(1000, system=[{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}]),
                        DEFAULT_PRICING, prompt=2000)  # fmt: skip
    assert cached.cost == 750_000  # every prompt token could be a 5-minute write at $1.25
    hour = worst_case(
        params(1000, system=[{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]),
        DEFAULT_PRICING,
        prompt=2000,
    )
    assert hour.cost == 900_000  # or a 1-hour write at $2
    long = worst_case(params(1000, model="claude-sonnet-4-5"), DEFAULT_PRICING, prompt=250_000)
    assert long.cost == cost_usd("1.5225")  # 250k x $6 + 1000 x $22.50 per MTok: the long-context tier
    short = worst_case(params(1000, model="claude-sonnet-4-5"), DEFAULT_PRICING, prompt=200_000)
    assert short.cost == cost_usd("0.615")  # exactly 200k: the standard tier
    search = worst_case(
        params(100, tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]),
        DEFAULT_PRICING,
        prompt=100,
    )
    assert search.cost == cost_usd("0.0006") + cost_usd("0.03")  # tokens + 3 searches at $10 / 1,000
    batch = worst_case_of(
        {"requests": [{"custom_id": "a", "params": params(1000)}, {"custom_id": "b", "params": params(1000)}]},
        DEFAULT_PRICING,
    )
    single = worst_case(params(1000), DEFAULT_PRICING)
    assert batch.tokens == 2 * single.tokens and batch.cost == single.cost  # two requests at half price
    assert not worst_case(params(model="gpt-4"), DEFAULT_PRICING).priced


def cost_usd(text: str) -> int:
    return int(Decimal(text) / Decimal("0.00000001"))


# -- admission and settlement ---------------------------------------------------------------------------------


def test_admit_reserves_and_settle_counts_what_was_used() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, COST_PER_MONTH="0.01"))
    context = h.budgets.admit("user:1", params(300), alias="default")
    assert context["quota_key"] == "user:1" and context["reservation"]
    worst = worst_case(params(300), DEFAULT_PRICING)
    assert context["reserved"] == {"tokens": worst.tokens, "cost": "0.00151800"}
    assert h.line("user:1", "tokens_per_day").reserved == worst.tokens
    h.finish(context, 12, 40)
    line = h.line("user:1", "tokens_per_day")
    assert (line.used, line.reserved, line.remaining) == (52, 0, 948)
    cost = h.line("user:1", "cost_per_month")
    assert cost.used == Decimal("0.00021200") and cost.value == Decimal("0.01")


def test_concurrent_admissions_are_refused_once_the_worst_cases_fill_the_budget() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000))
    admitted = [h.budgets.admit("user:1", params(300)) for _ in range(3)]  # 318 each
    with pytest.raises(QuotaExceeded) as refused:
        h.budgets.admit("user:1", params(300))
    assert refused.value.busy and refused.value.limit == "tokens_per_day"
    assert refused.value.message.startswith("Your daily token limit is taken up by answers still being written.")
    for context in admitted:
        h.finish(context, 10, 290)  # each used 300 of its 318
    with pytest.raises(QuotaExceeded) as spent:
        h.budgets.admit("user:1", params(300))
    assert not spent.value.busy
    assert spent.value.to_dict()["error"]["message"] == (
        "You have reached your daily token limit. Try again tomorrow at 00:00 UTC."
    )
    assert spent.value.retry_after == 12 * 3600
    assert h.budgets.admit("user:1", params(50))  # what remains still takes a smaller call


def test_scopes_user_alias_and_global() -> None:
    h = Harness(
        quotas(
            TOKENS_PER_DAY=10_000,
            PER_ALIAS={"cheap": {"TOKENS_PER_DAY": 400}, "*": {"TOKENS_PER_DAY": 5_000}},
            GLOBAL={"COST_PER_DAY": "0.004"},
        )
    )
    h.budgets.admit("user:1", params(300), alias="cheap")
    with pytest.raises(QuotaExceeded) as alias:
        h.budgets.admit("user:2", params(300), alias="cheap")  # another user, same client
    assert alias.value.scope == "alias"
    assert alias.value.message.startswith("This assistant's daily token limit is taken up")
    h.budgets.admit("user:2", params(300), alias="other")  # "*": its own 5,000
    with pytest.raises(QuotaExceeded) as site:
        h.budgets.admit("user:3", params(300), alias="third")  # 3 x $0.001516 > $0.004
    assert site.value.scope == "global" and site.value.limit == "cost_per_day"
    assert {line.scope for line in budget_report(h.budgets, now=NOW)} >= {"global", "alias:cheap", "user:1"}


def test_requests_per_minute_refuses_with_the_time_to_come_back() -> None:
    h = Harness(quotas(REQUESTS_PER_MINUTE=2))
    h.clock.now = NOW + 50  # 12:00:50
    h.budgets.admit("user:1", params())
    h.clock.now = NOW + 65  # 12:01:05: a fixed minute would start counting again here
    h.budgets.admit("user:1", params())
    with pytest.raises(QuotaExceeded) as refused:
        h.budgets.admit("user:1", params())
    error = refused.value.to_dict()["error"]
    assert error["limit"] == "requests_per_minute" and error["retry_after"] == 45
    assert error["retry_at"] == "2026-11-30T12:01:50+00:00"
    assert error["message"] == "You have reached your requests-per-minute limit. Try again at 12:02 UTC."
    h.clock.now = NOW + 111
    h.budgets.admit("user:1", params())


def test_a_model_without_a_price_cannot_pass_a_cost_budget() -> None:
    h = Harness(quotas(COST_PER_DAY="1"))
    with pytest.raises(BudgetUnpriced):
        h.budgets.admit("user:1", params(model="my-own-model"))
    tokens_only = Harness(quotas(TOKENS_PER_DAY=1000))
    assert tokens_only.budgets.admit("user:1", params(model="my-own-model"))["reservation"]


def test_an_admission_for_several_calls_is_held_until_released() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000))
    loop = h.budgets.admit("user:1", params(300), job=True)  # a tool loop: held until it is over
    assert loop["reservation"].startswith("j")
    h.finish(loop, 20, 100)
    assert h.line("user:1", "tokens_per_day").reserved == 318 - 120  # each call shrinks the hold by its use
    h.finish(loop, 30, 20)
    line = h.line("user:1", "tokens_per_day")
    assert (line.used, line.reserved) == (170, 148)
    h.budgets.release(loop)  # not this process's one-call hold: nothing happens without force
    assert h.line("user:1", "tokens_per_day").reserved == 148
    h.budgets.release(loop, force=True)
    assert h.line("user:1", "tokens_per_day").reserved == 0


def test_release_gives_back_a_call_that_never_started() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=400))
    context = h.budgets.admit("user:1", params(300))
    h.budgets.release(context)
    assert h.line("user:1", "tokens_per_day").reserved == 0
    h.budgets.admit("user:1", params(300))


def test_a_hold_whose_process_died_expires_after_its_ttl() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=400, RESERVATION_TTL=30))
    h.budgets.admit("user:1", params(300))  # its process dies: no record ever settles it
    h.clock.advance(29)
    with pytest.raises(QuotaExceeded):
        h.budgets.admit("user:1", params(300))
    h.clock.advance(2)
    assert h.budgets.admit("user:1", params(300))["reservation"]  # swept on the way in


def test_check_quota_counts_the_request_and_refuses_a_spent_budget() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=100, REQUESTS_PER_MINUTE=5))
    h.budgets.check("user:1")
    h.budgets.consume(
        "user:1", UsageRecord(operation="messages.create", model=HAIKU, input_tokens=60, output_tokens=40)
    )
    with pytest.raises(QuotaExceeded) as refused:
        h.budgets.check("user:1")
    assert refused.value.limit == "tokens_per_day"


# -- rebuilding from the ledger -------------------------------------------------------------------------------


def test_a_restart_never_grants_a_fresh_budget() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, GLOBAL={"COST_PER_MONTH": "5"}))
    for _ in range(3):
        h.finish(h.budgets.admit("user:1", params(300)), 10, 290)
    # the process restarts: a new, empty memory store; the ledger remembers
    restarted = h.make(h.budgets.settings, MemoryBudgetStore())
    with pytest.raises(QuotaExceeded):
        restarted.admit("user:1", params(300))
    assert restarted.admit("user:1", params(50))
    asked = {(scope.label, since.day) for scope, since, _ in h.ledger.asked}
    assert ("user:1", 30) in asked and ("global", 1) in asked  # the day of the user, the month of the site


def test_a_redis_flush_rebuilds_the_counters_from_the_ledger(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    prefix = f"test:budgets:{uuid.uuid4().hex}"
    try:
        h = Harness(quotas(TOKENS_PER_DAY=1000), RedisBudgetStore(client, prefix))
        for _ in range(3):
            h.finish(h.budgets.admit("user:1", params(300)), 10, 290)
        client.delete(*client.scan_iter(match=f"{prefix}*"))  # FLUSH
        with pytest.raises(QuotaExceeded):
            h.budgets.admit("user:1", params(300))
        assert h.line("user:1", "tokens_per_day").used == 900
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


# -- alerts ---------------------------------------------------------------------------------------------------


def test_alerts_fire_once_per_scope_period_and_share() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, ALERT_AT=[0.5, 0.8, 1.0], GLOBAL={"TOKENS_PER_DAY": 100_000}))
    h.finish(h.budgets.admit("user:1", params(300)), 10, 290)  # 300
    assert h.alerts == []
    h.finish(h.budgets.admit("user:1", params(300)), 10, 290)  # 600: passes 50%
    h.finish(h.budgets.admit("user:1", params(300)), 10, 290)  # 900: passes 80%
    assert [(a.scope, a.limit, a.share, a.used, a.value) for a in h.alerts] == [
        ("user:1", "tokens_per_day", Decimal("0.5"), 600, 1000),
        ("user:1", "tokens_per_day", Decimal("0.8"), 900, 1000),
    ]
    assert h.alerts[0].period == "2026-11-30"
    other = h.make(h.budgets.settings)  # another process on the same store: no second alert for 80%
    other.settle(UsageRecord(operation="x", model=HAIKU, input_tokens=1, context={"quota_key": "user:1"},
                             created_at=datetime.fromtimestamp(NOW, timezone.utc)))  # fmt: skip
    assert len(h.alerts) == 2
    h.finish(h.budgets.admit("user:1", params(80)), 10, 90)  # 1001: 100%
    assert [a.share for a in h.alerts] == [Decimal("0.5"), Decimal("0.8"), Decimal("1")]


# -- watching a stream ----------------------------------------------------------------------------------------


def start_event(input_tokens: int) -> Any:
    message = Message.model_validate(
        {"id": "m", "type": "message", "role": "assistant", "content": [], "model": HAIKU, "stop_reason": None,
         "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}
    )  # fmt: skip
    return type("Start", (), {"type": "message_start", "message": message})()


class Delta:
    type = "content_block_delta"


@pytest.fixture(params=["stop", "finish"])
def policy(request: pytest.FixtureRequest) -> Iterator[str]:
    yield str(request.param)


def test_a_watch_tops_up_a_short_estimate_and_applies_the_policy(policy: str) -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, ON_EXHAUSTED=policy))
    small = h.budgets.admit("user:1", params(100))  # the prompt is estimated at 18 tokens
    watch = h.budgets.watch(small, params(100))
    assert watch(start_event(400)) is False  # the real prompt is 400: the hold grows to 500
    assert h.line("user:1", "tokens_per_day").reserved == 500
    big = h.budgets.admit("user:1", params(300))
    watch = h.budgets.watch(big, params(300))
    assert watch(start_event(500)) is (policy == "stop")  # 800 needed, 500 free: the budget ran out mid-answer
    assert watch(Delta()) is (policy == "stop")
    record = UsageRecord(operation="messages.stream", model=HAIKU, status="aborted", context=dict(big))
    h.budgets.note_stop(record)
    assert (record.context.get("stop_reason"), record.error_type) == (
        ("budget", "budget") if policy == "stop" else (None, None)
    )


def test_a_watch_keeps_a_long_stream_alive_and_does_nothing_between(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, RESERVATION_TTL=30))
    context = h.budgets.admit("user:1", params(300))
    ticks = iter([0.0, 5.0, 11.0, 21.0, 31.0, 41.0, 51.0, 61.0])
    monotonic = 0.0

    def fake_monotonic() -> float:
        return monotonic

    import claude_web.web.budgets._watch as watch_module

    monkeypatch.setattr(watch_module.time, "monotonic", fake_monotonic)
    watch = h.budgets.watch(context, params(300))
    calls = []
    real_ensure = h.budgets._ensure
    monkeypatch.setattr(h.budgets, "_ensure", lambda *a: calls.append(a) or real_ensure(*a))
    for tick in ticks:
        monotonic = tick
        h.clock.now = NOW + tick
        assert watch(Delta()) is False
    assert len(calls) == 6  # once every 10 s (a third of the TTL), never per event
    h.clock.now = NOW + 75
    with pytest.raises(QuotaExceeded):
        h.budgets.admit("user:1", params(800))  # still held at 75 s, long past the first TTL


def test_reports_render() -> None:
    h = Harness(quotas(TOKENS_PER_DAY=1000, GLOBAL={"COST_PER_DAY": "2", "REQUESTS_PER_MINUTE": 100}))
    h.finish(h.budgets.admit("user:1", params(300)), 10, 290)
    h.budgets.admit("user:1", params(100))
    lines = budget_report(h.budgets, now=NOW)
    table = render_budget_table(lines)
    assert table.splitlines()[0].split() == [
        "scope", "limit", "period", "used", "reserved", "remaining", "limit", "value", "resets",
    ]  # fmt: skip
    user_row = next(row.split() for row in table.splitlines() if row.startswith("user:1 "))
    assert user_row[:7] == ["user:1", "tokens_per_day", "2026-11-30", "300", "118", "582", "1,000"]
    rows = {(row["scope"], row["limit"]): row for row in json.loads(render_budget_json(lines))}
    assert (
        rows[("user:1", "tokens_per_day")]["reserved"] == 118 and rows[("user:1", "tokens_per_day")]["remaining"] == 582
    )
    assert rows[("global", "requests_per_minute")]["used"] == 2
    assert rows[("global", "cost_per_day")]["used"] == "0.00146000"


# -- settings and the runtime ---------------------------------------------------------------------------------


def test_settings_say_what_to_write() -> None:
    from claude_web.web.settings import ConfigError, settings_from_env, settings_from_flat

    cfg = parse_settings({"QUOTAS": {"PER_ALIAS": {"*": {"COST_PER_DAY": 5}}, "GLOBAL": {"TOKENS_PER_MONTH": 10}}})
    assert cfg.quotas.enabled and cfg.quotas.alias_limits("any").cost_per_day == Decimal(5)
    assert cfg.quotas.alert_at == (Decimal("0.8"), Decimal("1"))
    for bad, words in (
        ({"ON_EXHAUSTED": "explode"}, "must be 'finish' or 'stop'"),
        ({"ALERT_AT": [0.8, 1.5]}, "between 0 and 1"),
        ({"GLOBAL": {"TOKENS": 5}}, "unknown key(s) 'TOKENS'"),
        ({"PER_ALIAS": {"default": {"COST_PER_DAY": "-1"}}}, "CLAUDE_WEB['QUOTAS']['PER_ALIAS']['default']"),
        ({"INPUT_TOKENS": "guess"}, "'estimate' or 'count'"),
    ):
        with pytest.raises(ConfigError, match=re.escape(words)):
            parse_settings({"QUOTAS": bad})
    flat = settings_from_flat(
        {
            "CLAUDE_WEB_QUOTAS": {"GLOBAL": {"COST_PER_DAY": "9"}, "KEY_PREFIX": "mine"},
            "CLAUDE_WEB_QUOTA_ON_EXHAUSTED": "stop",
        }
    )
    assert (flat.quotas.on_exhausted, flat.quotas.key_prefix) == ("stop", "mine")
    assert flat.quotas.global_limits.cost_per_day == Decimal(9)
    env = settings_from_env(
        {"CLAUDE_WEB_QUOTAS_GLOBAL": '{"COST_PER_DAY": "3"}', "CLAUDE_WEB_QUOTAS_RESERVATION_TTL": "30"}
    )
    assert env.quotas.global_limits.cost_per_day == Decimal(3) and env.quotas.reservation_ttl == 30.0


def test_count_mode_asks_the_api_for_the_prompt(fake_claude: Any) -> None:
    from claude_web.web.runtime import WebRuntime

    records: list[UsageRecord] = []
    runtime = WebRuntime(
        parse_settings(
            {
                "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url}}},
                "QUOTAS": {"STORE": "memory", "TOKENS_PER_DAY": 10_000, "INPUT_TOKENS": "count"},
            }
        ),
        notify=records.append,
    )
    try:
        long_prompt = params(100, text="word " * 400)  # 2,000 characters: FakeClaude counts 503 tokens
        context = runtime.admit("user:1", long_prompt)
        assert fake_claude.last_request.path == "/v1/messages/count_tokens"
        assert context["reserved"]["tokens"] == 503 + 100
        assert worst_case(long_prompt, DEFAULT_PRICING).tokens == 681 + 100  # the estimate would have held more
        assert records == []  # counting is not a usage record
    finally:
        runtime.close()
