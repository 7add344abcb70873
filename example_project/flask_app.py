"""The Flask side of the demo: one chat page on ``claude_web_flask`` (``ClaudeWeb`` + ``chat_blueprint``).

``python example_project/flask_app.py [--port 5000]``. Without ``ANTHROPIC_API_KEY`` it talks to FakeClaude: the
one at ``CLAUDE_WEB_FAKE_URL`` if set, else one it starts in-process (the demo's paced replies). The page reuses
the Django demo's JavaScript and stylesheet (``chat/static/``), so nothing comes from a CDN.
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

from flask import Flask, render_template, session  # noqa: E402

from claude_web_flask import ClaudeWeb, chat_blueprint  # noqa: E402

MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")
USAGE_LOG = Path(os.environ.get("FLASK_DEMO_USAGE_LOG") or HERE / "flask_usage.jsonl")


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
        }
    )
    app.config.update(config or {})
    from demo_site.telemetry import setup_telemetry

    setup_telemetry("flask", app)  # DEMO_OTEL=console|otlp; off by default
    ClaudeWeb(app)
    app.register_blueprint(chat_blueprint, url_prefix="/claude")

    @app.get("/")
    def chat_page() -> str:
        visitor_id()
        return render_template(
            "chat.html",
            mode=app.config["MODE"],
            mode_label=app.config["MODE_LABEL"],
            models=MODELS,
            max_tokens=1024,
            usage_path=USAGE_LOG.name,
        )

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
