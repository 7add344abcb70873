"""The Flask side of the demo: conversations on ``claude_web_flask`` (``ClaudeWeb``, Flask-SQLAlchemy models and
the ``conversations_blueprint``), the same page as the Django demo's.

``python example_project/flask_app.py [--port 5000]``. Without ``ANTHROPIC_API_KEY`` it talks to FakeClaude: the
one at ``CLAUDE_WEB_FAKE_URL`` if set, else one it starts in-process (the demo's paced replies). Conversations are
kept in a SQLite file (``FLASK_DEMO_DB``, default ``example_project/flask_demo.sqlite3``); usage records go to JSON
lines (``FLASK_DEMO_USAGE_LOG``). The page reuses the Django demo's JavaScript and stylesheet (``chat/static/``),
so nothing comes from a CDN.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if (HERE.parent / "claude_web" / "__init__.py").is_file() and str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # run the checkout's packages, installed or not
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # demo_site.telemetry

from flask import Flask, abort, render_template, session, url_for  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402

from claude_web.web.errors import NotFound  # noqa: E402
from claude_web_flask import ClaudeWeb, chat_blueprint, get_runtime  # noqa: E402
from claude_web_flask.conversations import conversations_blueprint  # noqa: E402

MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")
USAGE_LOG = Path(os.environ.get("FLASK_DEMO_USAGE_LOG") or HERE / "flask_usage.jsonl")
DATABASE = Path(os.environ.get("FLASK_DEMO_DB") or HERE / "flask_demo.sqlite3")
ASSISTANTS = {
    "default": {"TITLE": "Helper", "MODEL": MODELS[0], "SYSTEM": "You are the claude-web Flask demo's assistant."},
    "calculator": {
        "TITLE": "Calculator",
        "MODEL": MODELS[0],
        "SYSTEM": "Use the calculator tool for any arithmetic; never compute in your head.",
        "TOOLS": ["chat.tools.calculator"],
        "MAX_ITERATIONS": 4,
    },
}


def visitor_id() -> str:
    """The user loader: each browser session is one visitor (a real app would use its login)."""
    if "visitor" not in session:
        session["visitor"] = secrets.token_hex(8)
    return str(session["visitor"])


def create_app(fake_url: str | None = None, config: dict[str, Any] | None = None) -> Flask:
    """The app; ``fake_url`` (or ``CLAUDE_WEB_FAKE_URL``) is used unless ``ANTHROPIC_API_KEY`` is set."""
    app = Flask(
        __name__,
        static_folder=str(HERE / "chat" / "static"),
        static_url_path="/static",
        template_folder=str(HERE / "flask_templates"),
    )
    app.config["SECRET_KEY"] = os.environ.get("DEMO_SECRET_KEY", "claude-web-flask-demo-not-secret")
    key = os.environ.get("ANTHROPIC_API_KEY")
    fake_url = fake_url or os.environ.get("CLAUDE_WEB_FAKE_URL")
    if key:
        client: dict[str, Any] = {"BACKEND": "anthropic", "OPTIONS": {"api_key": key}}
        app.config["MODE"], app.config["MODE_LABEL"] = "anthropic", "Live: the real Anthropic API"
    else:
        if not fake_url:
            raise RuntimeError("no ANTHROPIC_API_KEY and no FakeClaude URL: pass fake_url or set CLAUDE_WEB_FAKE_URL")
        client = {"BACKEND": "fake", "OPTIONS": {"base_url": fake_url}}
        app.config["MODE"], app.config["MODE_LABEL"] = "fake", f"Offline: FakeClaude at {fake_url}"
        app.debug = True  # claude_web_flask allows the fake backend only in debug or testing mode
    app.config.update(
        {
            "CLAUDE_WEB_CLIENTS": {"default": client},
            "CLAUDE_WEB_USER_LOADER": visitor_id,
            "CLAUDE_WEB_USAGE_STORAGE": "log",
            "CLAUDE_WEB_USAGE_LOG_PATH": str(USAGE_LOG),
            "CLAUDE_WEB_QUOTAS": {"TOKENS_PER_DAY": 200_000},
            "CLAUDE_WEB_QUOTA_STORE": "memory",
            "CLAUDE_WEB_CHAT_MODELS": MODELS,
            "CLAUDE_WEB_CHAT_MAX_TOKENS": 1024,
            "CLAUDE_WEB_ASSISTANTS": ASSISTANTS,
            "CLAUDE_WEB_CONVERSATIONS": {"MAX_MESSAGE_CHARS": 4000},
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{DATABASE}",
        }
    )
    app.config.update(config or {})
    from demo_site.telemetry import setup_telemetry

    setup_telemetry("flask", app)  # DEMO_OTEL=console|otlp; off by default
    SQLAlchemy(app)
    ClaudeWeb(app)
    app.register_blueprint(conversations_blueprint, url_prefix="/conversations")
    app.register_blueprint(chat_blueprint, url_prefix="/claude")  # the stateless chat endpoint and /claude/usage

    def page(conversation_id: str | None, assistant: str) -> str:
        owner = f"user:{visitor_id()}"
        if conversation_id is not None:
            try:  # another visitor's conversation, or a deleted one: the page itself is a 404
                assistant = get_runtime(app).conversations.get(conversation_id, owner).assistant
            except NotFound:
                abort(404)
        return render_template(
            "chat.html",
            mode=app.config["MODE"],
            mode_label=app.config["MODE_LABEL"],
            usage_path=USAGE_LOG.name,
            assistant=assistant,
            conversation_id=conversation_id or "",
            list_url=url_for("claude_web_conversations.collection"),
            page_base="/c/",
        )

    @app.get("/")
    def chat_page() -> str:
        return page(None, "default")

    @app.get("/tools/")
    def tools_page() -> str:
        return page(None, "calculator")

    @app.get("/c/<conversation_id>/")
    def conversation_page(conversation_id: str) -> str:
        return page(conversation_id, "default")

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--pace", type=float, default=0.06, help="in-process FakeClaude: seconds between events")
    args = parser.parse_args(argv)
    fake = None
    fake_url = os.environ.get("CLAUDE_WEB_FAKE_URL")
    if not os.environ.get("ANTHROPIC_API_KEY") and not fake_url:
        sys.path.insert(0, str(HERE))
        from demo_fake import start_demo_fake

        fake = start_demo_fake(pace=args.pace)
        fake_url = fake.base_url
    app = create_app(fake_url)
    print(f"claude-web Flask demo running at http://{args.host}:{args.port}/ ({app.config['MODE_LABEL']})", flush=True)
    try:
        app.run(args.host, args.port, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        if fake is not None:
            fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
