"""Settings of the claude-web demo site.

Which Claude it talks to is decided once, here, from the environment:

- ``ANTHROPIC_API_KEY`` set: the real Anthropic API (backend ``anthropic``);
- otherwise FakeClaude at ``CLAUDE_WEB_FAKE_URL`` (``run_demo.py`` starts one and sets it; default
  ``http://127.0.0.1:8765``, e.g. ``python -m claude_web.testing --port 8765``).

``run_demo.py`` serves the site with uvicorn (ASGI). ``manage.py runserver --insecure`` (WSGI; ``--insecure``
serves the static files with ``DEBUG`` off) works too.

Other knobs: ``DEMO_DATABASE`` (SQLite file, default ``example_project/db.sqlite3``), ``DEMO_DEBUG=1``,
``DEMO_TOKENS_PER_DAY`` (the per-user daily token quota, default 200000), ``DEMO_SECRET_KEY``, ``DEMO_REDIS_URL``
(background jobs on Celery + the Redis relay instead of in-process threads), ``DEMO_OTEL=console|otlp``
(OpenTelemetry traces and metrics, see ``demo_site/telemetry.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "claude-web-demo-not-secret-change-me-in-production")
DEBUG = os.environ.get("DEMO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "claude_web_django",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "claude_web_django.middleware.ClaudeMiddleware",
]

ROOT_URLCONF = "demo_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context.claude_mode",
            ],
        },
    }
]

WSGI_APPLICATION = "demo_site.wsgi.application"
ASGI_APPLICATION = "demo_site.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE") or str(BASE_DIR / "db.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "claude-web-demo"}}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- claude-web ---------------------------------------------------------------------------------------------------

ANTHROPIC_API_KEY = os.environ.get("ANTHROPIC_API_KEY", "")
CLAUDE_WEB_FAKE_URL = os.environ.get("CLAUDE_WEB_FAKE_URL", "http://127.0.0.1:8765")

if ANTHROPIC_API_KEY:
    CLAUDE_MODE = "anthropic"
    _DEFAULT_CLIENT = {"BACKEND": "anthropic", "OPTIONS": {"api_key": ANTHROPIC_API_KEY}}
else:
    CLAUDE_MODE = "fake"
    _DEFAULT_CLIENT = {"BACKEND": "fake", "OPTIONS": {"base_url": CLAUDE_WEB_FAKE_URL}}

# The demo runs FakeClaude on purpose (W001) and serves from one process, so the in-memory quota cache is shared
# by every request (W002). A real deployment would not silence these.
SILENCED_SYSTEM_CHECKS = ["claude_web.W001", "claude_web.W002"]

DEMO_MODELS = ["claude-haiku-4-5", "claude-sonnet-4-5"]

# Background jobs: the long-task page, and every answer in a conversation. Without DEMO_REDIS_URL they run in
# threads of the web process with an in-memory relay; with it they go to Celery workers (``celery -A
# demo_site.celery worker``; run_demo.py --redis-url starts one) and the events travel through Redis Streams, so
# any web process can resume them.
DEMO_REDIS_URL = os.environ.get("DEMO_REDIS_URL") or None
DEMO_JOBS = {
    "REDIS_URL": DEMO_REDIS_URL,
    "CELERY_APP": "demo_site.celery.app" if DEMO_REDIS_URL else None,
    "QUEUE": "claude_web_demo" if DEMO_REDIS_URL else None,  # the worker listens on this queue only
    "KEY_PREFIX": "claude_web_demo",
    "HEARTBEAT": 10.0,
}

# The prompts are the server's: the browser only picks an assistant (or a conversation that has one).
DEMO_ASSISTANTS = {
    "default": {
        "TITLE": "Helper",
        "MODEL": DEMO_MODELS[0],
        "SYSTEM": "You are the claude-web demo's assistant. Answer clearly and briefly.",
        "MAX_TOKENS": 1024,
    },
    "calculator": {
        "TITLE": "Calculator",
        "MODEL": DEMO_MODELS[0],
        "SYSTEM": "Use the calculator tool for any arithmetic; never compute in your head.",
        "TOOLS": ["chat.tools.calculator"],
        "MAX_TOKENS": 1024,
        "MAX_ITERATIONS": 4,
        "TOOL_TIMEOUT": 5,
    },
}

CLAUDE_WEB = {
    "CLIENTS": {"default": _DEFAULT_CLIENT},
    "CHAT": {"MODELS": DEMO_MODELS, "DEFAULT_MODEL": DEMO_MODELS[0], "MAX_TOKENS": 1024, "LOGIN_REQUIRED": True},
    "QUOTAS": {"TOKENS_PER_DAY": int(os.environ.get("DEMO_TOKENS_PER_DAY", "200000"))},
    "STREAMING": {"HEARTBEAT": 10.0},
    "ASSISTANTS": DEMO_ASSISTANTS,
    "CONVERSATIONS": {"DEFAULT_ASSISTANT": "default", "PAGE_SIZE": 15, "MAX_MESSAGE_CHARS": 4000},
    "JOBS": {key: value for key, value in DEMO_JOBS.items() if value is not None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "claude_web": {"handlers": ["console"], "level": "WARNING"},
        "claude_web_django": {"handlers": ["console"], "level": "WARNING"},
        "chat": {"handlers": ["console"], "level": "INFO"},
    },
}
