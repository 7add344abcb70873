"""The Django admin of conversations (list, read-only transcript) and the usage list's formatting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from claude_web.usage import UsageRecord
from claude_web_django.conversation_store import DjangoConversationStore
from claude_web_django.models import Conversation, TokenUsage
from claude_web_django.receivers import write_usage

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/admin/claude_web/conversation/"
USAGE = "/admin/claude_web/tokenusage/"


@pytest.fixture
def stored(admin_user: Any) -> str:
    store = DjangoConversationStore()
    conv = store.create_conversation(
        owner=f"user:{admin_user.pk}", user_id=str(admin_user.pk), assistant="calc", model="claude-sonnet-4-5",
        title="<b>Sums</b>",
    )  # fmt: skip
    store.add_message(conv.id, role="user", content=[{"type": "text", "text": "What is 6 * 7?"}])
    answer = store.add_message(
        conv.id,
        role="assistant",
        content=[{"type": "tool_use", "id": "t1", "name": "calculator", "input": {"expression": "6 * 7"}}],
    )
    store.add_message(conv.id, role="user", content=[{"type": "tool_result", "tool_use_id": "t1", "content": "42"}])
    record = UsageRecord(
        operation="messages.stream", model="claude-sonnet-4-5", input_tokens=125713, output_tokens=20,
        cost=Decimal("0.37745"), latency_ms=2309.995999894454, context={"user_id": admin_user.pk},
    )  # fmt: skip
    write_usage(record)
    store.add_usage(conv.id, answer.id, record)
    return conv.id


def test_conversation_list_and_read_only_transcript(admin_client: Any, stored: str) -> None:
    listing = admin_client.get(CONVERSATIONS)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "&lt;b&gt;Sums&lt;/b&gt;" in html and "<b>Sums</b>" not in html  # escaped
    assert "125,733" in html and "$0.3775" in html and ">3<" in html  # tokens, cost, messages
    page = admin_client.get(f"{CONVERSATIONS}{stored}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="cw-transcript"' in body and "What is 6 * 7?" in body
    assert "Tool call <code>calculator</code>" in body and "Tool result <pre>42</pre>" in body
    assert "tool results" in body and "125,713 in · 20 out" in body
    record_id = TokenUsage.objects.get().record_id
    assert f"{USAGE}?record_id__in={record_id}" in body
    assert b'name="_save"' not in page.content
    assert admin_client.get(CONVERSATIONS + "add/").status_code == 403
    assert Conversation.objects.get(pk=stored).message_count == 3


def test_usage_list_reads_like_a_person_writes(admin_client: Any, stored: str) -> None:
    html = admin_client.get(USAGE).content.decode()
    assert "2.31 s" in html and "2.309995" not in html
    assert "125,713 · 20" in html and "$0.3775" in html
    totals = html.split('id="claude-usage-totals"')[1].split("</table>")[0]
    assert "125,733" in totals and "125733" not in totals
    filtered = admin_client.get(USAGE, {"record_id__in": TokenUsage.objects.get().record_id})
    assert filtered.status_code == 200 and filtered.context_data["cl"].result_count == 1
