"""The ledger, fields and reports on PostgreSQL (the ``postgres`` database alias of the test project).

Locally these skip when PostgreSQL is down; with ``CLAUDE_WEB_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import io
import json
import os
import threading
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from cw_testproject.conversations.models import Conversation, Turn
from cwdj_helpers import PRICED_USAGE, check_priced_row
from django.core.management import call_command
from django.db import connections

from claude_web.testing import text
from claude_web.types import Usage
from claude_web_django import get_async_client, get_client
from claude_web_django.models import TokenUsage
from claude_web_django.receivers import wait_for_usage_writes

pytestmark = pytest.mark.django_db(databases=["default", "postgres"], transaction=True)

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def pg(postgres_dsn: str, claude_web_settings: Any) -> str:
    if connections["postgres"].vendor != "postgresql":
        message = f"the 'postgres' alias is not PostgreSQL (CLAUDE_WEB_TEST_POSTGRES={postgres_dsn!r} unreachable)"
        if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    claude_web_settings(USAGE={"DATABASE": "postgres"})
    return "postgres"


def pg_rows(**filters: Any) -> list[TokenUsage]:
    assert wait_for_usage_writes(10.0)
    return list(TokenUsage.objects.using("postgres").filter(**filters).order_by("created_at", "id"))


def test_cost_parts_are_stored_in_postgres(pg: str, fake_claude: Any) -> None:
    fake_claude.queue(text("priced", usage=PRICED_USAGE))
    get_client().messages.create(model="claude-sonnet-4-5", max_tokens=32, messages=HI)
    (row,) = pg_rows()
    check_priced_row(TokenUsage.objects.using("postgres").get(pk=row.pk))


def test_usage_rows_go_to_postgres(pg: str, fake_claude: Any, django_user_model: Any) -> None:
    fake_claude.queue(
        text("Hello from PostgreSQL", usage={"cache_read_input_tokens": 40, "cache_creation_input_tokens": 8})
    )
    message = get_client().messages.create(model="claude-sonnet-4-5", max_tokens=32, messages=HI)
    (row,) = pg_rows()
    assert TokenUsage.objects.using("default").count() == 0
    assert row.cache_read_input_tokens == 40 and row.cache_creation_input_tokens == 8
    expected = (
        Decimal(3) * row.input_tokens + Decimal(15) * row.output_tokens + Decimal("3.75") * 8 + Decimal("0.30") * 40
    ) / Decimal(1_000_000)
    assert row.cost == expected.quantize(Decimal("0.00000001"))
    assert row.output_tokens == message.usage.output_tokens


def test_async_usage_rows_go_to_postgres(pg: str, fake_claude: Any) -> None:
    async def call() -> None:
        async with get_async_client().messages.stream(model="claude-haiku-4-5", max_tokens=16, messages=HI) as stream:
            await stream.get_final_message()

    async_to_sync(call)()
    (row,) = pg_rows()
    assert row.status == "ok" and row.operation == "messages.stream"
    assert row.time_to_first_token_ms is not None


def test_concurrent_calls_write_one_row_each(pg: str, fake_claude: Any) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    rows = pg_rows()
    assert len(rows) == 8 and len({r.record_id for r in rows}) == 8


def test_usage_report_on_postgres(pg: str, fake_claude: Any) -> None:
    for _ in range(3):
        get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
    out = io.StringIO()
    call_command("claude_usage", "--format", "json", "--by", "model", stdout=out)
    (line,) = json.loads(out.getvalue())
    assert line["model"] == "claude-haiku-4-5" and line["requests"] == 3
    rows = pg_rows()
    assert Decimal(line["cost"]) == sum((r.cost for r in rows), Decimal(0))


def test_usage_field_on_jsonb(pg: str) -> None:
    conv = Conversation.objects.using("postgres").create(title="pg")
    Turn.objects.using("postgres").create(conversation=conv, usage=Usage(input_tokens=12, output_tokens=3))
    turn = Turn.objects.using("postgres").get()
    assert isinstance(turn.usage, Usage) and turn.usage.input_tokens == 12
    assert Turn.objects.using("postgres").filter(usage__input_tokens__gte=10).count() == 1
