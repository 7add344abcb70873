"""``manage.py claude_usage``: usage totals grouped by day, model and/or user.

manage.py claude_usage --since 7d                     # by day and model, as a table
manage.py claude_usage --since 2025-01-01 --by model,user --format csv
manage.py claude_usage --by day --format json
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from claude_web_django.conf import claude_settings
from claude_web_django.models import TokenUsage

_GROUPS = {"day": "day", "model": "model", "user": "user__username", "status": "status", "alias": "alias"}
_TOKENS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_COLUMNS = ("requests", *_TOKENS, "cost", "unpriced")
_PLACES = Decimal("0.00000001")


def parse_since(value: str) -> datetime:
    """``7d`` / ``12h`` / ``2025-01-31`` / an ISO datetime, as an aware datetime."""
    match = re.fullmatch(r"(\d+)([dhm])", value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}[unit]
        now: datetime = timezone.now()
        return now - delta
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(f"--since {value!r}: use a date (2025-01-31), a datetime or a span (7d, 12h)") from None
    aware: datetime = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    return aware


class Command(BaseCommand):
    help = "Claude usage totals (requests, tokens, cost) by day, model and/or user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="start: a date, a datetime, or a span back from now like 7d or 12h")
        parser.add_argument("--until", help="end (exclusive): a date or a datetime")
        parser.add_argument(
            "--by", default="day,model", help=f"comma-separated grouping from {', '.join(_GROUPS)} (default: day,model)"
        )
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument("--database", help="database alias (default: CLAUDE_WEB['USAGE']['DATABASE'])")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = [g.strip() for g in options["by"].split(",") if g.strip()]
        unknown = [g for g in groups if g not in _GROUPS]
        if unknown or not groups:
            raise CommandError(f"--by {options['by']!r}: choose from {', '.join(_GROUPS)}")
        database = options["database"] or claude_settings().usage.database
        queryset = TokenUsage.objects.using(database).all()
        if options["since"]:
            queryset = queryset.filter(created_at__gte=parse_since(options["since"]))
        if options["until"]:
            queryset = queryset.filter(created_at__lt=parse_since(options["until"]))
        rows = self.summarize(queryset, groups)
        out = {"table": self.write_table, "csv": self.write_csv, "json": self.write_json}[options["format"]]
        out(groups, rows)

    def summarize(self, queryset: Any, groups: list[str]) -> list[dict[str, Any]]:
        if "day" in groups:
            queryset = queryset.annotate(day=TruncDate("created_at"))
        fields = [_GROUPS[g] for g in groups]
        aggregated = (
            queryset.values(*fields)
            .annotate(
                requests=Count("id"),
                cost_sum=Sum("cost"),
                unpriced=Count("id", filter=Q(cost__isnull=True)),
                **{f"{f}_sum": Sum(f) for f in _TOKENS},
            )
            .order_by(*fields)
        )
        rows: list[dict[str, Any]] = []
        for item in aggregated:
            row: dict[str, Any] = {}
            for group in groups:
                value = item[_GROUPS[group]]
                row[group] = value.isoformat() if group == "day" and value is not None else (value or "")
            row["requests"] = item["requests"]
            for name in _TOKENS:
                row[name] = item[f"{name}_sum"] or 0
            row["cost"] = _money(item["cost_sum"])
            row["unpriced"] = item["unpriced"]
            rows.append(row)
        return rows

    def write_table(self, groups: list[str], rows: list[dict[str, Any]]) -> None:
        header = [*groups, *_COLUMNS]
        cells = [[str(row[h]) for h in header] for row in rows]
        total: dict[str, Any] = {c: sum((row[c] for row in rows), Decimal(0) if c == "cost" else 0) for c in _COLUMNS}
        footer = ["TOTAL", *([""] * (len(groups) - 1)), *(str(total[c]) for c in _COLUMNS)]
        widths = [max(len(str(x)) for x in column) for column in zip(header, *cells, footer, strict=True)]

        def line(values: list[str]) -> str:
            return "  ".join(
                v.ljust(w) if i < len(groups) else v.rjust(w)
                for i, (v, w) in enumerate(zip(values, widths, strict=True))
            ).rstrip()

        self.stdout.write(line(header))
        self.stdout.write(line(["-" * w for w in widths]))
        for row_cells in cells:
            self.stdout.write(line(row_cells))
        self.stdout.write(line(footer))

    def write_csv(self, groups: list[str], rows: list[dict[str, Any]]) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow([*groups, *_COLUMNS])
        for row in rows:
            writer.writerow([row[h] for h in (*groups, *_COLUMNS)])

    def write_json(self, groups: list[str], rows: list[dict[str, Any]]) -> None:
        data = [{**row, "cost": str(row["cost"])} for row in rows]
        self.stdout.write(json.dumps(data, indent=2))


def _money(value: Any) -> Decimal:
    """A summed cost with the ledger's 8 decimal places (SQLite sums decimals as floats)."""
    return Decimal(0 if value is None else str(value)).quantize(_PLACES)
