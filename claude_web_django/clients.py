"""Process-wide clients per alias, and cheap per-request views of them that carry request metadata.

>>> from claude_web_django import get_client, client_for
>>> get_client().messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[...])   # one pool per process
>>> client_for(request).messages.stream(...)   # same pool; usage records name the user and the request id

The clients live in the web layer's one registry (:class:`claude_web.web.clients.ClientRegistry`): sync clients
once per process and alias, async clients once per running event loop and alias (closed with their loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_web import Anthropic, AsyncAnthropic
from claude_web.web.settings import FAKE_API_KEY, ClientSettings, ConfigError

from .conf import SettingsError, claude_settings
from .http import request_id, web_request
from .runtime import get_runtime, reset_runtime

__all__ = [
    "FAKE_API_KEY",
    "aclient_for",
    "build_client",
    "client_for",
    "close_clients",
    "get_async_client",
    "get_client",
    "request_context",
    "request_id",
]


def build_client(cfg: ClientSettings, *, asynchronous: bool = False) -> Any:
    """A new client for one ``CLAUDE_WEB["CLIENTS"]`` entry, wired to the usage pipeline.

    Prefer :func:`get_client` / :func:`get_async_client`, which keep one per process (or event loop).
    """
    try:
        return get_runtime().clients.build(cfg, asynchronous=asynchronous)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from exc


def get_client(alias: str = "default") -> Anthropic:
    """The process-wide sync client for ``alias`` (built on first use; one connection pool)."""
    claude_settings().client(alias)  # a missing alias says what to add to settings
    try:
        return get_runtime().clients.get(alias)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from exc


def get_async_client(alias: str = "default") -> AsyncAnthropic:
    """The async client for ``alias`` on the running event loop (one per loop; call it inside the loop)."""
    claude_settings().client(alias)
    try:
        return get_runtime().clients.get_async(alias)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from exc


def close_clients() -> None:
    """Close the clients and forget them (called when ``CLAUDE_WEB`` changes, and at shutdown)."""
    reset_runtime()


def request_context(request: Any, alias: str, user: Any = None) -> dict[str, Any]:
    """The ``usage_context`` of a request: alias, backend, request id, path, user id, owner, quota key."""
    return get_runtime().usage_context(web_request(request, user, read_body=False), alias)


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
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else None
    extra = {**request_context(request, name, user), **(context or {})}
    return get_async_client(name).with_options(usage_context=extra)
