"""Process-wide clients per alias, and cheap per-request views of them that carry request metadata.

>>> from claude_web_django import get_client, client_for
>>> get_client().messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[...])   # one pool per process
>>> client_for(request).messages.stream(...)   # same pool; usage records name the user and the request id

Sync clients are built once per process and alias. Async clients hold an ``httpx.AsyncClient`` whose connections
belong to the event loop they were opened on, so they are built once per *running event loop* and alias: under
uvicorn that is one per worker, under ``runserver``/``async_to_sync`` each fresh loop gets its own and the entries
of closed loops are dropped.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from claude_web import Anthropic, AsyncAnthropic
from claude_web.usage import UsageRecord

from .conf import ClientSettings, claude_settings
from .signals import emit_usage

__all__ = [
    "aclient_for",
    "build_client",
    "client_for",
    "close_clients",
    "get_async_client",
    "get_client",
    "request_context",
    "request_id",
]

FAKE_API_KEY = "fake-key-for-fakeclaude"

log = logging.getLogger("claude_web_django.clients")

_lock = threading.Lock()
_sync_clients: dict[str, Any] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = weakref.WeakKeyDictionary()

_EXTRAS = {"bedrock": ("claude_web.lib.bedrock", "bedrock"), "vertex": ("claude_web.lib.vertex", "vertex")}
_CLASSES = {
    "bedrock": ("AnthropicBedrock", "AsyncAnthropicBedrock"),
    "vertex": ("AnthropicVertex", "AsyncAnthropicVertex"),
}


def _record_usage(alias: str, record: UsageRecord) -> None:
    emit_usage(record, alias)


def _client_class(cfg: ClientSettings, asynchronous: bool) -> Any:
    if cfg.backend in ("anthropic", "fake"):
        return AsyncAnthropic if asynchronous else Anthropic
    module_name, extra = _EXTRAS[cfg.backend]
    try:
        import importlib

        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"CLAUDE_WEB['CLIENTS'][{cfg.alias!r}] uses the {cfg.backend!r} backend, which needs an extra: "
            f"pip install 'claude-web[{extra}]' ({exc})"
        ) from exc
    return getattr(module, _CLASSES[cfg.backend][1 if asynchronous else 0])


def build_client(cfg: ClientSettings, *, asynchronous: bool = False) -> Any:
    """A new client for one ``CLAUDE_WEB["CLIENTS"]`` entry, wired to the ``usage_recorded`` signal.

    Prefer :func:`get_client` / :func:`get_async_client`, which keep one per process (or event loop).
    """
    cls = _client_class(cfg, asynchronous)
    kwargs: dict[str, Any] = dict(cfg.options)
    context: dict[str, Any] = dict(kwargs.pop("usage_context", None) or {})
    context.update({"alias": cfg.alias, "backend": cfg.backend})
    usage_kwargs = {
        "usage_context": context,
        "usage_recorder": kwargs.pop("usage_recorder", functools.partial(_record_usage, cfg.alias)),
        "pricing": kwargs.pop("pricing", claude_settings().pricing.table),
    }
    accepted = _accepted_kwargs(cls)
    missing = [name for name in usage_kwargs if accepted is not None and name not in accepted]
    if missing:
        log.warning(
            "%s does not take %s: calls through client %r are not recorded in the usage ledger",
            cls.__name__,
            ", ".join(missing),
            cfg.alias,
        )
    kwargs.update({k: v for k, v in usage_kwargs.items() if k not in missing})
    if cfg.backend == "fake":
        kwargs.setdefault("api_key", FAKE_API_KEY)
    try:
        return cls(**kwargs)
    except ImportError as exc:  # the platform clients import boto3 / google-auth when built
        extra = "bedrock" if cfg.backend == "bedrock" else "vertex"
        raise ImproperlyConfigured(
            f"CLAUDE_WEB['CLIENTS'][{cfg.alias!r}] uses the {cfg.backend!r} backend, which needs an extra: "
            f"pip install 'claude-web[{extra}]' ({exc})"
        ) from exc
    except TypeError as exc:
        raise ImproperlyConfigured(
            f"CLAUDE_WEB['CLIENTS'][{cfg.alias!r}]['OPTIONS'] has an option {cls.__name__} does not take: {exc}"
        ) from exc


def _accepted_kwargs(cls: Any) -> set[str] | None:
    """The keyword arguments ``cls`` takes, or ``None`` when it takes any (``**kwargs``)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def get_client(alias: str = "default") -> Anthropic:
    """The process-wide sync client for ``alias`` (built on first use; one connection pool)."""
    client = _sync_clients.get(alias)
    if client is not None:
        return client  # type: ignore[no-any-return]
    cfg = claude_settings().client(alias)
    with _lock:
        client = _sync_clients.get(alias)
        if client is None:
            client = build_client(cfg)
            _sync_clients[alias] = client
    return client  # type: ignore[no-any-return]


