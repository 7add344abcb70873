"""Settings of the small Django project the claude_web_django tests run against.

SQLite (a file, so live-server threads share it) is the ``default`` database. The ``postgres`` alias is
PostgreSQL when it is reachable (or required by ``CLAUDE_WEB_REQUIRE_SERVICES=1``); otherwise it is a second
SQLite file, and the tests that need PostgreSQL skip through the ``postgres_dsn`` fixture.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

_TMP = Path(tempfile.gettempdir())
_POSTGRES_DSN = os.environ.get("CLAUDE_WEB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_config() -> dict[str, object] | None:
    url = urlsplit(_POSTGRES_DSN)
    host, port = url.hostname or "127.0.0.1", url.port or 5432
    if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") != "1":
        try:
            with socket.create_connection((host, port), timeout=1.0):
                pass
        except OSError:
            return None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.path.lstrip("/") or "test",
        "USER": url.username or "postgres",
        "PASSWORD": url.password or "",
        "HOST": host,
        "PORT": port,
        "TEST": {"NAME": f"test_claude_web_django_{os.getpid()}"},
    }


SECRET_KEY = "claude-web-django-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "claude_web_django",
    "cw_testproject.conversations",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "claude_web_django.middleware.ClaudeMiddleware",
]

ROOT_URLCONF = "cw_testproject.urls"

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
            ],
        },
    }
]

DATABASES: dict[str, dict[str, object]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_TMP / f"claude_web_django_{os.getpid()}.sqlite3"),
        "TEST": {"NAME": str(_TMP / f"claude_web_django_test_{os.getpid()}.sqlite3")},
    },
    "postgres": _postgres_config()
    or {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_TMP / f"claude_web_django_pg_{os.getpid()}.sqlite3"),
        "TEST": {"NAME": str(_TMP / f"claude_web_django_pg_test_{os.getpid()}.sqlite3")},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "claude-web-tests"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"

# replaced per test by the `claude_web_settings` fixture with the URL of a running FakeClaude
CLAUDE_WEB = {
    "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9", "max_retries": 0}}},
    "CHAT": {
        "MODELS": ["claude-haiku-4-5", "claude-sonnet-4-5"],
        "DEFAULT_MODEL": "claude-haiku-4-5",
        "MAX_TOKENS": 1024,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"claude_web_django": {"handlers": ["console"], "level": "WARNING"}},
}
SILENCED_SYSTEM_CHECKS = ["claude_web.W001"]
