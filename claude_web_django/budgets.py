"""Budgets under Django: where they are kept, and the ledger they are rebuilt from.

``CLAUDE_WEB["QUOTAS"]["STORE"]`` chooses the store of :mod:`claude_web.web.budgets`:

- ``"cache"`` (the default) follows ``QUOTAS["CACHE"]``: a Redis cache (Django's ``RedisCache`` or
  django-redis) keeps budgets in that Redis with Lua scripts; a local-memory cache keeps them in this process
  (system check ``W002``); any other cache (database, file, Memcached) keeps them in the database instead, since
  those caches cannot count atomically;
- ``"database"``: the tables of migration ``0004_budgets`` in ``USAGE["DATABASE"]``, with row locks;
- ``"redis"`` (``QUOTAS["REDIS_URL"]``) and ``"memory"`` are built by the web layer itself.

Lost counters are rebuilt from the ``TokenUsage`` ledger (:class:`DjangoLedger`): a caller's records are those
whose context has its ``quota_key`` (with ``USAGE["STORE_CONTEXT"]`` off: the user's rows), an alias's those of
its ``alias`` column, the site's all of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import connections, transaction
from django.db.models import Q, Sum

from claude_web.web.budgets import BudgetStore, MemoryBudgetStore, RedisBudgetStore, Scope, SqlBudgetStore
from claude_web.web.budgets._store import Tx
from claude_web.web.settings import QuotaSettings, UsageSettings

__all__ = ["DjangoBudgetStore", "DjangoLedger", "budget_store"]

log = logging.getLogger("claude_web_django.budgets")

_T = TypeVar("_T")
_REDIS_CACHES = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
_PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")
_executor: ThreadPoolExecutor | None = None


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _off_the_loop(work: Callable[[], _T]) -> _T:
    """Run ORM work: here, or from an event loop in a worker thread (the ORM refuses to run on a loop)."""
    global _executor
    if not _in_event_loop():
        return work()
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="claude-web-budget")

    def run() -> _T:
        try:
            return work()
        finally:
            for conn in connections.all(initialized_only=True):
                conn.close_if_unusable_or_obsolete()

    return _executor.submit(run).result()


class _CursorSession:
    __slots__ = ("cursor",)

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Any = ()) -> int:
        self.cursor.execute(sql, list(params))
        return int(self.cursor.rowcount)

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, list(params))
        return list(self.cursor.fetchall())


class DjangoBudgetStore(SqlBudgetStore):
    """The SQL budget store on a Django database (the tables of migration ``0004_budgets``)."""

    def __init__(self, database: str = "default", prefix: str = "claude_web:quota") -> None:
        self.database = database
        vendor = connections[database].vendor
        dialect = {"postgresql": "postgresql", "sqlite": "sqlite", "mysql": "mysql"}.get(vendor)
        if dialect is None:
            raise ValueError(f"budgets in the database need PostgreSQL, SQLite or MySQL; {database!r} is {vendor}")
        super().__init__(self._session, dialect=dialect, prefix=prefix)

    def __repr__(self) -> str:
        return f"<DjangoBudgetStore {self.database!r} prefix={self.prefix!r}>"

    @contextmanager
    def _session(self) -> Iterator[_CursorSession]:
        with transaction.atomic(using=self.database), connections[self.database].cursor() as cursor:
            yield _CursorSession(cursor)

    def _run(self, work: Callable[[Tx], _T]) -> _T:
        parent = super()._run
        return _off_the_loop(lambda: parent(work))


class DjangoLedger:
    """Tokens and cost of ``TokenUsage`` rows by scope and time (what lost budget counters are rebuilt from)."""

    def __init__(self, usage: UsageSettings) -> None:
        self.database = usage.database
        self.store_context = usage.store_context

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        return _off_the_loop(lambda: self._totals(scope, since, until))

    def _totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        from .models import TokenUsage

        rows = TokenUsage.objects.using(self.database).filter(created_at__gte=since, created_at__lt=until)
        if scope.kind == "alias":
            rows = rows.filter(alias=scope.name)
        elif scope.kind == "user":
            if self.store_context:
                rows = rows.filter(context__quota_key=scope.name)
            elif scope.name.startswith("user:"):
                rows = rows.filter(Q(user_id=scope.name[5:]))
            else:
                return 0, Decimal(0)
        sums = rows.aggregate(
            i=Sum("input_tokens"),
            o=Sum("output_tokens"),
            w=Sum("cache_creation_input_tokens"),
            r=Sum("cache_read_input_tokens"),
            cost=Sum("cost"),
        )
        tokens = sum(int(sums[k] or 0) for k in ("i", "o", "w", "r"))
        return tokens, Decimal(sums["cost"] or 0)


def budget_store(cfg: QuotaSettings, usage: UsageSettings) -> BudgetStore | None:
    """The store ``QUOTAS["STORE"]`` (``cache`` or ``database``) names, or ``None`` for the web layer's own."""
    if cfg.store == "database":
        return DjangoBudgetStore(usage.database, cfg.key_prefix)
    if cfg.store != "cache":
        return None
    backend = getattr(settings, "CACHES", {}).get(cfg.cache, {}).get("BACKEND", "")
    if backend in _REDIS_CACHES:
        cache: Any = caches[cfg.cache]
        client = (
            cache._cache.get_client(write=True) if hasattr(cache, "_cache") else cache.client.get_client(write=True)
        )
        return RedisBudgetStore(client, cfg.key_prefix)
    if backend in _PER_PROCESS_CACHES:
        return MemoryBudgetStore(cfg.key_prefix)
    log.info("budgets: the %r cache cannot count atomically; keeping budgets in the database instead", cfg.cache)
    return DjangoBudgetStore(usage.database, cfg.key_prefix)
