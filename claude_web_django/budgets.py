"""Budgets under Django: where they are kept, and the ledger they are rebuilt from.

``CLAUDE_WEB["QUOTAS"]["STORE"]`` chooses the store of :mod:`claude_web.web.budgets`:

- ``"cache"`` (the default) follows ``QUOTAS["CACHE"]``: a Redis cache (Django's ``RedisCache`` or
  django-redis) keeps budgets in that Redis with Lua scripts; a local-memory cache keeps them in this process
  (system check ``W002``); any other cache (database, file, Memcached) keeps them in the database instead, since
  those caches cannot count atomically;
- ``"database"``: the tables of migration ``0004_budgets`` in ``USAGE["DATABASE"]``, with row locks, in
  transactions of their own on a few threads per process (:data:`THREADS`);
- ``"redis"`` (``QUOTAS["REDIS_URL"]``) and ``"memory"`` are built by the web layer itself.

Lost counters are rebuilt from the ``TokenUsage`` ledger (:class:`DjangoLedger`): a caller's records are those
whose context has its ``quota_key`` (with ``USAGE["STORE_CONTEXT"]`` off: the user's rows), an alias's those of
its ``alias`` column, the site's all of them.
"""

from __future__ import annotations

import logging
import threading
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
_lock = threading.Lock()
THREADS = 4
"""Threads (and database connections) per process for budget transactions."""


def _in_budget_thread(work: Callable[[], _T]) -> _T:
    """Run budget work on the budget threads: their own few connections, in their own transactions.

    So a reservation commits at once even inside a request's transaction (``ATOMIC_REQUESTS``), an event loop
    never runs the ORM, and a process holds a few budget connections however many requests it serves (under ASGI
    every request has a thread of its own, and a connection with it).
    """
    global _executor
    if _executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="claude-web-budget")
    if threading.current_thread().name.startswith("claude-web-budget"):
        return work()

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
        return _in_budget_thread(lambda: parent(work))


class DjangoLedger:
    """Tokens and cost of ``TokenUsage`` rows by scope and time (what lost budget counters are rebuilt from)."""

    def __init__(self, usage: UsageSettings) -> None:
        self.database = usage.database
        self.store_context = usage.store_context

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        return _in_budget_thread(lambda: self._totals(scope, since, until))

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
