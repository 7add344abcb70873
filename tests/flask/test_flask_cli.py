"""``flask claude ping | usage | chat`` through Flask's CliRunner."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from claude_web.testing import error, text


def test_ping_ok_and_error_without_leaking_the_key(make_app: Any, fake_claude: Any) -> None:
    t = make_app(
        CLAUDE_WEB_CLIENTS={
            "default": {
                "BACKEND": "fake",
                "OPTIONS": {"base_url": fake_claude.base_url, "api_key": "sk-ant-VERY-SECRET", "max_retries": 0},
            }
        }
    )
    runner = t.app.test_cli_runner()
    fake_claude.queue(text("p"))
    result = runner.invoke(args=["claude", "ping"])
    assert result.exit_code == 0, result.output
    assert "ok: claude-haiku-4-5 answered in" in result.output
    assert fake_claude.last_request is not None
    fake_claude.queue(error(401))
    failed = runner.invoke(args=["claude", "ping", "--model", "claude-sonnet-4-5"])
    assert failed.exit_code == 1
    assert "AuthenticationError" in failed.output
    for output in (result.output, failed.output):
        assert "VERY-SECRET" not in output
    records = t.usage.wait(2)
    assert [r.status for r in records] == ["ok", "error"]
    assert records[0].context == {"alias": "default", "backend": "fake", "source": "cli"}


def test_chat_streams_and_keeps_the_conversation(make_app: Any, fake_claude: Any) -> None:
    t = make_app()
    fake_claude.queue(text("Hello! How can I help?", chunks=4), text("Paris.", chunks=2))
    result = t.app.test_cli_runner().invoke(
        args=["claude", "chat", "--system", "Be brief."], input="Hi there\nCapital of France?\n/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "claude> Hello! How can I help?" in result.output
    assert "claude> Paris." in result.output
    assert len(fake_claude.requests) == 2
    second = _json(fake_claude.requests[1])
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"] == "Hello! How can I help?"
    assert second["system"] == "Be brief."
    assert second["stream"] is True


def test_chat_survives_an_upstream_error_and_ends_on_eof(make_app: Any, fake_claude: Any) -> None:
    t = make_app()
    fake_claude.queue(error(529), text("Back again."))
    result = t.app.test_cli_runner().invoke(args=["claude", "chat"], input="one\ntwo\n")
    assert result.exit_code == 0, result.output
    assert "OverloadedError" in result.output
    assert "claude> Back again." in result.output
    # the failed turn was dropped from the conversation
    assert [m["role"] for m in _json(fake_claude.requests[-1])["messages"]] == ["user"]


def test_usage_report_from_json_lines(make_app: Any, fake_claude: Any, tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    t = make_app(
        CLAUDE_WEB_USAGE_STORAGE="log", CLAUDE_WEB_USAGE_LOG_PATH=str(path), CLAUDE_WEB_USER_LOADER=lambda: "ann"
    )
    fake_claude.queue(text("a b c"), text("d e f"), error(500))
    client = t.app.test_client()
    for model in ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"):
        client.post("/claude/chat", json={"messages": [{"role": "user", "content": "x"}], "model": model}).get_data()
    records = t.usage.wait(3)
    runner = t.app.test_cli_runner()
    table = runner.invoke(args=["claude", "usage", "--since", "7d"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "day",
        "model",
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cost",
        "unpriced",
    ]
    assert set(lines[1]) <= {"-", " "}
    today = records[0].created_at.date().isoformat()
    haiku = [ln for ln in lines if "claude-haiku-4-5" in ln][0].split()
    assert haiku[:3] == [today, "claude-haiku-4-5", "2"]
    assert lines[-1].split()[:2] == ["TOTAL", "3"]
    by_user = json.loads(runner.invoke(args=["claude", "usage", "--format", "json", "--by", "user,status"]).output)
    assert [(row["user"], row["status"], row["requests"]) for row in by_user] == [("ann", "error", 1), ("ann", "ok", 2)]
    expected_cost = sum(r.cost for r in records if r.cost is not None)
    assert sum(Decimal(row["cost"]) for row in by_user) == expected_cost
    assert sum(row["output_tokens"] for row in by_user) == sum(r.output_tokens for r in records)
    csv_out = runner.invoke(args=["claude", "usage", "--format", "csv", "--by", "alias"]).output.splitlines()
    assert (
        csv_out[0] == "alias,requests,input_tokens,output_tokens,cache_creation_input_tokens,"
        "cache_read_input_tokens,cost,unpriced"
    )
    assert csv_out[1].startswith("default,3,")
    future = json.loads(runner.invoke(args=["claude", "usage", "--format", "json", "--since", "2999-01-01"]).output)
    assert future == []
    bad = runner.invoke(args=["claude", "usage", "--by", "colour"])
    assert bad.exit_code != 0 and "choose from" in bad.output


def test_usage_report_needs_stored_records(make_app: Any) -> None:
    t = make_app(CLAUDE_WEB_USAGE_STORAGE="none")
    result = t.app.test_cli_runner().invoke(args=["claude", "usage"])
    assert result.exit_code != 0
    assert "not stored" in result.output


def _json(request: Any) -> dict[str, Any]:
    body = getattr(request, "json", None)
    if callable(body):
        body = body()
    if isinstance(body, dict):
        return body
    return dict(json.loads(request.body))
