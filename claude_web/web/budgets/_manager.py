"""Budgets: admit a call by reserving its worst case, settle it to what it used, watch it while it streams.

One :class:`Budgets` per app (the web runtime builds it from ``QUOTAS``). Every upstream call of chat, jobs,
batches and conversations is admitted by :meth:`Budgets.admit`, which returns the usage-context keys the call's
records carry (``quota_key``, ``reservation``, ``reserved``); the runtime's usage pipeline hands each record to
:meth:`Budgets.settle`. Counters a store lost (a restart of a memory store, a Redis flush, the first call of a new
period) are rebuilt from the ledger the adapter provides (:class:`Ledger`), so a restart never grants a fresh
budget.

>>> from claude_web.web.budgets import MemoryBudgetStore
>>> budgets = Budgets(QuotaSettings(limits=QuotaLimits(tokens_per_day=10_000)), MemoryBudgetStore())
>>> context = budgets.admit("user:42", {"model": "claude-haiku-4-5", "max_tokens": 512,
...                                     "messages": [{"role": "user", "content": "Hi"}]})
>>> sorted(context)
['quota_key', 'reservation', 'reserved']
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Protocol

from ...pricing import ModelPrice, format_cost
from ...quotas import QuotaExceeded, QuotaLimits
from ...usage import UsageRecord
from ..errors import WebError
from ..settings import QuotaSettings
from ._estimate import WorstCase, worst_case_of
from ._plan import HELD, Line, Plan, Scope, cost_units, from_units, is_held, plan
from ._store import BudgetStore, Charge, Outcome, Window

__all__ = ["BudgetAlert", "BudgetUnpriced", "Budgets", "Ledger"]

log = logging.getLogger("claude_web.budgets")

BUSY_RETRY = 15
"""Seconds a caller refused because calls in flight hold the rest of a budget is told to wait."""


class Ledger(Protocol):
    """Where an adapter's stored usage records are summed: Django's ``TokenUsage``, Flask's usage table."""

    def totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        """Tokens and cost (USD) of the records of ``scope`` created in ``since <= t < until``."""
        ...


@dataclass(frozen=True)
class BudgetAlert:
    """A scope's settled use crossed ``share`` of a limit (sent once per scope, limit, period and share).

    ``scope`` is ``user:42`` (a caller), ``alias:<name>`` or ``global``; ``limit`` names the limit
    (``cost_per_month``...), ``period`` its day or month (``2026-11-30``, ``2026-11``); ``used`` and ``value``
    are tokens (``int``) or USD (``Decimal``).
    """

    scope: str
    limit: str
    period: str
    share: Decimal
    used: int | Decimal
    value: int | Decimal


class BudgetUnpriced(WebError):
    """A cost limit applies but the model has no price: the call cannot be admitted (403, logged)."""

    status = 403
    type = "budget_unpriced"


