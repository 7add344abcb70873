"""Signals of the Django app.

``usage_recorded``
    Sent once per upstream call made through a client of this app (``get_client``, ``request.claude``, the chat
    views...), whether the call succeeded, failed or was cut mid-stream. Arguments: ``sender`` is
    :class:`claude_web.usage.UsageRecord`, ``record`` the record, ``alias`` the client alias. The app's own
    receiver stores a :class:`~claude_web_django.models.TokenUsage` row and feeds the quota counters; connect
    your own to export usage elsewhere::

        from django.dispatch import receiver
        from claude_web_django.signals import usage_recorded

        @receiver(usage_recorded)
        def to_metrics(sender, record, alias, **kwargs):
            statsd.incr(f"claude.{record.status}", tags=[record.model])

    Receivers run in the thread that finished the call (for async clients: the event-loop thread), and are
    sent with ``send_robust``: an exception in a receiver is logged and never reaches the user's request.

``budget_threshold_crossed``
    Sent once per scope, limit, period and share when a budget's settled use crosses a share of its limit
    (``CLAUDE_WEB["QUOTAS"]["ALERT_AT"]``, 80% and 100% by default), in whichever process settled the call (a
    web process or a worker). Arguments: ``sender`` is :class:`claude_web.web.budgets.BudgetAlert`, ``alert``
    the alert, and its fields ``scope`` (``user:42``, ``alias:default``, ``global``), ``limit``
    (``cost_per_month``...), ``period`` (``2026-11``), ``share`` (``Decimal("0.8")``), ``used`` and ``value``
    (tokens, or USD as ``Decimal``)::

        @receiver(budget_threshold_crossed)
        def warn_finance(sender, alert, **kwargs):
            mail_admins(f"{alert.scope} used {alert.share:.0%} of its {alert.limit}", str(alert))
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

from claude_web.usage import UsageRecord
from claude_web.web.budgets import BudgetAlert

__all__ = ["budget_threshold_crossed", "emit_budget_alert", "emit_usage", "usage_recorded"]

log = logging.getLogger("claude_web_django.usage")

usage_recorded = Signal()
budget_threshold_crossed = Signal()


def emit_budget_alert(alert: BudgetAlert) -> None:
    """Send :data:`budget_threshold_crossed` for ``alert``; failing receivers are logged, never raised."""
    results = budget_threshold_crossed.send_robust(
        sender=BudgetAlert,
        alert=alert,
        scope=alert.scope,
        limit=alert.limit,
        period=alert.period,
        share=alert.share,
        used=alert.used,
        value=alert.value,
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            log.error(
                "budget_threshold_crossed receiver %r failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )


def emit_usage(record: UsageRecord, alias: str) -> None:
    """Send :data:`usage_recorded` for ``record``; failing receivers are logged, never raised."""
    for receiver, result in usage_recorded.send_robust(sender=UsageRecord, record=record, alias=alias):
        if isinstance(result, Exception):
            log.error(
                "usage_recorded receiver %r failed for record %s",
                receiver,
                record.id,
                exc_info=(type(result), result, result.__traceback__),
            )
