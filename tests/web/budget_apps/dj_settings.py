"""Django settings of the overshoot test's live servers (uvicorn): PostgreSQL ledger, budgets per ``CWB_QUOTAS``.

``CWB_DB`` the PostgreSQL database URL, ``CWB_FAKE`` the FakeClaude URL, ``CWB_QUOTAS`` the ``QUOTAS`` section as
JSON (its store: ``redis`` with ``REDIS_URL``, or ``database``).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

_db = urlsplit(os.environ["CWB_DB"])

SECRET_KEY = "claude-web-budget-overshoot"
DEBUG = True  # the fake backend
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "claude_web_django"]
MIDDLEWARE: list[str] = []  # no sessions or CSRF: anonymous JSON clients
ROOT_URLCONF = "budget_apps.dj_urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": _db.port or 5432,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CLAUDE_WEB = {
    "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": os.environ["CWB_FAKE"], "max_retries": 0}}},
    "CHAT": {"MODELS": ["claude-haiku-4-5"], "LOGIN_REQUIRED": False, "MAX_TOKENS": 1024},
    "QUOTAS": json.loads(os.environ["CWB_QUOTAS"]),
    "STREAMING": {"HEARTBEAT": 5.0},
}
SILENCED_SYSTEM_CHECKS = ["claude_web.W001"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"claude_web": {"handlers": ["console"], "level": "WARNING"}},
}
