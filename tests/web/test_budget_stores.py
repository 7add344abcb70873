"""The budget stores keep the same rules: memory, Redis (Lua), SQLite and PostgreSQL (row locks).

Every test runs against each store on real parts; the concurrency tests hammer one limit from many threads (and,
for PostgreSQL and Redis, many connections) and check that a hold never passes the limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget_helpers import PostgresSchema, sqlite_store

from claude_web.web.budgets import BudgetStore, Charge, MemoryBudgetStore, RedisBudgetStore, Window

NOW = 1_796_040_000.0  # 2026-11-30 12:00 UTC
LATER = NOW + 86_400 * 40


@pytest.fixture(params=["memory", "redis", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BudgetStore]:
    prefix = f"test:budget:{uuid.uuid4().hex}"
    kind = request.param
    if kind == "memory":
        yield MemoryBudgetStore(prefix)
    elif kind == "redis":
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        yield RedisBudgetStore(client, prefix)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    elif kind == "sqlite":
        yield sqlite_store(tmp_path / "budget.sqlite3", prefix)
    else:
        schema = PostgresSchema(request.getfixturevalue("postgres_dsn"))
        try:
            yield schema.store(prefix)
        finally:
            schema.drop()


def key(store: BudgetStore, name: str) -> str:
    return f"{store.prefix}:c:{name}"


def charge(store: BudgetStore, name: str, limit: int, amount: int) -> Charge:
    return Charge(key(store, name), limit, amount, LATER)


def state(store: BudgetStore, name: str) -> tuple[int, int]:
    for counter in store.counters(NOW):
        if counter.key == key(store, name):
            return counter.used, counter.held
    raise AssertionError(f"no counter {name}")


def ready(store: BudgetStore, *names: str, used: int = 0) -> None:
    store.init([(charge(store, name, 0, 0), used) for name in names], NOW)


def test_a_missing_counter_is_never_started_from_zero(store: BudgetStore) -> None:
    outcome = store.reserve("r1", [charge(store, "a", 100, 10)], [], NOW, 60)
    assert outcome.status == "missing" and outcome.missing == (key(store, "a"),)
    assert store.counters(NOW) == []  # nothing was created or held
    ready(store, "a", used=95)  # rebuilt from the ledger
    ready(store, "a", used=0)  # a second init keeps what is there
    assert state(store, "a") == (95, 0)
    assert store.reserve("r1", [charge(store, "a", 100, 10)], [], NOW, 60).status == "refused"


def test_reserve_holds_on_every_counter_or_on_none(store: BudgetStore) -> None:
    ready(store, "user", "site")
    both = [charge(store, "user", 100, 40), charge(store, "site", 50, 40)]
    assert store.reserve("r1", both, [], NOW, 60).ok
    assert state(store, "user") == (0, 40) and state(store, "site") == (0, 40)
    refused = store.reserve("r2", both, [], NOW, 60)
    assert refused.status == "refused" and refused.charge == 1 and refused.busy  # the hold, not use, is in the way
    assert state(store, "user") == (0, 40)  # the user's counter was not touched by the refused call


def test_settle_counts_the_use_once_and_releases_the_hold(store: BudgetStore) -> None:
    ready(store, "a")
    assert store.reserve("r1", [charge(store, "a", 100, 60)], [], NOW, 60).ok
    settled = store.settle("r1", "rec1", [charge(store, "a", 100, 25)], True, NOW)
    assert settled.ok and settled.used == (25,)
    assert state(store, "a") == (25, 0)
    assert store.settle("r1", "rec1", [charge(store, "a", 100, 25)], True, NOW).status == "duplicate"
    assert store.release("r1", NOW) is False  # already settled
    assert state(store, "a") == (25, 0)
    assert store.ensure("r1", [charge(store, "a", 100, 60)], NOW, 60).status == "gone"  # never held again
    full = store.reserve("r2", [charge(store, "a", 100, 76)], [], NOW, 60)
    assert full.status == "refused" and not full.busy  # use alone leaves no room: wait for the period


def test_a_jobs_hold_shrinks_per_call_and_the_rest_is_released(store: BudgetStore) -> None:
    ready(store, "a")
    assert store.reserve("job", [charge(store, "a", 100, 60)], [], NOW, 3600).ok
    assert store.settle("job", "call1", [charge(store, "a", 100, 15)], False, NOW).used == (15,)
    assert state(store, "a") == (15, 45)
    assert store.settle("job", "call2", [charge(store, "a", 100, 50)], False, NOW).used == (65,)
    assert state(store, "a") == (65, 0)  # the hold never goes below nothing
    assert store.release("job", NOW) is True
    assert state(store, "a") == (65, 0)


def test_expired_holds_are_swept_once_and_a_late_record_still_counts_once(store: BudgetStore) -> None:
    ready(store, "a")
    assert store.reserve("dead", [charge(store, "a", 100, 70)], [], NOW, 5).ok
    assert store.reserve("alive", [charge(store, "a", 100, 20)], [], NOW, 60).ok
    assert store.sweep(NOW + 4) == 0
    assert store.sweep(NOW + 6) == 1  # the process holding "dead" is gone: its hold comes back
    assert state(store, "a") == (0, 20)
    assert store.sweep(NOW + 7) == 0
    late = store.settle("dead", "late-record", [charge(store, "a", 100, 30)], True, NOW + 8)
    assert late.used == (30,)
    assert state(store, "a") == (30, 20)  # counted once, and the hold was not given back twice


def test_ensure_tops_up_renews_and_says_exhausted(store: BudgetStore) -> None:
    ready(store, "a")
    assert store.reserve("r1", [charge(store, "a", 100, 30)], [], NOW, 10).ok
    assert store.ensure("r1", [charge(store, "a", 100, 50)], NOW, 10).ok
    assert state(store, "a") == (0, 50)
    assert store.reserve("r2", [charge(store, "a", 100, 40)], [], NOW, 10).ok
    refused = store.ensure("r1", [charge(store, "a", 100, 70)], NOW + 8, 10)
    assert refused.status == "refused" and refused.exhausted
    assert state(store, "a") == (0, 90)
    assert store.sweep(NOW + 12) == 1  # r2 expired; r1's hold was renewed by the refused top-up
    assert state(store, "a") == (0, 50)
    store.settle("", "unadmitted", [charge(store, "a", 100, 100)], True, NOW)  # a call nobody admitted
    outcome = store.ensure("r1", [charge(store, "a", 100, 50)], NOW + 12, 10)
    assert outcome.ok and outcome.exhausted


def test_renewal_keeps_a_hold_past_its_first_ttl(store: BudgetStore) -> None:
    ready(store, "a")
    assert store.reserve("r1", [charge(store, "a", 100, 30)], [], NOW, 10).ok
    assert store.ensure("r1", [charge(store, "a", 100, 30)], NOW + 8, 10).ok
    assert store.sweep(NOW + 12) == 0
    assert state(store, "a") == (0, 30)
    assert store.sweep(NOW + 19) == 1


def test_requests_per_minute_is_a_sliding_window(store: BudgetStore) -> None:
    window = [Window(f"{store.prefix}:w:u:me", 3)]
    for t in (0.0, 10.0, 50.0):
        assert store.reserve("", [], window, NOW + t, 60).ok
    refused = store.reserve("", [], window, NOW + 59.0, 60)
    assert refused.status == "refused" and refused.window == 0
    assert refused.retry_at == pytest.approx(NOW + 60.0)
    assert store.reserve("", [], window, NOW + 60.5, 60).ok  # the first request left the window
    assert not store.reserve("", [], window, NOW + 69.0, 60).ok  # a fixed minute would have let this through
    assert store.window_size(window[0].key, 60, NOW + 69.0) == 3


def test_a_refusal_counts_nothing(store: BudgetStore) -> None:
    ready(store, "a")
    window = [Window(f"{store.prefix}:w:g", 5)]
    assert not store.reserve("r1", [charge(store, "a", 10, 20)], window, NOW, 60).ok
    assert store.window_size(window[0].key, 60, NOW) == 0
    assert state(store, "a") == (0, 0)


def test_markers_are_set_once(store: BudgetStore) -> None:
    now = time.time()  # Redis expires keys by its own clock
    assert store.mark("a:x:0.8", now + 0.3, now) is True
    assert store.mark("a:x:0.8", now + 0.3, time.time()) is False
    time.sleep(0.4)
    assert store.mark("a:x:0.8", time.time() + 10, time.time()) is True  # the old one expired


def test_concurrent_reservations_never_pass_the_limit(store: BudgetStore) -> None:
    ready(store, "a")
    admitted: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            for i in range(12):
                res = f"w{n}-{i}"
                if store.reserve(res, [charge(store, "a", 1000, 45)], [], NOW, 60).ok:
                    with lock:
                        admitted.append(res)
        except BaseException as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(admitted) == 1000 // 45  # exactly as many as fit: 22
    assert state(store, "a") == (0, 22 * 45)
    settlers = [
        threading.Thread(target=store.settle, args=(res, f"rec-{res}", [charge(store, "a", 1000, 40)], True, NOW))
        for res in admitted
    ]  # settle them all at once, each to 40 of its 45
    for thread in settlers:
        thread.start()
    for thread in settlers:
        thread.join(60)
    assert state(store, "a") == (22 * 40, 0)
