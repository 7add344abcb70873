"""System checks (``manage.py check``) with stable ids.

=====================  ===========================================================================
``claude_web.E001``    ``CLAUDE_WEB`` cannot be parsed (the message says what to write)
``claude_web.E002``    an ``anthropic`` client has no API key (OPTIONS or ``ANTHROPIC_API_KEY``)
``claude_web.E003``    a ``bedrock`` client without the ``bedrock`` extra (boto3) installed
``claude_web.E004``    a ``vertex`` client without the ``vertex`` extra (google-auth) installed
``claude_web.E005``    ``CHAT["CLIENT"]`` names a client that is not configured
``claude_web.E006``    ``USAGE["DATABASE"]`` is not in ``DATABASES``
``claude_web.E007``    ``QUOTAS["CACHE"]`` is not in ``CACHES``
``claude_web.E008``    a client's ``BACKEND`` is not one of anthropic, bedrock, vertex, fake
``claude_web.W001``    a ``fake`` client while ``DEBUG`` is ``False``
``claude_web.W002``    quotas counted in a per-process cache (local memory / dummy)
``claude_web.W003``    a chat model without a price (its cost will be empty)
=====================  ===========================================================================
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from claude_web.usage import price_for

from .conf import BACKENDS, ClaudeWebSettings, claude_settings

__all__ = ["check_claude_web"]

_PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def check_claude_web(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        cfg = claude_settings()
    except ImproperlyConfigured as exc:
        unknown = _unknown_backends()
        if unknown:
            return [
                Error(
                    f"CLAUDE_WEB['CLIENTS'][{alias!r}]['BACKEND'] is {backend!r}, which is not a backend.",
                    hint=f"Use one of {', '.join(repr(b) for b in BACKENDS)}.",
                    id="claude_web.E008",
                )
                for alias, backend in unknown
            ]
        return [Error(str(exc), hint="Fix settings.CLAUDE_WEB as the message says.", id="claude_web.E001")]
    return [*_check_clients(cfg), *_check_references(cfg), *_check_pricing(cfg)]


register(check_claude_web, Tags.compatibility, "claude_web")


def _unknown_backends() -> list[tuple[str, Any]]:
    raw = getattr(settings, "CLAUDE_WEB", None)
    clients = raw.get("CLIENTS") if isinstance(raw, dict) else None
    if not isinstance(clients, dict):
        return []
    return [
        (alias, entry.get("BACKEND"))
        for alias, entry in clients.items()
        if isinstance(entry, dict) and "BACKEND" in entry and entry["BACKEND"] not in BACKENDS
    ]


def _check_clients(cfg: ClaudeWebSettings) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, client in cfg.clients.items():
        where = f"CLAUDE_WEB['CLIENTS'][{alias!r}]"
        if client.backend == "anthropic":
            options = client.options
            has_key = (
                options.get("api_key")
                or options.get("auth_token")
                or os.environ.get("ANTHROPIC_API_KEY")
                or os.environ.get("ANTHROPIC_AUTH_TOKEN")
            )
            if not has_key:
                messages.append(
                    Error(
                        f"{where} has no API key.",
                        hint=f"Set {where}['OPTIONS']['api_key'] (e.g. from os.environ) or the ANTHROPIC_API_KEY "
                        "environment variable.",
                        id="claude_web.E002",
                    )
                )
        elif client.backend == "bedrock" and not _has_module("boto3"):
            messages.append(
                Error(
                    f"{where} uses the 'bedrock' backend but boto3 is not installed.",
                    hint="pip install 'claude-web[bedrock]'",
                    id="claude_web.E003",
                )
            )
        elif client.backend == "vertex" and not _has_module("google.auth"):
            messages.append(
                Error(
                    f"{where} uses the 'vertex' backend but google-auth is not installed.",
                    hint="pip install 'claude-web[vertex]'",
                    id="claude_web.E004",
                )
            )
        elif client.backend == "fake" and not settings.DEBUG:
            messages.append(
                Warning(
                    f"{where} uses the 'fake' backend (FakeClaude) while DEBUG is False.",
                    hint="Use the 'anthropic', 'bedrock' or 'vertex' backend in production; 'fake' is for "
                    "development and tests.",
                    id="claude_web.W001",
                )
            )
    return messages


def _check_references(cfg: ClaudeWebSettings) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if cfg.chat.client not in cfg.clients:
        messages.append(
            Error(
                f"CLAUDE_WEB['CHAT']['CLIENT'] is {cfg.chat.client!r}, which is not in CLAUDE_WEB['CLIENTS'].",
                hint=f"Use one of {', '.join(repr(a) for a in cfg.clients)}, or add that client.",
                id="claude_web.E005",
            )
        )
    databases = getattr(settings, "DATABASES", {})
    if cfg.usage.enabled and cfg.usage.database not in databases:
        messages.append(
            Error(
                f"CLAUDE_WEB['USAGE']['DATABASE'] is {cfg.usage.database!r}, which is not in DATABASES.",
                hint=f"Use one of {', '.join(repr(a) for a in databases)}.",
                id="claude_web.E006",
            )
        )
    if cfg.quotas.limits.enabled:
        caches = getattr(settings, "CACHES", {})
        cache = caches.get(cfg.quotas.cache)
        if cache is None:
            messages.append(
                Error(
                    f"CLAUDE_WEB['QUOTAS']['CACHE'] is {cfg.quotas.cache!r}, which is not in CACHES.",
                    hint=f"Use one of {', '.join(repr(a) for a in caches)}.",
                    id="claude_web.E007",
                )
            )
        elif cache.get("BACKEND") in _PER_PROCESS_CACHES:
            messages.append(
                Warning(
                    f"Quotas are counted in the {cfg.quotas.cache!r} cache, which lives in one process: with several "
                    "worker processes each counts on its own and the limits are not enforced.",
                    hint="Point CLAUDE_WEB['QUOTAS']['CACHE'] at a shared cache (Redis, Memcached, database).",
                    id="claude_web.W002",
                )
            )
    return messages


def _check_pricing(cfg: ClaudeWebSettings) -> list[CheckMessage]:
    return [
        Warning(
            f"The chat model {model!r} has no price: its usage rows will have an empty cost.",
            hint=f"Add it to CLAUDE_WEB['PRICING']['MODELS'], e.g. {{{model!r}: {{'input': '3', 'output': '15', "
            "'cache_write': '3.75', 'cache_read': '0.3'}}.",
            id="claude_web.W003",
        )
        for model in cfg.chat.models
        if price_for(model, cfg.pricing.table) is None
    ]
