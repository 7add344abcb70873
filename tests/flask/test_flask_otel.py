"""OpenTelemetry through the Flask adapter: the chat call's span is a child of the browser request's span even
though the body streams after the view returned, the stored usage row and the span carry the same ids, and a
quota refusal is counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask_helpers import chat_body

from claude_web.testing import text


def test_chat_span_joins_the_request_trace_and_the_row_links_back(
    otel: Any, make_app: Any, fake_claude: Any, tmp_path: Path
) -> None:
    path = tmp_path / "usage.jsonl"
    t = make_app(CLAUDE_WEB_USAGE_STORAGE="log", CLAUDE_WEB_USAGE_LOG_PATH=str(path))
    fake_claude.queue(text("Hello from the fake", chunks=4))
    client = t.app.test_client()
    with otel.tracer.start_as_current_span("POST /claude/chat") as request_span:
        response = client.post("/claude/chat", json=chat_body(), buffered=False)
    body = b"".join(response.response)  # streamed after the view (and the request's span) returned
    response.close()
    assert b"event: done" in body
    (span,) = otel.call_spans()
    assert span.parent.span_id == request_span.get_span_context().span_id
    assert span.context.trace_id == request_span.get_span_context().trace_id
    (row,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert row["id"] == span.attributes["claude_web.usage.record_id"]
    assert row["context"]["trace_id"] == format(span.context.trace_id, "032x")
    assert row["context"]["span_id"] == format(span.context.span_id, "016x")
    assert "_otel_parent" not in row["context"]
    assert span.attributes["gen_ai.usage.output_tokens"] == row["output_tokens"]
    assert span.attributes["claude_web.web_request_id"] == row["context"]["request_id"]


def test_quota_refusals_are_counted(otel: Any, make_app: Any, fake_claude: Any) -> None:
    t = make_app(
        CLAUDE_WEB_QUOTAS={"REQUESTS_PER_MINUTE": 1},
        CLAUDE_WEB_QUOTA_STORE="memory",
        CLAUDE_WEB_USER_LOADER=lambda: "u1",
    )
    client = t.app.test_client()
    assert client.post("/claude/chat", json=chat_body()).status_code == 200
    assert client.post("/claude/chat", json=chat_body()).status_code == 429
    (point,) = otel.points("claude_web.quota.refusals")
    assert point.value == 1
    assert point.attributes == {"claude_web.quota.limit": "requests_per_minute"}
