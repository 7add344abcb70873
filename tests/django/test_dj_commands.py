"""Management commands: claude_usage (totals) and claude_ping (one tiny call per alias)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from cwdj_helpers import usage_rows
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from claude_web.testing import error
from claude_web.usage import UsageRecord
from claude_web_django.receivers import write_usage

pytestmark = pytest.mark.django_db


def add(model: str, tokens: int, cost: str | None, days_ago: int = 0, user: Any = None) -> None:
    record = UsageRecord(
        operation="messages.create",
        model=model,
        input_tokens=tokens,
        output_tokens=1,
        cost=None if cost is None else Decimal(cost),
        context={"user_id": None if user is None else user.pk},
    )
    record.created_at = timezone.now() - timedelta(days=days_ago)
    assert write_usage(record) is not None


@pytest.fixture
def ledger(user: Any) -> None:
    add("claude-haiku-4-5", 100, "0.001", days_ago=0, user=user)
    add("claude-haiku-4-5", 50, "0.0005", days_ago=0)
    add("claude-sonnet-4-5", 10, "0.01", days_ago=3, user=user)
    add("unknown-model", 1, None, days_ago=40)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("claude_usage", *args, stdout=out)
    return out.getvalue()


def test_usage_json_by_day_and_model(ledger: None) -> None:
    data = json.loads(run("--format", "json"))
    today = timezone.now().date().isoformat()
    haiku = next(r for r in data if r["model"] == "claude-haiku-4-5")
    assert haiku == {
        "day": today,
        "model": "claude-haiku-4-5",
        "requests": 2,
        "input_tokens": 150,
        "output_tokens": 2,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cost": "0.00150000",
        "unpriced": 0,
    }
    assert {r["model"] for r in data} == {"claude-haiku-4-5", "claude-sonnet-4-5", "unknown-model"}
    assert next(r for r in data if r["model"] == "unknown-model")["unpriced"] == 1


def test_usage_since_and_by_user_csv(ledger: None) -> None:
    rows = list(csv.DictReader(io.StringIO(run("--since", "7d", "--by", "user", "--format", "csv"))))
    assert {r["user"]: int(r["requests"]) for r in rows} == {"alice": 2, "": 1}
    alice = next(r for r in rows if r["user"] == "alice")
    assert Decimal(alice["cost"]) == Decimal("0.011")


def test_usage_table_has_a_total_line(ledger: None) -> None:
    text = run("--by", "model", "--since", "2000-01-01")
    lines = text.strip().splitlines()
    assert lines[0].split()[:2] == ["model", "requests"]
    total = lines[-1].split()
    assert total[0] == "TOTAL" and total[1] == "4"


def test_usage_rejects_bad_arguments(ledger: None) -> None:
    with pytest.raises(CommandError, match="--since 'yesterday'"):
        run("--since", "yesterday")
    with pytest.raises(CommandError, match="choose from day, model, user"):
        run("--by", "colour")


def test_ping_reports_latency(claude_web_settings: Any, fake_claude: Any) -> None:
    out = io.StringIO()
    call_command("claude_ping", stdout=out)
    assert "default: ok in" in out.getvalue()
    sent = fake_claude.last_request.json
    assert sent["max_tokens"] == 1 and sent["model"] == "claude-haiku-4-5"
    (row,) = usage_rows()
    assert row.context["command"] == "claude_ping"


def test_ping_reports_errors_and_fails(claude_web_settings: Any, fake_claude: Any) -> None:
    claude_web_settings(
        CLIENTS={
            "default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url, "max_retries": 0}},
            "backup": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url, "max_retries": 0}},
        }
    )
    fake_claude.queue(error(401))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 client"):
        call_command("claude_ping", stdout=out)
    text = out.getvalue()
    assert "default: FAILED" in text and "authentication_error (HTTP 401)" in text
    assert "backup: ok in" in text
    assert "fake-key" not in text
