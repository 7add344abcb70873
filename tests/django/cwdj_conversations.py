"""One way to drive the conversation endpoints through Django and through Flask, so one test module runs the same
scenarios through both adapters (on SQLite, and on PostgreSQL where it is reachable)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cwdj_helpers import MODELS, parse_sse

PREFIX = "/claude/conversations/"
ASSISTANTS: dict[str, Any] = {
    "default": {"MODEL": "claude-sonnet-4-5", "SYSTEM": "You are the test site's assistant.", "TITLE": "Helper"},
    "calc": {
        "MODEL": "claude-sonnet-4-5",
        "SYSTEM": "Use the calculator for arithmetic.",
        "TOOLS": [
            "cwdj_tools.calculator",
            "cwdj_tools.whoami",
            "cwdj_tools.broken",
            "cwdj_tools.not_json",
            "cwdj_tools.slow",
            "cwdj_tools.async_double",
        ],
        "MAX_ITERATIONS": 3,
        "TOOL_TIMEOUT": 5,
    },
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for e in parse_sse(self.body) if "event" in e]

    @property
    def names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def error(self) -> dict[str, Any]:
        return dict(self.json["error"])


@dataclass
class UsageRow:
    record_id: str
    operation: str
    status: str
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    cost: Decimal | None
    context: dict[str, Any]


def base_sections(base_url: str) -> dict[str, Any]:
    return {
        "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": base_url, "max_retries": 0}}},
        "CHAT": {"MODELS": MODELS, "DEFAULT_MODEL": MODELS[0], "MAX_TOKENS": 1024},
        "ASSISTANTS": ASSISTANTS,
        "CONVERSATIONS": {"PAGE_SIZE": 2, "MAX_MESSAGE_CHARS": 500},
        "JOBS": {"THREADS": 2, "HEARTBEAT": 1.0},
    }


@dataclass
class Api:
    """The conversation endpoints of one adapter, called as a signed-in user (``alice`` or ``bob``)."""

    name: str
    fake: Any
    db: str = "sqlite"
    chat_path: str = "/claude/chat/"
    sections: dict[str, Any] = field(default_factory=dict)

    def configure(self, **sections: Any) -> None:
        """Change settings sections (merged over the base ones) before the next call."""
        raise NotImplementedError

    def call(
        self, method: str, path: str, body: Any = None, *, user: str = "alice", headers: dict[str, str] | None = None
    ) -> Reply:
        raise NotImplementedError

    def usage(self) -> list[UsageRow]:
        raise NotImplementedError

    def export(self, *args: str) -> Any:
        """The CLI export (``manage.py claude_conversations`` / ``flask claude conversations``) as parsed JSON."""
        raise NotImplementedError

    def user_ref(self, user: str) -> str:
        """How the CLI names ``user``."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- shortcuts ------------------------------------------------------------------------------------------
    def create(self, user: str = "alice", **body: Any) -> dict[str, Any]:
        reply = self.call("POST", PREFIX, body, user=user)
        assert reply.status == 201, reply.body
        return dict(reply.json["conversation"])

    def ask(self, cid: str, message: str, user: str = "alice") -> Reply:
        return self.call("POST", f"{PREFIX}{cid}/messages/", {"message": message}, user=user)

    def detail(self, cid: str, user: str = "alice") -> dict[str, Any]:
        reply = self.call("GET", f"{PREFIX}{cid}/", user=user)
        assert reply.status == 200, reply.body
        return dict(reply.json)


class DjangoApi(Api):
    def __init__(self, fake: Any, settings_fixture: Callable[..., Any], users: dict[str, Any], db: str) -> None:
        super().__init__("django", fake, db)
        self._apply = settings_fixture
        self._users = users
        self._clients: dict[str, Any] = {}
        self.configure()

    def configure(self, **sections: Any) -> None:
        merged = {**base_sections(self.fake.base_url), **sections}
        if self.db == "postgres":
            merged["USAGE"] = {"DATABASE": "postgres"}
            merged["CONVERSATIONS"] = {**merged.get("CONVERSATIONS", {}), "DATABASE": "postgres"}
        self._apply(**merged)

    def _client(self, user: str) -> Any:
        from django.test import Client

        if user not in self._clients:
            client = Client()
            client.force_login(self._users[user])
            self._clients[user] = client
        return self._clients[user]

    def call(
        self, method: str, path: str, body: Any = None, *, user: str = "alice", headers: dict[str, str] | None = None
    ) -> Reply:
        client = self._client(user)
        data = "" if body is None else json.dumps(body)
        response = client.generic(method, path, data=data, content_type="application/json", headers=headers or {})
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        return Reply(response.status_code, {k: v for k, v in response.items()}, raw)

    def export(self, *args: str) -> Any:
        import io

        from django.core.management import call_command

        out = io.StringIO()
        call_command("claude_conversations", *args, stdout=out)
        return json.loads(out.getvalue())

    def user_ref(self, user: str) -> str:
        return str(self._users[user].username)

    def usage(self) -> list[UsageRow]:
        from claude_web_django.models import TokenUsage
        from claude_web_django.receivers import wait_for_usage_writes

        assert wait_for_usage_writes(10.0)
        alias = "postgres" if self.db == "postgres" else "default"
        rows = TokenUsage.objects.using(alias).order_by("created_at", "id")
        return [
            UsageRow(
                r.record_id,
                r.operation,
                r.status,
                r.input_tokens,
                r.output_tokens,
                r.cache_read_input_tokens,
                r.cache_creation_input_tokens,
                r.cost,
                dict(r.context),
            )  # fmt: skip
            for r in rows
        ]


