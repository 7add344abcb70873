"""How FakeClaude writes the API's wire values: compact JSON text and RFC 3339 timestamps (UTC, ``Z``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

__all__ = ["dumps", "iso"]

_COMPACT = (",", ":")


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is (as the API sends it).

    >>> dumps({"a": [1, "é"]})
    '{"a":[1,"é"]}'
    """
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


def iso(moment: datetime) -> str:
    """An RFC 3339 timestamp in UTC with a ``Z`` suffix.

    >>> iso(datetime(2025, 4, 14, 12, 0, tzinfo=timezone.utc))
    '2025-04-14T12:00:00Z'
    """
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
