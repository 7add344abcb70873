"""``manage.py claude_usage``: usage totals grouped by day, model and/or user (the web layer's one report).

manage.py claude_usage --since 7d                     # by day and model, as a table
manage.py claude_usage --since 2025-01-01 --by model,user --format csv
manage.py claude_usage --by day --format json
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claude_web.web.report import GROUPS, parse_groups, parse_since, render_csv, render_json, render_table, summarize
from claude_web_django.conf import claude_settings
from claude_web_django.usage_rows import usage_rows


class Command(BaseCommand):
    help = "Claude usage totals (requests, tokens, cost) by day, model and/or user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="start: a date, a datetime, or a span back from now like 7d or 12h")
        parser.add_argument("--until", help="end (exclusive): a date or a datetime")
        parser.add_argument(
            "--by", default="day,model", help=f"comma-separated grouping from {', '.join(GROUPS)} (default: day,model)"
        )
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument("--database", help="database alias (default: CLAUDE_WEB['USAGE']['DATABASE'])")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            groups = parse_groups(options["by"])
        except ValueError as exc:
            raise CommandError(f"--by {exc}") from None
        bounds = {}
        for name in ("since", "until"):
            try:
                bounds[name] = parse_since(options[name]) if options[name] else None
            except ValueError as exc:
                raise CommandError(f"--{name} {exc}") from None
        since, until = bounds["since"], bounds["until"]
        database = options["database"] or claude_settings().usage.database
        rows = summarize(usage_rows(since, until, None, database=database), groups)
        render = {"table": render_table, "csv": render_csv, "json": render_json}[options["format"]]
        self.stdout.write(render(groups, rows))
