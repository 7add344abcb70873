"""Every ``CLAUDE_WEB_*`` config key, its default, and the one function that reads them all.

``init_app`` calls :func:`set_defaults` (``app.config.setdefault`` for each key below) and then
:func:`read_settings`, which validates everything at start-up: a wrong setting fails ``init_app`` with a
:class:`ConfigError` that says what to write, not the first request.

>>> app.config["CLAUDE_WEB_CLIENTS"] = {
...     "default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": os.environ["ANTHROPIC_API_KEY"]}},
...     "cheap": {"BACKEND": "anthropic", "OPTIONS": {"max_retries": 0, "timeout": 30}},
... }
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claude_web.pricing import ModelPrice, PriceTable, PricingError
from claude_web.quotas import QuotaLimits

__all__ = ["DEFAULTS", "BACKENDS", "ClientSpec", "ConfigError", "Settings", "read_settings", "set_defaults"]

BACKENDS = ("anthropic", "fake", "bedrock", "vertex")
USAGE_STORAGES = ("auto", "sqlalchemy", "log", "none")
QUOTA_STORES = ("redis", "memory")

#: Every key the extension reads, with its default. ``init_app`` sets each one with ``app.config.setdefault``.
DEFAULTS: dict[str, Any] = {
    # alias -> {"BACKEND": "anthropic" | "fake" | "bedrock" | "vertex" | "module:Class", "OPTIONS": {...}}
    "CLAUDE_WEB_CLIENTS": {"default": {"BACKEND": "anthropic", "OPTIONS": {}}},
    "CLAUDE_WEB_DEFAULT_CLIENT": "default",
    # who is asking: a callable (or "module:function") returning a user id or None; default: Flask-Login if used
    "CLAUDE_WEB_USER_LOADER": None,
    # a request id taken from this header when present (else generated), carried into usage records
    "CLAUDE_WEB_REQUEST_ID_HEADER": "X-Request-ID",
    # model-id prefix -> ModelPrice | {"input", "output", "cache_write", "cache_read"} (USD per MTok; optional
    # "cache_write_1h", "long_context", "batch_discount", "web_search_per_1k", "web_fetch_per_1k", "as_of",
    # "source": see claude_web.pricing); merged over claude_web.pricing.DEFAULT_PRICING
    "CLAUDE_WEB_PRICING": {},
    # where usage records go: "auto" (Flask-SQLAlchemy table if the app uses it, else JSON lines), "sqlalchemy",
    # "log" (JSON lines to the "claude_web_flask.usage" logger and CLAUDE_WEB_USAGE_LOG_PATH), "none" (signal only)
    "CLAUDE_WEB_USAGE_STORAGE": "auto",
    "CLAUDE_WEB_USAGE_TABLE": "claude_web_usage",
    "CLAUDE_WEB_USAGE_CREATE_TABLE": True,
    "CLAUDE_WEB_USAGE_LOG_PATH": None,
    # per-user limits: {"REQUESTS_PER_MINUTE": 20, "TOKENS_PER_DAY": 200_000, "TOKENS_PER_MONTH": ..., "COST_PER_MONTH": "5.00"}
    "CLAUDE_WEB_QUOTAS": {},
    "CLAUDE_WEB_QUOTA_STORE": "redis",
    "CLAUDE_WEB_QUOTA_REDIS_URL": None,
    "CLAUDE_WEB_QUOTA_KEY_PREFIX": "claude_web:quota",
    # when the counter store is down: True lets calls through (logged), False answers 503
    "CLAUDE_WEB_QUOTA_FAIL_OPEN": True,
    # seconds of silence after which a ": heartbeat" comment is sent on a stream
    "CLAUDE_WEB_STREAM_HEARTBEAT": 15.0,
    # the blueprint's chat endpoint
    "CLAUDE_WEB_CHAT_CLIENT": None,  # alias; None: CLAUDE_WEB_DEFAULT_CLIENT
    "CLAUDE_WEB_CHAT_MODELS": ("claude-haiku-4-5", "claude-sonnet-4-5"),
    "CLAUDE_WEB_CHAT_DEFAULT_MODEL": None,  # None: the first of CLAUDE_WEB_CHAT_MODELS
    "CLAUDE_WEB_CHAT_MAX_TOKENS": 1024,
    "CLAUDE_WEB_CHAT_MAX_MESSAGES": 200,
    "CLAUDE_WEB_CHAT_MAX_CHARS": 200_000,
    "CLAUDE_WEB_CHAT_ALLOW_SYSTEM": True,
    # answer QuotaExceeded with 429 JSON + Retry-After, ChatRequestError with 400 JSON, app-wide
    "CLAUDE_WEB_REGISTER_ERROR_HANDLERS": True,
}

_CLIENT_KEYS = {"BACKEND", "OPTIONS", "ASYNC_BACKEND"}
_EXAMPLE = (
    'app.config["CLAUDE_WEB_CLIENTS"] = {"default": {"BACKEND": "anthropic", '
    '"OPTIONS": {"api_key": os.environ["ANTHROPIC_API_KEY"]}}}'
)


class ConfigError(RuntimeError):
    """A ``CLAUDE_WEB_*`` setting is missing or wrong; the message says what to write."""


@dataclass(frozen=True)
class ClientSpec:
    """One entry of ``CLAUDE_WEB_CLIENTS``. ``options`` are keyword arguments for the client class."""

    alias: str
    backend: str
    options: Mapping[str, Any]
    async_backend: str | None = None

    def __repr__(self) -> str:  # never print a key
        shown = {
            k: ("<redacted>" if k in ("api_key", "auth_token", "aws_secret_key") else v)
            for k, v in self.options.items()
        }
        return f"ClientSpec(alias={self.alias!r}, backend={self.backend!r}, options={shown!r})"


@dataclass(frozen=True)
class Settings:
    """The validated ``CLAUDE_WEB_*`` settings of one app."""

    clients: Mapping[str, ClientSpec]
    default_client: str
    user_loader: Callable[[], Any] | None
    request_id_header: str
    pricing: Mapping[str, ModelPrice]
    usage_storage: str
    usage_table: str
    usage_create_table: bool
    usage_log_path: str | None
    quota_limits: QuotaLimits
    quota_store: str
    quota_redis_url: str | None
    quota_key_prefix: str
    quota_fail_open: bool
    heartbeat: float
    chat_client: str
    chat_models: tuple[str, ...]
    chat_default_model: str
    chat_max_tokens: int
    chat_max_messages: int
    chat_max_chars: int
    chat_allow_system: bool
    register_error_handlers: bool


def set_defaults(config: dict[str, Any]) -> None:
    """``config.setdefault`` for every key in :data:`DEFAULTS` (the one place defaults live)."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def import_string(path: str, setting: str) -> Any:
    """``"package.module:attr"`` (or ``"package.module.attr"``) to the object; a clear error naming the setting."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{setting}: cannot import {path!r} ({exc.__class__.__name__}: {exc})") from exc


def read_settings(config: Mapping[str, Any], *, testing: bool, debug: bool) -> Settings:
    """Validate every ``CLAUDE_WEB_*`` key of an app's config (call after :func:`set_defaults`)."""
    clients = _read_clients(config["CLAUDE_WEB_CLIENTS"], testing=testing, debug=debug)
    default_client = config["CLAUDE_WEB_DEFAULT_CLIENT"]
    if default_client not in clients:
        raise ConfigError(
            f"CLAUDE_WEB_DEFAULT_CLIENT is {default_client!r} but CLAUDE_WEB_CLIENTS has only "
            f"{', '.join(map(repr, clients))}; add it or set CLAUDE_WEB_DEFAULT_CLIENT to one of those"
        )
    loader = config["CLAUDE_WEB_USER_LOADER"]
    if isinstance(loader, str):
        loader = import_string(loader, "CLAUDE_WEB_USER_LOADER")
    if loader is not None and not callable(loader):
        raise ConfigError("CLAUDE_WEB_USER_LOADER must be a callable (or 'module:function') returning a user id")

    storage = config["CLAUDE_WEB_USAGE_STORAGE"]
    if storage not in USAGE_STORAGES:
        raise ConfigError(f"CLAUDE_WEB_USAGE_STORAGE must be one of {', '.join(USAGE_STORAGES)}, not {storage!r}")
    table = config["CLAUDE_WEB_USAGE_TABLE"]
    if not isinstance(table, str) or not table.replace("_", "").isalnum():
        raise ConfigError(f"CLAUDE_WEB_USAGE_TABLE must be a plain table name (letters, digits, _), not {table!r}")

    try:
        limits = QuotaLimits.from_mapping(config["CLAUDE_WEB_QUOTAS"] or {})
    except ValueError as exc:
        raise ConfigError(f"CLAUDE_WEB_QUOTAS: {exc}") from exc
    quota_store = config["CLAUDE_WEB_QUOTA_STORE"]
    if quota_store not in QUOTA_STORES:
        raise ConfigError(f"CLAUDE_WEB_QUOTA_STORE must be one of {', '.join(QUOTA_STORES)}, not {quota_store!r}")
    redis_url = config["CLAUDE_WEB_QUOTA_REDIS_URL"]
    if limits.enabled and quota_store == "redis" and not redis_url:
        raise ConfigError(
            "CLAUDE_WEB_QUOTAS is set but CLAUDE_WEB_QUOTA_REDIS_URL is not: write "
            'app.config["CLAUDE_WEB_QUOTA_REDIS_URL"] = "redis://localhost:6379/0" '
            '(or CLAUDE_WEB_QUOTA_STORE = "memory" for a single-process app)'
        )

    heartbeat = config["CLAUDE_WEB_STREAM_HEARTBEAT"]
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, (int, float)) or heartbeat <= 0:
        raise ConfigError(f"CLAUDE_WEB_STREAM_HEARTBEAT must be a positive number of seconds, not {heartbeat!r}")

    chat_client = config["CLAUDE_WEB_CHAT_CLIENT"] or default_client
    if chat_client not in clients:
        raise ConfigError(f"CLAUDE_WEB_CHAT_CLIENT is {chat_client!r}, which is not in CLAUDE_WEB_CLIENTS")
    models = config["CLAUDE_WEB_CHAT_MODELS"]
    if isinstance(models, str) or not isinstance(models, Sequence) or not models:
        raise ConfigError("CLAUDE_WEB_CHAT_MODELS must be a non-empty list of model ids")
    default_model = config["CLAUDE_WEB_CHAT_DEFAULT_MODEL"] or models[0]
    if default_model not in models:
        raise ConfigError(f"CLAUDE_WEB_CHAT_DEFAULT_MODEL {default_model!r} is not in CLAUDE_WEB_CHAT_MODELS")
    for key in ("CLAUDE_WEB_CHAT_MAX_TOKENS", "CLAUDE_WEB_CHAT_MAX_MESSAGES", "CLAUDE_WEB_CHAT_MAX_CHARS"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, not {value!r}")

    return Settings(
        clients=clients,
        default_client=default_client,
        user_loader=loader,
        request_id_header=str(config["CLAUDE_WEB_REQUEST_ID_HEADER"]),
        pricing=_read_pricing(config["CLAUDE_WEB_PRICING"]),
        usage_storage=storage,
        usage_table=table,
        usage_create_table=bool(config["CLAUDE_WEB_USAGE_CREATE_TABLE"]),
        usage_log_path=config["CLAUDE_WEB_USAGE_LOG_PATH"],
        quota_limits=limits,
        quota_store=quota_store,
        quota_redis_url=redis_url,
        quota_key_prefix=str(config["CLAUDE_WEB_QUOTA_KEY_PREFIX"]),
        quota_fail_open=bool(config["CLAUDE_WEB_QUOTA_FAIL_OPEN"]),
        heartbeat=float(heartbeat),
        chat_client=chat_client,
        chat_models=tuple(models),
        chat_default_model=default_model,
        chat_max_tokens=config["CLAUDE_WEB_CHAT_MAX_TOKENS"],
        chat_max_messages=config["CLAUDE_WEB_CHAT_MAX_MESSAGES"],
        chat_max_chars=config["CLAUDE_WEB_CHAT_MAX_CHARS"],
        chat_allow_system=bool(config["CLAUDE_WEB_CHAT_ALLOW_SYSTEM"]),
        register_error_handlers=bool(config["CLAUDE_WEB_REGISTER_ERROR_HANDLERS"]),
    )


def _read_clients(raw: Any, *, testing: bool, debug: bool) -> dict[str, ClientSpec]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"CLAUDE_WEB_CLIENTS must be a non-empty dict of alias -> client settings, e.g. {_EXAMPLE}")
    clients: dict[str, ClientSpec] = {}
    for alias, entry in raw.items():
        where = f"CLAUDE_WEB_CLIENTS[{alias!r}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a dict with BACKEND and OPTIONS, e.g. {_EXAMPLE}")
        unknown = sorted(set(entry) - _CLIENT_KEYS)
        if unknown:
            raise ConfigError(
                f"{where} has unknown key(s) {', '.join(unknown)}; known: BACKEND, OPTIONS, ASYNC_BACKEND"
            )
        backend = entry.get("BACKEND", "anthropic")
        options = entry.get("OPTIONS") or {}
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}['OPTIONS'] must be a dict of client keyword arguments")
        if not isinstance(backend, str) or (backend not in BACKENDS and ":" not in backend):
            raise ConfigError(
                f"{where}['BACKEND'] must be one of {', '.join(BACKENDS)} or 'module:Class', not {backend!r}"
            )
        if "usage_recorder" in options:
            raise ConfigError(
                f"{where}['OPTIONS'] must not set usage_recorder: the extension records usage itself "
                "(connect to claude_web_flask.usage_recorded instead)"
            )
        if backend == "fake":
            if not (testing or debug):
                raise ConfigError(
                    f"{where} uses the 'fake' backend, which is only allowed when app.testing or app.debug is on; "
                    "use BACKEND 'anthropic' in production"
                )
            if not options.get("base_url"):
                raise ConfigError(f"{where}: the 'fake' backend needs OPTIONS['base_url'] (a FakeClaude's base_url)")
        if backend == "anthropic" and not testing and not _has_credentials(options):
            raise ConfigError(
                f"{where}: no Anthropic API key. Set the ANTHROPIC_API_KEY environment variable or write {_EXAMPLE}"
            )
        async_backend = entry.get("ASYNC_BACKEND")
        if async_backend is not None and (not isinstance(async_backend, str) or ":" not in async_backend):
            raise ConfigError(f"{where}['ASYNC_BACKEND'] must be 'module:Class'")
        clients[str(alias)] = ClientSpec(str(alias), backend, dict(options), async_backend)
    return clients


def _has_credentials(options: Mapping[str, Any]) -> bool:
    return bool(
        options.get("api_key")
        or options.get("auth_token")
        or os.environ.get("ANTHROPIC_API_KEY")
        or os.environ.get("ANTHROPIC_AUTH_TOKEN")
    )


def _read_pricing(raw: Any) -> PriceTable:
    try:
        return PriceTable.from_models(raw, name="CLAUDE_WEB_PRICING")
    except PricingError as exc:
        raise ConfigError(f"{exc}. Write it like: {exc.example}") from None
