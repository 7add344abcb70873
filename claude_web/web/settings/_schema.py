"""The settings schema: sections, keys and defaults, and the frozen dataclasses the parsers fill."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...pricing import DEFAULT_PRICING, ModelPrice
from ...quotas import QuotaLimits
from .._values import (
    ConfigError,
)
from ..assistants import (
    CONVERSATION_DEFAULTS,
    AssistantSettings,
    ConversationSettings,
)
from ..pool import PoolSettings

BACKENDS = ("anthropic", "bedrock", "vertex", "fake")
"""Built-in client backends; a ``"package.module:Class"`` path names any other client class."""
DEFAULT_CHAT_MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")
FAKE_API_KEY = "fake-key-for-fakeclaude"
"""The key the ``fake`` backend sends when ``OPTIONS`` give none (FakeClaude accepts any key)."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "CLIENTS": (),
    "USAGE": ("ENABLED", "STORE_CONTEXT", "DATABASE", "STORAGE", "TABLE", "CREATE_TABLE", "LOG_PATH"),
    "PRICING": ("MODELS", "INCLUDE_DEFAULTS"),
    "QUOTAS": (
        "REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH", "COST_PER_DAY", "COST_PER_MONTH",
        "PER_ALIAS", "GLOBAL", "ON_EXHAUSTED", "ALERT_AT", "RESERVATION_TTL", "JOB_RESERVATION_TTL", "INPUT_TOKENS",
        "STORE", "CACHE", "REDIS_URL", "KEY_PREFIX", "FAIL_OPEN",
    ),
    "CHAT": (
        "CLIENT", "MODELS", "DEFAULT_MODEL", "MAX_TOKENS", "MAX_MESSAGES", "MAX_CHARS", "MAX_IMAGE_BYTES",
        "MAX_DOCUMENT_BYTES", "ALLOW_SYSTEM", "ALLOW_ASSISTANT_TURNS", "LOGIN_REQUIRED",
    ),
    "STREAMING": ("HEARTBEAT", "REQUEST_ID_HEADER", "RETRY", "MAX_STREAMS"),
    "JOBS": (
        "REDIS_URL", "CELERY_APP", "CLIENT_FACTORY", "USAGE_RECORDER", "OWNER", "ALIASES", "KEY_PREFIX",
        "STREAM_MAXLEN", "TTL", "JOB_TTL", "QUEUE", "MAX_RETRIES", "RETRY_BACKOFF", "RETRY_BACKOFF_MAX",
        "MAX_ATTEMPTS", "CLIENT_MAX_RETRIES", "CREATE_TIMEOUT", "BATCH_POLL_INTERVAL", "HEARTBEAT", "THREADS",
    ),
    "ASSISTANTS": (),
    "CONVERSATIONS": tuple(CONVERSATION_DEFAULTS),
}  # fmt: skip
"""Section -> its keys. ``DATABASE``/``CACHE`` are read by the Django app, ``STORAGE``/``TABLE``/``CREATE_TABLE``/
``LOG_PATH`` by the Flask extension; every other key means the same everywhere. ``ASSISTANTS`` and
``CONVERSATIONS`` are described in :mod:`claude_web.web.assistants`."""
TOP_LEVEL = ("DEFAULT_CLIENT", "USER_LOADER", "REGISTER_ERROR_HANDLERS")

