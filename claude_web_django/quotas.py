"""Budgets and quotas from Django code: the same limits the chat views and jobs enforce.

>>> from claude_web_django.quotas import admit, check_quota
>>> context = admit("user:42", params)   # reserve a call's worst case; raises QuotaExceeded when over a limit
>>> request.claude.with_options(usage_context=context).messages.stream(**params)   # its record settles it
>>> check_quota("user:42")               # only check (and count the request); nothing is reserved

Limits come from ``CLAUDE_WEB["QUOTAS"]`` (see :mod:`claude_web.web.budgets`); where they are kept, from
``QUOTAS["STORE"]`` (see :mod:`claude_web_django.budgets`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import JsonResponse

from claude_web.quotas import QuotaExceeded
from claude_web.usage import UsageRecord
from claude_web.web.budgets import Budgets

from .counters import CacheCounterStore

__all__ = [
    "CacheCounterStore",
    "admit",
    "check_quota",
    "consume_quota",
    "get_quota",
    "quota_exceeded_response",
    "release",
]

log = logging.getLogger("claude_web_django.quotas")


def get_quota() -> Budgets | None:
    """The app's :class:`~claude_web.web.budgets.Budgets`, or ``None`` when no limit is set."""
    from .runtime import get_runtime

    return get_runtime().budgets


def admit(key: str, params: Any, alias: str | None = None) -> dict[str, Any]:
    """Reserve the worst case of a call with ``params`` for ``key``; the returned usage context settles it."""
    from .runtime import get_runtime

    return get_runtime().admit(key, params, alias=alias)


def release(context: Any) -> None:
    """Give back what :func:`admit` reserved for a call that will not be made."""
    from .runtime import get_runtime

    get_runtime().release(context)


def check_quota(key: str) -> None:
    """Raise :class:`~claude_web.quotas.QuotaExceeded` if ``key`` (``"user:<pk>"``) is over a limit (nothing is
    reserved: prefer :func:`admit`)."""
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
