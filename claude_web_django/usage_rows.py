"""``TokenUsage`` rows in the shape the web layer's report reads (``user`` is the username)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from .conf import claude_settings

__all__ = ["usage_rows"]

_FIELDS = (
    "created_at",
    "model",
    "status",
    "alias",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cost",
)


def usage_rows(
    since: datetime | None, until: datetime | None, user_id: Any = None, *, database: str | None = None
) -> Iterator[Mapping[str, Any]]:
    """Stored rows with ``since <= created_at < until`` (either optional), of one user when ``user_id`` is set."""
    from .models import TokenUsage

    queryset = TokenUsage.objects.using(database or claude_settings().usage.database).order_by("created_at")
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    for row in queryset.values(*_FIELDS, "user__username").iterator():
        row["user"] = row.pop("user__username")
        yield row