DEFAULTS: dict[str, dict[str, Any]] = {
    "USAGE": {"ENABLED": True, "STORE_CONTEXT": True, "DATABASE": "default", "STORAGE": "auto",
              "TABLE": "claude_web_usage", "CREATE_TABLE": True, "LOG_PATH": None},
    "PRICING": {"MODELS": {}, "INCLUDE_DEFAULTS": True},
    "QUOTAS": {"REQUESTS_PER_MINUTE": None, "TOKENS_PER_DAY": None, "TOKENS_PER_MONTH": None,
               "COST_PER_DAY": None, "COST_PER_MONTH": None, "PER_ALIAS": None, "GLOBAL": None,
               "ON_EXHAUSTED": "finish", "ALERT_AT": [0.8, 1.0], "RESERVATION_TTL": 120,
               "JOB_RESERVATION_TTL": 172_800, "INPUT_TOKENS": "estimate", "STORE": "cache", "CACHE": "default",
               "REDIS_URL": None, "KEY_PREFIX": "claude_web:quota", "FAIL_OPEN": True},
    "CHAT": {"CLIENT": None, "MODELS": None, "DEFAULT_MODEL": None, "MAX_TOKENS": 1024, "MAX_MESSAGES": 200,
             "MAX_CHARS": 200_000, "MAX_IMAGE_BYTES": 5 * 1024 * 1024, "MAX_DOCUMENT_BYTES": 10 * 1024 * 1024,
             "ALLOW_SYSTEM": False, "ALLOW_ASSISTANT_TURNS": False, "LOGIN_REQUIRED": True},
    "STREAMING": {"HEARTBEAT": 15.0, "REQUEST_ID_HEADER": "X-Request-ID", "RETRY": 2000, "MAX_STREAMS": None},
    "JOBS": {},
    "CONVERSATIONS": CONVERSATION_DEFAULTS,
}  # fmt: skip
"""Every default, in one place: ``None`` means "unset" (for ``CHAT``: derived, e.g. ``MODELS`` from
``DEFAULT_MODEL``, ``CLIENT`` from ``DEFAULT_CLIENT``; for ``JOBS``: the jobs code's own defaults)."""
_CLIENT_KEYS = ("BACKEND", "OPTIONS", "ASYNC_BACKEND", "API_KEY_ENV", "POOL")
_SECRET_WORDS = ("key", "token", "secret", "password", "credential")
USAGE_STORAGES = ("auto", "sqlalchemy", "log", "none")
QUOTA_STORES = ("cache", "redis", "database", "memory")
LIMIT_KEYS = ("REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH", "COST_PER_DAY", "COST_PER_MONTH")
"""The limits of one scope: the caller's (top level of ``QUOTAS``), a client's (``PER_ALIAS``), the site's
(``GLOBAL``)."""
ON_EXHAUSTED = ("finish", "stop")
INPUT_TOKEN_MODES = ("estimate", "count")


def is_secret_option(name: str) -> bool:
    """True for option names that hold credentials (``api_key``, ``auth_token``, ``aws_secret_key``...)."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with every credential replaced by ``"<redacted>"`` (for reprs, logs and admin pages)."""
    return {k: ("<redacted>" if is_secret_option(str(k)) else v) for k, v in options.items()}


