"""No overshoot: 200 concurrent streamed calls from 4 web processes against a cost budget that holds about 50.

Real parts only: FakeClaude in its own process with paced streams, a fresh PostgreSQL database for the ledger,
budgets in Redis (a Lua script per step) or in PostgreSQL (row locks), and four live web processes: Django under
uvicorn (its sync and async chat views) or Flask under werkzeug's threaded WSGI server. The spend the ledger
records never passes the budget, the budget's counter equals the ledger, and nothing is held afterwards. With a
``kill -9`` of one web process mid-answer, its holds are given back after their TTL, not before, and nothing is
counted twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from budget_live import Database, WebProcesses, fire, fire_and_kill, most_at_once, start_fake

from claude_web.pricing import DEFAULT_PRICING
from claude_web.testing import FakeClaude, text
from claude_web.web.budgets import cost_units, from_units, worst_case

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_postgres, pytest.mark.timeout(600)]

CALLS = 200
FITS = 50
BODY = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Tell me a story"}]}
WORST = worst_case(BODY, DEFAULT_PRICING)
BUDGET = from_units(FITS * WORST.cost)  # $0.01695: 50 worst cases of 19 + 64 tokens
LEDGER = {"django": "claude_web_tokenusage", "flask": "claude_web_usage"}


@pytest.fixture(scope="module")
def fake() -> Iterator[Any]:
    proc, url = start_fake(event_delay=0.0)
    try:
        yield FakeClaude.connect(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[Database]:
    db = Database(postgres_dsn)
    try:
        yield db
    finally:
        db.drop()


class Budget:
    """The site's daily cost budget as the store keeps it, read from outside the web processes."""

    def __init__(self, kind: str, db: Database, redis_url: str, prefix: str) -> None:
        self.kind = kind
        self.db = db
        self.prefix = prefix
        self.redis: Any = None
        if kind == "redis":
            import redis

            self.redis = redis.Redis.from_url(redis_url)

    def state(self) -> tuple[int, int]:
        """(used, held) of the global cost counter, in units of 1e-8 USD."""
        if self.kind == "redis":
            keys = [k for k in self.redis.scan_iter(match=f"{self.prefix}:c:g:usd:*")]
            assert len(keys) == 1, keys
            used, held = self.redis.hmget(keys[0], "u", "h")
            return int(used), int(held)
        rows = self.db.query("SELECT used, held FROM claude_web_budget_counter WHERE name LIKE '%:c:g:usd:%'")
        assert len(rows) == 1, rows
        return int(rows[0][0]), int(rows[0][1])

    def close(self) -> None:
        if self.redis is not None:
            keys = list(self.redis.scan_iter(match=f"{self.prefix}*"))
            if keys:
                self.redis.delete(*keys)
            self.redis.close()


def launch(framework: str, store: str, db: Database, fake_url: str, redis_url: str, ttl: float) -> tuple[Any, Budget]:
    prefix = f"cwtest:overshoot:{uuid.uuid4().hex}"
    quotas: dict[str, Any] = {
        "STORE": store,
        "KEY_PREFIX": prefix,
        "GLOBAL": {"COST_PER_DAY": str(BUDGET)},
        "RESERVATION_TTL": ttl,
        "FAIL_OPEN": False,
    }
    if store == "redis":
        quotas["REDIS_URL"] = redis_url
    env = {"CWB_DB": db.url, "CWB_FAKE": fake_url, "CWB_QUOTAS": json.dumps(quotas)}
    return WebProcesses(framework, env), Budget(store, db, redis_url, prefix)


def ledger(framework: str, db: Database) -> tuple[Decimal, int]:
    ((spend, rows),) = db.query(f"SELECT COALESCE(SUM(cost), 0), COUNT(*) FROM {LEDGER[framework]}")
    return Decimal(spend), int(rows)


def settled(framework: str, db: Database, count: int) -> None:
    """Wait until the ledger has ``count`` rows (a record is written after its answer's last byte)."""
    deadline = time.monotonic() + 60
    while ledger(framework, db)[1] < count and time.monotonic() < deadline:
        time.sleep(0.2)


