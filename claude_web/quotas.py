"""Quota limits and the refusal a request over one gets.

:class:`QuotaLimits` are the limits of one scope (requests per minute, tokens and cost per day and month);
:class:`QuotaExceeded` is the refusal (429 with ``Retry-After``, and a message that says *when* to try again).
The web layer enforces the limits with reservations that hold (:mod:`claude_web.web.budgets`).

:class:`Quota` and the counter stores below are the first release's fixed-window counters, kept for code that
uses them directly: they check before a call and count after it, so concurrent calls can overshoot a limit.

>>> QuotaExceeded("tokens_per_day", 3600, retry_at=datetime(2026, 11, 30, 14, 4, 10, tzinfo=timezone.utc),
...               now=datetime(2026, 11, 30, 13, 4, 10, tzinfo=timezone.utc)).to_dict()["error"]["message"]
'You have reached your daily token limit. Try again at 14:05 UTC.'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol

from .usage import UsageRecord

__all__ = [
    "LIMIT_NAMES",
    "CounterStore",
    "MemoryCounterStore",
    "Quota",
    "QuotaExceeded",
    "QuotaLimits",
    "RedisCounterStore",
    "retry_phrase",
]

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
    """The limits of one scope; ``None`` means no limit. Costs are USD.

    >>> QuotaLimits.from_mapping({"TOKENS_PER_DAY": 200_000, "COST_PER_MONTH": "25"}).cost_per_month
    Decimal('25')
    """

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None
    cost_per_month: Decimal | None = None
    cost_per_day: Decimal | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QuotaLimits:
        """From a settings dict with keys ``REQUESTS_PER_MINUTE``, ``TOKENS_PER_DAY``, ``TOKENS_PER_MONTH``,
        ``COST_PER_DAY``, ``COST_PER_MONTH`` (case-insensitive); unknown keys raise ``ValueError`` naming them."""
        known = {f.upper() for f in cls.__dataclass_fields__}
        given = {str(k).upper(): v for k, v in data.items()}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"unknown quota setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        costs = {
            k: None if given.get(k) is None else Decimal(str(given[k])) for k in ("COST_PER_MONTH", "COST_PER_DAY")
        }
        return cls(
            requests_per_minute=given.get("REQUESTS_PER_MINUTE"),
            tokens_per_day=given.get("TOKENS_PER_DAY"),
            tokens_per_month=given.get("TOKENS_PER_MONTH"),
            cost_per_month=costs["COST_PER_MONTH"],
            cost_per_day=costs["COST_PER_DAY"],
        )

    @property
    def enabled(self) -> bool:
        return any(getattr(self, name) is not None for name in LIMIT_NAMES)


LIMIT_NAMES = ("requests_per_minute", "tokens_per_day", "tokens_per_month", "cost_per_day", "cost_per_month")
"""Every limit a scope can have, as :class:`QuotaLimits` names it (and a refusal's ``limit`` says)."""

_LIMIT_WORDS = {
    "requests_per_minute": "requests-per-minute",
    "tokens_per_day": "daily token",
    "tokens_per_month": "monthly token",
    "cost_per_day": "daily spending",
    "cost_per_month": "monthly spending",
}
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def retry_phrase(when: datetime, now: datetime) -> str:
    """When to try again, as a person reads it: the time rounded up to the minute, in UTC.

    >>> now = datetime(2026, 11, 30, 14, 3, 20, tzinfo=timezone.utc)
    >>> retry_phrase(datetime(2026, 11, 30, 14, 4, 5, tzinfo=timezone.utc), now)
    'at 14:05 UTC'
    >>> retry_phrase(datetime(2026, 12, 1, tzinfo=timezone.utc), now)
    'tomorrow at 00:00 UTC'
    >>> retry_phrase(datetime(2027, 1, 1, tzinfo=timezone.utc), now)
    'on 1 January 2027 at 00:00 UTC'
    """
    when = when.astimezone(timezone.utc)
    now = now.astimezone(timezone.utc)
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    clock = f"{when:%H:%M} UTC"
    days = (when.date() - now.date()).days
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    year = f" {when.year}" if when.year != now.year else ""
    return f"on {when.day} {_MONTHS[when.month - 1]}{year} at {clock}"


class QuotaExceeded(Exception):
    """Over a limit. ``limit`` names which one (``tokens_per_day``...), ``scope`` whose (``user``: the caller's own,
    ``alias``: a client's, ``global``: the whole site's), ``retry_after`` is whole seconds until a retry can pass
    and ``retry_at`` that moment (UTC). ``busy`` means the limit is taken up by calls still running, not spent.

    The message a user reads names the time, never a number of seconds; ``Retry-After`` keeps the seconds.
    """

    def __init__(
        self,
        limit: str,
        retry_after: int,
        *,
        scope: str = "user",
        retry_at: datetime | None = None,
        busy: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.limit = limit
        self.retry_after = max(1, int(retry_after))
        self.scope = scope
        self.busy = busy
        self.now = now or datetime.now(timezone.utc)
        self.retry_at = retry_at or self.now + timedelta(seconds=self.retry_after)
        super().__init__(f"quota exceeded: {scope} {limit}; retry at {self.retry_at:%Y-%m-%d %H:%M:%S} UTC")

    @property
    def message(self) -> str:
        """What the user reads: whose limit, which one, and when to try again."""
        what = _LIMIT_WORDS.get(self.limit, self.limit.replace("_", " "))
        if self.busy:
            whose = {"user": "Your", "alias": "This assistant's", "global": "The site's"}.get(self.scope, "Your")
            head = f"{whose} {what} limit is taken up by answers still being written."
        elif self.scope == "global":
            head = f"The site has reached its {what} limit."
        elif self.scope == "alias":
            head = f"This assistant has reached its {what} limit."
        else:
            head = f"You have reached your {what} limit."
        return f"{head} Try again {retry_phrase(self.retry_at, self.now)}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "type": "quota_exceeded",
                "limit": self.limit,
                "scope": self.scope,
                "retry_after": self.retry_after,
                "retry_at": self.retry_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
                "message": self.message,
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
