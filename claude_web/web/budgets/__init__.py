"""Budgets that hold: every call reserves its worst case before it goes upstream and settles to what it used.

The limits (``QUOTAS``) apply to three scopes at once: the caller (its quota key), the client alias (one API key)
and the whole site; each may limit requests per minute (a sliding window), tokens per day and month, and cost per
day and month. :class:`Budgets` admits a call only if every limit can take its worst case (counted or estimated
prompt plus ``max_tokens``, priced at the worst tier that can apply), in one atomic step of a
:class:`BudgetStore`: a Lua script in Redis (:class:`RedisBudgetStore`), a transaction with row locks in SQL
(:class:`SqlBudgetStore`), or a lock in one process (:class:`MemoryBudgetStore`). The call's usage record settles
the reservation (once, whatever happens); a reservation whose process died expires after its TTL and the sweeper
gives it back. Counters a store lost are rebuilt from the ledger, so a restart never grants a fresh budget.

>>> from claude_web.web.budgets import Budgets, MemoryBudgetStore
>>> budgets = Budgets(runtime.settings.quotas, MemoryBudgetStore(), pricing=runtime.settings.pricing.table)
>>> context = budgets.admit("user:42", params, alias="default")   # raises QuotaExceeded when over
>>> client = client.with_options(usage_context=context)            # its record settles the reservation
"""

from ._estimate import DEFAULT_MAX_USES, WorstCase, estimate_prompt_tokens, worst_case, worst_case_of
from ._manager import BudgetAlert, Budgets, BudgetUnpriced, Ledger
from ._plan import COST_UNIT, Line, Period, Scope, cost_units, from_units, period_bounds, plan
from ._redis import RedisBudgetStore
from ._report import BudgetLine, budget_report, render_budget_json, render_budget_table
from ._sql import COUNTER_TABLE, MARKER_TABLE, RESERVATION_TABLE, SqlBudgetStore, SqlSession
from ._store import BudgetStore, Charge, CounterState, LockingBudgetStore, MemoryBudgetStore, Outcome, Window
from ._watch import Watch

__all__ = [
    "COST_UNIT",
    "COUNTER_TABLE",
    "DEFAULT_MAX_USES",
    "MARKER_TABLE",
    "RESERVATION_TABLE",
    "BudgetAlert",
    "BudgetLine",
    "BudgetStore",
    "BudgetUnpriced",
    "Budgets",
    "Charge",
    "CounterState",
    "Ledger",
    "Line",
    "LockingBudgetStore",
    "MemoryBudgetStore",
    "Outcome",
    "Period",
    "RedisBudgetStore",
    "Scope",
    "SqlBudgetStore",
    "SqlSession",
    "Watch",
    "Window",
    "WorstCase",
    "budget_report",
    "cost_units",
    "estimate_prompt_tokens",
    "from_units",
    "period_bounds",
    "plan",
    "render_budget_json",
    "render_budget_table",
    "worst_case",
    "worst_case_of",
]
