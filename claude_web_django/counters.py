"""Counters in a Django cache, for the first release's fixed-window :class:`claude_web.quotas.Quota`.

The app's own budgets no longer count in a cache (see :mod:`claude_web_django.budgets`): they reserve in Redis
or the database, atomically. This store remains for code that builds a ``Quota`` on a cache itself, and only on
caches that increment atomically.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ImproperlyConfigured

__all__ = ["CacheCounterStore"]


class CacheCounterStore:
    """A :class:`claude_web.quotas.CounterStore` on a Django cache with an atomic ``incr`` that keeps the expiry
    (Redis, Memcached, local memory).

    The database and file caches only emulate ``incr`` with a read and a write, which loses increments made at the
    same time; they are refused (use ``CLAUDE_WEB["QUOTAS"]["STORE"] = "database"`` for budgets in the database).
    """

    def __init__(self, cache: Any) -> None:
        if type(cache).incr is BaseCache.incr:
            raise ImproperlyConfigured(
                f"the {type(cache).__name__} cache cannot increment a counter atomically (concurrent increments "
                "would be lost); count in Redis or Memcached, or keep budgets in the database with "
                "CLAUDE_WEB['QUOTAS']['STORE'] = 'database'"
            )
        self.cache = cache

    def get_many(self, keys: list[str]) -> dict[str, int]:
        found = self.cache.get_many(keys)
        return {k: int(v) for k, v in found.items() if v is not None}

    def incr(self, key: str, amount: int, ttl: int) -> int:
        cache = self.cache
        cache.add(key, 0, ttl)
        try:
            return int(cache.incr(key, amount))
        except ValueError:  # evicted between add and incr
            if cache.add(key, amount, ttl):
                return amount
            return int(cache.incr(key, amount))
