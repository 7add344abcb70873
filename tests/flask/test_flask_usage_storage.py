"""Usage storage: a table through Flask-SQLAlchemy (SQLite and PostgreSQL) or JSON lines; one record per call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_helpers import chat_body, parse_sse, post_stream
from flask_sqlalchemy import SQLAlchemy

from claude_web.testing import error, text
from claude_web.usage import UsageRecord
from claude_web_flask import get_state
from claude_web_flask.usage import ADDED_COLUMNS, JsonLinesUsageStore, SQLAlchemyUsageStore, usage_table


def _rows(t: Any) -> list[dict[str, Any]]:
    store = get_state(t.app).usage_store
    assert isinstance(store, SQLAlchemyUsageStore)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(store.table).order_by(store.table.c.created_at))]


def _exercise(t: Any, serve: Any, fake_claude: Any) -> None:
    """One ok stream, one upstream error: two calls, so exactly two rows."""
    server = serve(t.app)
    fake_claude.queue(text("Stored answer", chunks=3), error(500))
    for _ in range(2):
        response, _chunks = post_stream(f"{server.url}/claude/chat", chat_body(), headers={"X-Request-ID": "r-1"})
        assert response.status_code == 200
    t.usage.wait(2)


def _check_rows(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 2, rows
    ok, failed = rows
    assert ok["status"] == "ok" and failed["status"] == "error"
    assert ok["operation"] == "messages.stream"
    assert ok["model"] == "claude-haiku-4-5"
    assert ok["output_tokens"] > 0 and ok["input_tokens"] > 0
    assert ok["cost"] is not None and Decimal(str(ok["cost"])) > 0
    assert ok["user_id"] == "db-user"
    assert ok["client"] == "default"
    assert ok["context"]["request_id"] == "r-1"
    assert failed["error_type"] == "api_error"
    assert len({ok["id"], failed["id"]}) == 2


def test_rows_in_sqlite_through_flask_sqlalchemy(make_app: Any, serve: Any, fake_claude: Any, tmp_path: Path) -> None:
    db = SQLAlchemy()
    t = make_app(
        register=False,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}",
        CLAUDE_WEB_USAGE_STORAGE="auto",
        CLAUDE_WEB_USER_LOADER=lambda: "db-user",
    )
    t.claude.init_app(t.app)  # before Flask-SQLAlchemy: the storage is resolved on first use
    db.init_app(t.app)
    from claude_web_flask import chat_blueprint

    t.app.register_blueprint(chat_blueprint, url_prefix="/claude")
    _exercise(t, serve, fake_claude)
    _check_rows(_rows(t))
    # the table is on the app's metadata, so db.create_all() and migrations know it
    assert "claude_web_usage" in db.metadata.tables
    # and `flask claude usage` reports from it
    result = t.app.test_cli_runner().invoke(args=["claude", "usage", "--format", "json", "--by", "status"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {row["status"]: row["requests"] for row in report} == {"ok": 1, "error": 1}
    assert sum(Decimal(row["cost"]) for row in report) == sum(
        Decimal(str(r["cost"])) for r in _rows(t) if r["cost"] is not None
    )


@pytest.fixture
def pg_table(postgres_dsn: str) -> Iterator[str]:
    name = f"claude_web_usage_{uuid.uuid4().hex[:12]}"
    yield name
    engine = sa.create_engine(postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    engine.dispose()


def test_rows_in_postgresql(make_app: Any, serve: Any, fake_claude: Any, postgres_dsn: str, pg_table: str) -> None:
    db = SQLAlchemy()
    t = make_app(
        register=False,
        SQLALCHEMY_DATABASE_URI=postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1),
        CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
        CLAUDE_WEB_USAGE_TABLE=pg_table,
        CLAUDE_WEB_USER_LOADER=lambda: "db-user",
    )
    db.init_app(t.app)
    t.claude.init_app(t.app)
    from claude_web_flask import chat_blueprint

    t.app.register_blueprint(chat_blueprint, url_prefix="/claude")
    _exercise(t, serve, fake_claude)
    rows = _rows(t)
    _check_rows(rows)
    assert isinstance(rows[0]["cost"], Decimal)
    with t.app.app_context():
        with db.engine.connect() as conn:
            count = conn.execute(sa.text(f'SELECT count(*) FROM "{pg_table}"')).scalar_one()
        db.engine.dispose()
    assert count == 2


def test_a_rolled_back_session_does_not_lose_the_usage_row(make_app: Any, fake_claude: Any, tmp_path: Path) -> None:
    db = SQLAlchemy()
    t = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'rb.db'}", CLAUDE_WEB_USAGE_STORAGE="sqlalchemy", register=False
    )
    db.init_app(t.app)
    t.claude.init_app(t.app)

    @t.app.post("/create-then-fail")
    def create_then_fail() -> Any:
        db.session.execute(sa.text("SELECT 1"))
        message = t.claude.client.messages.create(
            model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
        db.session.rollback()
        return {"text": message.content[0].text}

    fake_claude.queue(text("kept"))
    assert t.app.test_client().post("/create-then-fail").get_json() == {"text": "kept"}
    rows = _rows(t)
    assert [r["operation"] for r in rows] == ["messages.create"]


def test_json_lines_storage_and_log(
    make_app: Any, fake_claude: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "usage.jsonl"
    t = make_app(CLAUDE_WEB_USAGE_STORAGE="log", CLAUDE_WEB_USAGE_LOG_PATH=str(path))
    assert isinstance(get_state(t.app).usage_store, JsonLinesUsageStore)
    fake_claude.queue(text("one"), text("two"))
    client = t.app.test_client()
    with caplog.at_level("INFO", logger="claude_web_flask.usage"):
        for _ in range(2):
            client.post("/claude/chat", json=chat_body()).get_data()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    assert {r["status"] for r in rows} == {"ok"}
    assert all(Decimal(r["cost"]) > 0 for r in rows)
    assert len([rec for rec in caplog.records if rec.name == "claude_web_flask.usage"]) == 2
    assert "fake-claude-web-key" not in path.read_text()


def test_a_failing_store_never_breaks_the_request(make_app: Any, fake_claude: Any) -> None:
    t = make_app(CLAUDE_WEB_USAGE_STORAGE="log", CLAUDE_WEB_USAGE_LOG_PATH="/nonexistent-dir/x/usage.jsonl")
    fake_claude.queue(text("still answered"))
    response = t.app.test_client().post("/claude/chat", json=chat_body())
    assert response.status_code == 200
    events = parse_sse(response.get_data(as_text=True))
    assert "".join(e["data"]["text"] for e in events if e.get("event") == "text") == "still answered"
    [record] = t.usage.wait(1)  # the signal still fires after the store failed
    assert record.status == "ok"


# claude-sonnet-4-5 list prices, worked out by hand: 1000 in x $3 = $0.003; 200 out x $15 = $0.003; 1000
# five-minute writes x $3.75 + 2000 one-hour writes x $6 = $0.01575; 4000 reads x $0.30 = $0.0012; 2 web
# searches x $0.01 = $0.02; total $0.04295
PRICED_USAGE = {
    "input_tokens": 1000,
    "output_tokens": 200,
    "cache_creation_input_tokens": 3000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "cache_read_input_tokens": 4000,
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
}
PRICED_PARTS = {
    "cost_input": Decimal("0.003"),
    "cost_output": Decimal("0.003"),
    "cost_cache_write": Decimal("0.01575"),
    "cost_cache_read": Decimal("0.0012"),
    "cost_tools": Decimal("0.02"),
    "cost": Decimal("0.04295"),
}


def _check_priced(row: Any) -> None:
    stored = {name: Decimal(str(row[name])) for name in PRICED_PARTS}
    assert stored == PRICED_PARTS
    assert sum((stored[name] for name in PRICED_PARTS if name != "cost"), Decimal(0)) == stored["cost"]
    assert (row["cache_creation_1h_input_tokens"], row["web_search_requests"], row["web_fetch_requests"]) == (
        2000,
        2,
        1,
    )
    assert not row["estimated"]


def _priced_call(t: Any, fake_claude: Any) -> None:
    fake_claude.queue(text("priced", usage=PRICED_USAGE))
    with t.app.app_context():
        t.claude.client.messages.create(
            model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )


def test_a_row_stores_the_cost_parts_in_sqlite(make_app: Any, fake_claude: Any, tmp_path: Path) -> None:
    db = SQLAlchemy()
    t = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'parts.db'}", CLAUDE_WEB_USAGE_STORAGE="sqlalchemy")
    db.init_app(t.app)
    _priced_call(t, fake_claude)
    (row,) = _rows(t)
    _check_priced(row)


def test_a_row_stores_the_cost_parts_in_postgresql(
    make_app: Any, fake_claude: Any, postgres_dsn: str, pg_table: str
) -> None:
    db = SQLAlchemy()
    t = make_app(
        SQLALCHEMY_DATABASE_URI=postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1),
        CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
        CLAUDE_WEB_USAGE_TABLE=pg_table,
    )
    db.init_app(t.app)
    _priced_call(t, fake_claude)
    (row,) = _rows(t)
    assert all(isinstance(row[name], Decimal) for name in PRICED_PARTS)
    _check_priced(row)
    with t.app.app_context():
        db.engine.dispose()


def _old_table(engine: sa.engine.Engine, name: str) -> None:
    """The table as the first version made it (without the columns added since), with one row in it."""
    full = usage_table(sa.MetaData(), name)
    old = sa.Table(
        name,
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in full.columns
            if c.name not in ADDED_COLUMNS
        ),
    )
    old.create(engine)
    with engine.begin() as conn:
        conn.execute(
            old.insert().values(
                id="old-row",
                created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                operation="messages.create",
                backend="anthropic",
                status="ok",
                input_tokens=1,
                output_tokens=2,
                cache_creation_input_tokens=0,
                cache_read_input_tokens=0,
                cost=Decimal("0.00001100"),
                latency_ms=1.0,
            )
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_table_from_an_earlier_version_gets_the_new_columns(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'old.db'}", "claude_web_usage"
    else:
        dsn: str = request.getfixturevalue("postgres_dsn")
        url, name = dsn.replace("postgresql://", "postgresql+psycopg://", 1), request.getfixturevalue("pg_table")
    engine = sa.create_engine(url)
    try:
        _old_table(engine, name)
        store = SQLAlchemyUsageStore(engine, usage_table(sa.MetaData(), name))
        record = UsageRecord(operation="messages.create", model="claude-sonnet-4-5")
        record.update_usage(PRICED_USAGE)
        record.apply_pricing()
        store.save(record)
        old, new = list(store.rows())
        assert old["id"] == "old-row" and Decimal(str(old["cost"])) == Decimal("0.000011")
        assert old["cost_input"] is None and old["web_search_requests"] == 0 and not old["estimated"]
        _check_priced(new)
        columns = {c["name"] for c in sa.inspect(engine).get_columns(name)}
        assert set(ADDED_COLUMNS) <= columns
        # a second store (another process starting) finds nothing to add
        SQLAlchemyUsageStore(engine, usage_table(sa.MetaData(), name)).save(UsageRecord(operation="x", model=None))
        assert len(list(store.rows())) == 3
    finally:
        engine.dispose()


def test_json_lines_give_the_cost_parts_back_as_decimals(tmp_path: Path) -> None:
    store = JsonLinesUsageStore(str(tmp_path / "usage.jsonl"))
    record = UsageRecord(operation="messages.create", model="claude-sonnet-4-5")
    record.update_usage(PRICED_USAGE)
    record.apply_pricing()
    store.save(record)
    (row,) = list(store.rows())
    assert all(isinstance(row[name], Decimal) for name in PRICED_PARTS)
    _check_priced(row)
    assert '"cost_cache_read":"0.00120000"' in (tmp_path / "usage.jsonl").read_text()


@pytest.mark.parametrize(
    ("setting", "value", "otherwise", "build"),
    [
        ("USAGE_STORAGE", "sqlalchemy", "log", lambda state: state.usage_store),
        ("CONVERSATIONS_STORAGE", "sqlalchemy", "memory", lambda state: state._build_conversation_store()),
        ("QUOTA_STORE", "database", "redis", lambda state: state._budget_store(state.settings.quotas)),
    ],
)
def test_a_database_setting_without_flask_sqlalchemy_says_what_to_do(
    setting: str, value: str, otherwise: str, build: Any
) -> None:
    from flask import Flask

    from claude_web.web.settings import ConfigError
    from claude_web_flask import ClaudeWeb

    app = Flask("no_sqlalchemy")
    app.config.update(
        TESTING=True,
        CLAUDE_WEB_CLIENTS={"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}},
        **{f"CLAUDE_WEB_{setting}": value},
    )
    ClaudeWeb(app)
    with pytest.raises(ConfigError) as raised:
        build(get_state(app))
    message = str(raised.value)
    assert f'CLAUDE_WEB_{setting} is "{value}" but the app has no Flask-SQLAlchemy' in message
    assert f'set CLAUDE_WEB_{setting} to "{otherwise}"' in message
