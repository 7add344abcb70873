"""Where usage records are stored: a SQLAlchemy table (through Flask-SQLAlchemy) or JSON lines.

- :class:`SQLAlchemyUsageStore` adds a ``claude_web_usage`` table (name from ``CLAUDE_WEB_USAGE_TABLE``) to the
  app's ``db.metadata`` (so ``db.create_all()`` and Alembic see it) and inserts each record on its own
  connection and transaction: a rollback of the request's ``db.session`` never loses a usage row, and writing one
  never commits the request's half-done work.
- :class:`JsonLinesUsageStore` writes one JSON object per line to the ``claude_web_flask.usage`` logger and, when
  ``CLAUDE_WEB_USAGE_LOG_PATH`` is set, appends it to that file.

``cost`` is the sum of the parts ``cost_input``, ``cost_output``, ``cost_cache_write``, ``cost_cache_read`` and
``cost_tools`` (see :mod:`claude_web.pricing`). A table created by an earlier version lacks the columns added
since (:data:`ADDED_COLUMNS`); with ``CLAUDE_WEB_USAGE_CREATE_TABLE`` on, the store adds them on first use (each
has a default or is nullable, so existing rows stay valid).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from claude_web.usage import UsageRecord, json_safe
from claude_web.web.budgets import Scope

__all__ = [
    "ADDED_COLUMNS",
    "COST_COLUMNS",
    "JsonLinesUsageStore",
    "NullUsageStore",
    "SQLAlchemyUsageStore",
    "UsageStore",
    "usage_table",
]

log = logging.getLogger("claude_web_flask.usage")

#: The cost columns: the total and its parts (USD, 8 decimal places; empty when the model has no price).
COST_COLUMNS = ("cost", "cost_input", "cost_output", "cost_cache_write", "cost_cache_read", "cost_tools")
#: Columns added after the first version of the table; :class:`SQLAlchemyUsageStore` adds them when missing.
ADDED_COLUMNS = (
    "cache_creation_1h_input_tokens",
    "web_search_requests",
    "web_fetch_requests",
    *COST_COLUMNS[1:],
    "estimated",
)


class UsageStore(Protocol):
    def save(self, record: UsageRecord) -> None: ...

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Mapping[str, Any]]:
        """Stored rows with ``since <= created_at < until`` (either bound optional), oldest first."""
        ...

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        """Tokens and cost of the rows of a budget scope in ``since <= created_at < until`` (a caller: rows whose
        context has its ``quota_key``; an alias: its ``client``; ``global``: all), to rebuild budget counters."""
        ...


_TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _in_scope(row: Mapping[str, Any], scope: Scope) -> bool:
    if scope.kind == "alias":
        return row.get("client") == scope.name
    if scope.kind == "user":
        context = row.get("context") or {}
        return isinstance(context, Mapping) and context.get("quota_key") == scope.name
    return True


def _sum_rows(rows: Iterator[Mapping[str, Any]], scope: Scope) -> tuple[int, Decimal]:
    tokens, cost = 0, Decimal(0)
    for row in rows:
        if _in_scope(row, scope):
            tokens += sum(int(row.get(name) or 0) for name in _TOKEN_COLUMNS)
            cost += Decimal(row.get("cost") or 0)
    return tokens, cost


def record_row(record: UsageRecord) -> dict[str, Any]:
    """A record as one flat row (``user_id`` and the client alias lifted out of the context for grouping)."""
    context = json_safe(record.context)
    user = context.get("user_id")
    return {
        "id": record.id,
        "created_at": record.created_at,
        "operation": record.operation,
        "model": record.model,
        "backend": record.backend,
        "status": record.status,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_creation_input_tokens": record.cache_creation_input_tokens,
        "cache_read_input_tokens": record.cache_read_input_tokens,
        "cache_creation_1h_input_tokens": record.cache_creation_1h_input_tokens,
        "web_search_requests": record.web_search_requests,
        "web_fetch_requests": record.web_fetch_requests,
        **{name: getattr(record, name) for name in COST_COLUMNS},
        "estimated": record.estimated,
        "latency_ms": record.latency_ms,
        "time_to_first_token_ms": record.time_to_first_token_ms,
        "error_type": record.error_type,
        "request_id": record.request_id,
        "user_id": None if user is None else str(user)[:255],
        "client": context.get("alias"),
        "context": context,
    }


def usage_table(metadata: sa.MetaData, name: str) -> sa.Table:
    """The usage table on ``metadata`` (defined once per name)."""
    existing = metadata.tables.get(name)
    if existing is not None:
        return existing
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False, default=0),
        sa.Column("output_tokens", sa.Integer, nullable=False, default=0),
        sa.Column("cache_creation_input_tokens", sa.Integer, nullable=False, default=0),
        sa.Column("cache_read_input_tokens", sa.Integer, nullable=False, default=0),
        sa.Column("cache_creation_1h_input_tokens", sa.Integer, nullable=False, default=0, server_default=sa.text("0")),
        sa.Column("web_search_requests", sa.Integer, nullable=False, default=0, server_default=sa.text("0")),
        sa.Column("web_fetch_requests", sa.Integer, nullable=False, default=0, server_default=sa.text("0")),
        *(sa.Column(name, sa.Numeric(18, 8), nullable=True) for name in COST_COLUMNS),
        sa.Column("estimated", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
        sa.Column("latency_ms", sa.Float, nullable=False, default=0.0),
        sa.Column("time_to_first_token_ms", sa.Float, nullable=True),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True, index=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("context", sa.JSON, nullable=True),
    )


class SQLAlchemyUsageStore:
    """Rows in a table of the app's database (any engine SQLAlchemy supports: SQLite, PostgreSQL, ...)."""

    def __init__(self, engine: sa.engine.Engine, table: sa.Table, *, create_table: bool = True) -> None:
        self.engine = engine
        self.table = table
        self._create = create_table
        self._created = False
        self._lock = threading.Lock()

    def _ensure_table(self) -> None:
        if self._created or not self._create:
            return
        with self._lock:
            if not self._created:
                self.table.create(self.engine, checkfirst=True)
                self._add_missing_columns()
                self._created = True

    def _add_missing_columns(self) -> None:
        """Bring a table made by an earlier version up to date: ``ALTER TABLE ... ADD COLUMN`` for each of
        :data:`ADDED_COLUMNS` it lacks (all have a default or are nullable). Another process adding the same
        column at the same time is fine: the column is looked up again before an error is raised."""
        existing = {c["name"] for c in sa.inspect(self.engine).get_columns(self.table.name, schema=self.table.schema)}
        for name in ADDED_COLUMNS:
            if name in existing:
                continue
            column = sa.schema.CreateColumn(self.table.c[name]).compile(dialect=self.engine.dialect)
            table = self.engine.dialect.identifier_preparer.format_table(self.table)
            try:
                with self.engine.begin() as conn:
                    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column}"))
            except sa.exc.DBAPIError:
                columns = sa.inspect(self.engine).get_columns(self.table.name, schema=self.table.schema)
                if name not in {c["name"] for c in columns}:
                    raise
            else:
                log.info("added the column %s to the usage table %s", name, self.table.name)

    def save(self, record: UsageRecord) -> None:
        self._ensure_table()
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(**record_row(record)))

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        self._ensure_table()
        c = self.table.c
        tokens = sum((sa.func.coalesce(sa.func.sum(c[name]), 0) for name in _TOKEN_COLUMNS), sa.literal(0))
        query = sa.select(tokens, sa.func.sum(c.cost)).where(c.created_at >= since, c.created_at < until)
        if scope.kind == "alias":
            query = query.where(c.client == scope.name)
        elif scope.kind == "user":
            query = query.where(c.context["quota_key"].as_string() == scope.name)
        with self.engine.connect() as conn:
            found_tokens, found_cost = conn.execute(query).one()
        return int(found_tokens or 0), Decimal(found_cost or 0)

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Mapping[str, Any]]:
        self._ensure_table()
        query = sa.select(self.table).order_by(self.table.c.created_at)
        if since is not None:
            query = query.where(self.table.c.created_at >= since)
        if until is not None:
            query = query.where(self.table.c.created_at < until)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)


