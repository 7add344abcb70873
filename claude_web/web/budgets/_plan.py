"""What a budget counts: scopes, periods, the counters a call touches, and money as whole units.

A *scope* is whose budget it is: one caller (the quota key: ``user:42``, ``session:...``, ``ip:...``), one client
alias (one API key), or the whole site. A scope's limits (:class:`~claude_web.quotas.QuotaLimits`) become
*lines*: one counter per limited metric and period (tokens or cost, per UTC day or month), plus a sliding window
for requests per minute. Costs are counted in whole units of 1e-8 USD (the ledger's precision), so every store
adds integers and nothing is ever rounded twice.

>>> lines = plan("p", [(Scope.caller("user:7"), QuotaLimits(tokens_per_day=100))], at=1_796_000_000.0)
>>> lines.lines[0].key, lines.lines[0].limit
('p:c:u:user:7:tok:d20261130', 100)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_CEILING, Decimal

from ...quotas import QuotaLimits

__all__ = [
    "COST_UNIT",
    "Line",
    "Period",
    "Plan",
    "Scope",
    "WindowLine",
    "cost_units",
    "from_units",
    "period_bounds",
    "plan",
]

COST_UNIT = Decimal("0.00000001")
"""A cost counter counts whole units of this many USD (the 8 decimal places of the ledger)."""
WINDOW_SECONDS = 60.0
_GRACE = 86_400.0  # counters outlive their period by a day (reports of the period just ended)


HELD = "j"
"""Reservation ids of admissions held until released (jobs, several calls) start with this."""


def is_held(res_id: str) -> bool:
    """Whether a reservation is held until released (its records shrink it) rather than settled by its record."""
    return res_id.startswith(HELD)


def cost_units(cost: Decimal | None) -> int:
    """USD -> whole units of 1e-8 USD, rounded up (``None``: 0).

    >>> cost_units(Decimal("0.0000000101")), cost_units(Decimal("1.5"))
    (2, 150000000)
    """
    if cost is None or cost <= 0:
        return 0
    return int((cost / COST_UNIT).to_integral_value(rounding=ROUND_CEILING))


def from_units(units: int) -> Decimal:
    """Whole units of 1e-8 USD -> USD.

    >>> from_units(150000000)
    Decimal('1.50000000')
    """
    return (Decimal(units) * COST_UNIT).quantize(COST_UNIT)


@dataclass(frozen=True)
class Scope:
    """Whose budget: ``kind`` is ``user`` (a caller's quota key), ``alias`` (a client) or ``global``."""

    kind: str
    name: str = ""

    @classmethod
    def caller(cls, key: str) -> Scope:
        return cls("user", key)

    @classmethod
    def alias(cls, name: str) -> Scope:
        return cls("alias", name)

    @classmethod
    def site(cls) -> Scope:
        return cls("global", "")

    @property
    def label(self) -> str:
        """How reports and alerts name it: the quota key itself, ``alias:<name>`` or ``global``."""
        if self.kind == "user":
            return self.name
        return "global" if self.kind == "global" else f"alias:{self.name}"

    @property
    def tag(self) -> str:
        """Its part of a store key: ``u:<key>``, ``a:<alias>`` or ``g``."""
        return "g" if self.kind == "global" else f"{self.kind[0]}:{self.name}"

    @classmethod
    def from_tag(cls, tag: str) -> Scope:
        if tag == "g":
            return cls.site()
        kind, _, name = tag.partition(":")
        return cls("alias" if kind == "a" else "user", name)


@dataclass(frozen=True)
class Period:
    """One UTC day (``day``, key ``d20261130``) or month (``month``, key ``m202611``), ``start`` <= t < ``end``."""

    name: str
    key: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}" if self.name == "day" else f"{self.start:%Y-%m}"


def period_bounds(name: str, at: float) -> Period:
    """The ``day`` or ``month`` (UTC) that holds the moment ``at`` (epoch seconds)."""
    moment = datetime.fromtimestamp(at, timezone.utc)
    if name == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = datetime.fromtimestamp(start.timestamp() + 86_400, timezone.utc)
        return Period("day", f"d{start:%Y%m%d}", start, end)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return Period("month", f"m{start:%Y%m}", start, end)


_METRICS = (
    ("tokens_per_day", "tokens", "day"),
    ("tokens_per_month", "tokens", "month"),
    ("cost_per_day", "cost", "day"),
    ("cost_per_month", "cost", "month"),
)


@dataclass(frozen=True)
class Line:
    """One limited counter: ``scope``'s ``metric`` (tokens, or cost in units) in ``period``, stored at ``key``."""

    scope: Scope
    limit_name: str
    metric: str
    period: Period
    limit: int
    key: str

    @property
    def expires_at(self) -> float:
        return self.period.end.timestamp() + _GRACE

    def amount(self, tokens: int, cost: int) -> int:
        """What a call of ``tokens`` tokens and ``cost`` units puts on this line."""
        return tokens if self.metric == "tokens" else cost

    def human(self, value: int) -> int | Decimal:
        """A counter value as people read it: tokens, or USD."""
        return value if self.metric == "tokens" else from_units(value)


@dataclass(frozen=True)
class WindowLine:
    """``scope``'s requests-per-minute sliding window, stored at ``key``."""

    scope: Scope
    limit: int
    key: str
    span: float = WINDOW_SECONDS


@dataclass(frozen=True)
class Plan:
    lines: tuple[Line, ...]
    windows: tuple[WindowLine, ...]

    def keys(self) -> list[str]:
        return [line.key for line in self.lines]


def counter_key(prefix: str, scope: Scope, metric: str, period: Period) -> str:
    return f"{prefix}:c:{scope.tag}:{'tok' if metric == 'tokens' else 'usd'}:{period.key}"


def window_key(prefix: str, scope: Scope) -> str:
    return f"{prefix}:w:{scope.tag}"


def plan(prefix: str, scopes: Iterable[tuple[Scope, QuotaLimits]], at: float, *, windows: bool = True) -> Plan:
    """The lines (and, with ``windows``, the request windows) of ``scopes`` at the moment ``at``."""
    lines: list[Line] = []
    found: list[WindowLine] = []
    bounds = {name: period_bounds(name, at) for name in ("day", "month")}
    for scope, limits in scopes:
        for limit_name, metric, period_name in _METRICS:
            value = getattr(limits, limit_name)
            if value is None:
                continue
            limit = int(value) if metric == "tokens" else cost_units(Decimal(value))
            period = bounds[period_name]
            lines.append(Line(scope, limit_name, metric, period, limit, counter_key(prefix, scope, metric, period)))
        if windows and limits.requests_per_minute is not None:
            found.append(WindowLine(scope, int(limits.requests_per_minute), window_key(prefix, scope)))
    return Plan(tuple(lines), tuple(found))


def parse_key(prefix: str, key: str) -> tuple[Scope, str, str] | None:
    """``(scope, metric, period key)`` of a counter key made by this prefix, else ``None``."""
    head = f"{prefix}:c:"
    if not key.startswith(head):
        return None
    rest = key[len(head) :]
    body, _, period = rest.rpartition(":")
    tag, _, metric = body.rpartition(":")
    if not tag or metric not in ("tok", "usd") or period[:1] not in ("d", "m"):
        return None
    return Scope.from_tag(tag), "tokens" if metric == "tok" else "cost", period


def ceil_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def distinct(keys: Sequence[str]) -> list[str]:
    return sorted(set(keys))
