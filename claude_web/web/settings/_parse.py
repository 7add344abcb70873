"""Parsing the nested shape (Django's ``CLAUDE_WEB``) into :class:`WebSettings`, section by section."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ...pricing import PriceTable, PricingError
from ...quotas import QuotaLimits
from .._values import (
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
from ..assistants import (
    parse_assistants,
    parse_conversations,
)
from ..pool import POOL_KEYS, PoolSettings
from ._schema import (
    _CLIENT_KEYS,
    BACKENDS,
    DEFAULT_CHAT_MODELS,
    DEFAULTS,
    INPUT_TOKEN_MODES,
    LIMIT_KEYS,
    ON_EXHAUSTED,
    QUOTA_STORES,
    SECTIONS,
    TOP_LEVEL,
    USAGE_STORAGES,
    ChatSettings,
    ClientSettings,
    JobsSettings,
    PricingSettings,
    QuotaSettings,
    StreamingSettings,
    UsageSettings,
    WebSettings,
)

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
        jobs=parse_jobs_section(section("JOBS"), root["JOBS"]),
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


def parse_jobs_section(data: Mapping[str, Any], where: Where) -> JobsSettings:
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
