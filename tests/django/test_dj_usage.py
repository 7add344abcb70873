"""The usage ledger: one TokenUsage row per upstream call, the signal, and failures that stay quiet."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from cwdj_helpers import PRICED_USAGE, check_priced_row, usage_rows
from django.db import DatabaseError

from claude_web import APIStatusError
from claude_web.testing import error, text
from claude_web.usage import UsageRecord, compute_cost
from claude_web_django import get_client, usage_recorded
from claude_web_django.models import TokenUsage
from claude_web_django.receivers import write_usage

pytestmark = pytest.mark.django_db

HI = [{"role": "user", "content": "Hi"}]


def test_create_writes_one_priced_row(claude_web_settings: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("Hello there"))
    message = get_client().messages.create(model="claude-haiku-4-5", max_tokens=32, messages=HI)
    (row,) = usage_rows()
    assert row.status == "ok" and row.operation == "messages.create"
    assert row.model == message.model
    assert row.input_tokens == message.usage.input_tokens > 0
    assert row.output_tokens == message.usage.output_tokens > 0
    assert isinstance(row.cost, Decimal)
    assert row.cost == compute_cost(
        row.model,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_creation_input_tokens=row.cache_creation_input_tokens,
        cache_read_input_tokens=row.cache_read_input_tokens,
    )
    assert row.latency_ms > 0 and row.record_id


def test_upstream_error_writes_an_error_row(claude_web_settings: Any, fake_claude: Any) -> None:
    fake_claude.queue(error(529))
    with pytest.raises(APIStatusError):
        get_client().messages.create(model="claude-haiku-4-5", max_tokens=32, messages=HI)
    (row,) = usage_rows()
    assert row.status == "error"
    assert row.error_type == "overloaded_error"
    assert row.output_tokens == 0


def test_stream_writes_one_row_with_time_to_first_token(claude_web_settings: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("one two three four", chunks=4))
    with get_client().messages.stream(model="claude-haiku-4-5", max_tokens=32, messages=HI) as stream:
        final = stream.get_final_message()
    (row,) = usage_rows()
    assert row.status == "ok"
    assert row.output_tokens == final.usage.output_tokens
    assert row.time_to_first_token_ms is not None and row.time_to_first_token_ms <= row.latency_ms


def test_stream_closed_early_is_aborted(claude_web_settings: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("a b c d e f g h", chunks=8, event_delay=0.05))
    with get_client().messages.stream(model="claude-haiku-4-5", max_tokens=32, messages=HI) as stream:
        next(iter(stream.text_stream))
    (row,) = usage_rows()
    assert row.status == "aborted"
    assert row.input_tokens > 0  # the tokens seen so far are kept


def test_count_tokens_writes_a_row(claude_web_settings: Any, fake_claude: Any) -> None:
    get_client().messages.count_tokens(model="claude-haiku-4-5", messages=HI)
    (row,) = usage_rows()
    assert row.operation == "messages.count_tokens"
    assert row.status == "ok"


def test_unknown_model_has_no_cost(claude_web_settings: Any, fake_claude: Any) -> None:
    get_client().messages.create(model="my-private-model", max_tokens=8, messages=HI)
    (row,) = usage_rows()
    assert row.model == "my-private-model"
    assert row.cost is None


def test_pricing_from_settings_is_used(claude_web_settings: Any, fake_claude: Any) -> None:
    claude_web_settings(
        PRICING={
            "MODELS": {"my-private-model": {"input": "1000000", "output": "0", "cache_write": "0", "cache_read": "0"}}
        }
    )
    get_client().messages.create(model="my-private-model", max_tokens=8, messages=HI)
    (row,) = usage_rows()
    assert row.cost == Decimal(row.input_tokens)  # $1 per input token


def test_signal_receivers_see_every_record(claude_web_settings: Any, fake_claude: Any) -> None:
    seen: list[tuple[UsageRecord, str]] = []

    def receiver(sender: Any, record: UsageRecord, alias: str, **kwargs: Any) -> None:
        seen.append((record, alias))

    usage_recorded.connect(receiver)
    try:
        fake_claude.queue(text("x"), error(400))
        get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
        with pytest.raises(APIStatusError):
            get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
    finally:
        usage_recorded.disconnect(receiver)
    assert [(r.status, alias) for r, alias in seen] == [("ok", "default"), ("error", "default")]
    assert {r.id for r, _ in seen} == {row.record_id for row in usage_rows()}


def test_a_failing_receiver_never_breaks_the_call(
    claude_web_settings: Any, fake_claude: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    usage_recorded.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="claude_web_django.usage"):
            message = get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
    finally:
        usage_recorded.disconnect(broken)
    assert message.content
    assert "receiver" in caplog.text and "boom" in caplog.text
    assert len(usage_rows()) == 1  # our own receiver still ran


def test_a_database_failure_is_logged_not_raised(
    claude_web_settings: Any, fake_claude: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(self: Any, *args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(TokenUsage, "save", fail)
    with caplog.at_level(logging.ERROR, logger="claude_web_django.usage"):
        message = get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
    assert message.content
    assert "could not store usage record" in caplog.text
    monkeypatch.undo()
    assert usage_rows() == []


def test_usage_can_be_disabled(claude_web_settings: Any, fake_claude: Any) -> None:
    claude_web_settings(USAGE={"ENABLED": False})
    get_client().messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
    assert usage_rows() == []


def test_context_can_be_left_out(claude_web_settings: Any, fake_claude: Any) -> None:
    claude_web_settings(USAGE={"STORE_CONTEXT": False})
    get_client().with_options(usage_context={"note": "secret"}).messages.create(
        model="claude-haiku-4-5", max_tokens=8, messages=HI
    )
    (row,) = usage_rows()
    assert row.context == {} and row.alias == "default"


def test_write_usage_survives_a_deleted_user_inside_a_transaction(user: Any) -> None:
    """Inside the caller's transaction a foreign-key error would surface at its commit: the user is checked first."""
    record = UsageRecord(
        operation="messages.create", model="claude-haiku-4-5", input_tokens=3, context={"user_id": user.pk + 1000}
    )
    row = write_usage(record)
    assert row is not None and row.pk is not None
    assert TokenUsage.objects.get(pk=row.pk).user_id is None


