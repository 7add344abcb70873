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
``claude_web.W002``    budgets kept in a per-process cache (local memory / dummy)
``claude_web.W003``    a chat or assistant model without a price (its cost will be empty)
``claude_web.W004``    ``JOBS["REDIS_URL"]`` is set but Redis cannot be reached (jobs would answer 503)
``claude_web.W005``    an assistant's tool cannot be imported (its conversations would end with an error)
=====================  ===========================================================================
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from claude_web.web.checks import check_settings

from .conf import BACKENDS, ClaudeWebSettings, claude_settings

__all__ = ["check_claude_web"]

_PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def check_claude_web(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        cfg = claude_settings()
    except ImproperlyConfigured as exc:
        return _parse_failure(exc)
    problems = check_settings(cfg, debug=bool(settings.DEBUG))
    messages: list[CheckMessage] = [
        (Error if p.level == "error" else Warning)(p.message, hint=p.hint, id=f"claude_web.{p.code}") for p in problems
    ]
    return [*messages, *_check_references(cfg)]


register(check_claude_web, Tags.compatibility, "claude_web")


def _parse_failure(exc: ImproperlyConfigured) -> list[CheckMessage]:
    raw = getattr(settings, "CLAUDE_WEB", None)
    clients = raw.get("CLIENTS") if isinstance(raw, dict) else None
    if isinstance(clients, dict):
        unknown = [
            (alias, entry.get("BACKEND"))
            for alias, entry in clients.items()
            if isinstance(entry, dict)
            and isinstance(entry.get("BACKEND"), str)
            and entry["BACKEND"] not in BACKENDS
            and ":" not in entry["BACKEND"]
        ]
        if unknown:
            return [
                Error(
                    f"CLAUDE_WEB['CLIENTS'][{alias!r}]['BACKEND'] is {backend!r}, which is not a backend.",
                    hint=f"Use one of {', '.join(repr(b) for b in BACKENDS)}, or a 'package.module:Class' path.",
                    id="claude_web.E008",
                )
                for alias, backend in unknown
            ]
        chat = raw.get("CHAT") if isinstance(raw, dict) else None
        chat_client = chat.get("CLIENT") if isinstance(chat, dict) else None
        if isinstance(chat_client, str) and chat_client not in clients:
            return [
                Error(
                    f"CLAUDE_WEB['CHAT']['CLIENT'] is {chat_client!r}, which is not in CLAUDE_WEB['CLIENTS'].",
                    hint=f"Use one of {', '.join(repr(a) for a in clients)}, or add that client.",
                    id="claude_web.E005",
                )
            ]
    return [Error(str(exc), hint="Fix settings.CLAUDE_WEB as the message says.", id="claude_web.E001")]


def _check_references(cfg: ClaudeWebSettings) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    databases = getattr(settings, "DATABASES", {})
    if cfg.usage.enabled and cfg.usage.database not in databases:
        messages.append(
            Error(
                f"CLAUDE_WEB['USAGE']['DATABASE'] is {cfg.usage.database!r}, which is not in DATABASES.",
                hint=f"Use one of {', '.join(repr(a) for a in databases)}.",
                id="claude_web.E006",
            )
        )
    if cfg.quotas.enabled and cfg.quotas.store == "cache":
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
                    f"Budgets follow the {cfg.quotas.cache!r} cache, which lives in one process: with several "
                    "worker processes each keeps its own and the limits are not enforced.",
                    hint="Point CLAUDE_WEB['QUOTAS']['CACHE'] at a Redis cache, or set CLAUDE_WEB['QUOTAS']['STORE'] "
                    "to 'database' (or 'redis' with a REDIS_URL).",
                    id="claude_web.W002",
                )
            )
    return messages
