"""Flask fixtures: apps wired to a FakeClaude (``make_app``) and real WSGI servers (``serve``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_helpers import AppUnderTest, LiveServer, Recorded

from claude_web_flask import ClaudeWeb, chat_blueprint, usage_recorded

AppFactory = Callable[..., AppUnderTest]


@pytest.fixture
def make_app(fake_claude: Any) -> Iterator[AppFactory]:
    """``make_app(**config)``: a testing Flask app with ClaudeWeb on the fake backend and the chat blueprint."""
    made: list[tuple[Flask, Recorded]] = []

    def factory(
        *, base_url: str | None = None, testing: bool = True, register: bool = True, **config: Any
    ) -> AppUnderTest:
        app = Flask(f"test_app_{len(made)}")
        app.testing = testing
        app.config["CLAUDE_WEB_CLIENTS"] = {
            "default": {"BACKEND": "fake", "OPTIONS": {"base_url": base_url or fake_claude.base_url, "max_retries": 0}}
        }
        app.config["CLAUDE_WEB_USAGE_STORAGE"] = "none"
        app.config["CLAUDE_WEB_CHAT_MODELS"] = ["claude-haiku-4-5", "claude-sonnet-4-5"]
        app.config["CLAUDE_WEB_CHAT_LOGIN_REQUIRED"] = False
        app.config.update(config)
        claude = ClaudeWeb()
        recorded = Recorded()
        usage_recorded.connect(recorded.add, sender=app, weak=False)
        made.append((app, recorded))
        if register:
            claude.init_app(app)
            app.register_blueprint(chat_blueprint, url_prefix="/claude")
        return AppUnderTest(app, claude, recorded)

    yield factory
    for app, recorded in made:
        usage_recorded.disconnect(recorded.add, sender=app)
        state = app.extensions.get("claude_web")
        if state is not None:
            state.runtime.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], LiveServer]]:
    """``serve(app)`` starts a real WSGI server for ``app``; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: Flask) -> LiveServer:
        server = LiveServer(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
