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
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

from claude_web.usage import UsageRecord

__all__ = ["emit_usage", "usage_recorded"]

log = logging.getLogger("claude_web_django.usage")

usage_recorded = Signal()


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