def get_async_client(alias: str = "default") -> AsyncAnthropic:
    """The async client for ``alias`` on the running event loop (one per loop; call it inside the loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "get_async_client() must be called from inside a running event loop (an async view or coroutine); "
            "async clients cannot be shared across event loops. Use get_client() in sync code."
        ) from None
    per_loop = _async_clients.get(loop)
    if per_loop is not None:
        client = per_loop.get(alias)
        if client is not None:
            return client  # type: ignore[no-any-return]
    cfg = claude_settings().client(alias)
    with _lock:
        _prune_closed_loops()
        per_loop = _async_clients.setdefault(loop, {})
        client = per_loop.get(alias)
        if client is None:
            client = build_client(cfg, asynchronous=True)
            per_loop[alias] = client
    return client  # type: ignore[no-any-return]


def _prune_closed_loops() -> None:
    # A client's pool references its loop, which would keep a weak key alive forever; drop closed loops by hand.
    for loop in [loop for loop in list(_async_clients.keys()) if loop.is_closed()]:
        _async_clients.pop(loop, None)


def close_clients() -> None:
    """Close the sync clients and forget every client (called when ``CLAUDE_WEB`` changes, and at shutdown)."""
    with _lock:
        clients = list(_sync_clients.values())
        _sync_clients.clear()
        _async_clients.clear()
    for client in clients:
        try:
            client.close()
        except Exception:  # closing must never fail a settings change
            pass


def request_id(request: Any) -> str:
    """The request's id: the ``X-Request-ID`` header (``STREAMING["REQUEST_ID_HEADER"]``) or a new one."""
    cached = getattr(request, "_claude_web_request_id", None)
    if isinstance(cached, str):
        return cached
    header = claude_settings().streaming.request_id_header
    value = request.headers.get(header) if hasattr(request, "headers") else None
    rid = value[:64] if isinstance(value, str) and value else uuid.uuid4().hex
    request._claude_web_request_id = rid
    return rid


def request_context(request: Any, alias: str, user: Any = None) -> dict[str, Any]:
    """The ``usage_context`` of a request: user id, quota key, request id, path, client alias."""
    if user is None:
        user = _loaded_user(request)
    context: dict[str, Any] = {"alias": alias, "request_id": request_id(request), "path": getattr(request, "path", "")}
    if user is not None and getattr(user, "is_authenticated", False):
        context["user_id"] = user.pk
        context["quota_key"] = f"user:{user.pk}"
    else:
        remote = getattr(request, "META", {}).get("REMOTE_ADDR") or "unknown"
        context["user_id"] = None
        context["quota_key"] = f"ip:{remote}"
    return context


def _loaded_user(request: Any) -> Any:
    """``request.user`` if it is safe to read here (never triggers a query inside an event loop)."""
    cached = getattr(request, "_acached_user", None) or getattr(request, "_cached_user", None)
    if cached is not None:
        return cached
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return getattr(request, "user", None)
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", None)
    if user is not None and wrapped is None:
        return user  # a plain user object, not a lazy one
    from django.utils.functional import empty

    return None if wrapped is empty else wrapped


def client_for(request: Any, alias: str | None = None, *, context: Mapping[str, Any] | None = None) -> Anthropic:
    """A per-request view of the process client: same pool, usage records carry the request's metadata."""
    name = alias or claude_settings().chat.client
    extra = {**request_context(request, name), **(context or {})}
    return get_client(name).with_options(usage_context=extra)


async def aclient_for(
    request: Any, alias: str | None = None, *, context: Mapping[str, Any] | None = None
) -> AsyncAnthropic:
    """The async twin of :func:`client_for` (loads the user with ``await request.auser()`` if needed)."""
    name = alias or claude_settings().chat.client
    user = None
    auser = getattr(request, "auser", None)
    if auser is not None:
        user = await auser()
    extra = {**request_context(request, name, user), **(context or {})}
    return get_async_client(name).with_options(usage_context=extra)
