"""Budget stores on real parts for the tests: memory, Redis, SQLite (a file) and PostgreSQL (a schema per run).

The SQL stores run :class:`claude_web.web.budgets.SqlBudgetStore` over plain DB-API connections (``sqlite3``,
``psycopg``), one connection per transaction, as a web process would.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from claude_web.usage import UsageRecord
from claude_web.web.budgets import Scope, SqlBudgetStore

DDL = (
    "CREATE TABLE claude_web_budget_counter (name VARCHAR(191) PRIMARY KEY, used BIGINT NOT NULL DEFAULT 0, "
    "held BIGINT NOT NULL DEFAULT 0, stamps TEXT NOT NULL DEFAULT '', expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE claude_web_budget_reservation (id VARCHAR(64) PRIMARY KEY, holds TEXT NOT NULL, "
    "expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX claude_web_budget_reservation_exp ON claude_web_budget_reservation (expires_at)",
    "CREATE TABLE claude_web_budget_marker (name VARCHAR(191) PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
)


class Session:
    def __init__(self, cursor: Any, qmark: bool) -> None:
        self.cursor = cursor
        self.qmark = qmark

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.qmark else sql

    def execute(self, sql: str, params: Any = ()) -> int:
        self.cursor.execute(self._sql(sql), tuple(params))
        return int(self.cursor.rowcount)

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql), tuple(params))
        return list(self.cursor.fetchall())


def sqlite_store(path: Path, prefix: str) -> SqlBudgetStore:
    with sqlite3.connect(path) as conn:
        for statement in DDL:
            conn.execute(statement)

    @contextmanager
    def transaction() -> Iterator[Session]:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN")
            try:
                yield Session(conn.cursor(), qmark=True)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    return SqlBudgetStore(transaction, dialect="sqlite", prefix=prefix)


class PostgresSchema:
    """A throwaway schema holding the budget tables; ``store()`` makes stores on it."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.dsn = dsn
        self.schema = f"cwbudget_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
            conn.execute(f"SET search_path TO {self.schema}")
            for statement in DDL:
                conn.execute(statement)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.dsn, options=f"-c search_path={self.schema}")

    def store(self, prefix: str) -> SqlBudgetStore:
        @contextmanager
        def transaction() -> Iterator[Session]:
            with self.connect() as conn:  # commits on a clean exit, rolls back on an error
                with conn.cursor() as cursor:
                    yield Session(cursor, qmark=False)

        return SqlBudgetStore(transaction, dialect="postgresql", prefix=prefix)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


class ListLedger:
    """A ledger of usage records kept in a list (what the adapters' ledgers sum from their tables)."""

    def __init__(self) -> None:
        self.records: list[UsageRecord] = []
        self.asked: list[tuple[Scope, datetime, datetime]] = []

    def add(self, record: UsageRecord) -> None:
        self.records.append(record)

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        self.asked.append((scope, since, until))
        tokens, cost = 0, Decimal(0)
        for record in self.records:
            if not since <= record.created_at < until:
                continue
            context = record.context
            if scope.kind == "user" and context.get("quota_key") != scope.name:
                continue
            if scope.kind == "alias" and context.get("alias") != scope.name:
                continue
            tokens += record.total_tokens
            cost += record.cost or 0
        return tokens, cost


class Clock:
    """A settable clock (epoch seconds) for periods and windows."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
