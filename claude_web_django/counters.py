"""Quota counters in a Django cache (any backend; a shared one such as Redis for more than one process)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache

__all__ = ["CacheCounterStore"]


class CacheCounterStore:
    """A :class:`claude_web.quotas.CounterStore` on a Django cache.

    Backends with a native atomic ``incr`` that keeps the expiry (Redis, Memcached, local memory) are used as
    they are; for the others (database, file) the expiry is set again on each increment.
    """

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self._native_incr = type(cache).incr is not BaseCache.incr

    def get_many(self, keys: list[str]) -> dict[str, int]:
        found = self.cache.get_many(keys)
        return {k: int(v) for k, v in found.items() if v is not None}

    def incr(self, key: str, amount: int, ttl: int) -> int:
        cache = self.cache
        if not self._native_incr:
            value = int(cache.get(key, 0)) + amount
            cache.set(key, value, ttl)
            return value
        cache.add(key, 0, ttl)
        try:
            return int(cache.incr(key, amount))
        except ValueError:  # evicted between add and incr
            cache.set(key, amount, ttl)
            return amount