@pytest.mark.django_db(transaction=True)
def test_write_usage_survives_a_deleted_user_in_autocommit(user: Any) -> None:
    """In autocommit the foreign-key error is caught and the row is stored without the user."""
    from django.db import connection

    assert not connection.in_atomic_block
    record = UsageRecord(
        operation="messages.create", model="claude-haiku-4-5", input_tokens=3, context={"user_id": user.pk + 1000}
    )
    row = write_usage(record)
    assert row is not None and row.pk is not None
    assert TokenUsage.objects.get(pk=row.pk).user_id is None


def test_write_usage_keeps_the_user(user: Any) -> None:
    record = UsageRecord(
        operation="messages.create",
        model="claude-haiku-4-5",
        input_tokens=3,
        output_tokens=4,
        cost=Decimal("0.00002300"),
        context={"user_id": user.pk, "request_id": "r1"},
    )
    row = write_usage(record)
    stored = TokenUsage.objects.get(pk=row.pk)
    assert stored.user == user and stored.total_tokens == 7
    assert stored.cost == Decimal("0.000023") and stored.web_request_id == "r1"
    assert stored.usage.output_tokens == 4


def test_a_row_stores_the_cost_parts(claude_web_settings: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("priced", usage=PRICED_USAGE))
    get_client().messages.create(model="claude-sonnet-4-5", max_tokens=32, messages=HI)
    (row,) = usage_rows()
    row.refresh_from_db()
    check_priced_row(row)


def test_an_unpriced_row_has_no_parts(claude_web_settings: Any, fake_claude: Any) -> None:
    get_client().messages.create(model="my-private-model", max_tokens=8, messages=HI)
    (row,) = usage_rows()
    row.refresh_from_db()
    assert [row.cost, row.cost_input, row.cost_output, row.cost_cache_write, row.cost_cache_read, row.cost_tools] == [
        None
    ] * 6
