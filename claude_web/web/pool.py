"""Connection pools of the web layer's clients: sized for the stream capacity, with a short wait for a connection.

Every browser stream holds one upstream connection for as long as it lasts, so a pool smaller than the number of
streams a process admits makes the surplus queue inside httpx. That queue is slow twice over: httpcore reassigns
connections by scanning every queued request against every connection (quadratic work on the event loop each time
a request starts or ends), and a queued request waits up to the whole request timeout (10 minutes by default)
before it fails. So the registry builds each client's ``httpx`` client itself:

- ``max_connections`` = ``STREAMING["MAX_STREAMS"]`` + 100 for calls that are not streams (at least 1000); with no
  stream cap, no connection cap either (the process's admission decides, not a queue);
- ``max_keepalive`` = ``max_connections``, so a finished stream's connection (and its TLS session) is reused by the
  next one instead of being closed (httpcore counts every pooled connection against this limit, busy or idle);
- a wait for a free connection is cut to ``POOL["TIMEOUT"]`` seconds (10), whatever the request's own timeout.

``CLIENTS[alias]["POOL"]`` overrides any of them::

    "CLIENTS": {"default": {"BACKEND": "anthropic", "POOL": {"MAX_CONNECTIONS": 3000, "TIMEOUT": 5.0}}}

>>> PoolSettings().limits(capacity=2000).max_connections
2100
>>> PoolSettings().limits(capacity=None).max_connections is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from .._request_options import DefaultAsyncHttpxClient, DefaultHttpxClient

__all__ = ["POOL_KEYS", "PoolSettings", "pooled_http_client"]

POOL_KEYS = ("MAX_CONNECTIONS", "MAX_KEEPALIVE", "TIMEOUT")
"""The keys of ``CLIENTS[alias]["POOL"]``."""
HEADROOM = 100
"""Connections beyond the stream capacity, for calls that are not browser streams (views, jobs, count_tokens)."""
DEFAULT_POOL_TIMEOUT = 10.0


@dataclass(frozen=True)
class PoolSettings:
    """``CLIENTS[alias]["POOL"]``; ``None`` means "derived from the stream capacity" (see the module docstring)."""

    max_connections: int | None = None
    max_keepalive: int | None = None
    timeout: float = DEFAULT_POOL_TIMEOUT

    def limits(self, capacity: int | None) -> httpx.Limits:
        """The ``httpx.Limits`` for a process that admits ``capacity`` concurrent streams (``None``: no cap)."""
        most = self.max_connections
        if most is None and capacity is not None:
            most = max(capacity + HEADROOM, DEFAULT_CONNECTION_LIMITS.max_connections or 0)
        keep = self.max_keepalive if self.max_keepalive is not None else most
        return httpx.Limits(max_connections=most, max_keepalive_connections=keep)


def _clamp_pool_wait(request: httpx.Request, seconds: float) -> None:
    """Cut the pool part of the request's timeout (httpx sends it to httpcore as ``extensions["timeout"]``)."""
    timeout = request.extensions.get("timeout")
    if not isinstance(timeout, Mapping):
        return
    wait = timeout.get("pool")
    if wait is None or wait > seconds:
        request.extensions = {**request.extensions, "timeout": {**timeout, "pool": seconds}}


class _PoolWaitTransport(httpx.HTTPTransport):
    def __init__(self, *, pool_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool_timeout = pool_timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _clamp_pool_wait(request, self._pool_timeout)
        return super().handle_request(request)


class _AsyncPoolWaitTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, pool_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool_timeout = pool_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _clamp_pool_wait(request, self._pool_timeout)
        return await super().handle_async_request(request)


def pooled_http_client(
    pool: PoolSettings, capacity: int | None, *, asynchronous: bool, timeout: Any = DEFAULT_TIMEOUT
) -> httpx.Client | httpx.AsyncClient:
    """A new ``httpx`` client (the library's defaults otherwise) with ``pool``'s limits and pool wait.

    ``timeout`` is the API client's own ``timeout`` option; each request still carries the timeout of its call,
    except that its wait for a free connection never exceeds ``pool.timeout``.
    """
    limits = pool.limits(capacity)
    if asynchronous:
        return DefaultAsyncHttpxClient(
            timeout=timeout,
            limits=limits,
            transport=_AsyncPoolWaitTransport(pool_timeout=pool.timeout, limits=limits),
        )
    return DefaultHttpxClient(
        timeout=timeout, limits=limits, transport=_PoolWaitTransport(pool_timeout=pool.timeout, limits=limits)
    )
