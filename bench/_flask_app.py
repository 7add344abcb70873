"""A minimal Flask app for bench/wsgi_stream.py: ClaudeWeb and the chat blueprint (``POST /chat``), no login,
usage records as JSON lines.

Configured from the environment: ``BENCH_FAKE_URL`` (FakeClaude), ``BENCH_USAGE_LOG`` (the JSON lines file),
``BENCH_MAX_STREAMS`` (``CLAUDE_WEB_STREAM_MAX_STREAMS``, unset: no cap).
"""

from __future__ import annotations

import os

from flask import Flask

from claude_web_flask import ClaudeWeb, chat_blueprint

app = Flask("bench")
app.config.update(
    # the production backend pointed at FakeClaude (the 'fake' backend is refused outside debug and testing)
    CLAUDE_WEB_CLIENTS={
        "default": {
            "BACKEND": "anthropic",
            "OPTIONS": {"base_url": os.environ["BENCH_FAKE_URL"], "api_key": "bench-key", "max_retries": 0},
        }
    },
    CLAUDE_WEB_CHAT_LOGIN_REQUIRED=False,
    CLAUDE_WEB_CHAT_MODELS=["claude-haiku-4-5"],
    CLAUDE_WEB_USAGE_STORAGE="log",
    CLAUDE_WEB_USAGE_LOG_PATH=os.environ["BENCH_USAGE_LOG"],
    CLAUDE_WEB_STREAM_HEARTBEAT=15.0,
    CLAUDE_WEB_STREAM_MAX_STREAMS=int(os.environ["BENCH_MAX_STREAMS"]) if os.environ.get("BENCH_MAX_STREAMS") else None,
)
ClaudeWeb(app)
app.register_blueprint(chat_blueprint)
