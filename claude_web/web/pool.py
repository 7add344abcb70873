"""Connection pools of the web layer's clients: sized for the stream capacity, with a short wait for a connection.

Every browser stream holds one upstream connection for as long as it lasts, so a pool smaller than the number of
streams a process admits makes the surplus queue inside httpx. That queue is slow twice over: httpcore reassigns
connections by scanning every queued request against every connection (quadratic work on the event loop each time
a request starts or ends), and a queued request waits up to the whole request timeout (10 minutes by default)
before it fails. So the registry builds each client's ``httpx`` client itself:

- ``max_connections`` = ``STREAMING["MAX_STREAMS"]`` + 100 for calls that are not streams (at least 1000); with no
  stream cap, no connection cap either (the process's admission decides, not a queue);
- ``max_keepalive`` stays the library's 100. Raising it with the pool looks right (more reuse) but costs far more
  than it saves: httpcore tests each idle connection against the count of *all* pooled connections, so idle
  connections are only kept while the pool holds at most this many, and every one kept makes each pool update
  rescan the whole pool (quadratic in the connections when a crowd of streams ends together);
- a wait for a free connection is cut to ``POOL["TIMEOUT"]`` seconds (10), whatever the request's own timeout;
- an async client's pool is split into shards of at most 128 connections, each request going to the shard with the
  fewest requests in flight: httpcore rescans every connection of a pool each time a request starts or ends, so
  one pool of 2000 connections cost milliseconds of event-loop time per stream.

``CLIENTS[alias]["POOL"]`` overrides any of them::

    "CLIENTS": {"default": {"BACKEND": "anthropic", "POOL": {"MAX_CONNECTIONS": 3000, "TIMEOUT": 5.0}}}

>>> PoolSettings().limits(capacity=2000).max_connections
2100
>>> PoolSettings().limits(capacity=None).max_connections is None
True
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
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
SHARD_SIZE = 128
"""Most connections in one httpcore pool of an async client (see the module docstring)."""
SHARD_KEEPALIVE = 20
"""Idle connections one shard keeps (httpx's own default)."""


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
        keep = self.max_keepalive
        if keep is None:
            keep = DEFAULT_CONNECTION_LIMITS.max_keepalive_connections
            if most is not None and keep is not None:
                keep = min(keep, most)
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


class _Shard:
    __slots__ = ("in_flight", "transport")

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self.in_flight = 0


class _ShardStream(httpx.AsyncByteStream):
    """A response body that tells its shard when it is done (closed, however it ends)."""

    def __init__(self, stream: Any, shard: _Shard) -> None:
        self._stream = stream
        self._shard: _Shard | None = shard

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        shard, self._shard = self._shard, None
        if shard is not None:
            shard.in_flight -= 1
        await self._stream.aclose()


class _ShardedTransport(httpx.AsyncBaseTransport):
    """Several httpcore pools behind one transport, made as the requests in flight need them; a request goes to
    the least busy one. ``limits.max_connections`` still bounds them together."""

    def __init__(self, limits: httpx.Limits, pool_timeout: float) -> None:
        most = limits.max_connections
        self._max_shards = None if most is None else max(1, math.ceil(most / SHARD_SIZE))
        per_shard = SHARD_SIZE if most is None or self._max_shards is None else math.ceil(most / self._max_shards)
        keep = limits.max_keepalive_connections
        self._limits = httpx.Limits(
            max_connections=per_shard,
            max_keepalive_connections=min(SHARD_KEEPALIVE if keep is None else keep, SHARD_KEEPALIVE),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._pool_timeout = pool_timeout
        self._ssl = httpx.create_ssl_context()  # one for every shard (each would load the CA bundle)
        self._shards: list[_Shard] = []

    def _pick(self) -> _Shard:
        shard = min(self._shards, key=lambda s: s.in_flight, default=None)
        full = shard is None or shard.in_flight >= (self._limits.max_connections or SHARD_SIZE)
        if full and (self._max_shards is None or len(self._shards) < self._max_shards):
            shard = _Shard(
                _AsyncPoolWaitTransport(pool_timeout=self._pool_timeout, limits=self._limits, verify=self._ssl)
            )
            self._shards.append(shard)
        assert shard is not None
        return shard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        shard = self._pick()
        shard.in_flight += 1
        try:
            response = await shard.transport.handle_async_request(request)
        except BaseException:
            shard.in_flight -= 1
            raise
        response.stream = _ShardStream(response.stream, shard)
        return response

    async def aclose(self) -> None:
        shards, self._shards = self._shards, []
        for shard in shards:
            await shard.transport.aclose()


def pooled_http_client(
    pool: PoolSettings, capacity: int | None, *, asynchronous: bool, timeout: Any = DEFAULT_TIMEOUT
) -> httpx.Client | httpx.AsyncClient:
    """A new ``httpx`` client (the library's defaults otherwise) with ``pool``'s limits and pool wait.

    ``timeout`` is the API client's own ``timeout`` option; each request still carries the timeout of its call,
    except that its wait for a free connection never exceeds ``pool.timeout``.
    """
    limits = pool.limits(capacity)
    if asynchronous:
        transport: httpx.AsyncBaseTransport
        if limits.max_connections is not None and limits.max_connections <= SHARD_SIZE:
            transport = _AsyncPoolWaitTransport(pool_timeout=pool.timeout, limits=limits)
        else:
            transport = _ShardedTransport(limits, pool.timeout)
        return DefaultAsyncHttpxClient(timeout=timeout, limits=limits, transport=transport)
    return DefaultHttpxClient(
        timeout=timeout, limits=limits, transport=_PoolWaitTransport(pool_timeout=pool.timeout, limits=limits)
    )
