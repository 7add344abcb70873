"""Budgets under Flask: kept in Redis (``CLAUDE_WEB_QUOTA_STORE = "redis"``, the default), in the app's database
(``"database"``: three tables on Flask-SQLAlchemy's ``db.metadata``, with row locks), or in this process
(``"memory"``); rebuilt from the usage store when a counter is lost.

The tables are those of :class:`claude_web.web.budgets.SqlBudgetStore` (the Django app's migration
``0004_budgets`` makes the same ones); with ``CLAUDE_WEB_USAGE_CREATE_TABLE`` on they are created on first use,
otherwise ``db.create_all()`` or your Alembic migration makes them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from claude_web.web.budgets import COUNTER_TABLE, MARKER_TABLE, RESERVATION_TABLE, SqlBudgetStore

__all__ = ["SQLAlchemyBudgetStore", "budget_tables"]


def budget_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """The three budget tables on ``metadata`` (defined once)."""
    if COUNTER_TABLE in metadata.tables:
        return [metadata.tables[name] for name in (COUNTER_TABLE, RESERVATION_TABLE, MARKER_TABLE)]
    counter = sa.Table(
        COUNTER_TABLE,
        metadata,
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("used", sa.BigInteger, nullable=False, default=0),
        sa.Column("held", sa.BigInteger, nullable=False, default=0),
        sa.Column("stamps", sa.Text, nullable=False, default=""),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    reservation = sa.Table(
        RESERVATION_TABLE,
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("holds", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    marker = sa.Table(
        MARKER_TABLE,
        metadata,
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    return [counter, reservation, marker]


class _Session:
    __slots__ = ("conn", "qmark")

    def __init__(self, conn: sa.Connection, qmark: bool) -> None:
        self.conn = conn
        self.qmark = qmark

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.qmark else sql

    def execute(self, sql: str, params: Any = ()) -> int:
        return int(self.conn.exec_driver_sql(self._sql(sql), tuple(params)).rowcount)

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.conn.exec_driver_sql(self._sql(sql), tuple(params)).fetchall()]


class SQLAlchemyBudgetStore(SqlBudgetStore):
    """The SQL budget store on a SQLAlchemy engine (PostgreSQL, SQLite or MySQL)."""

    def __init__(
        self,
        engine: sa.Engine,
        metadata: sa.MetaData | None = None,
        *,
        prefix: str = "claude_web:quota",
        create_tables: bool = True,
    ) -> None:
        self.engine = engine
        self.tables = budget_tables(metadata if metadata is not None else sa.MetaData())
        self._create = create_tables
        self._created = False
        self._lock = threading.Lock()
        self._qmark = engine.dialect.paramstyle in ("qmark", "numeric")
        super().__init__(self._session, dialect=engine.dialect.name, prefix=prefix)

    def __repr__(self) -> str:
        return f"<SQLAlchemyBudgetStore {self.engine.dialect.name} prefix={self.prefix!r}>"

    def _ensure_tables(self) -> None:
        if self._created or not self._create:
            return
        with self._lock:
            if not self._created:
                for table in self.tables:
                    table.create(self.engine, checkfirst=True)
                self._created = True

    @contextmanager
    def _session(self) -> Iterator[_Session]:
        self._ensure_tables()
        with self.engine.begin() as conn:
            yield _Session(conn, self._qmark)
