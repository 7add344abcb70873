"""The one reader of ``settings.CLAUDE_WEB``: defaults, validation, and messages that say what to write.

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
    }

Keys (all optional):

- ``CLIENTS``: alias -> ``{"BACKEND": "anthropic" | "bedrock" | "vertex" | "fake", "OPTIONS": {...}}``;
  ``OPTIONS`` are the client's keyword arguments (``api_key``, ``base_url``, ``max_retries``, ``timeout``,
  ``aws_region``, ``project_id``, ...). ``fake`` needs ``base_url`` (a FakeClaude) and uses a dummy key.
- ``USAGE``: ``ENABLED`` (store ``TokenUsage`` rows, default True), ``DATABASE`` (alias, default "default"; a
  second alias on the same database keeps rows out of the request's transaction), ``STORE_CONTEXT`` (True).
- ``PRICING``: ``MODELS`` (model-id prefix -> ``input``/``output``/``cache_write``/``cache_read`` USD per
  million tokens, optional ``cache_write_1h``, ``long_context``, ``batch_discount``, ``web_search_per_1k``,
  ``web_fetch_per_1k``, ``as_of``, ``source``; see :mod:`claude_web.pricing`), ``INCLUDE_DEFAULTS`` (merge over
  :data:`claude_web.pricing.DEFAULT_PRICING`, default True).
- ``QUOTAS``: ``REQUESTS_PER_MINUTE``, ``TOKENS_PER_DAY``, ``TOKENS_PER_MONTH``, ``COST_PER_MONTH`` (USD),
  ``CACHE`` (alias, default "default"), ``KEY_PREFIX``.
- ``CHAT``: ``CLIENT`` (alias), ``MODELS`` (allow-list), ``DEFAULT_MODEL``, ``MAX_TOKENS`` (cap, 1024),
  ``MAX_MESSAGES``, ``MAX_CHARS``, ``ALLOW_SYSTEM``, ``LOGIN_REQUIRED`` (True).
- ``STREAMING``: ``HEARTBEAT`` (seconds, 15.0), ``REQUEST_ID_HEADER`` ("X-Request-ID").

Without ``CLAUDE_WEB`` there is one ``default`` client on the ``anthropic`` backend that
reads ``ANTHROPIC_API_KEY`` from the environment. The parsed result is cached and dropped when a test changes
the setting (``override_settings`` sends ``setting_changed``).

>>> from claude_web_django.conf import claude_settings
>>> claude_settings().chat.max_tokens
1024
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from claude_web.chat import ChatPolicy
from claude_web.pricing import DEFAULT_PRICING, ModelPrice, PriceTable, PricingError
from claude_web.quotas import QuotaLimits

__all__ = [
    "BACKENDS",
    "ChatSettings",
    "ClaudeWebSettings",
    "ClientSettings",
    "PricingSettings",
    "QuotaSettings",
    "StreamingSettings",
    "UsageSettings",
    "claude_settings",
    "parse_settings",
    "reset",
]

BACKENDS = ("anthropic", "bedrock", "vertex", "fake")
DEFAULT_CHAT_MODEL = "claude-haiku-4-5"

_SECTIONS = (
    "CLIENTS",
    "USAGE",
    "PRICING",
    "QUOTAS",
    "CHAT",
    "STREAMING",
    "JOBS",
)  # JOBS is read by claude_web_django.jobs
_CLIENT_KEYS = ("BACKEND", "OPTIONS")
_USAGE_KEYS = ("ENABLED", "DATABASE", "STORE_CONTEXT")
_QUOTA_KEYS = ("REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH", "COST_PER_MONTH", "CACHE", "KEY_PREFIX")
_CHAT_KEYS = (
    "CLIENT",
    "MODELS",
    "DEFAULT_MODEL",
    "MAX_TOKENS",
    "MAX_MESSAGES",
    "MAX_CHARS",
    "ALLOW_SYSTEM",
    "LOGIN_REQUIRED",
)
_STREAMING_KEYS = ("HEARTBEAT", "REQUEST_ID_HEADER")


@dataclass(frozen=True)
class ClientSettings:
    """One entry of ``CLAUDE_WEB["CLIENTS"]``."""

    alias: str
    backend: str
    options: Mapping[str, Any]

    def __repr__(self) -> str:  # never show credentials
        shown = {k: ("<redacted>" if _secret(k) else v) for k, v in self.options.items()}
        return f"ClientSettings(alias={self.alias!r}, backend={self.backend!r}, options={shown!r})"


@dataclass(frozen=True)
class UsageSettings:
    enabled: bool = True
    database: str = "default"
    store_context: bool = True


@dataclass(frozen=True)
class PricingSettings:
    table: Mapping[str, ModelPrice] = field(default_factory=lambda: DEFAULT_PRICING)


@dataclass(frozen=True)
class QuotaSettings:
    limits: QuotaLimits = field(default_factory=QuotaLimits)
    cache: str = "default"
    key_prefix: str = "claude_web:quota"


@dataclass(frozen=True)
class ChatSettings:
    client: str = "default"
    models: tuple[str, ...] = (DEFAULT_CHAT_MODEL,)
    default_model: str = DEFAULT_CHAT_MODEL
    max_tokens: int = 1024
    max_messages: int = 200
    max_chars: int = 200_000
    allow_system: bool = True
    login_required: bool = True

    def policy(self) -> ChatPolicy:
        """The core validator for chat bodies, configured from these settings."""
        return ChatPolicy(
            models=self.models,
            default_model=self.default_model,
            max_tokens_cap=self.max_tokens,
            max_messages=self.max_messages,
            max_chars=self.max_chars,
            allow_system=self.allow_system,
        )


@dataclass(frozen=True)
class StreamingSettings:
    heartbeat: float = 15.0
    request_id_header: str = "X-Request-ID"


@dataclass(frozen=True)
class ClaudeWebSettings:
    """``settings.CLAUDE_WEB``, parsed and completed with defaults."""

    clients: Mapping[str, ClientSettings]
    usage: UsageSettings = field(default_factory=UsageSettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)
    quotas: QuotaSettings = field(default_factory=QuotaSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    streaming: StreamingSettings = field(default_factory=StreamingSettings)

    def client(self, alias: str) -> ClientSettings:
        """The settings of client ``alias``; a missing alias says what to add to settings."""
        try:
            return self.clients[alias]
        except KeyError:
            known = ", ".join(repr(a) for a in self.clients) or "none"
            raise ImproperlyConfigured(
                f"CLAUDE_WEB['CLIENTS'] has no {alias!r} client (configured: {known}). Add it to settings, e.g. "
                f"CLAUDE_WEB = {{'CLIENTS': {{{alias!r}: {{'BACKEND': 'anthropic', "
                f"'OPTIONS': {{'api_key': os.environ['ANTHROPIC_API_KEY']}}}}}}}}"
            ) from None


_lock = threading.Lock()
_cached: ClaudeWebSettings | None = None


def claude_settings() -> ClaudeWebSettings:
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


def _secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in ("key", "token", "secret", "password", "credentials"))


def _fail(where: str, problem: str, example: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{where} {problem}. Write it like: {example}")


def _mapping(value: Any, where: str, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a dict, not {type(value).__name__}", example)
    return value


def _check_keys(data: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ImproperlyConfigured(
            f"{where} has unknown key(s) {', '.join(repr(k) for k in unknown)}; "
            f"known keys: {', '.join(repr(k) for k in known)}"
        )


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"must be True or False, not {value!r}", f"{where} = True")
    return value


def _positive_int(value: Any, where: str, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"must be a positive integer, not {value!r}", f"{where} = {example}")
    return value


def _str(value: Any, where: str, example: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, f"must be a non-empty string, not {value!r}", f"{where} = {example!r}")
    return value


def parse_settings(raw: Any) -> ClaudeWebSettings:
    """Parse a ``CLAUDE_WEB`` value (``None`` for absent); raises ``ImproperlyConfigured`` saying what to write."""
    if raw is None:
        raw = {}
    data = _mapping(raw, "settings.CLAUDE_WEB", "CLAUDE_WEB = {'CLIENTS': {'default': {'BACKEND': 'anthropic'}}}")
    _check_keys(data, _SECTIONS, "settings.CLAUDE_WEB")
    return ClaudeWebSettings(
        clients=_parse_clients(data.get("CLIENTS")),
        usage=_parse_usage(data.get("USAGE", {})),
        pricing=_parse_pricing(data.get("PRICING", {})),
        quotas=_parse_quotas(data.get("QUOTAS", {})),
        chat=_parse_chat(data.get("CHAT", {})),
        streaming=_parse_streaming(data.get("STREAMING", {})),
    )


def _parse_clients(raw: Any) -> dict[str, ClientSettings]:
    example = "CLAUDE_WEB['CLIENTS'] = {'default': {'BACKEND': 'anthropic', 'OPTIONS': {'api_key': '...'}}}"
    if raw is None:
        return {"default": ClientSettings("default", "anthropic", {})}
    clients = _mapping(raw, "CLAUDE_WEB['CLIENTS']", example)
    if not clients:
        raise _fail("CLAUDE_WEB['CLIENTS']", "is empty", example)
    parsed: dict[str, ClientSettings] = {}
    for alias, entry in clients.items():
        where = f"CLAUDE_WEB['CLIENTS'][{alias!r}]"
        if not isinstance(alias, str) or not alias:
            raise _fail("CLAUDE_WEB['CLIENTS']", f"has a non-string alias {alias!r}", example)
        entry = _mapping(entry, where, "{'BACKEND': 'anthropic', 'OPTIONS': {...}}")
        _check_keys(entry, _CLIENT_KEYS, where)
        backend = entry.get("BACKEND", "anthropic")
        if backend not in BACKENDS:
            raise _fail(
                f"{where}['BACKEND']",
                f"is {backend!r}, which is not a backend; choose one of {', '.join(repr(b) for b in BACKENDS)}",
                f"{where}['BACKEND'] = 'anthropic'",
            )
        options = _mapping(entry.get("OPTIONS", {}), f"{where}['OPTIONS']", "{'api_key': '...', 'max_retries': 2}")
        if backend == "fake" and not options.get("base_url"):
            raise _fail(
                f"{where}['OPTIONS']",
                "needs 'base_url' for the 'fake' backend (the URL of a running FakeClaude server)",
                f"{where} = {{'BACKEND': 'fake', 'OPTIONS': {{'base_url': fake.base_url}}}}",
            )
        parsed[alias] = ClientSettings(alias, backend, dict(options))
    return parsed


def _parse_usage(raw: Any) -> UsageSettings:
    data = _mapping(raw, "CLAUDE_WEB['USAGE']", "{'ENABLED': True, 'DATABASE': 'default'}")
    _check_keys(data, _USAGE_KEYS, "CLAUDE_WEB['USAGE']")
    return UsageSettings(
        enabled=_bool(data.get("ENABLED", True), "CLAUDE_WEB['USAGE']['ENABLED']"),
        database=_str(data.get("DATABASE", "default"), "CLAUDE_WEB['USAGE']['DATABASE']", "default"),
        store_context=_bool(data.get("STORE_CONTEXT", True), "CLAUDE_WEB['USAGE']['STORE_CONTEXT']"),
    )


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise _fail(where, f"must be a number, not {value!r}", f"{where} = '3.00'")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _fail(where, f"must be a number, not {value!r}", f"{where} = '3.00'") from None
    if not result.is_finite() or result < 0:
        raise _fail(where, f"must be a non-negative number, not {value!r}", f"{where} = '3.00'")
    return result


def _parse_pricing(raw: Any) -> PricingSettings:
    try:
        table = PriceTable.from_settings(raw, name="CLAUDE_WEB['PRICING']")
    except PricingError as exc:
        raise _fail(exc.key, exc.problem, exc.example) from None
    return PricingSettings(table=table)


def _parse_quotas(raw: Any) -> QuotaSettings:
    data = _mapping(raw, "CLAUDE_WEB['QUOTAS']", "{'REQUESTS_PER_MINUTE': 20, 'TOKENS_PER_DAY': 200000}")
    _check_keys(data, _QUOTA_KEYS, "CLAUDE_WEB['QUOTAS']")
    limits: dict[str, Any] = {}
    for key in ("REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH"):
        if data.get(key) is not None:
            limits[key] = _positive_int(data[key], f"CLAUDE_WEB['QUOTAS'][{key!r}]", 100)
    if data.get("COST_PER_MONTH") is not None:
        limits["COST_PER_MONTH"] = _decimal(data["COST_PER_MONTH"], "CLAUDE_WEB['QUOTAS']['COST_PER_MONTH']")
    return QuotaSettings(
        limits=QuotaLimits.from_mapping(limits),
        cache=_str(data.get("CACHE", "default"), "CLAUDE_WEB['QUOTAS']['CACHE']", "default"),
        key_prefix=_str(
            data.get("KEY_PREFIX", "claude_web:quota"), "CLAUDE_WEB['QUOTAS']['KEY_PREFIX']", "claude_web:quota"
        ),
    )


def _parse_chat(raw: Any) -> ChatSettings:
    data = _mapping(raw, "CLAUDE_WEB['CHAT']", "{'MODELS': ['claude-haiku-4-5'], 'MAX_TOKENS': 1024}")
    _check_keys(data, _CHAT_KEYS, "CLAUDE_WEB['CHAT']")
    models_raw = data.get("MODELS", [data.get("DEFAULT_MODEL", DEFAULT_CHAT_MODEL)])
    if (
        isinstance(models_raw, str)
        or not isinstance(models_raw, Sequence)
        or not models_raw
        or not all(isinstance(m, str) and m for m in models_raw)
    ):
        raise _fail(
            "CLAUDE_WEB['CHAT']['MODELS']",
            f"must be a non-empty list of model ids, not {models_raw!r}",
            "CLAUDE_WEB['CHAT']['MODELS'] = ['claude-haiku-4-5', 'claude-sonnet-4-5']",
        )
    models = tuple(models_raw)
    default_model = _str(data.get("DEFAULT_MODEL", models[0]), "CLAUDE_WEB['CHAT']['DEFAULT_MODEL']", models[0])
    if default_model not in models:
        raise _fail(
            "CLAUDE_WEB['CHAT']['DEFAULT_MODEL']",
            f"is {default_model!r}, which is not in MODELS",
            f"CLAUDE_WEB['CHAT']['DEFAULT_MODEL'] = {models[0]!r}",
        )
    return ChatSettings(
        client=_str(data.get("CLIENT", "default"), "CLAUDE_WEB['CHAT']['CLIENT']", "default"),
        models=models,
        default_model=default_model,
        max_tokens=_positive_int(data.get("MAX_TOKENS", 1024), "CLAUDE_WEB['CHAT']['MAX_TOKENS']", 1024),
        max_messages=_positive_int(data.get("MAX_MESSAGES", 200), "CLAUDE_WEB['CHAT']['MAX_MESSAGES']", 200),
        max_chars=_positive_int(data.get("MAX_CHARS", 200_000), "CLAUDE_WEB['CHAT']['MAX_CHARS']", 200_000),
        allow_system=_bool(data.get("ALLOW_SYSTEM", True), "CLAUDE_WEB['CHAT']['ALLOW_SYSTEM']"),
        login_required=_bool(data.get("LOGIN_REQUIRED", True), "CLAUDE_WEB['CHAT']['LOGIN_REQUIRED']"),
    )


def _parse_streaming(raw: Any) -> StreamingSettings:
    data = _mapping(raw, "CLAUDE_WEB['STREAMING']", "{'HEARTBEAT': 15.0}")
    _check_keys(data, _STREAMING_KEYS, "CLAUDE_WEB['STREAMING']")
    heartbeat = data.get("HEARTBEAT", 15.0)
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, (int, float)) or heartbeat <= 0:
        raise _fail(
            "CLAUDE_WEB['STREAMING']['HEARTBEAT']",
            f"must be a positive number of seconds, not {heartbeat!r}",
            "CLAUDE_WEB['STREAMING']['HEARTBEAT'] = 15.0",
        )
    return StreamingSettings(
        heartbeat=float(heartbeat),
        request_id_header=_str(
            data.get("REQUEST_ID_HEADER", "X-Request-ID"),
            "CLAUDE_WEB['STREAMING']['REQUEST_ID_HEADER']",
            "X-Request-ID",
        ),
    )
