"""OpenTelemetry through the Django adapter: the chat call's span is a child of the request's span although the
body streams after the view returned, and the TokenUsage row and the span point at each other."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cwdj_helpers import chat_body, usage_rows

from claude_web.testing import text

pytestmark = pytest.mark.django_db(transaction=True)


def _read(response: Any) -> bytes:
    if response.is_async:
        from asgiref.sync import async_to_sync

        async def drain() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        return async_to_sync(drain)()
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("url", ["/claude/chat/", "/claude/achat/"])
def test_chat_span_and_token_usage_row_carry_the_same_ids(
    otel: Any, claude_web_settings: Any, fake_claude: Any, auth_client: Any, url: str
) -> None:
    fake_claude.queue(text("Hello from the fake", chunks=4))
    with otel.tracer.start_as_current_span(f"POST {url}") as request_span:
        response = auth_client.post(url, data=json.dumps(chat_body()), content_type="application/json")
    body = _read(response)  # read after the view returned, as the server does
    assert b"event: done" in body
    (span,) = otel.call_spans()
    assert span.parent.span_id == request_span.get_span_context().span_id
    (row,) = usage_rows()
    assert row.record_id == span.attributes["claude_web.usage.record_id"]
    assert row.context["trace_id"] == format(span.context.trace_id, "032x")
    assert row.context["span_id"] == format(span.context.span_id, "016x")
    assert span.attributes["gen_ai.usage.output_tokens"] == row.output_tokens
    assert span.attributes["gen_ai.usage.input_tokens"] == (
        row.input_tokens + row.cache_creation_input_tokens + row.cache_read_input_tokens
    )


def test_quota_refusals_are_counted(otel: Any, claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    claude_web_settings(QUOTAS={"REQUESTS_PER_MINUTE": 1})
    post = {"data": json.dumps(chat_body()), "content_type": "application/json"}
    b"".join(auth_client.post("/claude/chat/", **post).streaming_content)
    assert auth_client.post("/claude/chat/", **post).status_code == 429
    (point,) = otel.points("claude_web.quota.refusals")
    assert point.value == 1 and point.attributes["claude_web.quota.limit"] == "requests_per_minute"
