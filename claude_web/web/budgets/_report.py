"""What ``manage.py claude_budget`` and ``flask claude budget`` show: each scope's use, holds and what remains.

>>> print(render_budget_table(budget_report(budgets)))
scope          limit           period      used       reserved  remaining  limit       resets
global         cost_per_day    2026-11-30  $12.5000   $0.4000   $87.1000   $100.0000   2026-12-01 00:00 UTC
...
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._plan import Line, Scope, counter_key, parse_key, period_bounds, plan

if TYPE_CHECKING:
    from ._manager import Budgets

__all__ = ["BudgetLine", "budget_report", "render_budget_json", "render_budget_table"]


@dataclass(frozen=True)
class BudgetLine:
    """One limit of one scope now: ``used`` (settled), ``reserved`` (held by calls in flight), ``remaining``;
    tokens as ``int``, costs as ``Decimal`` USD, requests per minute as the requests of the last minute."""

    scope: str
    limit: str
    period: str
    used: int | Decimal
    reserved: int | Decimal
    remaining: int | Decimal
    value: int | Decimal
    resets_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        def text(v: int | Decimal) -> Any:
            return format(v, "f") if isinstance(v, Decimal) else v

        return {
            "scope": self.scope,
            "limit": self.limit,
            "period": self.period,
            "used": text(self.used),
            "reserved": text(self.reserved),
            "remaining": text(self.remaining),
            "value": text(self.value),
            "resets_at": None if self.resets_at is None else self.resets_at.isoformat(timespec="seconds"),
        }


def _order(line: BudgetLine) -> tuple[int, str, str]:
    rank = 0 if line.scope == "global" else 1 if line.scope.startswith("alias:") else 2
    return (rank, line.scope, line.limit)


def budget_report(budgets: Budgets, *, scope: str | None = None, now: float | None = None) -> list[BudgetLine]:
    """The budget lines of every scope with a counter this period (and every configured global and alias limit);
    ``scope`` keeps one (``user:42``, ``alias:default``, ``global``). Expired holds are swept first."""
    now = budgets.clock() if now is None else now
    budgets.store.sweep(now)
    current = {period_bounds(name, now).key for name in ("day", "month")}
    states = {state.key: state for state in budgets.store.counters(now)}
    wanted: dict[str, Line] = {}
    fixed = [(Scope.site(), budgets.settings.global_limits)]
    fixed += [(Scope.alias(name), lim) for name, lim in budgets.settings.per_alias.items() if name != "*"]
    for found_scope, limits in fixed:
        if limits.enabled:
            for line in plan(budgets.prefix, [(found_scope, limits)], now).lines:
                wanted[line.key] = line
    for key in states:
        parsed = parse_key(budgets.prefix, key)
        if parsed is None or parsed[2] not in current or key in wanted:
            continue
        found = budgets.limits_of(parsed[0])
        if found is not None:
            for line in plan(budgets.prefix, [(parsed[0], found)], now).lines:
                if counter_key(budgets.prefix, line.scope, line.metric, line.period) == key:
                    wanted[key] = line
    missing = [line for key, line in wanted.items() if key not in states]
    if missing:
        budgets.rebuild(missing, now)
        states.update({s.key: s for s in budgets.store.counters(now) if s.key in wanted})
    lines: list[BudgetLine] = []
    for key, line in wanted.items():
        state = states.get(key)
        used, held = (state.used, state.held) if state is not None else (0, 0)
        left = max(0, line.limit - used - held)
        lines.append(
            BudgetLine(
                line.scope.label, line.limit_name, line.period.label,
                line.human(used), line.human(held), line.human(left), line.human(line.limit), line.period.end,
            )
        )  # fmt: skip
    for found_scope, limits in fixed:
        if limits.enabled and limits.requests_per_minute is not None:
            for window in plan(budgets.prefix, [(found_scope, limits)], now).windows:
                count = budgets.store.window_size(window.key, window.span, now)
                lines.append(
                    BudgetLine(
                        found_scope.label, "requests_per_minute", "last 60 s",
                        count, 0, max(0, window.limit - count), window.limit, None,
                    )
                )  # fmt: skip
    if scope is not None:
        lines = [line for line in lines if line.scope == scope]
    return sorted(lines, key=_order)


def _money_or_count(value: int | Decimal) -> str:
    if isinstance(value, Decimal):
        return f"${value.quantize(Decimal('0.0001'))}" if value >= Decimal("0.0001") or value == 0 else f"${value}"
    return f"{value:,}"


def render_budget_table(lines: Sequence[BudgetLine]) -> str:
    """A plain-text table (one row per line)."""
    header = ("scope", "limit", "period", "used", "reserved", "remaining", "limit value", "resets")
    rows = [header]
    for line in lines:
        resets = "-" if line.resets_at is None else f"{line.resets_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
        rows.append(
            (
                line.scope, line.limit, line.period, _money_or_count(line.used), _money_or_count(line.reserved),
                _money_or_count(line.remaining), _money_or_count(line.value), resets,
            )
        )  # fmt: skip
    if len(rows) == 1:
        return "no budget limits are set (CLAUDE_WEB QUOTAS)"
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def render_budget_json(lines: Sequence[BudgetLine]) -> str:
    return json.dumps([line.to_dict() for line in lines], indent=2)