class FlaskApi(Api):
    def __init__(self, fake: Any, workdir: Path, db: str, postgres_dsn: str | None = None) -> None:
        super().__init__("flask", fake, db, "/claude/chat")
        self.workdir = workdir
        self.postgres_dsn = postgres_dsn
        self.app: Any = None
        self.prefix = f"cwt{os.getpid()}_{os.urandom(3).hex()}_"
        self._config: dict[str, Any] = {}
        self.configure()

    def configure(self, **sections: Any) -> None:
        self.close()
        self._config = {f"CLAUDE_WEB_{k}": v for k, v in {**base_sections(self.fake.base_url), **sections}.items()}
        self.app = None

    def _build(self) -> Any:
        from flask import Flask, request
        from flask_sqlalchemy import SQLAlchemy

        from claude_web_flask import ClaudeWeb, chat_blueprint
        from claude_web_flask.conversations import conversations_blueprint

        app = Flask(f"conversations_{self.prefix}")
        app.testing = True
        if self.db == "postgres":
            assert self.postgres_dsn
            uri = self.postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        else:
            uri = f"sqlite:///{self.workdir / (self.prefix + 'flask.sqlite3')}"
        app.config.update(
            SECRET_KEY="conversations", SQLALCHEMY_DATABASE_URI=uri, CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
            CLAUDE_WEB_USAGE_TABLE=f"{self.prefix}usage", CLAUDE_WEB_CHAT_LOGIN_REQUIRED=True,
        )  # fmt: skip
        conversations = dict(self._config.get("CLAUDE_WEB_CONVERSATIONS") or {})
        conversations["TABLE_PREFIX"] = self.prefix
        app.config.update({**self._config, "CLAUDE_WEB_CONVERSATIONS": conversations})
        db = SQLAlchemy(app)
        users = {"alice": "1", "bob": "2"}
        ClaudeWeb(app, user_loader=lambda: users.get(request.headers.get("X-Test-User", "")))
        app.register_blueprint(conversations_blueprint, url_prefix=PREFIX.rstrip("/"))
        app.register_blueprint(chat_blueprint, url_prefix="/claude")
        app.extensions["cw_test_db"] = db
        return app

    def call(
        self, method: str, path: str, body: Any = None, *, user: str = "alice", headers: dict[str, str] | None = None
    ) -> Reply:
        if self.app is None:
            self.app = self._build()
        client = self.app.test_client()
        data = None if body is None else json.dumps(body)
        all_headers = {"X-Test-User": user, **(headers or {})}
        response = client.open(path, method=method, data=data, content_type="application/json", headers=all_headers)
        raw = response.get_data()
        return Reply(response.status_code, dict(response.headers), raw)

    def export(self, *args: str) -> Any:
        result = self.app.test_cli_runner().invoke(args=["claude", "conversations", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def user_ref(self, user: str) -> str:
        return {"alice": "1", "bob": "2"}[user]

    def usage(self) -> list[UsageRow]:
        from claude_web_flask import get_state

        state = get_state(self.app)
        rows = list(state.usage_store.rows())
        return [
            UsageRow(
                r["id"],
                r["operation"],
                r["status"],
                r["input_tokens"],
                r["output_tokens"],
                r["cache_read_input_tokens"],
                r["cache_creation_input_tokens"],
                None if r["cost"] is None else Decimal(r["cost"]),
                dict(r["context"] or {}),
            )  # fmt: skip
            for r in rows
        ]

    def close(self) -> None:
        app = self.app
        if app is None:
            return
        self.app = None
        state = app.extensions.get("claude_web")
        if state is not None:
            state.runtime.close()
        if self.db == "postgres":
            import sqlalchemy as sa

            db = app.extensions["cw_test_db"]
            with app.app_context(), db.engine.begin() as conn:
                for table in ("message", "conversation", "usage"):
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{self.prefix}{table}" CASCADE'))
            with app.app_context():
                db.engine.dispose()
