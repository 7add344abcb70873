"""Blinker signals the extension sends. Receivers get the app as ``sender``.

- ``usage_recorded(app, record=UsageRecord)``: once per upstream call (ok, error or aborted), after storage.
- ``quota_exceeded(app, key=str, error=QuotaExceeded)``: a request refused with 429 before any upstream call.
- ``budget_threshold_crossed(app, alert=BudgetAlert)``: a budget's settled use crossed a share of a limit
  (``CLAUDE_WEB_QUOTA_ALERT_AT``, 80% and 100% by default); once per scope, limit, period and share, across all
  processes. ``alert.scope`` (``user:42``, ``alias:default``, ``global``), ``alert.limit``, ``alert.period``,
  ``alert.share``, ``alert.used``, ``alert.value``.

>>> from claude_web_flask import usage_recorded
>>> @usage_recorded.connect
... def bill(app, record):
...     print(record.model, record.total_tokens, record.cost, record.context.get("user"))

Receivers run in the thread that finished the call (for a streamed response: while the response body is being
sent), possibly without a request context; an exception in a receiver is logged, never raised into the call.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["budget_threshold_crossed", "quota_exceeded", "usage_recorded"]

_signals = Namespace()

usage_recorded = _signals.signal("claude-web-usage-recorded", doc="One upstream call finished; kwargs: record.")
quota_exceeded = _signals.signal("claude-web-quota-exceeded", doc="A request was refused; kwargs: key, error.")
budget_threshold_crossed = _signals.signal(
    "claude-web-budget-threshold-crossed", doc="A budget crossed a share of a limit; kwargs: alert."
)