# -- the settings objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSettings:
    """One entry of ``CLIENTS``: a backend (built-in name or ``"module:Class"``) and its keyword arguments."""

    alias: str
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)
    async_backend: str | None = None
    api_key_env: str | None = None
    pool: PoolSettings = field(default_factory=PoolSettings)
    """The connection pool of the clients built for this entry (``POOL``; see :mod:`claude_web.web.pool`)."""

    def __repr__(self) -> str:  # never show credentials
        return (
            f"ClientSettings(alias={self.alias!r}, backend={self.backend!r}, options={redact(self.options)!r}"
            + (f", async_backend={self.async_backend!r}" if self.async_backend else "")
            + (f", api_key_env={self.api_key_env!r}" if self.api_key_env else "")
            + (f", pool={self.pool!r}" if self.pool != PoolSettings() else "")
            + ")"
        )

    def client_kwargs(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The client's keyword arguments: ``OPTIONS``, the key read from ``API_KEY_ENV``, the fake's dummy key."""
        kwargs = dict(self.options)
        if self.api_key_env and "api_key" not in kwargs:
            env = os.environ if environ is None else environ
            kwargs["api_key"] = env.get(self.api_key_env)
        if self.backend == "fake":
            kwargs.setdefault("api_key", FAKE_API_KEY)
        return kwargs

    def has_credentials(self, environ: Mapping[str, str] | None = None) -> bool:
        """Whether an ``anthropic`` client has a key: in ``OPTIONS``, ``API_KEY_ENV`` or the environment."""
        env = os.environ if environ is None else environ
        options = self.options
        return bool(
            options.get("api_key")
            or options.get("auth_token")
            or (self.api_key_env and env.get(self.api_key_env))
            or env.get("ANTHROPIC_API_KEY")
            or env.get("ANTHROPIC_AUTH_TOKEN")
        )


@dataclass(frozen=True)
class UsageSettings:
    enabled: bool = True
    store_context: bool = True
    database: str = "default"  # Django: the database alias of the ledger
    storage: str = "auto"  # Flask: auto | sqlalchemy | log | none
    table: str = "claude_web_usage"  # Flask: the table name
    create_table: bool = True  # Flask
    log_path: str | None = None  # Flask: JSON lines file


@dataclass(frozen=True)
class PricingSettings:
    table: Mapping[str, ModelPrice] = field(default_factory=lambda: DEFAULT_PRICING)


@dataclass(frozen=True)
class QuotaSettings:
    """The ``QUOTAS`` section: limits per caller (``limits``), per client alias (``per_alias``, ``"*"`` for every
    alias not named) and for the whole site (``global_limits``), and how budgets are kept (see
    :mod:`claude_web.web.budgets`)."""

    limits: QuotaLimits = field(default_factory=QuotaLimits)
    store: str = "cache"  # cache (Django's cache) | redis | database | memory
    cache: str = "default"  # Django: the cache alias
    redis_url: str | None = None
    key_prefix: str = "claude_web:quota"
    fail_open: bool = True
    per_alias: Mapping[str, QuotaLimits] = field(default_factory=dict)
    global_limits: QuotaLimits = field(default_factory=QuotaLimits)
    on_exhausted: str = "finish"  # a budget that runs out mid-stream: finish the answer, or stop it
    alert_at: tuple[Decimal, ...] = (Decimal("0.8"), Decimal("1"))
    reservation_ttl: float = 120.0  # an inline call's hold lives this long without a sign of life
    job_reservation_ttl: float = 172_800.0  # a job's hold (queue, retries, a day-long batch)
    input_tokens: str = "estimate"  # estimate | count (ask the API's count_tokens before each call)

    @property
    def enabled(self) -> bool:
        """Whether any limit is set, for any scope."""
        return self.limits.enabled or self.global_limits.enabled or any(v.enabled for v in self.per_alias.values())

    def alias_limits(self, alias: str) -> QuotaLimits | None:
        """The limits of client ``alias`` (its own entry, else ``"*"``), or ``None``."""
        found = self.per_alias.get(alias) or self.per_alias.get("*")
        return found if found is not None and found.enabled else None


@dataclass(frozen=True)
class ChatSettings:
    client: str = "default"
    models: tuple[str, ...] = DEFAULT_CHAT_MODELS
    default_model: str = DEFAULT_CHAT_MODELS[0]
    max_tokens: int = 1024
    max_messages: int = 200
    max_chars: int = 200_000
    max_image_bytes: int = 5 * 1024 * 1024
    max_document_bytes: int = 10 * 1024 * 1024
    allow_system: bool = False
    allow_assistant_turns: bool = False
    login_required: bool = True

    def policy(self) -> Any:
        """The validator of chat bodies (:class:`claude_web.web.chat.ChatPolicy`) for these settings."""
        from ..chat import ChatPolicy

        return ChatPolicy(
            models=self.models,
            default_model=self.default_model,
            max_tokens_cap=self.max_tokens,
            max_messages=self.max_messages,
            max_chars=self.max_chars,
            max_image_bytes=self.max_image_bytes,
            max_document_bytes=self.max_document_bytes,
            allow_system=self.allow_system,
            allow_assistant_turns=self.allow_assistant_turns,
        )


@dataclass(frozen=True)
class StreamingSettings:
    heartbeat: float = 15.0
    request_id_header: str = "X-Request-ID"
    retry: int = 2000  # the browser's reconnection delay (ms) sent on resumable streams
    max_streams: int | None = None  # concurrent streams per process; beyond it: 503 + Retry-After


@dataclass(frozen=True)
class JobsSettings:
    """The ``JOBS`` section; ``None`` for a key means the jobs code's own default (:class:`~claude_web.jobs.JobsConfig`)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@dataclass(frozen=True)
class WebSettings:
    """All claude-web settings of one app (or worker), parsed and completed with defaults."""

    clients: Mapping[str, ClientSettings]
    default_client: str = "default"
    usage: UsageSettings = field(default_factory=UsageSettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)
    quotas: QuotaSettings = field(default_factory=QuotaSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    streaming: StreamingSettings = field(default_factory=StreamingSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    assistants: Mapping[str, AssistantSettings] = field(default_factory=dict)
    conversations: ConversationSettings = field(default_factory=ConversationSettings)
    user_loader: Any = None  # Flask: callable or "module:function"
    register_error_handlers: bool = True  # Flask
    source: str = field(default="CLAUDE_WEB", compare=False)
    error_class: type[Exception] = field(default=ValueError, compare=False, repr=False)

    def client(self, alias: str) -> ClientSettings:
        """The settings of client ``alias``; a missing alias says what to add."""
        try:
            return self.clients[alias]
        except KeyError:
            known = ", ".join(repr(a) for a in self.clients) or "none"
            error = ConfigError if self.error_class is ValueError else self.error_class
            raise error(
                f"{self.source} has no {alias!r} client in CLIENTS (configured: {known}). Add it, e.g. "
                f"CLAUDE_WEB = {{'CLIENTS': {{{alias!r}: {{'BACKEND': 'anthropic', "
                f"'OPTIONS': {{'api_key': os.environ['ANTHROPIC_API_KEY']}}}}}}}}"
            ) from None
