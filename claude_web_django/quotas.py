"""Per-user quotas counted in the Django cache (any backend; Redis for more than one process).

>>> from claude_web_django.quotas import check_quota
>>> check_quota("user:42")   # raises claude_web.quotas.QuotaExceeded when over a limit

Limits come from ``CLAUDE_WEB["QUOTAS"]``; the runtime checks them before any upstream call and counts each
finished call's tokens and cost (see :class:`claude_web.web.runtime.WebRuntime`).
"""

from __future__ import annotations

import logging

from django.http import JsonResponse

from claude_web.quotas import Quota, QuotaExceeded
from claude_web.usage import UsageRecord

from .counters import CacheCounterStore

__all__ = ["CacheCounterStore", "check_quota", "consume_quota", "get_quota", "quota_exceeded_response"]

log = logging.getLogger("claude_web_django.quotas")


def get_quota() -> Quota | None:
    """The configured :class:`~claude_web.quotas.Quota`, or ``None`` when no limit is set."""
    from .runtime import get_runtime

    return get_runtime().quota


def check_quota(key: str) -> None:
    """Raise :class:`~claude_web.quotas.QuotaExceeded` if ``key`` (``"user:<pk>"``) is over a limit."""
    from .runtime import get_runtime

    get_runtime().check_quota(key)


def consume_quota(record: UsageRecord) -> None:
    """Count a finished call against the quota key in its context (no-op without limits or key)."""
    key = record.context.get("quota_key")
    quota = get_quota()
    if quota is not None and isinstance(key, str) and key:
        quota.consume(key, record)


def quota_exceeded_response(exc: QuotaExceeded) -> JsonResponse:
    """HTTP 429 with the JSON error body and a ``Retry-After`` header."""
    response = JsonResponse(exc.to_dict(), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
