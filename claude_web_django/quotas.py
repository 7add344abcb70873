"""Per-user quotas counted in the Django cache (any backend; Redis for more than one process).

>>> from claude_web_django.quotas import check_quota
>>> check_quota("user:42")   # raises claude_web.quotas.QuotaExceeded when over a limit

Limits come from ``CLAUDE_WEB["QUOTAS"]``; the chat views call :func:`check_quota` before any upstream call and
the ``usage_recorded`` receiver adds each finished call's tokens and cost with :func:`consume_quota`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.http import JsonResponse

from claude_web.quotas import Quota, QuotaExceeded
from claude_web.usage import UsageRecord

from .conf import claude_settings

__all__ = ["CacheCounterStore", "check_quota", "consume_quota", "get_quota", "quota_exceeded_response"]

log = logging.getLogger("claude_web_django.quotas")


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


def get_quota() -> Quota | None:
    """The configured :class:`~claude_web.quotas.Quota`, or ``None`` when no limit is set."""
    cfg = claude_settings().quotas
    if not cfg.limits.enabled:
        return None
    return Quota(cfg.limits, CacheCounterStore(caches[cfg.cache]), prefix=cfg.key_prefix)


def check_quota(key: str) -> None:
    """Raise :class:`~claude_web.quotas.QuotaExceeded` if ``key`` (``"user:<pk>"``) is over a limit."""
    quota = get_quota()
    if quota is not None:
        quota.check(key)


def consume_quota(record: UsageRecord) -> None:
    """Count a finished call against the quota key in its context (no-op without limits or key)."""
    key = record.context.get("quota_key")
    if not isinstance(key, str) or not key:
        return
    quota = get_quota()
    if quota is not None:
        quota.consume(key, record)


def quota_exceeded_response(exc: QuotaExceeded) -> JsonResponse:
    """HTTP 429 with the JSON error body and a ``Retry-After`` header."""
    response = JsonResponse(exc.to_dict(), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
