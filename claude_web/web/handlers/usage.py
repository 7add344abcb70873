"""The usage report endpoint: ``GET ?since=7d&until=...&by=day,model`` -> the signed-in user's totals as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import RequestError
from ..http import WebRequest, WebResponse
from ..report import COLUMNS, cell, parse_groups, parse_since, summarize, totals
from .common import guarded, require_login

if TYPE_CHECKING:
    from ..runtime import WebRuntime

__all__ = ["RowSource", "usage_report"]

RowSource = Callable[[datetime | None, datetime | None, Any], Iterable[Mapping[str, Any]]]
"""``rows(since, until, user_id)``: the stored usage rows of one user (``user_id`` ``None``: everybody)."""


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (cell(v) if k == "cost" else v) for k, v in row.items()}


@guarded
def usage_report(runtime: WebRuntime, request: WebRequest, rows: RowSource) -> WebResponse:
    """The requesting user's usage, grouped: ``{"by": [...], "rows": [...], "total": {...}}`` (cost as a string)."""
    require_login(request, True, "Log in to see your usage.")
    query = request.query
    try:
        groups = parse_groups(query.get("by") or "day,model")
    except ValueError as exc:
        raise RequestError("by", str(exc)) from None
    bounds: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        value = query.get(name)
        try:
            bounds[name] = parse_since(value) if value else None
        except ValueError as exc:
            raise RequestError(name, str(exc)) from None
    summary = summarize(rows(bounds["since"], bounds["until"], request.principal.user_id), groups)
    total = totals(summary)
    body = {
        "by": groups,
        "columns": list(COLUMNS),
        "rows": [_json_row(row) for row in summary],
        "total": _json_row(total),
    }
    return WebResponse(200, {}, json=body)
