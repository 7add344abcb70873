"""The budget store in a SQL database: three small tables, row locks, one transaction per operation.

Written once over plain DB-API cursors, so the Django app (its connection, its migration ``0004_budgets``) and the
Flask extension (a SQLAlchemy engine, tables on ``db.metadata``) run the same statements:

- ``claude_web_budget_counter`` (``name`` primary key, ``used``, ``held``, ``stamps``, ``expires_at``): one row per
  counter, and one per requests-per-minute window (``stamps``: the window's request times as JSON);
- ``claude_web_budget_reservation`` (``id``, ``holds`` JSON, ``expires_at``): the holds of calls in flight;
- ``claude_web_budget_marker`` (``name``, ``expires_at``): settled record ids, finished reservations, alerts sent.

PostgreSQL and MySQL lock rows with ``SELECT ... FOR UPDATE`` (counters in key order, the sweeper with ``SKIP
LOCKED``); SQLite takes its database write lock at the start of each transaction. A deadlock or a busy SQLite
database runs the transaction again.

>>> store = SqlBudgetStore(my_transaction, dialect="postgresql")   # my_transaction() -> context of a SqlSession
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from ._store import Counter, Hold, LockingBudgetStore, Tx

__all__ = ["COUNTER_TABLE", "DIALECTS", "MARKER_TABLE", "RESERVATION_TABLE", "SqlBudgetStore", "SqlSession"]

COUNTER_TABLE = "claude_web_budget_counter"
RESERVATION_TABLE = "claude_web_budget_reservation"
MARKER_TABLE = "claude_web_budget_marker"
DIALECTS = ("postgresql", "sqlite", "mysql")
_RETRY_NAMES = {"DeadlockDetected", "SerializationFailure", "LockNotAvailable", "TransactionRollbackError"}


class SqlSession(Protocol):
    """A DB-API cursor inside an open transaction; statements use ``%s`` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query; its rows."""
        ...


def _stamps(text: Any) -> list[float]:
    if not text:
        return []
    try:
        values = json.loads(text)
    except ValueError:
        return []
    return [float(v) for v in values] if isinstance(values, list) else []


class _SqlTx:
    def __init__(self, session: SqlSession, dialect: str) -> None:
        self.db = session
        self.dialect = dialect
        self.lock = "" if dialect == "sqlite" else " FOR UPDATE"
        self.skip = "" if dialect == "sqlite" else " FOR UPDATE SKIP LOCKED"
        self.insert = "INSERT IGNORE INTO {} " if dialect == "mysql" else "INSERT INTO {} "
        self.ignore = "" if dialect == "mysql" else " ON CONFLICT DO NOTHING"
        if dialect == "sqlite":  # take the write lock now: readers that write later would deadlock and fail
            self.db.execute(f"UPDATE {MARKER_TABLE} SET expires_at = expires_at WHERE name = %s", ("",))

    def counters(self, names: Sequence[str]) -> dict[str, Counter]:
        if not names:
            return {}
        marks = ", ".join(["%s"] * len(names))
        rows = self.db.fetch(
            f"SELECT name, used, held, stamps, expires_at FROM {COUNTER_TABLE} WHERE name IN ({marks}) "
            f"ORDER BY name{self.lock}",
            list(names),
        )
        return {r[0]: Counter(r[0], int(r[1]), int(r[2]), _stamps(r[3]), float(r[4])) for r in rows}

    def add_counters(self, rows: Sequence[Counter]) -> None:
        for row in sorted(rows, key=lambda r: r.name):
            self.db.execute(
                self.insert.format(COUNTER_TABLE)
                + f"(name, used, held, stamps, expires_at) VALUES (%s, %s, %s, %s, %s){self.ignore}",
                (row.name, row.used, row.held, json.dumps(row.stamps) if row.stamps else "", row.expires_at),
            )

    def save_counters(self, rows: Sequence[Counter]) -> None:
        values = [
            (row.name, row.used, row.held, json.dumps([round(t, 3) for t in row.stamps]) if row.stamps else "",
             row.expires_at)
            for row in rows
        ]  # fmt: skip
        if not values:
            return
        if self.dialect == "postgresql":  # one statement for all of them
            marks = ", ".join(["(%s::varchar, %s::bigint, %s::bigint, %s::text, %s::double precision)"] * len(values))
            self.db.execute(
                f"UPDATE {COUNTER_TABLE} AS c SET used = v.used, held = v.held, stamps = v.stamps, "
                f"expires_at = v.expires_at FROM (VALUES {marks}) AS v(name, used, held, stamps, expires_at) "
                "WHERE c.name = v.name",
                [item for value in values for item in value],
            )
            return
        for name, used, held, stamps, expires_at in values:
            self.db.execute(
                f"UPDATE {COUNTER_TABLE} SET used = %s, held = %s, stamps = %s, expires_at = %s WHERE name = %s",
                (used, held, stamps, expires_at, name),
            )

    def _hold(self, row: tuple[Any, ...]) -> Hold:
        holds = json.loads(row[1]) if row[1] else {}
        return Hold(str(row[0]), {str(k): int(v) for k, v in holds.items()}, float(row[2]))

    def reservation(self, res_id: str) -> Hold | None:
        rows = self.db.fetch(
            f"SELECT id, holds, expires_at FROM {RESERVATION_TABLE} WHERE id = %s{self.lock}", (res_id,)
        )
        return self._hold(rows[0]) if rows else None

    def save_reservation(self, hold: Hold, new: bool) -> None:
        holds = json.dumps(hold.holds, separators=(",", ":"), sort_keys=True)
        if new:
            self.db.execute(
                f"INSERT INTO {RESERVATION_TABLE} (id, holds, expires_at) VALUES (%s, %s, %s)",
                (hold.id, holds, hold.expires_at),
            )
        else:
            self.db.execute(
                f"UPDATE {RESERVATION_TABLE} SET holds = %s, expires_at = %s WHERE id = %s",
                (holds, hold.expires_at, hold.id),
            )

    def drop_reservation(self, res_id: str) -> None:
        self.db.execute(f"DELETE FROM {RESERVATION_TABLE} WHERE id = %s", (res_id,))

    def expired(self, now: float, limit: int) -> list[Hold]:
        rows = self.db.fetch(
            f"SELECT id, holds, expires_at FROM {RESERVATION_TABLE} WHERE expires_at <= %s "
            f"ORDER BY expires_at LIMIT {int(limit)}{self.skip}",
            (now,),
        )
        return [self._hold(row) for row in rows]

    def marked(self, name: str, now: float) -> bool:
        rows = self.db.fetch(f"SELECT 1 FROM {MARKER_TABLE} WHERE name = %s AND expires_at > %s", (name, now))
        return bool(rows)

    def mark(self, name: str, expires_at: float, now: float) -> bool:
        if self.dialect == "mysql":
            self.db.execute(f"DELETE FROM {MARKER_TABLE} WHERE name = %s AND expires_at <= %s", (name, now))
            changed = self.db.execute(
                f"INSERT IGNORE INTO {MARKER_TABLE} (name, expires_at) VALUES (%s, %s)", (name, expires_at)
            )
            return changed == 1
        changed = self.db.execute(  # new, or replacing one that expired: one statement
            f"INSERT INTO {MARKER_TABLE} AS m (name, expires_at) VALUES (%s, %s) ON CONFLICT (name) "
            "DO UPDATE SET expires_at = excluded.expires_at WHERE m.expires_at <= %s",
            (name, expires_at, now),
        )
        return changed == 1

    def purge(self, now: float) -> None:
        self.db.execute(f"DELETE FROM {MARKER_TABLE} WHERE expires_at <= %s AND name <> %s", (now, ""))
        self.db.execute(f"DELETE FROM {COUNTER_TABLE} WHERE expires_at <= %s", (now,))

    def scan(self, prefix: str, now: float) -> list[Counter]:
        rows = self.db.fetch(
            f"SELECT name, used, held, stamps, expires_at FROM {COUNTER_TABLE} WHERE name LIKE %s AND expires_at > %s "
            "ORDER BY name",
            (prefix + "%", now),
        )
        return [
            Counter(r[0], int(r[1]), int(r[2]), _stamps(r[3]), float(r[4]))
            for r in rows
            if str(r[0]).startswith(prefix)
        ]


class SqlBudgetStore(LockingBudgetStore):
    """Counters, holds and markers in three tables of a SQL database (see the module docstring).

    ``transaction()`` opens a transaction and yields a :class:`SqlSession` (commit on a clean exit, roll back on an
    error); ``dialect`` is ``postgresql``, ``sqlite`` or ``mysql``. ``retryable`` may add the adapter's idea of a
    conflict worth retrying.
    """

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[SqlSession]],
        *,
        dialect: str,
        prefix: str = "claude_web:quota",
        retryable: Callable[[BaseException], bool] | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"the SQL budget store supports {', '.join(DIALECTS)}, not {dialect!r}")
        self._transaction = transaction
        self.dialect = dialect
        self.prefix = prefix
        self._retryable = retryable

    def __repr__(self) -> str:
        return f"<SqlBudgetStore {self.dialect} prefix={self.prefix!r}>"

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self._transaction() as session:
            yield _SqlTx(session, self.dialect)

    def transaction(self) -> AbstractContextManager[Tx]:
        return self._tx()

    def retryable(self, exc: BaseException) -> bool:
        if self._retryable is not None and self._retryable(exc):
            return True
        seen: BaseException | None = exc
        while seen is not None:
            text = str(seen).lower()
            if type(seen).__name__ in _RETRY_NAMES or "deadlock" in text or "database is locked" in text:
                return True
            seen = seen.__cause__ or seen.__context__
        return False
