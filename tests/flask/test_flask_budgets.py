"""Budgets under Flask: in the app's database (Flask-SQLAlchemy) or Redis, rebuilt from the usage store after a
restart, the blinker alert, ``flask claude budget``, ``claude.stream_response`` admitted like the blueprint."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
from flask_helpers import chat_body, parse_sse, post_stream
from flask_sqlalchemy import SQLAlchemy

from claude_web.testing import text
from claude_web.web.budgets import RedisBudgetStore
from claude_web_flask import budget_threshold_crossed, chat_blueprint, get_state
from claude_web_flask.budgets import SQLAlchemyBudgetStore


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"test:flask-budget:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def db_app(make_app: Any, path: Path, quotas: dict[str, Any], user: str = "ann") -> Any:
    quotas = dict(quotas)
    db = SQLAlchemy()
    t = make_app(
        register=False,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
        CLAUDE_WEB_QUOTAS=quotas,
        CLAUDE_WEB_QUOTA_STORE=quotas.pop("STORE", "database"),
        CLAUDE_WEB_USER_LOADER=lambda: user,
    )
    db.init_app(t.app)
    t.claude.init_app(t.app)
    t.app.register_blueprint(chat_blueprint, url_prefix="/claude")
    return t


def stream(server: Any, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    response, chunks = post_stream(f"{server.url}/claude/chat", body)
    return response.status_code, [e for e in parse_sse("".join(c for _, c in chunks)) if "event" in e]


def test_budgets_in_the_apps_database(make_app: Any, serve: Any, fake_claude: Any, tmp_path: Path) -> None:
    t = db_app(make_app, tmp_path / "app.db", {"TOKENS_PER_DAY": 300, "GLOBAL": {"COST_PER_DAY": "1"}})
    store = get_state(t.app).runtime.budgets.store  # type: ignore[union-attr]
    assert isinstance(store, SQLAlchemyBudgetStore) and store.dialect == "sqlite"
    server = serve(t.app)
    fake_claude.queue(text("z" * 400, chunks=2), text("z" * 400, chunks=2))
    for _ in range(2):
        status, events = stream(server, chat_body(max_tokens=100))
        assert status == 200 and events[-1]["event"] == "done"
    records = t.usage.wait(2)
    used = sum(r.total_tokens for r in records)
    assert used == 208  # 2 x (4 input + 100 output); a third worst case (15 + 100) no longer fits
    refused = httpx.post(f"{server.url}/claude/chat", json=chat_body(max_tokens=100), timeout=10)
    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("You have reached your daily token limit. Try again")
    with store.engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT name, used FROM claude_web_budget_counter")).all())
    assert sorted(rows.values()) == sorted([used, sum(int(r.cost * 10**8) for r in records)])
    result = t.app.test_cli_runner().invoke(args=["claude", "budget", "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = {(item["scope"], item["limit"]): item for item in json.loads(result.output)}
    assert lines[("user:ann", "tokens_per_day")]["used"] == 208
    assert lines[("user:ann", "tokens_per_day")]["remaining"] == 92
    assert Decimal(lines[("global", "cost_per_day")]["used"]) == sum(r.cost for r in records)


def test_a_restart_rebuilds_from_the_usage_table(make_app: Any, serve: Any, fake_claude: Any, tmp_path: Path) -> None:
    quotas = {"TOKENS_PER_DAY": 300, "STORE": "memory"}
    first = db_app(make_app, tmp_path / "app.db", quotas)
    server = serve(first.app)
    fake_claude.queue(text("z" * 400, chunks=2), text("z" * 400, chunks=2))
    for _ in range(2):
        assert stream(server, chat_body(max_tokens=100))[0] == 200
    first.usage.wait(2)
    restarted = db_app(make_app, tmp_path / "app.db", quotas)  # the same database, a new process's memory
    assert type(get_state(restarted.app).runtime.budgets.store).__name__ == "MemoryBudgetStore"  # type: ignore[union-attr]
    refused = restarted.app.test_client().post("/claude/chat", json=chat_body(max_tokens=100))
    assert refused.status_code == 429
    assert len(fake_claude.requests) == 2


def test_budgets_in_redis_alert_once_and_the_cli_reports(
    make_app: Any, serve: Any, fake_claude: Any, redis_url: str, prefix: str
) -> None:
    t = make_app(
        CLAUDE_WEB_QUOTAS={"TOKENS_PER_DAY": 500, "ALERT_AT": [0.4]},
        CLAUDE_WEB_QUOTA_REDIS_URL=redis_url,
        CLAUDE_WEB_QUOTA_KEY_PREFIX=prefix,
        CLAUDE_WEB_USER_LOADER=lambda: "bo",
    )
    alerts: list[Any] = []

    def on_alert(sender: Any, alert: Any, **_: Any) -> None:
        alerts.append((sender, alert))

    budget_threshold_crossed.connect(on_alert, sender=t.app, weak=False)
    try:
        assert isinstance(get_state(t.app).runtime.budgets.store, RedisBudgetStore)  # type: ignore[union-attr]
        server = serve(t.app)
        for _ in range(3):
            fake_claude.queue(text("z" * 400, chunks=2))
            assert stream(server, chat_body(max_tokens=100))[0] == 200
            t.usage.wait(len(t.usage.records) + 1)
        assert [(sender, a.scope, a.limit, a.used, a.share) for sender, a in alerts] == [
            (t.app, "user:bo", "tokens_per_day", 208, Decimal("0.4"))
        ]
    finally:
        budget_threshold_crossed.disconnect(on_alert, sender=t.app)
    table = t.app.test_cli_runner().invoke(args=["claude", "budget", "--scope", "user:bo"]).output.splitlines()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert table[1].split()[:6] == ["user:bo", "tokens_per_day", today, "312", "0", "188"]


def test_stream_response_is_admitted_like_the_blueprint(make_app: Any, fake_claude: Any) -> None:
    t = make_app(register=False, CLAUDE_WEB_QUOTAS={"TOKENS_PER_DAY": 100}, CLAUDE_WEB_QUOTA_STORE="memory")
    t.claude.init_app(t.app)

    @t.app.post("/ask")
    def ask() -> Any:
        return t.claude.stream_response(
            model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "Hi"}]
        )

    @t.app.post("/small")
    def small() -> Any:
        return t.claude.stream_response(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
        )

    client = t.app.test_client()
    refused = client.post("/ask")
    assert refused.status_code == 429 and refused.json["error"]["limit"] == "tokens_per_day"
    assert fake_claude.requests == []
    fake_claude.queue(text("fits", chunks=1))
    ok = client.post("/small")
    assert ok.status_code == 200
    assert [e["event"] for e in parse_sse(ok.get_data(as_text=True)) if "event" in e][-1] == "done"
    (record,) = t.usage.wait(1)
    assert record.context["reservation"] and record.context["reserved"]["tokens"] == 65
