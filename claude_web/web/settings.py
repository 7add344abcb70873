"""The one settings schema of the web layer, parsed once into frozen dataclasses.

Three sources produce the same :class:`WebSettings`:

- Django's ``settings.CLAUDE_WEB`` dict, shaped like ``DATABASES`` (:func:`parse_settings`);
- Flask's flat ``app.config["CLAUDE_WEB_*"]`` keys (:func:`settings_from_flat`);
- a worker's ``CLAUDE_WEB_*`` environment variables (:func:`settings_from_env`).

The nested shape is the canonical one; a flat key is ``CLAUDE_WEB_<SECTION>`` (a whole section as a dict) or
``CLAUDE_WEB_<SECTION>_<KEY>`` (one key of it), e.g. ``CLAUDE_WEB_CHAT_MAX_TOKENS`` is ``CHAT["MAX_TOKENS"]``.
Every error is a :class:`ConfigError` that names the setting the way its source spells it and says what to write.

>>> cfg = parse_settings({"CHAT": {"MAX_TOKENS": 512}})
>>> cfg.chat.max_tokens, cfg.clients["default"].backend
(512, 'anthropic')
>>> settings_from_flat({"CLAUDE_WEB_CHAT_MAX_TOKENS": 256}).chat.max_tokens
256
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..pricing import DEFAULT_PRICING, ModelPrice, PriceTable, PricingError
from ..quotas import QuotaLimits
from ._values import (
    ConfigError,
    Where,
    _bool,
    _check_keys,
    _decimal,
    _fail,
    _mapping,
    _optional_str,
    _positive_int,
    _positive_number,
    _str,
)
from .assistants import (
    CONVERSATION_DEFAULTS,
    AssistantSettings,
    ConversationSettings,
    parse_assistants,
    parse_conversations,
)
from .pool import POOL_KEYS, PoolSettings

__all__ = [
    "BACKENDS",
    "Where",
    "AssistantSettings",
    "ChatSettings",
    "ClientSettings",
    "ConfigError",
    "ConversationSettings",
    "JobsSettings",
    "PoolSettings",
    "PricingSettings",
    "QuotaSettings",
    "StreamingSettings",
    "UsageSettings",
    "WebSettings",
    "parse_settings",
    "settings_from_env",
    "settings_from_flat",
]

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
        from .chat import ChatPolicy

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


# -- parsing ------------------------------------------------------------------------------------------------


def parse_settings(
    raw: Any,
    *,
    where: Where | None = None,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> WebSettings:
    """Parse the nested shape (Django's ``CLAUDE_WEB``; ``None`` for absent).

    ``defaults`` lets an adapter change a default (e.g. ``{"QUOTAS": {"STORE": "redis"}}``); everything else is
    the same for every source.
    """
    root = where or Where("CLAUDE_WEB")
    top = Where("settings.CLAUDE_WEB") if where is None else root
    data = _mapping({} if raw is None else raw, top, "{'CLIENTS': {'default': {'BACKEND': 'anthropic'}}}")
    _check_keys(data, (*SECTIONS, *TOP_LEVEL), top)
    base = defaults or {}

    def section(name: str) -> Mapping[str, Any]:
        given = data.get(name)
        value = {} if given is None else _mapping(given, root[name], "{...}")
        if name == "PRICING" and value and not set(value) <= set(SECTIONS["PRICING"]):
            value = {"MODELS": value}  # the flat shape: {prefix: price}
        _check_keys(value, SECTIONS[name], root[name])
        merged = {**DEFAULTS[name], **base.get(name, {}), **value}
        return {k: v for k, v in merged.items() if v is not None}

    clients = _parse_clients(data.get("CLIENTS"), root["CLIENTS"])
    fallback = "default" if "default" in clients else next(iter(clients))
    default_client = _str(data.get("DEFAULT_CLIENT", fallback), root["DEFAULT_CLIENT"], "default")
    if default_client not in clients:
        raise _fail(
            root["DEFAULT_CLIENT"],
            f"is {default_client!r}, which is not in CLIENTS ({', '.join(map(repr, clients))})",
            repr(next(iter(clients))),
        )
    chat = _parse_chat(section("CHAT"), root["CHAT"], default_client)
    if chat.client not in clients:
        raise _fail(root["CHAT"]["CLIENT"], f"is {chat.client!r}, which is not in CLIENTS", repr(next(iter(clients))))
    assistants = parse_assistants(data.get("ASSISTANTS"), root["ASSISTANTS"], chat, clients)
    loader = data.get("USER_LOADER")
    if loader is not None and not (callable(loader) or (isinstance(loader, str) and loader)):
        raise _fail(root["USER_LOADER"], "must be a callable or a 'module:function' path", "'myapp.auth:user_id'")
    return WebSettings(
        clients=clients,
        default_client=default_client,
        usage=_parse_usage(section("USAGE"), root["USAGE"]),
        pricing=_parse_pricing(section("PRICING"), root["PRICING"]),
        quotas=_parse_quotas(section("QUOTAS"), root["QUOTAS"]),
        chat=chat,
        streaming=_parse_streaming(section("STREAMING"), root["STREAMING"]),
        jobs=_parse_jobs(section("JOBS"), root["JOBS"]),
        assistants=assistants,
        conversations=parse_conversations(section("CONVERSATIONS"), root["CONVERSATIONS"], assistants),
        user_loader=loader,
        register_error_handlers=_bool(data.get("REGISTER_ERROR_HANDLERS", True), root["REGISTER_ERROR_HANDLERS"]),
        source=str(top),
    )


def _parse_clients(raw: Any, where: Where) -> dict[str, ClientSettings]:
    example = "{'default': {'BACKEND': 'anthropic', 'OPTIONS': {'api_key': os.environ['ANTHROPIC_API_KEY']}}}"
    if raw is None:
        return {"default": ClientSettings("default", "anthropic", {})}
    clients = _mapping(raw, where, example)
    if not clients:
        raise _fail(where, "is empty", example)
    parsed: dict[str, ClientSettings] = {}
    for alias, entry in clients.items():
        if not isinstance(alias, str) or not alias:
            raise _fail(where, f"has a non-string alias {alias!r}", example)
        at = where[alias]
        entry = _mapping(entry, at, "{'BACKEND': 'anthropic', 'OPTIONS': {...}}")
        if entry and not set(entry) & set(_CLIENT_KEYS) and all(str(k).islower() for k in entry):
            entry = _legacy_client(entry)  # the old worker shape: {"base_url": ..., "api_key_env": ...}
        _check_keys(entry, _CLIENT_KEYS, at)
        backend = entry.get("BACKEND", "anthropic")
        if not isinstance(backend, str) or (backend not in BACKENDS and ":" not in backend):
            raise _fail(
                at["BACKEND"],
                f"is {backend!r}, which is not a backend; choose one of {', '.join(repr(b) for b in BACKENDS)} "
                "or a 'package.module:Class' path",
                "'anthropic'",
            )
        options = _mapping(entry.get("OPTIONS") or {}, at["OPTIONS"], "{'api_key': '...', 'max_retries': 2}")
        if "usage_recorder" in options:
            raise _fail(
                at["OPTIONS"],
                "must not set usage_recorder: claude-web records usage itself (connect to the usage_recorded "
                "signal instead)",
                "{'api_key': '...'}",
            )
        if backend == "fake" and not options.get("base_url"):
            raise _fail(
                at["OPTIONS"],
                "needs 'base_url' for the 'fake' backend (the URL of a running FakeClaude server)",
                "{'base_url': fake.base_url}",
            )
        async_backend = entry.get("ASYNC_BACKEND")
        if async_backend is not None and (not isinstance(async_backend, str) or ":" not in async_backend):
            raise _fail(at["ASYNC_BACKEND"], f"must be a 'module:Class' path, not {async_backend!r}", "'pkg.mod:Cls'")
        key_env = _optional_str(entry.get("API_KEY_ENV"), at["API_KEY_ENV"], "MY_ANTHROPIC_KEY")
        pool = _parse_pool(entry.get("POOL"), at["POOL"])
        parsed[alias] = ClientSettings(alias, backend, dict(options), async_backend, key_env, pool)
    return parsed


def _parse_pool(raw: Any, where: Where) -> PoolSettings:
    data = _mapping({} if raw is None else raw, where, "{'MAX_CONNECTIONS': 2100, 'TIMEOUT': 10.0}")
    _check_keys(data, POOL_KEYS, where)
    most, keep = data.get("MAX_CONNECTIONS"), data.get("MAX_KEEPALIVE")
    return PoolSettings(
        max_connections=None if most is None else _positive_int(most, where["MAX_CONNECTIONS"], 2100),
        max_keepalive=None if keep is None else _positive_int(keep, where["MAX_KEEPALIVE"], 2100),
        timeout=_positive_number(data.get("TIMEOUT", PoolSettings.timeout), where["TIMEOUT"], 10.0),
    )


_LEGACY_OPTIONS = ("base_url", "api_key", "timeout", "max_retries", "default_headers")


def _legacy_client(entry: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(entry) - {*_LEGACY_OPTIONS, "api_key_env", "auth_token_env"})
    if unknown:
        raise ConfigError(
            f"unknown option {unknown[0]!r} in a client entry; write {{'BACKEND': ..., 'OPTIONS': {{...}}}}"
        )
    options = {k: entry[k] for k in _LEGACY_OPTIONS if k in entry}
    if "auth_token_env" in entry:
        options["auth_token"] = os.environ.get(str(entry["auth_token_env"]))
    out: dict[str, Any] = {"BACKEND": "anthropic", "OPTIONS": options}
    if "api_key_env" in entry:
        out["API_KEY_ENV"] = entry["api_key_env"]
    return out


def _parse_usage(data: Mapping[str, Any], where: Where) -> UsageSettings:
    _check_keys(data, SECTIONS["USAGE"], where)
    storage = data.get("STORAGE", "auto")
    if storage not in USAGE_STORAGES:
        raise _fail(where["STORAGE"], f"must be one of {', '.join(USAGE_STORAGES)}, not {storage!r}", "'auto'")
    table = data.get("TABLE", "claude_web_usage")
    if not isinstance(table, str) or not table.replace("_", "").isalnum():
        raise _fail(where["TABLE"], f"must be a plain table name (letters, digits, _), not {table!r}", "'usage'")
    log_path = data.get("LOG_PATH")
    if log_path is not None and not isinstance(log_path, (str, os.PathLike)):
        raise _fail(where["LOG_PATH"], f"must be a file path, not {log_path!r}", "'/var/log/claude-usage.jsonl'")
    return UsageSettings(
        enabled=_bool(data.get("ENABLED", True), where["ENABLED"]),
        store_context=_bool(data.get("STORE_CONTEXT", True), where["STORE_CONTEXT"]),
        database=_str(data.get("DATABASE", "default"), where["DATABASE"], "default"),
        storage=storage,
        table=table,
        create_table=_bool(data.get("CREATE_TABLE", True), where["CREATE_TABLE"]),
        log_path=None if log_path is None else os.fspath(log_path),
    )


def _parse_pricing(data: Mapping[str, Any], where: Where) -> PricingSettings:
    try:
        table = PriceTable.from_settings(dict(data), name=str(where))
    except PricingError as exc:
        raise ConfigError(f"{exc}. Write it like: {exc.example}") from exc
    return PricingSettings(table=table)


def _parse_limits(data: Mapping[str, Any], where: Where) -> QuotaLimits:
    limits: dict[str, Any] = {}
    for key in ("REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH"):
        if data.get(key) is not None:
            limits[key] = _positive_int(data[key], where[key], 100)
    for key in ("COST_PER_DAY", "COST_PER_MONTH"):
        if data.get(key) is not None:
            limits[key] = _decimal(data[key], where[key])
    return QuotaLimits.from_mapping(limits)


def _parse_scope_limits(value: Any, where: Where) -> QuotaLimits:
    data = _mapping(value, where, "{'COST_PER_DAY': '100.00'}")
    _check_keys(data, LIMIT_KEYS, where)
    return _parse_limits(data, where)


def _parse_shares(value: Any, where: Where) -> tuple[Decimal, ...]:
    example = "[0.8, 1.0]"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _fail(where, f"must be a list of shares of a limit (0 < share <= 1), not {value!r}", example)
    shares = []
    for i, item in enumerate(value):
        share = _decimal(item, where[i]).normalize()
        if not 0 < share <= 1:
            raise _fail(where[i], f"must be a share of a limit between 0 and 1, not {item!r}", example)
        shares.append(share)
    return tuple(sorted(set(shares)))


def _parse_quotas(data: Mapping[str, Any], where: Where) -> QuotaSettings:
    _check_keys(data, SECTIONS["QUOTAS"], where)
    parsed = _parse_limits(data, where)
    per_alias_raw = _mapping(data.get("PER_ALIAS") or {}, where["PER_ALIAS"], "{'default': {'COST_PER_MONTH': '500'}}")
    per_alias = {str(a): _parse_scope_limits(v, where["PER_ALIAS"][a]) for a, v in per_alias_raw.items()}
    global_limits = _parse_scope_limits(data.get("GLOBAL") or {}, where["GLOBAL"])
    on_exhausted = data.get("ON_EXHAUSTED", "finish")
    if on_exhausted not in ON_EXHAUSTED:
        raise _fail(where["ON_EXHAUSTED"], f"must be 'finish' or 'stop', not {on_exhausted!r}", "'stop'")
    input_tokens = data.get("INPUT_TOKENS", "estimate")
    if input_tokens not in INPUT_TOKEN_MODES:
        raise _fail(where["INPUT_TOKENS"], f"must be 'estimate' or 'count', not {input_tokens!r}", "'count'")
    store = data.get("STORE", "cache")
    if store not in QUOTA_STORES:
        raise _fail(where["STORE"], f"must be one of {', '.join(QUOTA_STORES)}, not {store!r}", "'redis'")
    redis_url = _optional_str(data.get("REDIS_URL"), where["REDIS_URL"], "redis://127.0.0.1:6379/0")
    enabled = parsed.enabled or global_limits.enabled or any(v.enabled for v in per_alias.values())
    if enabled and store == "redis" and not redis_url:
        raise _fail(
            where["REDIS_URL"],
            "is not set but the quotas count in Redis (STORE 'redis'); set it, or STORE 'memory' for a "
            "single-process app",
            "'redis://localhost:6379/0'",
        )
    return QuotaSettings(
        limits=parsed,
        store=store,
        cache=_str(data.get("CACHE", "default"), where["CACHE"], "default"),
        redis_url=redis_url,
        key_prefix=_str(data.get("KEY_PREFIX", "claude_web:quota"), where["KEY_PREFIX"], "claude_web:quota"),
        fail_open=_bool(data.get("FAIL_OPEN", True), where["FAIL_OPEN"]),
        per_alias=per_alias,
        global_limits=global_limits,
        on_exhausted=on_exhausted,
        alert_at=_parse_shares(data.get("ALERT_AT", [0.8, 1.0]), where["ALERT_AT"]),
        reservation_ttl=_positive_number(data.get("RESERVATION_TTL", 120), where["RESERVATION_TTL"], 120),
        job_reservation_ttl=_positive_number(
            data.get("JOB_RESERVATION_TTL", 172_800), where["JOB_RESERVATION_TTL"], 172_800
        ),
        input_tokens=input_tokens,
    )


def _parse_chat(data: Mapping[str, Any], where: Where, default_client: str) -> ChatSettings:
    _check_keys(data, SECTIONS["CHAT"], where)
    models_raw = data.get("MODELS")
    if models_raw is None:
        models_raw = [data["DEFAULT_MODEL"]] if data.get("DEFAULT_MODEL") else list(DEFAULT_CHAT_MODELS)
    if (
        isinstance(models_raw, str)
        or not isinstance(models_raw, Sequence)
        or not models_raw
        or not all(isinstance(m, str) and m for m in models_raw)
    ):
        raise _fail(
            where["MODELS"],
            f"must be a non-empty list of model ids, not {models_raw!r}",
            "['claude-haiku-4-5', 'claude-sonnet-4-5']",
        )
    models = tuple(models_raw)
    default_model = _str(data.get("DEFAULT_MODEL") or models[0], where["DEFAULT_MODEL"], models[0])
    if default_model not in models:
        raise _fail(where["DEFAULT_MODEL"], f"is {default_model!r}, which is not in MODELS", repr(models[0]))
    return ChatSettings(
        client=_str(data.get("CLIENT") or default_client, where["CLIENT"], "default"),
        models=models,
        default_model=default_model,
        max_tokens=_positive_int(data.get("MAX_TOKENS", 1024), where["MAX_TOKENS"], 1024),
        max_messages=_positive_int(data.get("MAX_MESSAGES", 200), where["MAX_MESSAGES"], 200),
        max_chars=_positive_int(data.get("MAX_CHARS", 200_000), where["MAX_CHARS"], 200_000),
        max_image_bytes=_positive_int(data["MAX_IMAGE_BYTES"], where["MAX_IMAGE_BYTES"], 5_242_880),
        max_document_bytes=_positive_int(data["MAX_DOCUMENT_BYTES"], where["MAX_DOCUMENT_BYTES"], 10_485_760),
        allow_system=_bool(data.get("ALLOW_SYSTEM", False), where["ALLOW_SYSTEM"]),
        allow_assistant_turns=_bool(data.get("ALLOW_ASSISTANT_TURNS", False), where["ALLOW_ASSISTANT_TURNS"]),
        login_required=_bool(data.get("LOGIN_REQUIRED", True), where["LOGIN_REQUIRED"]),
    )


def _parse_streaming(data: Mapping[str, Any], where: Where) -> StreamingSettings:
    _check_keys(data, SECTIONS["STREAMING"], where)
    retry = data.get("RETRY", 2000)
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise _fail(where["RETRY"], f"must be a whole number of milliseconds, not {retry!r}", "2000")
    max_streams = data.get("MAX_STREAMS")
    return StreamingSettings(
        heartbeat=_positive_number(data.get("HEARTBEAT", 15.0), where["HEARTBEAT"], 15.0),
        request_id_header=_str(
            data.get("REQUEST_ID_HEADER", "X-Request-ID"), where["REQUEST_ID_HEADER"], "X-Request-ID"
        ),
        retry=retry,
        max_streams=None if max_streams is None else _positive_int(max_streams, where["MAX_STREAMS"], 1000),
    )


_JOB_TYPES: dict[str, type | tuple[type, ...]] = {
    "REDIS_URL": str, "KEY_PREFIX": str, "QUEUE": str,
    "STREAM_MAXLEN": int, "TTL": int, "JOB_TTL": int, "MAX_RETRIES": int, "MAX_ATTEMPTS": int,
    "CLIENT_MAX_RETRIES": int, "THREADS": int,
    "RETRY_BACKOFF": (int, float), "RETRY_BACKOFF_MAX": (int, float), "CREATE_TIMEOUT": (int, float),
    "BATCH_POLL_INTERVAL": (int, float), "HEARTBEAT": (int, float),
}  # fmt: skip


def _parse_jobs(data: Mapping[str, Any], where: Where) -> JobsSettings:
    _check_keys(data, SECTIONS["JOBS"], where)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        kind = _JOB_TYPES.get(key)
        if kind is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            name = kind.__name__ if isinstance(kind, type) else "number"
            raise _fail(where[key], f"must be a {name}, not {value!r}", "...")
        if key == "ALIASES":
            if isinstance(value, str):
                value = tuple(a.strip() for a in value.split(",") if a.strip())
            if not isinstance(value, Sequence) or not all(isinstance(a, str) and a for a in value):
                raise _fail(where[key], f"must be a list of client aliases, not {value!r}", "['default']")
            value = tuple(value)
        values[key] = value
    return JobsSettings(values)


# -- flat sources: Flask's app.config and environment variables ---------------------------------------------

_SECTION_NAMES = {"QUOTA": "QUOTAS", "STREAM": "STREAMING", **{s: s for s in SECTIONS}}


def section_keys(section: str) -> tuple[str, ...]:
    """The flat keys that hold ``section`` as one dict: ``CLAUDE_WEB_QUOTAS`` and ``CLAUDE_WEB_QUOTA`` for
    ``QUOTAS``, ``CLAUDE_WEB_CHAT`` for ``CHAT``..."""
    return tuple(f"CLAUDE_WEB_{name}" for name, target in _SECTION_NAMES.items() if target == section)


# keys of the first release that do not follow CLAUDE_WEB_<SECTION>_<KEY>
_RENAMED = {"REQUEST_ID_HEADER": ("STREAMING", "REQUEST_ID_HEADER")}


def flat_place(name: str) -> tuple[str, str | None] | None:
    """``"CLAUDE_WEB_STREAM_MAX_STREAMS"`` -> ``("STREAMING", "MAX_STREAMS")``: the setting a flat key names,
    whichever spelling of its section it uses (``None`` for a key that names none)."""
    return _split_flat(name[len("CLAUDE_WEB_") :]) if name.startswith("CLAUDE_WEB_") else None


def _split_flat(name: str) -> tuple[str, str | None] | None:
    """``"CHAT_MAX_TOKENS"`` -> ``("CHAT", "MAX_TOKENS")``; ``"QUOTAS"`` -> ``("QUOTAS", None)``."""
    if name in _RENAMED:
        return _RENAMED[name]
    if name in TOP_LEVEL:
        return (name, None)
    for prefix, section in sorted(_SECTION_NAMES.items(), key=lambda kv: -len(kv[0])):
        if name == prefix:
            return (section, None)
        if name.startswith(prefix + "_") and section not in ("CLIENTS", "ASSISTANTS"):
            return (section, name[len(prefix) + 1 :])
    return None


def _nest(
    flat: Mapping[str, Any], name_of: Any, *, strict: bool, from_env: bool
) -> tuple[dict[str, Any], dict[str, Where]]:
    nested: dict[str, Any] = {}
    overrides: dict[str, dict[str, str]] = {}
    roots: dict[str, str] = {}
    for full, value in flat.items():
        name = full[len("CLAUDE_WEB_") :]
        split = _split_flat(name)
        known = split is not None and (split[1] is None or split[1] in SECTIONS.get(split[0], ()))
        if not known and from_env and name in SECTIONS["JOBS"]:
            split, known = ("JOBS", name), True  # workers: CLAUDE_WEB_REDIS_URL, CLAUDE_WEB_USAGE_RECORDER, ...
        if split is None or not known:
            if strict:
                raise ConfigError(
                    f"{name_of(full)} is not a claude-web setting; known: CLAUDE_WEB_<SECTION> or "
                    f"CLAUDE_WEB_<SECTION>_<KEY> with sections {', '.join(SECTIONS)}"
                )
            continue
        section, key = split
        if from_env:
            value = _from_env_string(section, key, value, name_of(full))
        if key is None:
            roots[section] = name_of(full)
            if section in nested and isinstance(nested[section], dict) and isinstance(value, Mapping):
                nested[section] = {**value, **nested[section]}  # single keys win over the section dict
            else:  # a copy: the single keys below must not write into the app's own dict
                nested[section] = dict(value) if isinstance(value, Mapping) else value
        else:
            current = nested.setdefault(section, {})
            if isinstance(current, dict):
                current[key] = value
            overrides.setdefault(section, {})[key] = name_of(full)
    wheres = {s: Where(roots.get(s, name_of(f"CLAUDE_WEB_{s}")), overrides.get(s)) for s in SECTIONS}
    return nested, wheres


_ENV_INTS = {"MAX_TOKENS", "MAX_MESSAGES", "MAX_CHARS", "MAX_IMAGE_BYTES", "MAX_DOCUMENT_BYTES", "REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH",
             "RETRY", "MAX_STREAMS", "PAGE_SIZE", "MAX_MESSAGE_CHARS", "CONTEXT_WINDOW"}  # fmt: skip
_ENV_FLOATS = {"HEARTBEAT", "CONTEXT_SHARE", "RESERVATION_TTL", "JOB_RESERVATION_TTL"}
_ENV_BOOLS = {"ENABLED", "STORE_CONTEXT", "CREATE_TABLE", "ALLOW_SYSTEM", "ALLOW_ASSISTANT_TURNS", "LOGIN_REQUIRED",
              "FAIL_OPEN", "INCLUDE_DEFAULTS", "REGISTER_ERROR_HANDLERS", "CACHE", "CREATE_TABLES"}  # fmt: skip


def _from_env_string(section: str, key: str | None, value: str, name: str) -> Any:
    """An environment string as the type the schema wants: JSON for dicts and lists, numbers, booleans."""
    if key is None or section in ("CLIENTS", "ASSISTANTS") or key in ("MODELS", "PER_ALIAS", "GLOBAL", "ALERT_AT"):
        if key is None and section in TOP_LEVEL:
            return value
        try:
            return json.loads(value)
        except ValueError:
            if key == "MODELS":
                return [m.strip() for m in value.split(",") if m.strip()]
            raise ConfigError(f"{name} must be JSON (a {section} dict), e.g. {name}='{{...}}'") from None
    kind = _JOB_TYPES.get(key) if section == "JOBS" else None
    try:
        if key in _ENV_BOOLS:
            lowered = value.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return lowered in ("1", "true", "yes", "on")
        if kind is int or key in _ENV_INTS:
            return int(value)
        if kind == (int, float) or key in _ENV_FLOATS:
            return float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a valid value for {section}['{key}']") from None
    return value


def settings_from_flat(
    config: Mapping[str, Any],
    *,
    strict: bool = True,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    label: str = 'app.config["{}"]',
) -> WebSettings:
    """Parse flat ``CLAUDE_WEB_*`` keys (Flask's ``app.config``); other keys are ignored.

    ``strict`` refuses unknown ``CLAUDE_WEB_*`` keys (a typo would otherwise be silently ignored).
    """
    flat = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith("CLAUDE_WEB_")}
    nested, wheres = _nest(flat, label.format, strict=strict, from_env=False)
    return _parse_flat(nested, wheres, defaults, label)


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, defaults: Mapping[str, Mapping[str, Any]] | None = None
) -> WebSettings:
    """Parse ``CLAUDE_WEB_*`` environment variables (Celery workers without a web framework).

    Dict-valued settings are JSON (``CLAUDE_WEB_CLIENTS='{"default": {"BACKEND": "anthropic",
    "API_KEY_ENV": "MY_KEY"}}'``); jobs keys may drop their section (``CLAUDE_WEB_REDIS_URL``).
    """
    env = os.environ if environ is None else environ
    flat = {k: v for k, v in env.items() if k.startswith("CLAUDE_WEB_")}
    nested, wheres = _nest(flat, lambda n: f"the environment variable {n}", strict=False, from_env=True)
    return _parse_flat(nested, wheres, defaults, "the environment variable {}")


class _FlatWhere(Where):
    """The root of a flat source: a section is named by its own key, a top-level key likewise."""

    def __init__(self, sections: Mapping[str, Where], label: str) -> None:
        super().__init__(label.format("CLAUDE_WEB_*"))
        self._sections = sections
        self._label = label

    def __getitem__(self, key: Any) -> Where:
        if key in self._sections:
            return self._sections[key]
        return Where(self._label.format(f"CLAUDE_WEB_{key}"))


def _parse_flat(
    nested: dict[str, Any], wheres: Mapping[str, Where], defaults: Mapping[str, Mapping[str, Any]] | None, label: str
) -> WebSettings:
    return parse_settings(nested, where=_FlatWhere(wheres, label), defaults=defaults)
