"""The usage report's numbers as text: costs are plain decimals with 8 places in every rendering, also when they
add up to zero (an unpriced model, no rows at all), never ``0E-8`` or a bare ``0``."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from claude_web.web.handlers import usage_report
from claude_web.web.http import Principal, WebRequest
from claude_web.web.report import render_csv, render_json, render_table, summarize
from claude_web.web.runtime import WebRuntime, parse_settings

NOW = datetime(2025, 1, 31, 12, tzinfo=timezone.utc)
ROWS = [
    {"created_at": NOW, "model": "my-unpriced-model", "cost": None, "input_tokens": 5, "user_id": "1"},
    {"created_at": NOW, "model": "claude-haiku-4-5", "cost": "0.00001500", "input_tokens": 10, "user_id": "1"},
]


def test_zero_costs_render_as_plain_decimals() -> None:
    rows = summarize(ROWS, ["model"])
    assert [row["unpriced"] for row in rows] == [0, 1]
    table = render_table(["model"], rows)
    assert "0E-8" not in table and "0.00000000" in table and "0.00001500" in table
    assert render_csv(["model"], rows).splitlines()[2] == "my-unpriced-model,1,5,0,0,0,0.00000000,1"
    assert [row["cost"] for row in json.loads(render_json(["model"], rows))] == ["0.00001500", "0.00000000"]
    assert render_table(["model"], []).splitlines()[-1].split()[-2] == "0.00000000"  # TOTAL of nothing


def test_usage_endpoint_costs() -> None:
    runtime = WebRuntime(parse_settings({}))
    request = WebRequest("GET", "/usage", principal=Principal(user_id=1), query={"by": "model"})
    body = usage_report(runtime, request, lambda since, until, user: [r for r in ROWS if r["user_id"] == user]).json
    assert [row["cost"] for row in body["rows"]] == ["0.00001500", "0.00000000"]
    assert body["total"]["cost"] == "0.00001500" and body["total"]["unpriced"] == 1
    empty = usage_report(runtime, request, lambda since, until, user: []).json
    assert empty["rows"] == [] and empty["total"]["cost"] == "0.00000000"
