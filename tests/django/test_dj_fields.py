"""The reusable model fields and the abstract usage model, on a project's own models."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cw_testproject.conversations.models import Conversation, Turn, TurnUsage
from django.core.exceptions import ValidationError

from claude_web.types import Usage
from claude_web.usage import UsageRecord
from claude_web_django.fields import CostField, TokenCountField, UsageField

pytestmark = pytest.mark.django_db


def test_usage_field_stores_and_returns_a_usage() -> None:
    conv = Conversation.objects.create(title="t")
    usage = Usage(input_tokens=10, output_tokens=20, cache_read_input_tokens=5)
    Turn.objects.create(conversation=conv, usage=usage, output_tokens=20, cost=Decimal("0.00012345"))
    turn = Turn.objects.get()
    assert isinstance(turn.usage, Usage)
    assert turn.usage.input_tokens == 10 and turn.usage.cache_read_input_tokens == 5
    assert turn.cost == Decimal("0.00012345") and turn.output_tokens == 20


def test_usage_field_accepts_dicts_and_keeps_unknown_keys() -> None:
    conv = Conversation.objects.create(title="t")
    Turn.objects.create(conversation=conv, usage={"input_tokens": 1, "output_tokens": 2, "new_counter": 7})
    turn = Turn.objects.get()
    assert turn.usage.output_tokens == 2
    assert turn.usage.to_dict()["new_counter"] == 7


def test_usage_field_key_lookups() -> None:
    conv = Conversation.objects.create(title="t")
    Turn.objects.create(conversation=conv, usage=Usage(input_tokens=11, output_tokens=2))
    Turn.objects.create(conversation=conv, usage=Usage(input_tokens=3, output_tokens=2))
    assert Turn.objects.filter(usage__input_tokens=11).count() == 1
    assert sorted(Turn.objects.values_list("usage__input_tokens", flat=True)) == [3, 11]


def test_usage_field_null_and_invalid() -> None:
    field = UsageField(null=True)
    assert field.to_python(None) is None
    assert field.to_python('{"input_tokens": 1, "output_tokens": 1}').input_tokens == 1
    with pytest.raises(ValidationError):
        field.to_python([1, 2])
    with pytest.raises(ValidationError):
        field.to_python({"input_tokens": "many", "output_tokens": 1})


def test_field_defaults_and_deconstruct() -> None:
    tokens = TokenCountField()
    assert tokens.default == 0
    assert "default" not in tokens.deconstruct()[3]
    cost = CostField(null=True)
    assert (cost.max_digits, cost.decimal_places) == (20, 8)
    assert "max_digits" not in cost.deconstruct()[3]
    assert CostField(max_digits=10, decimal_places=2).deconstruct()[3]["max_digits"] == 10
    assert cost.to_python("1.5") == Decimal("1.5")


def test_abstract_model_next_to_own_rows() -> None:
    conv = Conversation.objects.create(title="t")
    record = UsageRecord(
        operation="messages.stream",
        model="claude-sonnet-4-5",
        status="aborted",
        input_tokens=12,
        output_tokens=3,
        context={"alias": "default", "request_id": "w1"},
    )
    TurnUsage.from_record(record, conversation=conv).save()
    row = conv.usage.get()
    assert row.status == "aborted" and row.total_tokens == 15
    assert row.web_request_id == "w1" and row.record_id == record.id
    assert str(row).startswith("messages.stream claude-sonnet-4-5 aborted")


def test_context_with_odd_values_is_stored_as_json(user: Any) -> None:
    record = UsageRecord(operation="messages.create", model=None, context={"obj": object(), "n": [1, (2, 3)]})
    row = TurnUsage.from_record(record, conversation=Conversation.objects.create(title="t"))
    row.save()
    row.refresh_from_db()
    assert row.context["n"] == [1, [2, 3]] and isinstance(row.context["obj"], str)
    assert row.model == ""
