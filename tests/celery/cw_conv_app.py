"""Conversations on Celery: a Flask app (Flask-SQLAlchemy on a SQLite file) whose answers run in real workers.

The worker runs ``celery -A cw_conv_app worker``; the test process builds the same app with :func:`make_flask` as
its web side. Both read ``CW_TEST_REDIS_URL``, ``CW_TEST_PREFIX``, ``CW_CONV_DB`` and ``CW_CONV_FAKE_URL``.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from cw_worker_app import make_app
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from claude_web_flask import ClaudeWeb
from claude_web_flask.conversations import conversations_blueprint
from claude_web_flask.jobs import register_tasks

REDIS_URL = os.environ.get("CW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PREFIX = os.environ.get("CW_TEST_PREFIX", "cwtest")
ASSISTANTS = {
    "default": {"MODEL": "claude-sonnet-4-5", "SYSTEM": "You are on Celery.", "TOOLS": ["cw_conv_app:double"]},
}


def double(number: int) -> int:
    """Doubles a number (a tool run in the worker)."""
    return number * 2


def make_flask(db_path: str, fake_url: str) -> Flask:
    app = Flask("cw_conv")
    app.testing = True  # the fake backend
    app.config.update(
        SECRET_KEY="cw-conv",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
        CLAUDE_WEB_CLIENTS={"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_url, "max_retries": 0}}},
        CLAUDE_WEB_ASSISTANTS=ASSISTANTS,
        CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
        CLAUDE_WEB_JOBS={"REDIS_URL": REDIS_URL, "KEY_PREFIX": PREFIX, "CELERY_APP": "cw_conv_app:celery_app",
                         "HEARTBEAT": 1.0},
    )  # fmt: skip
    SQLAlchemy(app)
    ClaudeWeb(app, user_loader=lambda: request.headers.get("X-Test-User"))
    app.register_blueprint(conversations_blueprint, url_prefix="/conversations")
    return app


celery_app: Celery = make_app(REDIS_URL, PREFIX)
_flask: Any = None

if os.environ.get("CW_CONV_DB"):  # the worker: the same app, with its store, tools and usage table
    _flask = make_flask(os.environ["CW_CONV_DB"], os.environ["CW_CONV_FAKE_URL"])
    register_tasks(celery_app, _flask)
