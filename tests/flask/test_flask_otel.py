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


_DEMO = """
import json, sys
sys.path.insert(0, "example_project")
from flask_app import create_app
from opentelemetry import trace
app = create_app(fake_url=sys.argv[1])
client = app.test_client()
body = {"messages": [{"role": "user", "content": "Hello"}], "model": "claude-haiku-4-5"}
assert b"event: done" in client.post("/claude/chat", json=body).get_data()
trace.get_tracer_provider().shutdown()   # flush the batch processor: the console exporter prints now
"""


def test_the_flask_demo_exports_to_the_console_when_asked(fake_claude: Any, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update(DEMO_OTEL="console", FLASK_DEMO_USAGE_LOG=str(tmp_path / "usage.jsonl"))
    done = subprocess.run(
        [sys.executable, "-c", _DEMO, fake_claude.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "chat claude-haiku-4-5"' in done.stdout
    (row,) = [json.loads(line) for line in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert f'"claude_web.usage.record_id": "{row["id"]}"' in done.stdout
    assert row["context"]["trace_id"] in done.stdout
