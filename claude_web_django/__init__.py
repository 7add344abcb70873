"""Claude for Django: per-request clients, streaming chat views, a usage ledger, quotas, admin and commands.

>>> INSTALLED_APPS = [..., "claude_web_django"]
>>> MIDDLEWARE = [..., "claude_web_django.middleware.ClaudeMiddleware"]   # optional: request.claude
>>> from claude_web_django import get_client
>>> get_client().messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[...])

Settings live in one dict, ``CLAUDE_WEB`` (see :mod:`claude_web_django.conf`).
"""

from __future__ import annotations

from .clients import aclient_for, client_for, close_clients, get_async_client, get_client
from .signals import budget_threshold_crossed, usage_recorded

__all__ = [
    "aclient_for",
    "budget_threshold_crossed",
    "client_for",
    "close_clients",
    "get_async_client",
    "get_client",
    "usage_recorded",
]