def _new_id(held: bool) -> str:
    return (HELD if held else "") + secrets.token_hex(10)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class Budgets:
    """The limits of one app, kept with reservations in a :class:`~claude_web.web.budgets.BudgetStore`.

    ``pricing`` prices worst cases (the app's table); ``ledger`` rebuilds lost counters; ``on_alert`` receives
    :class:`BudgetAlert` (the adapters send their ``budget_threshold_crossed`` signal); ``count_tokens(alias,
    params)`` counts a prompt with the API when ``INPUT_TOKENS`` is ``count``.
    """

    def __init__(
        self,
        settings: QuotaSettings,
        store: BudgetStore,
        *,
        pricing: Mapping[str, ModelPrice] | None = None,
        ledger: Ledger | None = None,
        on_alert: Callable[[BudgetAlert], None] | None = None,
        count_tokens: Callable[[str, Mapping[str, Any]], int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prefix = store.prefix
        self.pricing = pricing
        self.ledger = ledger
        self.on_alert = on_alert
        self.count_tokens = count_tokens
        self.clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, None] = {}  # inline reservations of this process not settled yet (insertion order)
        self._stopped: dict[str, None] = {}  # reservations whose stream a watch stopped (policy "stop")
        self._swept = 0.0

    def __repr__(self) -> str:
        return f"<Budgets store={self.store!r}>"

    # -- scopes -------------------------------------------------------------------------------------------------
    def scopes(self, key: str | None, alias: str | None) -> list[tuple[Scope, QuotaLimits]]:
        """The limited scopes of a call by quota key ``key`` through client ``alias``."""
        cfg = self.settings
        found: list[tuple[Scope, QuotaLimits]] = []
        if key and cfg.limits.enabled:
            found.append((Scope.caller(key), cfg.limits))
        if alias:
            limits = cfg.alias_limits(alias)
            if limits is not None:
                found.append((Scope.alias(alias), limits))
        if cfg.global_limits.enabled:
            found.append((Scope.site(), cfg.global_limits))
        return found

    def limits_of(self, scope: Scope) -> QuotaLimits | None:
        if scope.kind == "user":
            return self.settings.limits if self.settings.limits.enabled else None
        if scope.kind == "alias":
            return self.settings.alias_limits(scope.name)
        return self.settings.global_limits if self.settings.global_limits.enabled else None

    # -- admission ----------------------------------------------------------------------------------------------
    def admit(
        self,
        key: str | None,
        params: Mapping[str, Any],
        *,
        alias: str | None = None,
        job: bool = False,
        prompt_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Reserve the worst case of a call or raise the refusal (:class:`~claude_web.quotas.QuotaExceeded`,
        :class:`BudgetUnpriced`). Returns the usage-context keys its records carry.

        One call's reservation is settled by its record. With ``job`` it is held until released instead: a job (its
        worker releases it when the job ends), or any admission that makes several calls (a tool loop: each
        call's record counts and shrinks the hold; :meth:`release` with ``force`` gives back the rest); its TTL
        is ``JOB_RESERVATION_TTL``. ``prompt_tokens`` bounds the prompt when the caller knows more than ``params``
        show (a conversation turn sends a stored history the request does not carry).
        """
        now = self.clock()
        self._maybe_sweep(now)
        context: dict[str, Any] = {"quota_key": key} if key else {}
        scopes = self.scopes(key, alias)
        if not scopes:
            return context
        laid = plan(self.prefix, scopes, now)
        worst = WorstCase(0, 0, 0)
        if laid.lines:
            worst = (
                self.worst(params, alias)
                if prompt_tokens is None
                else worst_case_of(params, self.pricing, prompt=prompt_tokens)
            )
            if not worst.priced and any(line.metric == "cost" for line in laid.lines):
                log.error(
                    "model %r has no price, so no call to it fits a cost budget; add it to PRICING", params.get("model")
                )
                raise BudgetUnpriced(
                    "This model cannot be used here: it has no price, and spending is limited. Tell the site's "
                    "operators."
                )
        holds = bool(worst.tokens or worst.cost) and bool(laid.lines)
        res_id = _new_id(job) if holds else ""
        charges = self._charges(laid.lines, worst.tokens, worst.cost)
        windows = [Window(w.key, w.limit, w.span) for w in laid.windows]
        ttl = self.settings.job_reservation_ttl if job else self.settings.reservation_ttl
        outcome = self._rebuilding(lambda: self.store.reserve(res_id, charges, windows, now, ttl), laid.lines, now)
        if not outcome.ok:
            raise self._refusal(outcome, laid, now)
        if res_id:
            context["reservation"] = res_id
            context["reserved"] = {"tokens": worst.tokens, "cost": format_cost(from_units(worst.cost))}
            if not job:
                with self._lock:
                    self._open[res_id] = None
                    while len(self._open) > 100_000:  # never unbounded, whatever a caller forgets
                        self._open.pop(next(iter(self._open)))
        return context

    def check(self, key: str) -> None:
        """Raise the refusal when ``key`` is over a limit now; count the request in its windows (no hold)."""
        now = self.clock()
        laid = plan(self.prefix, self.scopes(key, None), now)
        if not laid.lines and not laid.windows:
            return
        charges = self._charges(laid.lines, 0, 0)
        windows = [Window(w.key, w.limit, w.span) for w in laid.windows]
        outcome = self._rebuilding(lambda: self.store.reserve("", charges, windows, now, 0.0), laid.lines, now)
        if not outcome.ok:
            raise self._refusal(outcome, laid, now)

    def worst(self, params: Mapping[str, Any], alias: str | None = None) -> WorstCase:
        """The worst case of a call with ``params`` (the prompt counted by the API in ``count`` mode)."""
        prompt = None
        if self.settings.input_tokens == "count" and self.count_tokens is not None and "messages" in params:
            try:
                prompt = self.count_tokens(alias or "default", params)
            except Exception:
                log.warning("counting the prompt's tokens failed; reserving an estimate", exc_info=True)
        return worst_case_of(params, self.pricing, prompt=prompt)

    @staticmethod
    def _charges(lines: Sequence[Line], tokens: int, cost: int) -> list[Charge]:
        return [Charge(line.key, line.limit, line.amount(tokens, cost), line.expires_at) for line in lines]

    def _refusal(self, outcome: Outcome, laid: Plan, now: float) -> QuotaExceeded:
        moment = datetime.fromtimestamp(now, timezone.utc)
        if outcome.window >= 0:
            window = laid.windows[outcome.window]
            wait = outcome.retry_at - now
            return QuotaExceeded(
                "requests_per_minute",
                math.ceil(wait),
                scope=window.scope.kind,
                retry_at=datetime.fromtimestamp(outcome.retry_at, timezone.utc),
                now=moment,
            )
        line = laid.lines[outcome.charge]
        if outcome.busy:
            return QuotaExceeded(line.limit_name, BUSY_RETRY, scope=line.scope.kind, busy=True, now=moment)
        wait = line.period.end.timestamp() - now
        return QuotaExceeded(
            line.limit_name, math.ceil(wait), scope=line.scope.kind, retry_at=line.period.end, now=moment
        )

    # -- rebuilding lost counters from the ledger -----------------------------------------------------------------
    def _rebuilding(self, operation: Callable[[], Outcome], lines: Sequence[Line], now: float) -> Outcome:
        outcome = operation()
        for _ in range(3):
            if outcome.status != "missing":
                return outcome
            self.rebuild([line for line in lines if line.key in outcome.missing], now)
            outcome = operation()
        return outcome

    def rebuild(self, lines: Sequence[Line], now: float | None = None) -> None:
        """Create ``lines``' counters with the use the ledger records for their scope and period."""
        now = self.clock() if now is None else now
        totals: dict[tuple[Scope, str], tuple[int, Decimal]] = {}
        values: list[tuple[Charge, int]] = []
        for line in lines:
            found = totals.get((line.scope, line.period.key))
            if found is None:
                found = self._ledger_totals(line.scope, line.period.start, line.period.end)
                totals[(line.scope, line.period.key)] = found
            used = found[0] if line.metric == "tokens" else cost_units(found[1])
            values.append((Charge(line.key, line.limit, 0, line.expires_at), used))
            log.info("budget counter %s rebuilt from the ledger: %s", line.key, used)
        self.store.init(values, now)

    def _ledger_totals(self, scope: Scope, since: datetime, until: datetime) -> tuple[int, Decimal]:
        if self.ledger is None:
            return 0, Decimal(0)
        tokens, cost = self.ledger.totals(scope, since, until)
        return int(tokens or 0), Decimal(cost or 0)

    # -- settling -------------------------------------------------------------------------------------------------
    def settle(self, record: UsageRecord) -> None:
        """Count a finished call (its record) and release what its admission held; a held admission (a job) is
        shrunk by what each of its calls used and given back when it ends (:meth:`job_finished`, :meth:`release`)."""
        context = record.context
        res_id = _str(context.get("reservation")) or ""
        key = _str(context.get("quota_key")) or _str(context.get("owner"))
        laid = plan(
            self.prefix, self.scopes(key, _str(context.get("alias"))), record.created_at.timestamp(), windows=False
        )
        if not laid.lines and not res_id:
            return
        charges = self._charges(laid.lines, record.total_tokens, cost_units(record.cost))
        final = not is_held(res_id)
        if final and res_id:
            with self._lock:
                self._open.pop(res_id, None)
                self._stopped.pop(res_id, None)
        now = self.clock()
        outcome = self.store.settle(res_id, record.id, charges, final, now)
        if outcome.ok:
            self._alerts(laid.lines, charges, outcome.used, now)

    def consume(self, key: str, record: UsageRecord) -> None:
        """Count a record against ``key`` (a call made without admission; the first release's ``Quota`` API)."""
        record.context = {**record.context, "quota_key": key}
        self.settle(record)

    def note_stop(self, record: UsageRecord) -> None:
        """Mark a record whose stream a watch stopped: ``stop_reason`` and ``error_type`` ``budget``."""
        res_id = _str(record.context.get("reservation"))
        if res_id is not None and res_id in self._stopped:
            record.context["stop_reason"] = "budget"
            record.error_type = record.error_type or "budget"

    def release(self, context: Mapping[str, Any], *, force: bool = False) -> None:
        """Give back an admission's hold that no record settled (the call never started, or its job ended).
        Without ``force`` only holds this process admitted and has not settled cost a store call."""
        res_id = _str(context.get("reservation"))
        if res_id is None:
            return
        with self._lock:
            known = res_id in self._open
            self._open.pop(res_id, None)
        if known or force:
            self.store.release(res_id, self.clock())

    def job_finished(self, context: Mapping[str, Any]) -> None:
        """A job ended: give back what its hold still has."""
        self.release(context, force=True)

    def sweep(self) -> int:
        """Release the holds of calls whose process died (past their TTL); how many."""
        now = self.clock()
        self._swept = now
        return self.store.sweep(now)

    def _maybe_sweep(self, now: float) -> None:
        if now - self._swept >= 1.0:
            self._swept = now
            try:
                self.store.sweep(now)
            except Exception:
                log.warning("sweeping expired budget reservations failed", exc_info=True)

    # -- alerts ---------------------------------------------------------------------------------------------------
    def _alerts(self, lines: Sequence[Line], charges: Sequence[Charge], used: Sequence[int], now: float) -> None:
        if self.on_alert is None:
            return
        for line, charge, after in zip(lines, charges, used, strict=False):
            if after < 0 or not charge.amount:
                continue
            before = after - charge.amount
            for share in self.settings.alert_at:
                threshold = math.ceil(share * line.limit)
                if not before < threshold <= after:
                    continue
                if not self.store.mark(f"a:{line.key}:{share}", line.expires_at, now):
                    continue
                alert = BudgetAlert(
                    line.scope.label,
                    line.limit_name,
                    line.period.label,
                    share,
                    line.human(after),
                    line.human(line.limit),
                )
                log.warning(
                    "budget alert: %s used %s of %s %s (%s%%)",
                    alert.scope, alert.used, alert.value, alert.limit, share * 100,
                )  # fmt: skip
                try:
                    self.on_alert(alert)
                except Exception:
                    log.exception("a budget alert receiver failed")

    # -- watching a stream ----------------------------------------------------------------------------------------
    def watch(self, context: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        """A per-event check for a call admitted with ``context`` (``None`` without a reservation): see
        :class:`~claude_web.web.budgets.Watch`."""
        res_id = _str(context.get("reservation"))
        if res_id is None:
            return None
        from ._watch import Watch

        return Watch(self, res_id, context, params)

    def _ensure(self, res_id: str, lines: Sequence[Line], worst: WorstCase, ttl: float) -> Outcome:
        now = self.clock()
        charges = self._charges(lines, worst.tokens, worst.cost)
        return self._rebuilding(lambda: self.store.ensure(res_id, charges, now, ttl), lines, now)

    def _stop(self, res_id: str) -> None:
        with self._lock:
            self._stopped[res_id] = None
            while len(self._stopped) > 10_000:
                self._stopped.pop(next(iter(self._stopped)))
