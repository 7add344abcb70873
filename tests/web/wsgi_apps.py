"""Each adapter's endpoints as a WSGI app for real servers in subprocesses (gunicorn, werkzeug, Django's
runserver), configured from the environment:

- ``CW_FAKE_URL`` (FakeClaude), ``CW_HEARTBEAT`` (seconds), ``CW_USAGE`` (Flask: a JSON-lines file; Django: the
  SQLite file of the ledger and sessions);
- ``CW_LOGIN_REQUIRED`` (``1``/``0``, default ``0``): the signed-in user is the ``X-User`` header (standing in for a
  login), anybody else is anonymous;
- ``CW_QUOTA_RPM`` (requests per minute per owner, default none), ``CW_MAX_IMAGE_BYTES``, ``CW_MAX_BODY`` (the
  framework's own body limit: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, Flask's ``MAX_CONTENT_LENGTH``),
  ``CW_DEBUG`` (Django's ``DEBUG``).

Flask: ``wsgi_apps:flask_app()``; chat at ``/claude/chat``, jobs at ``/jobs/``. Django: ``wsgi_apps:django_app()``
(settings in this module, ``DJANGO_SETTINGS_MODULE=wsgi_apps``); chat at ``/claude/chat/``, jobs at ``/jobs/``,
``/plain/`` makes a plain ``messages.create`` call; sessions on, no CSRF middleware (a browser-like client with
cookies and nothing else).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

API_KEY = "sk-ant-test-wsgi-apps-SECRET-7f3a"

_CLIENTS = {
    "default": {
        "BACKEND": "anthropic",
        "OPTIONS": {
            "base_url": os.environ.get("CW_FAKE_URL", "http://127.0.0.1:9"),
            "api_key": API_KEY,
            "max_retries": 0,
        },
    }
}
_LOGIN = os.environ.get("CW_LOGIN_REQUIRED", "0") == "1"
_CHAT: dict[str, Any] = {
    "LOGIN_REQUIRED": _LOGIN,
    "MODELS": ["claude-haiku-4-5"],
    "DEFAULT_MODEL": "claude-haiku-4-5",
    "MAX_TOKENS": 1024,
}
if os.environ.get("CW_MAX_IMAGE_BYTES"):
    _CHAT["MAX_IMAGE_BYTES"] = int(os.environ["CW_MAX_IMAGE_BYTES"])
_QUOTAS: dict[str, Any] = {"STORE": "memory"}
if os.environ.get("CW_QUOTA_RPM"):
    _QUOTAS["REQUESTS_PER_MINUTE"] = int(os.environ["CW_QUOTA_RPM"])
_HEARTBEAT = float(os.environ.get("CW_HEARTBEAT", "0.5"))
_MAX_BODY = int(os.environ.get("CW_MAX_BODY", str(2_621_440)))

# Django settings (this module is DJANGO_SETTINGS_MODULE for the Django servers)
SECRET_KEY = "wsgi-apps-tests"
DEBUG = os.environ.get("CW_DEBUG") == "1"
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "claude_web_django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wsgi_apps.HeaderUserMiddleware",
    "claude_web_django.middleware.ClaudeMiddleware",
]
ROOT_URLCONF = "wsgi_apps"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("CW_USAGE", ":memory:")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = _MAX_BODY
CLAUDE_WEB = {
    "CLIENTS": _CLIENTS,
    "CHAT": _CHAT,
    "QUOTAS": _QUOTAS,
    "STREAMING": {"HEARTBEAT": _HEARTBEAT},
    "JOBS": {"THREADS": 2},
}
SILENCED_SYSTEM_CHECKS = ["claude_web.W001"]


class _HeaderUser:
    is_authenticated = True
    is_anonymous = False

    def __init__(self, pk: str) -> None:
        self.pk = self.id = pk


class HeaderUserMiddleware:
    """Django: the ``X-User`` header is the signed-in user (no database user needed)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.contrib.auth.models import AnonymousUser

        who = request.headers.get("X-User")
        request.user = _HeaderUser(who) if who else AnonymousUser()
        return self.get_response(request)


def plain(request: Any) -> Any:
    from django.http import JsonResponse

    message = request.claude.messages.create(
        model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
    )
    return JsonResponse({"text": message.content[0].text})


def _urlpatterns() -> list[Any]:
    from django.urls import include, path

    return [
        path("claude/", include("claude_web_django.urls")),
        path("jobs/", include("claude_web_django.jobs")),
        path("plain/", plain),
    ]


def __getattr__(name: str) -> Any:  # urlpatterns are built when Django asks for them (after setup)
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def django_app() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wsgi_apps")
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def flask_app() -> Any:
    from flask import Flask, request

    from claude_web_flask import ClaudeWeb, chat_blueprint
    from claude_web_flask.jobs import jobs_blueprint

    app = Flask("wsgi_apps")
    app.config.update(
        SECRET_KEY="wsgi-apps-tests",
        MAX_CONTENT_LENGTH=_MAX_BODY,
        CLAUDE_WEB_CLIENTS=_CLIENTS,
        CLAUDE_WEB_STREAM_HEARTBEAT=_HEARTBEAT,
        CLAUDE_WEB_USAGE_STORAGE="log",
        CLAUDE_WEB_USAGE_LOG_PATH=os.environ.get("CW_USAGE"),
        CLAUDE_WEB_QUOTAS=_QUOTAS,
        CLAUDE_WEB_QUOTA_STORE="memory",
        CLAUDE_WEB_JOBS={"THREADS": 2},
        **{f"CLAUDE_WEB_CHAT_{key}": value for key, value in _CHAT.items()},
    )
    ClaudeWeb(app, user_loader=lambda: request.headers.get("X-User") or None)
    app.register_blueprint(chat_blueprint, url_prefix="/claude")
    app.register_blueprint(jobs_blueprint, url_prefix="/jobs")
    return app
