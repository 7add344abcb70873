"""Per-user quotas checked before an upstream call: requests per minute, tokens per day and month, cost per month.

Counters live in a :class:`CounterStore`: the Django app adapts its cache, Flask uses :class:`RedisCounterStore`,
tests and single-process demos can use :class:`MemoryCounterStore`. Over a limit, :meth:`Quota.check` raises
:class:`QuotaExceeded` with ``retry_after`` seconds (the view answers 429 with a ``Retry-After`` header) and no
upstream call is made. After a call, :meth:`Quota.consume` adds its tokens and cost.

>>> quota = Quota(QuotaLimits(requests_per_minute=10, tokens_per_day=100_000), MemoryCounterStore())
>>> quota.check("user:42")            # raises QuotaExceeded when over
>>> quota.consume("user:42", record)  # a UsageRecord
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Protocol

from .usage import UsageRecord

__all__ = ["CounterStore", "MemoryCounterStore", "Quota", "QuotaExceeded", "QuotaLimits", "RedisCounterStore"]

_MICRO = Decimal(1_000_000)


class CounterStore(Protocol):
    def get_many(self, keys: list[str]) -> dict[str, int]: ...

    def incr(self, key: str, amount: int, ttl: int) -> int: ...


class MemoryCounterStore:
    """Counters in this process's memory (tests, demos without Redis)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._data: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get_many(self, keys: list[str]) -> dict[str, int]:
        now = self._clock()
        with self._lock:
            return {k: v for k in keys if (item := self._data.get(k)) and item[1] > now for v in (item[0],)}

    def incr(self, key: str, amount: int, ttl: int) -> int:
        now = self._clock()
        with self._lock:
            value, expires = self._data.get(key, (0, 0.0))
            if expires <= now:
                value, expires = 0, now + ttl
            value += amount
            self._data[key] = (value, expires)
            return value


class RedisCounterStore:
    """Counters in Redis (``INCRBY`` + ``EXPIRE NX`` in one pipeline). Takes a ``redis.Redis`` client."""

    def __init__(self, client: Any, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix

    def get_many(self, keys: list[str]) -> dict[str, int]:
        values = self._redis.mget([self._prefix + k for k in keys])
        return {k: int(v) for k, v in zip(keys, values, strict=False) if v is not None}

    def incr(self, key: str, amount: int, ttl: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incrby(self._prefix + key, amount)
        pipe.expire(self._prefix + key, ttl, nx=True)
        value, _ = pipe.execute()
        return int(value)


@dataclass(frozen=True)
class QuotaLimits:
    """``None`` means no limit. ``cost_per_month`` is in USD."""

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None
    cost_per_month: Decimal | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QuotaLimits:
        """From a settings dict with keys ``REQUESTS_PER_MINUTE``, ``TOKENS_PER_DAY``, ``TOKENS_PER_MONTH``,
        ``COST_PER_MONTH`` (case-insensitive); unknown keys raise ``ValueError`` naming them."""
        known = {f.upper() for f in cls.__dataclass_fields__}
        given = {str(k).upper(): v for k, v in data.items()}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"unknown quota setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        cost = given.get("COST_PER_MONTH")
        return cls(
            requests_per_minute=given.get("REQUESTS_PER_MINUTE"),
            tokens_per_day=given.get("TOKENS_PER_DAY"),
            tokens_per_month=given.get("TOKENS_PER_MONTH"),
            cost_per_month=None if cost is None else Decimal(str(cost)),
        )

    @property
    def enabled(self) -> bool:
        return any(
            v is not None
            for v in (self.requests_per_minute, self.tokens_per_day, self.tokens_per_month, self.cost_per_month)
        )


class QuotaExceeded(Exception):
    """Over a limit; ``limit`` names which one, ``retry_after`` is whole seconds until it resets."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(f"quota exceeded: {limit}; retry after {retry_after} s")
        self.limit = limit
        self.retry_after = max(1, retry_after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "type": "quota_exceeded",
                "limit": self.limit,
                "retry_after": self.retry_after,
                "message": f"You have reached your {self.limit.replace('_', ' ')} limit. "
                f"Try again in {self.retry_after} seconds.",
            }
        }


class Quota:
    def __init__(
        self,
        limits: QuotaLimits,
        store: CounterStore,
        *,
        prefix: str = "claude_web:quota",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.store = store
        self._prefix = prefix
        self._clock = clock

    def _periods(self, user: str) -> dict[str, tuple[str, int]]:
        """name -> (counter key, seconds until the period ends)."""
        now = self._clock()
        day = datetime.fromtimestamp(now, timezone.utc)
        end_of_day = 86_400 - (int(now) % 86_400)
        next_month = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=timezone.utc)
        end_of_month = int(next_month.timestamp() - now) + 1
        base = f"{self._prefix}:{user}"
        return {
            "requests_per_minute": (f"{base}:rpm:{int(now) // 60}", 60 - int(now) % 60),
            "tokens_per_day": (f"{base}:tok:d:{day:%Y%m%d}", end_of_day),
            "tokens_per_month": (f"{base}:tok:m:{day:%Y%m}", end_of_month),
            "cost_per_month": (f"{base}:cost:m:{day:%Y%m}", end_of_month),
        }

    def check(self, user: str) -> None:
        """Raise :class:`QuotaExceeded` if ``user`` is over a limit; otherwise count this request."""
        limits = self.limits
        if not limits.enabled:
            return
        periods = self._periods(user)
        keys = [periods[name][0] for name in ("tokens_per_day", "tokens_per_month", "cost_per_month")]
        values = self.store.get_many(keys)
        for name, limit in (("tokens_per_day", limits.tokens_per_day), ("tokens_per_month", limits.tokens_per_month)):
            key, remaining = periods[name]
            if limit is not None and values.get(key, 0) >= limit:
                raise QuotaExceeded(name, remaining)
        if limits.cost_per_month is not None:
            key, remaining = periods["cost_per_month"]
            if Decimal(values.get(key, 0)) / _MICRO >= limits.cost_per_month:
                raise QuotaExceeded("cost_per_month", remaining)
        if limits.requests_per_minute is not None:
            key, remaining = periods["requests_per_minute"]
            if self.store.incr(key, 1, 61) > limits.requests_per_minute:
                raise QuotaExceeded("requests_per_minute", remaining)

    def consume(self, user: str, record: UsageRecord) -> None:
        """Add a finished call's tokens and cost to ``user``'s counters."""
        if not self.limits.enabled:
            return
        periods = self._periods(user)
        tokens = record.total_tokens
        if tokens:
            for name in ("tokens_per_day", "tokens_per_month"):
                key, remaining = periods[name]
                self.store.incr(key, tokens, remaining + 60)
        if record.cost:
            key, remaining = periods["cost_per_month"]
            self.store.incr(key, int(record.cost * _MICRO), remaining + 60)
