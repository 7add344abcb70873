"""Deployment checks of parsed settings, for Django's ``manage.py check`` and Flask's ``init_app`` / ``flask claude
ping`` alike. Each problem has a stable code (Django shows it as ``claude_web.<code>``).

==========  =====================================================================================
``E002``    an ``anthropic`` client has no API key (OPTIONS, ``API_KEY_ENV`` or ``ANTHROPIC_API_KEY``)
``E003``    a ``bedrock`` client without the ``bedrock`` extra (boto3) installed
``E004``    a ``vertex`` client without the ``vertex`` extra (google-auth) installed
``W001``    a ``fake`` client while not in debug mode
``W003``    a chat or assistant model without a price (its cost will be empty)
``W004``    ``JOBS["REDIS_URL"]`` is set but Redis cannot be reached (jobs would answer 503)
``W005``    an assistant's tool cannot be imported (its conversations would end with an error)
==========  =====================================================================================
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ..pricing import price_for
from .settings import WebSettings

__all__ = ["Problem", "check_settings", "redis_reachable"]


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    code: str
    message: str
    hint: str


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def redis_reachable(url: str, timeout: float = 0.5) -> str | None:
    """``None`` when a Redis at ``url`` answers ``PING``; otherwise why not (for a message)."""
    try:
        import redis
    except ImportError:
        return 'redis-py is not installed (pip install "claude-web[celery]")'
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except (TimeoutError, redis.RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _tool_problems(settings: WebSettings, name: str) -> list[Problem]:
    from .settings import ConfigError
    from .tools import ToolRegistry

    registry = ToolRegistry()
    problems: list[Problem] = []
    for assistant in settings.assistants.values():
        try:
            registry.resolve(assistant.tools, where=f"{name} ASSISTANTS[{assistant.name!r}]['TOOLS']")
        except ConfigError as exc:
            problems.append(
                Problem(
                    "warning",
                    "W005",
                    str(exc).split(". Write")[0] + ".",
                    "Write the dotted path of a function decorated with @claude_web.web.tools.tool, importable in "
                    "web processes and workers alike.",
                )
            )
    return problems


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"  # never the password


def check_settings(
    settings: WebSettings,
    *,
    debug: bool,
    environ: Mapping[str, str] | None = None,
    network: bool = True,
    name: str = "CLAUDE_WEB",
    import_tools: bool = True,
) -> list[Problem]:
    """The problems of ``settings`` (``network=False`` skips the Redis reachability check, ``import_tools=False``
    the import of the assistants' tools, e.g. while the app module itself is still being imported)."""
    problems: list[Problem] = []
    for alias, client in settings.clients.items():
        where = f"{name} CLIENTS[{alias!r}]"
        if client.backend == "anthropic" and not client.has_credentials(environ):
            problems.append(
                Problem(
                    "error",
                    "E002",
                    f"{where} has no API key.",
                    f"Set OPTIONS['api_key'] (e.g. from os.environ), API_KEY_ENV, or the ANTHROPIC_API_KEY "
                    f"environment variable for {where}.",
                )
            )
        elif client.backend == "bedrock" and not _has_module("boto3"):
            problems.append(
                Problem(
                    "error",
                    "E003",
                    f"{where} uses the 'bedrock' backend but boto3 is not installed.",
                    "pip install 'claude-web[bedrock]'",
                )  # fmt: skip
            )
        elif client.backend == "vertex" and not _has_module("google.auth"):
            problems.append(
                Problem(
                    "error",
                    "E004",
                    f"{where} uses the 'vertex' backend but google-auth is not installed.",
                    "pip install 'claude-web[vertex]'",
                )  # fmt: skip
            )
        elif client.backend == "fake" and not debug:
            problems.append(
                Problem(
                    "warning",
                    "W001",
                    f"{where} uses the 'fake' backend (FakeClaude) outside debug mode.",
                    "Use the 'anthropic', 'bedrock' or 'vertex' backend in production; 'fake' is for development "
                    "and tests.",
                )
            )
    models = dict.fromkeys([*settings.chat.models, *(a.model for a in settings.assistants.values())])
    for model in models:
        if price_for(model, settings.pricing.table) is None:
            problems.append(
                Problem(
                    "warning",
                    "W003",
                    f"The model {model!r} has no price: its usage rows will have an empty cost.",
                    f"Add it to PRICING['MODELS'], e.g. {{{model!r}: {{'input': '3', 'output': '15', "
                    "'cache_write': '3.75', 'cache_read': '0.3'}}.",
                )
            )
    if import_tools:
        problems.extend(_tool_problems(settings, name))
    redis_url = settings.jobs.get("REDIS_URL")
    if network and isinstance(redis_url, str) and redis_url:
        why = redis_reachable(redis_url)
        if why is not None:
            problems.append(
                Problem(
                    "warning",
                    "W004",
                    f"Jobs use Redis at {_where(redis_url)}, which cannot be reached ({why}); starting a job will "
                    "answer 503 jobs_unavailable.",
                    "Start Redis, or fix JOBS['REDIS_URL'] (remove it to run jobs in-process).",
                )
            )
    return problems
