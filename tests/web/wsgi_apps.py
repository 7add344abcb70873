"""The chat endpoint of each adapter as a WSGI app for real servers in subprocesses (gunicorn, werkzeug, Django's
runserver), configured from the environment: ``CW_FAKE_URL`` (FakeClaude), ``CW_HEARTBEAT`` (seconds),
``CW_USAGE`` (Flask: a JSON-lines file; Django: a SQLite file for the ledger).

- Flask: ``wsgi_apps:flask_app()``, the chat blueprint at ``/claude/chat``;
- Django: ``wsgi_apps:django_app()`` (settings in this module, ``DJANGO_SETTINGS_MODULE=wsgi_apps``), the chat view
  at ``/claude/chat/``, no login and no CSRF middleware (a browser-like client without cookies).
"""

from __future__ import annotations

import os
from typing import Any

_CLIENTS = {
    "default": {
        "BACKEND": "anthropic",
        "OPTIONS": {
            "base_url": os.environ.get("CW_FAKE_URL", "http://127.0.0.1:9"),
            "api_key": "sk-ant-test-wsgi-apps",
            "max_retries": 0,
        },
    }
}
_CHAT = {"LOGIN_REQUIRED": False, "MODELS": ["claude-haiku-4-5"], "DEFAULT_MODEL": "claude-haiku-4-5"}
_HEARTBEAT = float(os.environ.get("CW_HEARTBEAT", "0.5"))

# Django settings (this module is DJANGO_SETTINGS_MODULE for the Django servers)
SECRET_KEY = "wsgi-disconnect-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "claude_web_django"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "wsgi_apps"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("CW_USAGE", ":memory:")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CLAUDE_WEB = {"CLIENTS": _CLIENTS, "CHAT": _CHAT, "STREAMING": {"HEARTBEAT": _HEARTBEAT}}
SILENCED_SYSTEM_CHECKS = ["claude_web.W001"]


def _urlpatterns() -> list[Any]:
    from django.urls import include, path

    return [path("claude/", include("claude_web_django.urls"))]


def __getattr__(name: str) -> Any:  # urlpatterns are built when Django asks for them (after setup)
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def django_app() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wsgi_apps")
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def flask_app() -> Any:
    from flask import Flask

    from claude_web_flask import ClaudeWeb, chat_blueprint

    app = Flask("wsgi_apps")
    app.config.update(
        CLAUDE_WEB_CLIENTS=_CLIENTS,
        CLAUDE_WEB_CHAT_LOGIN_REQUIRED=False,
        CLAUDE_WEB_CHAT_MODELS=_CHAT["MODELS"],
        CLAUDE_WEB_CHAT_DEFAULT_MODEL=_CHAT["DEFAULT_MODEL"],
        CLAUDE_WEB_STREAM_HEARTBEAT=_HEARTBEAT,
        CLAUDE_WEB_USAGE_STORAGE="log",
        CLAUDE_WEB_USAGE_LOG_PATH=os.environ.get("CW_USAGE"),
    )
    ClaudeWeb(app)
    app.register_blueprint(chat_blueprint, url_prefix="/claude")
    return app
