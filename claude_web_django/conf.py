"""``settings.CLAUDE_WEB``, read by the web layer's one schema (:mod:`claude_web.web.settings`).

``CLAUDE_WEB`` is shaped like ``DATABASES`` / ``CACHES``::

    CLAUDE_WEB = {
        "CLIENTS": {
            "default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": env("ANTHROPIC_API_KEY")}},
            "fast": {"BACKEND": "bedrock", "OPTIONS": {"aws_region": "us-east-1"}},
        },
        "USAGE": {"ENABLED": True, "DATABASE": "default"},
        "PRICING": {"MODELS": {"my-finetune": {"input": "3", "output": "15", "cache_write": "3.75",
                                               "cache_read": "0.3"}}},
        "QUOTAS": {"REQUESTS_PER_MINUTE": 20, "TOKENS_PER_DAY": 200_000, "COST_PER_MONTH": "25.00"},
        "CHAT": {"MODELS": ["claude-haiku-4-5"], "DEFAULT_MODEL": "claude-haiku-4-5", "MAX_TOKENS": 1024},
        "STREAMING": {"HEARTBEAT": 15.0},
        "JOBS": {"REDIS_URL": "redis://127.0.0.1:6379/0"},
    }

Every key is documented in :mod:`claude_web.web.settings` (the same keys as Flask's ``CLAUDE_WEB_*`` and the
workers' environment). Without ``CLAUDE_WEB`` there is one ``default`` client on the ``anthropic`` backend that
reads ``ANTHROPIC_API_KEY``. The parsed result is cached and dropped when a test changes the setting.

>>> from claude_web_django.conf import claude_settings
>>> claude_settings().chat.max_tokens
1024
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from claude_web.web import settings as schema
from claude_web.web.settings import (
    BACKENDS,
    ChatSettings,
    ClientSettings,
    PricingSettings,
    QuotaSettings,
    StreamingSettings,
    UsageSettings,
    WebSettings,
)

__all__ = [
    "BACKENDS",
    "ChatSettings",
    "ClaudeWebSettings",
    "ClientSettings",
    "PricingSettings",
    "QuotaSettings",
    "SettingsError",
    "StreamingSettings",
    "UsageSettings",
    "claude_settings",
    "parse_settings",
    "reset",
]

ClaudeWebSettings = WebSettings


class SettingsError(ImproperlyConfigured, schema.ConfigError):
    """``CLAUDE_WEB`` is wrong: Django's ``ImproperlyConfigured`` (and a ``ValueError``), saying what to write."""


def parse_settings(raw: Any) -> WebSettings:
    """Parse a ``CLAUDE_WEB`` value (``None`` for absent); raises :class:`SettingsError` saying what to write."""
    try:
        parsed = schema.parse_settings(raw)
    except schema.ConfigError as exc:
        raise SettingsError(str(exc)) from None
    return dataclasses.replace(parsed, error_class=SettingsError)


_lock = threading.Lock()
_cached: WebSettings | None = None


def claude_settings() -> WebSettings:
    """The parsed ``CLAUDE_WEB`` setting (cached until the setting changes)."""
    global _cached
    current = _cached
    if current is not None:
        return current
    with _lock:
        if _cached is None:
            _cached = parse_settings(getattr(settings, "CLAUDE_WEB", None))
        return _cached


def reset() -> None:
    """Forget the parsed settings (called on ``setting_changed`` for ``CLAUDE_WEB``)."""
    global _cached
    with _lock:
        _cached = None
