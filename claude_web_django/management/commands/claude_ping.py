"""``manage.py claude_ping``: one tiny call per client alias; prints latency or the error, fails if any failed.

manage.py claude_ping                       # every alias in CLAUDE_WEB["CLIENTS"]
manage.py claude_ping --alias default --model claude-haiku-4-5
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claude_web.web.checks import redis_reachable
from claude_web_django.clients import get_client
from claude_web_django.conf import claude_settings


class Command(BaseCommand):
    help = "Send one tiny request per Claude client alias and report latency and errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", action="append", help="client alias (repeatable; default: all)")
        parser.add_argument("--model", help="model to ping (default: CLAUDE_WEB['CHAT']['DEFAULT_MODEL'])")

    def handle(self, *args: Any, **options: Any) -> None:
        cfg = claude_settings()
        aliases = options["alias"] or list(cfg.clients)
        model = options["model"] or cfg.chat.default_model
        failures = 0
        for alias in aliases:
            started = time.perf_counter()
            try:
                client = get_client(alias).with_options(usage_context={"command": "claude_ping"})
                message = client.messages.create(
                    model=model, max_tokens=1, messages=[{"role": "user", "content": "ping"}]
                )
            except Exception as exc:
                failures += 1
                elapsed = (time.perf_counter() - started) * 1000
                kind = getattr(exc, "type", None) or type(exc).__name__
                status = getattr(exc, "status_code", None)
                detail = f"{kind} (HTTP {status})" if status else f"{kind}: {exc}"
                self.stdout.write(self.style.ERROR(f"{alias}: FAILED after {elapsed:.0f} ms: {detail}"))
                continue
            elapsed = (time.perf_counter() - started) * 1000
            self.stdout.write(
                self.style.SUCCESS(
                    f"{alias}: ok in {elapsed:.0f} ms ({message.model}, request id {message._request_id or '-'})"
                )
            )
        problems = [f"{failures} of {len(aliases)} client(s) failed"] if failures else []
        redis_url = cfg.jobs.get("REDIS_URL")
        if redis_url:
            why = redis_reachable(redis_url)
            if why is None:
                self.stdout.write(self.style.SUCCESS("jobs: Redis answers"))
            else:
                problems.append("Redis cannot be reached")
                self.stdout.write(self.style.ERROR(f"jobs: Redis cannot be reached ({why}); jobs answer 503"))
        if problems:
            raise CommandError("; ".join(problems))
