"""What budgets add to a call: the reservation before it and the settlement after it, per store.

    python bench/budget_latency.py [--calls 2000] [--processes 4] [--redis URL] [--postgres DSN]

For each store (memory, Redis with its Lua scripts, PostgreSQL with row locks over one persistent connection per
thread, as a web process keeps one), a call is admitted by ``Budgets.admit`` (worst case estimated and priced,
five counters: the caller's tokens per day and cost per month, the alias's cost per day, the site's cost per day,
and the caller's requests-per-minute window) and settled by ``Budgets.settle`` with its usage record, exactly as
the web runtime does. Measured: the wall time of admit + settle per call, p50 and p99, by one process alone and by
``--processes`` processes at once (each its own caller, all on the same site budget: the counters they contend
for), and the per-event cost of a stream watch.
Prints a Markdown table (the README's is pasted from it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claude_web.pricing import DEFAULT_PRICING  # noqa: E402
from claude_web.usage import UsageRecord  # noqa: E402
from claude_web.web.budgets import Budgets, BudgetStore, MemoryBudgetStore, RedisBudgetStore, SqlBudgetStore  # noqa: E402
from claude_web.web.settings import parse_settings  # noqa: E402

PARAMS = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Summarise the attached meeting notes in five bullet points."}],
}
QUOTAS = {
    "TOKENS_PER_DAY": 10**12,
    "COST_PER_MONTH": "1000000",
    "REQUESTS_PER_MINUTE": 10**6,
    "PER_ALIAS": {"default": {"COST_PER_DAY": "1000000"}},
    "GLOBAL": {"COST_PER_DAY": "1000000"},
    "STORE": "memory",
}
DDL = (
    "CREATE TABLE claude_web_budget_counter (name VARCHAR(191) PRIMARY KEY, used BIGINT NOT NULL DEFAULT 0, "
    "held BIGINT NOT NULL DEFAULT 0, stamps TEXT NOT NULL DEFAULT '', expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE claude_web_budget_reservation (id VARCHAR(64) PRIMARY KEY, holds TEXT NOT NULL, "
    "expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX ON claude_web_budget_reservation (expires_at)",
    "CREATE TABLE claude_web_budget_marker (name VARCHAR(191) PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
)


class _Session:
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Any = ()) -> int:
        self.cursor.execute(sql, tuple(params))
        return int(self.cursor.rowcount)

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, tuple(params))
        return list(self.cursor.fetchall())


class Postgres:
    """A throwaway schema with the budget tables; one persistent connection per thread."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.dsn = dsn
        self.schema = f"cwbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
            conn.execute(f"SET search_path TO {self.schema}")
            for statement in DDL:
                conn.execute(statement)
        self._local = threading.local()
        self._all: list[Any] = []
        self._pid = os.getpid()

    def _conn(self) -> Any:
        import psycopg

        if self._pid != os.getpid():  # a forked process never shares its parent's connections
            self._local, self._all, self._pid = threading.local(), [], os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = psycopg.connect(self.dsn, options=f"-c search_path={self.schema}")
            self._local.conn = conn
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_Session]:
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cursor:
            yield _Session(cursor)

    def store(self, prefix: str) -> SqlBudgetStore:
        return SqlBudgetStore(self.transaction, dialect="postgresql", prefix=prefix)

    def close(self) -> None:
        import psycopg

        for conn in self._all:
            conn.close()
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def budgets_on(store: BudgetStore) -> Budgets:
    settings = parse_settings({"QUOTAS": QUOTAS}).quotas
    return Budgets(settings, store, pricing=DEFAULT_PRICING)


def one_call(budgets: Budgets, key: str) -> float:
    started = time.perf_counter()
    context = budgets.admit(key, PARAMS, alias="default")
    record = UsageRecord(
        operation="messages.stream",
        model="claude-haiku-4-5",
        input_tokens=25,
        output_tokens=180,
        context={**context, "alias": "default"},
        created_at=datetime.now(timezone.utc),
    )
    record.apply_pricing(DEFAULT_PRICING)
    budgets.settle(record)
    return (time.perf_counter() - started) * 1000


def measure(budgets: Budgets, calls: int, caller: str = "user:0") -> list[float]:
    for _ in range(50):  # warm up: counters rebuilt, scripts loaded, connections open
        one_call(budgets, caller)
    return [one_call(budgets, caller) for _ in range(calls)]


def _process(make: Callable[[], BudgetStore], calls: int, n: int, start: Any, out: Any) -> None:
    budgets = budgets_on(make())
    for _ in range(50):
        one_call(budgets, f"user:{n}")
    start.wait()
    out.put([one_call(budgets, f"user:{n}") for _ in range(calls)])


def measure_processes(make: Callable[[], BudgetStore], calls: int, processes: int) -> list[float]:
    """``processes`` processes (like web processes) admitting and settling at once, on one site budget."""
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    pool = [context.Process(target=_process, args=(make, calls // processes, n, start, out)) for n in range(processes)]
    for proc in pool:
        proc.start()
    time.sleep(1.0)
    start.set()
    samples: list[float] = []
    for _ in pool:
        samples.extend(out.get(timeout=600))
    for proc in pool:
        proc.join()
    return samples


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def watch_cost(budgets: Budgets) -> float:
    """Microseconds per ``watch(event)`` on a content delta (what every streamed event pays)."""
    context = budgets.admit("user:watch", PARAMS, alias="default")
    watch = budgets.watch({**context, "alias": "default"}, PARAMS)
    event = type("Delta", (), {"type": "content_block_delta"})()
    n = 200_000
    started = time.perf_counter()
    for _ in range(n):
        watch(event)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    import redis

    client = redis.Redis.from_url(args.redis)
    prefix = f"cwbench:{uuid.uuid4().hex[:8]}"
    postgres = Postgres(args.postgres)
    stores: list[tuple[str, Callable[[], BudgetStore], bool]] = [
        ("memory", lambda: MemoryBudgetStore(prefix), False),
        ("Redis (Lua)", lambda: RedisBudgetStore(redis.Redis.from_url(args.redis), prefix), True),
        ("PostgreSQL (row locks)", lambda: postgres.store(prefix), True),
    ]
    rows = []
    try:
        for name, make, shared in stores:
            budgets = budgets_on(make())
            single = measure(budgets, args.calls)
            many = measure_processes(make, args.calls, args.processes) if shared else []
            rows.append((name, single, many, watch_cost(budgets)))
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        postgres.close()
    n = args.processes
    print(f"admit + settle per call: {args.calls} calls by one process; {args.calls} by {n} processes at once\n")
    print(f"| store | p50 ms | p99 ms | mean ms | p50 ms ({n} processes) | p99 ms ({n} processes) | watch µs/event |")
    print("|---|---|---|---|---|---|---|")
    for name, single, many, watch_us in rows:
        shared = f"{statistics.median(many):.3f} | {percentile(many, 0.99):.3f}" if many else "n/a (one process) | n/a"
        print(
            f"| {name} | {statistics.median(single):.3f} | {percentile(single, 0.99):.3f} | "
            f"{statistics.fmean(single):.3f} | {shared} | {watch_us:.2f} |"
        )


if __name__ == "__main__":
    main()
