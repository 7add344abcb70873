"""Building the clients of one app: one process-wide sync client per alias, one async client per alias and loop.

Flask runs every ``async def`` view in a fresh event loop that is closed when the view returns. An
``httpx.AsyncClient`` whose pooled connections belong to a closed loop fails on its next use ("Event loop is
closed"), so async clients are kept per event loop (:class:`AsyncClients`), closed loops are swept out, and their
pools keep no idle connection: a socket never outlives the loop that opened it.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

import claude_web
from claude_web import Anthropic, AsyncAnthropic
from claude_web.usage import ModelPrice, UsageRecorder

from .config import ClientSpec, ConfigError, import_string

__all__ = ["AsyncClients", "SyncClients", "build_async_client", "build_sync_client"]

FAKE_API_KEY = "fake-claude-web-key"

_SYNC_CLASSES = {
    "anthropic": "Anthropic",
    "fake": "Anthropic",
    "bedrock": "AnthropicBedrock",
    "vertex": "AnthropicVertex",
}
_ASYNC_CLASSES = {
    "anthropic": "AsyncAnthropic",
    "fake": "AsyncAnthropic",
    "bedrock": "AsyncAnthropicBedrock",
    "vertex": "AsyncAnthropicVertex",
}


def _client_class(spec: ClientSpec, *, asynchronous: bool) -> Any:
    where = f"CLAUDE_WEB_CLIENTS[{spec.alias!r}]"
    if asynchronous and spec.async_backend:
        return import_string(spec.async_backend, f"{where}['ASYNC_BACKEND']")
    table = _ASYNC_CLASSES if asynchronous else _SYNC_CLASSES
    name = table.get(spec.backend)
    if name is not None:
        try:
            return getattr(claude_web, name)
        except (AttributeError, ImportError) as exc:
            raise ConfigError(f"{where}: backend {spec.backend!r} is not available ({exc})") from exc
    if asynchronous:
        raise ConfigError(f"{where}: a custom BACKEND needs ASYNC_BACKEND ('module:Class') for async views")
    return import_string(spec.backend, f"{where}['BACKEND']")


def _kwargs(spec: ClientSpec, recorder: UsageRecorder, pricing: Mapping[str, ModelPrice]) -> dict[str, Any]:
    kwargs = dict(spec.options)
    if spec.backend == "fake":
        kwargs.setdefault("api_key", FAKE_API_KEY)
    kwargs["usage_recorder"] = recorder
    kwargs.setdefault("pricing", pricing)
    return kwargs


def build_sync_client(spec: ClientSpec, recorder: UsageRecorder, pricing: Mapping[str, ModelPrice]) -> Anthropic:
    """The process-wide client of one alias (it owns the connection pool every request view shares)."""
    cls = _client_class(spec, asynchronous=False)
    client: Anthropic = cls(**_kwargs(spec, recorder, pricing))
    return client


def build_async_client(
    spec: ClientSpec, recorder: UsageRecorder, pricing: Mapping[str, ModelPrice], ssl_context: ssl.SSLContext
) -> AsyncAnthropic:
    """An async client for the running event loop only; its pool keeps no idle connection."""
    cls = _client_class(spec, asynchronous=True)
    kwargs = _kwargs(spec, recorder, pricing)
    kwargs.pop("http_client", None)  # a sync httpx.Client (or one bound to another loop) must not leak in here
    timeout = kwargs.get("timeout", claude_web.DEFAULT_TIMEOUT)
    kwargs["http_client"] = claude_web.DefaultAsyncHttpxClient(
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
        verify=ssl_context,
    )
    client: AsyncAnthropic = cls(**kwargs)
    return client


class SyncClients:
    """Lazily built, thread-safe: alias -> the app's one sync client."""

    def __init__(
        self, specs: Mapping[str, ClientSpec], recorder: UsageRecorder, pricing: Mapping[str, ModelPrice]
    ) -> None:
        self._specs = specs
        self._recorder = recorder
        self._pricing = pricing
        self._clients: dict[str, Anthropic] = {}
        self._lock = threading.Lock()

    def get(self, alias: str) -> Anthropic:
        client = self._clients.get(alias)
        if client is not None:
            return client
        spec = self._specs.get(alias)
        if spec is None:
            raise KeyError(f"no Claude client {alias!r}; CLAUDE_WEB_CLIENTS has {', '.join(map(repr, self._specs))}")
        with self._lock:
            client = self._clients.get(alias)
            if client is None:
                client = build_sync_client(spec, self._recorder, self._pricing)
                self._clients[alias] = client
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


class AsyncClients:
    """alias -> async client, per event loop. Entries of closed loops are dropped on every lookup."""

    def __init__(
        self, specs: Mapping[str, ClientSpec], recorder: UsageRecorder, pricing: Mapping[str, ModelPrice]
    ) -> None:
        self._specs = specs
        self._recorder = recorder
        self._pricing = pricing
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncAnthropic]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._ssl_context: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        # building an SSL context loads the CA bundle (milliseconds): do it once per app, not once per loop
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def get(self, alias: str) -> AsyncAnthropic:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "the async Claude client is for async views (a running event loop); use claude.client in sync code"
            ) from None
        spec = self._specs.get(alias)
        if spec is None:
            raise KeyError(f"no Claude client {alias!r}; CLAUDE_WEB_CLIENTS has {', '.join(map(repr, self._specs))}")
        with self._lock:
            for old in [lp for lp in self._by_loop if lp.is_closed()]:
                del self._by_loop[old]
            clients = self._by_loop.setdefault(loop, {})
            client = clients.get(alias)
            if client is None:
                client = build_async_client(spec, self._recorder, self._pricing, self._context())
                clients[alias] = client
        return client

    def loops(self) -> int:
        """How many event loops currently hold clients (for tests and diagnostics)."""
        with self._lock:
            return sum(1 for lp in self._by_loop if not lp.is_closed())