class JsonLinesUsageStore:
    """One JSON object per record: to the ``claude_web_flask.usage`` logger, and to ``path`` when given."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def save(self, record: UsageRecord) -> None:
        row = record_row(record)
        line = json.dumps(row, default=_json_default, separators=(",", ":"), sort_keys=True)
        log.info(line)
        if self.path:
            with self._lock, open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        if not self.path:
            log.warning("usage records only go to the log: budget counters cannot be rebuilt (set a LOG_PATH)")
            return 0, Decimal(0)
        return _sum_rows(self.rows(since, until), scope)

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Mapping[str, Any]]:
        if not self.path:
            raise LookupError(
                "usage records only go to the log; set CLAUDE_WEB_USAGE_LOG_PATH (or use Flask-SQLAlchemy) to report"
            )
        try:
            fh = open(self.path, encoding="utf-8")
        except FileNotFoundError:
            return
        with fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    row["created_at"] = datetime.fromisoformat(row["created_at"])
                    for name in COST_COLUMNS:
                        row[name] = None if row.get(name) is None else Decimal(row[name])
                except (ValueError, KeyError, TypeError, ArithmeticError):
                    log.warning("skipping unreadable usage line %d of %s", number, self.path)
                    continue
                created = row["created_at"]
                if (since is None or created >= since) and (until is None or created < until):
                    yield row


class NullUsageStore:
    """``CLAUDE_WEB_USAGE_STORAGE = "none"``: records only go to the ``usage_recorded`` signal."""

    def save(self, record: UsageRecord) -> None:
        return None

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Mapping[str, Any]]:
        raise LookupError('usage records are not stored (CLAUDE_WEB_USAGE_STORAGE = "none")')

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        return 0, Decimal(0)  # nothing stored: a lost budget counter starts again from 0


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
