"""The usage report behind ``manage.py claude_usage``, ``flask claude usage`` and the usage endpoint.

Rows are grouped by any of ``day``, ``model``, ``user``, ``status``, ``alias`` (several at once, e.g.
``("day", "model")``) and carry ``requests``, the four token counts, ``cost`` (USD, 8 places) and ``unpriced``
(calls whose model the pricing table did not know).

>>> rows = summarize(store.rows(since), ["day", "model"])
>>> print(render_table(["day", "model"], rows))
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..pricing import format_cost

__all__ = [
    "COLUMNS",
    "GROUPS",
    "cell",
    "parse_groups",
    "parse_since",
    "render_csv",
    "render_json",
    "render_table",
    "summarize",
    "totals",
]

GROUPS = ("day", "model", "user", "status", "alias")
TOKENS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
COLUMNS = ("requests", *TOKENS, "cost", "unpriced")
_PLACES = Decimal("0.00000001")
_FALLBACK = {"user": "user_id", "alias": "client"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``7d`` / ``12h`` / ``30m`` back from now, or a date / ISO datetime (naive means UTC); aware result."""
    match = re.fullmatch(r"(\d+)([dhm])", value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}[unit]
        return (now or datetime.now(timezone.utc)) - delta
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r}: use a date (2025-01-31), a datetime or a span (7d, 12h)") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def parse_groups(value: str) -> list[str]:
    """``"day,model"`` -> ``["day", "model"]``; ``ValueError`` naming the choices for anything else."""
    groups = [g.strip() for g in value.split(",") if g.strip()]
    if not groups or any(g not in GROUPS for g in groups):
        raise ValueError(f"{value!r}: choose from {', '.join(GROUPS)}")
    return groups


def _group_value(row: Mapping[str, Any], group: str) -> str:
    if group == "day":
        created = row.get("created_at")
        if isinstance(created, datetime):
            aware = created if created.tzinfo is not None else created.replace(tzinfo=timezone.utc)
            return aware.astimezone(timezone.utc).date().isoformat()
        return ""
    value = row.get(group)
    if value is None and group in _FALLBACK:
        value = row.get(_FALLBACK[group])
    return "" if value is None else str(value)


def summarize(rows: Iterable[Mapping[str, Any]], groups: Sequence[str]) -> list[dict[str, Any]]:
    """Stored usage rows summed per group; sorted by the group values."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"cannot group usage by {','.join(groups)!r}; choose from {', '.join(GROUPS)}")
    sums: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(_group_value(row, g) for g in groups)
        line = sums.get(key)
        if line is None:
            line = sums[key] = {
                **dict(zip(groups, key, strict=True)),
                "requests": 0,
                **dict.fromkeys(TOKENS, 0),
                "cost": Decimal(0),
                "unpriced": 0,
            }
        line["requests"] += 1
        for name in TOKENS:
            line[name] += int(row.get(name) or 0)
        cost = row.get("cost")
        if cost is None:
            line["unpriced"] += 1
        else:
            line["cost"] += Decimal(str(cost))
    result = [sums[key] for key in sorted(sums)]
    for line in result:
        line["cost"] = line["cost"].quantize(_PLACES)
    return result


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of every column over summarized rows."""
    return _totals(rows)


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {c: sum(row[c] for row in rows) for c in COLUMNS if c != "cost"}
    out["cost"] = sum((Decimal(row["cost"]) for row in rows), Decimal(0)).quantize(_PLACES)
    return {c: out[c] for c in COLUMNS}


def cell(value: Any) -> str:
    """A report value as text: costs as plain decimals (``0.00000000``, never ``0E-8``)."""
    if isinstance(value, Decimal):
        return format_cost(value) or ""
    return str(value)


def render_table(groups: Sequence[str], rows: list[dict[str, Any]]) -> str:
    """Header, a dashed rule, one line per group, and a TOTAL line; group columns left-aligned, numbers right."""
    header = [*groups, *COLUMNS]
    cells = [[cell(row[h]) for h in header] for row in rows]
    total = _totals(rows)
    footer = ["TOTAL", *([""] * (len(groups) - 1)), *(cell(total[c]) for c in COLUMNS)]
    widths = [max(len(x) for x in column) for column in zip(header, *cells, footer, strict=True)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if i < len(groups) else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(c) for c in cells), line(footer)])


def render_csv(groups: Sequence[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*groups, *COLUMNS])
    for row in rows:
        writer.writerow([cell(row[h]) for h in (*groups, *COLUMNS)])
    return out.getvalue().rstrip("\n")


def render_json(groups: Sequence[str], rows: list[dict[str, Any]]) -> str:
    return json.dumps([{**row, "cost": cell(row["cost"])} for row in rows], indent=2)
