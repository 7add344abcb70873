"""A minimal Django project for bench/django_stream.py: the chat views, no login, no CSRF, usage rows on SQLite.

Configured from the environment: ``BENCH_FAKE_URL`` (FakeClaude), ``BENCH_DB`` (SQLite file).
"""

from __future__ import annotations

import os

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "claude_web_django"],
        MIDDLEWARE=["claude_web_django.middleware.ClaudeMiddleware"],
        ROOT_URLCONF="claude_web_django.urls",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ["BENCH_DB"],
                "OPTIONS": {"timeout": 30},
            }
        },
        CLAUDE_WEB={
            "CLIENTS": {
                "default": {"BACKEND": "fake", "OPTIONS": {"base_url": os.environ["BENCH_FAKE_URL"], "max_retries": 0}}
            },
            "CHAT": {"LOGIN_REQUIRED": False, "MODELS": ["claude-haiku-4-5"], "DEFAULT_MODEL": "claude-haiku-4-5"},
            "STREAMING": {"HEARTBEAT": 15.0},
        },
        SILENCED_SYSTEM_CHECKS=["claude_web.W001"],
        LOGGING_CONFIG=None,
    )
    django.setup()

from django.core.asgi import get_asgi_application

application = get_asgi_application()