def paced_replies(fake: Any) -> None:
    """Realistic streams: a long answer (cut at max_tokens like the API) in 24 deltas, 80 ms apart."""
    fake.clear()
    fake.queue(*[text("Once upon a time there was a story. " * 12, chunks=24, event_delay=0.08) for _ in range(CALLS)])


@pytest.mark.parametrize("store", ["redis", "database"])
@pytest.mark.parametrize("framework", ["django", "flask"])
def test_no_overshoot_under_concurrency(
    framework: str, store: str, fake: Any, database: Database, redis_url: str
) -> None:
    paced_replies(fake)
    web, budget = launch(framework, store, database, fake.base_url, redis_url, ttl=60)
    try:
        calls = fire(web, BODY, CALLS)
        admitted = [c for c in calls if c.admitted]
        settled(framework, database, len(admitted))
    finally:
        web.stop()
        budget_state = budget.state()
        budget.close()
    refused = [c for c in calls if c.status == 429]
    assert len(admitted) + len(refused) == CALLS, [c.status for c in calls if c.status not in (200, 429)]
    assert all(c.done and c.stop_reason == "max_tokens" for c in admitted)
    assert len(admitted) >= FITS  # every call that fit was let through...
    assert most_at_once(calls) >= 40  # ...while the others were still streaming
    assert {c.message.split(" Try again")[0] for c in refused} <= {
        "The site's daily spending limit is taken up by answers still being written.",
        "The site has reached its daily spending limit.",
    }
    assert len(fake.requests) == len(admitted)  # a refused call never reached the API
    spend, rows = ledger(framework, database)
    assert rows == len(admitted)
    assert spend <= BUDGET, f"overshoot: {spend} spent of {BUDGET}"
    assert budget_state == (cost_units(spend), 0)  # the counter is the ledger; nothing is held any more


@pytest.mark.parametrize("store", ["redis", "database"])
@pytest.mark.parametrize("framework", ["django", "flask"])
def test_a_killed_web_process_gives_its_holds_back_after_the_ttl(
    framework: str, store: str, fake: Any, database: Database, redis_url: str
) -> None:
    ttl = 6.0
    paced_replies(fake)
    web, budget = launch(framework, store, database, fake.base_url, redis_url, ttl=ttl)
    try:
        calls, killed = fire_and_kill(web, BODY, CALLS, in_flight=30)  # kill -9 of a process mid-answers
        killed_at = killed.at
        lost = [c for c in calls if c.server == killed.victim and c.admitted and not c.done]
        assert lost, "the killed process had no answer in flight"
        used, held = budget.state()
        assert time.monotonic() < killed_at + ttl, "too slow to look at the holds before their TTL"
        assert held % WORST.cost == 0 and held // WORST.cost >= len(lost)  # the dead process's holds are still there
        finished = sum(1 for c in calls if c.done)
        settled(framework, database, finished)
        spend, rows = ledger(framework, database)
        assert rows == finished
        time.sleep(max(0.0, killed_at + ttl + 1.5 - time.monotonic()))
        # the next admission anywhere sweeps expired holds (a survivor; whatever its answer)
        after = fire_one(web, (killed.victim + 1) % len(web.urls))
        assert after in (200, 429)
        deadline = time.monotonic() + 30
        while budget.state()[1] != 0:
            assert time.monotonic() < deadline, budget.state()
            time.sleep(0.2)
        settled(framework, database, finished + (after == 200))
        spend, rows = ledger(framework, database)
        assert budget.state() == (cost_units(spend), 0)  # given back once, counted once
        assert spend <= BUDGET
        assert rows == finished + (after == 200)  # the killed process's calls left no record
    finally:
        web.stop()
        budget.close()


def fire_one(web: WebProcesses, server: int) -> int:
    import httpx

    with httpx.stream("POST", web.urls[server] + web.chat_path(0), json=BODY, timeout=60) as response:
        response.read()
        return response.status_code
