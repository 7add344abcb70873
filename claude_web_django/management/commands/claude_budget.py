"""``manage.py claude_budget``: each budget's use, what calls in flight hold, and what remains (the web layer's one
report; ``flask claude budget`` shows the same).

manage.py claude_budget                         # every configured scope and every caller with use this period
manage.py claude_budget --scope user:42         # one scope: user:<pk>, alias:<name> or global
manage.py claude_budget --format json
manage.py claude_budget --sweep                 # first give back the holds of calls whose process died
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claude_web.web.budgets import budget_report, render_budget_json, render_budget_table
from claude_web_django.runtime import get_runtime


class Command(BaseCommand):
    help = "Claude budgets: use, reserved and remaining amount of each scope (caller, client alias, site)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scope", help="only this scope: user:<pk>, session:<key>, alias:<name> or global")
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument("--sweep", action="store_true", help="release expired holds first and say how many")

    def handle(self, *args: Any, **options: Any) -> None:
        budgets = get_runtime().budgets
        if budgets is None:
            self.stdout.write("no budget limits are set (CLAUDE_WEB['QUOTAS'])")
            return
        if options["sweep"]:
            self.stdout.write(f"released {budgets.sweep()} expired reservation(s)")
        lines = budget_report(budgets, scope=options["scope"])
        render = render_budget_json if options["format"] == "json" else render_budget_table
        self.stdout.write(render(lines))
