"""The relay over Redis: one stream per job, blocking ``XREAD`` readers, one reader hub per event loop."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._base import (
    DEFAULT_JOB_TTL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAXLEN,
    DEFAULT_TTL,
    MAX_BLOCK_MS,
    Relay,
    RelayEvent,
    _AsyncCursor,
)

if TYPE_CHECKING:
    from ._hub import ReadHub


_FINISH = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state == 'done' or state == 'error' or state == 'cancelled' then return false end
local allowed = ARGV[5]
if allowed ~= '' and not string.find(',' .. allowed .. ',', ',' .. state .. ',', 1, true) then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[1], 'd', ARGV[2])
redis.call('HSET', KEYS[1], 'state', ARGV[1])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return id
"""

_TRANSITION = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if not string.find(',' .. ARGV[1] .. ',', ',' .. state .. ',', 1, true) then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


class RedisRelay(Relay):
    """The relay over Redis: pass a ``redis.Redis`` (``decode_responses=True``) or use :func:`relay_from_url`.

    Keys (``{prefix}:{{job_id}}:...``, one hash slot per job): ``:job`` (hash), ``:events`` (stream),
    ``:cancel``, ``:attempts``; idempotency keys live under ``{prefix}:once:...``.
    """

    mode = "redis"

    @staticmethod
    def entry_event(entry: Any) -> RelayEvent:
        """A stream entry as it comes from Redis (``(id, fields)``) as a :class:`RelayEvent`."""
        return _entry(entry)

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "claude_web",
        maxlen: int = DEFAULT_MAXLEN,
        ttl: int = DEFAULT_TTL,
        job_ttl: int = DEFAULT_JOB_TTL,
        async_client: Callable[[], Any] | None = None,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.maxlen = maxlen
        self.ttl = ttl
        self.job_ttl = job_ttl
        self._block_step = _block_step_ms(client)
        self._finish = client.register_script(_FINISH)
        self._transition = client.register_script(_TRANSITION)
        self._make_async = async_client or (lambda: _async_twin(client))
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._async_lock = threading.Lock()
        self._async_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReadHub] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        pool = getattr(self.redis, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", {}) if pool is not None else {}
        where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        return f"<RedisRelay {where} prefix={self.prefix!r}>"  # never the password

    def _key(self, job_id: str, part: str) -> str:
        return f"{self.prefix}:{{{job_id}}}:{part}"

    def _keys(self, job_id: str) -> list[str]:
        return [self._key(job_id, p) for p in ("job", "events", "cancel", "attempts")]

    def create_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        key = self._key(job_id, "job")
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={**fields, "state": "queued"})
        pipe.expire(key, self.job_ttl)
        pipe.execute()

    def get_job(self, job_id: str) -> dict[str, str] | None:
        data: dict[str, str] = self.redis.hgetall(self._key(job_id, "job"))
        return data or None

    def update_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        key = self._key(job_id, "job")
        if fields and self.redis.exists(key):
            self.redis.hset(key, mapping=dict(fields))

    def last_event(self, job_id: str) -> RelayEvent | None:
        entries = self.redis.xrevrange(self._key(job_id, "events"), count=1)
        return _entry(entries[0]) if entries else None

    # -- on the event loop: redis.asyncio, one client per loop ---------------------------------------------
    def async_redis(self) -> Any:
        """The ``redis.asyncio`` client of the running event loop (made on first use, closed with the loop)."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            with self._async_lock:
                client = self._async.get(loop)
                if client is None:
                    client = self._async[loop] = self._make_async()
                    closer = _close_with_loop(client)
                    loop.create_task(_start(closer))
                    self._async_closers[loop] = closer
        return client

    async def aread(
        self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500
    ) -> list[RelayEvent]:
        key = self._key(job_id, "events")
        client = self.async_redis()
        if block_ms is None:
            reply = await client.xread({key: after}, count=count)
        else:  # in steps, as read() does
            deadline = time.monotonic() + block_ms / 1000.0
            while True:
                left = max(1, int((deadline - time.monotonic()) * 1000))
                reply = await client.xread({key: after}, count=count, block=min(left, self._block_step))
                if reply or left <= self._block_step:
                    break
        return [_entry(entry) for _stream, entries in reply or () for entry in entries]

    def _acursor(self, job_id: str, after: str) -> _AsyncCursor:
        """The loop's :class:`~claude_web.relay._hub.ReadHub`: one blocking ``XREAD`` for all its waiting readers."""
        from ._hub import ReadHub

        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = ReadHub(self, loop)
        return hub.cursor(job_id, after)

    async def aget_job(self, job_id: str) -> dict[str, str] | None:
        data: dict[str, str] = await self.async_redis().hgetall(self._key(job_id, "job"))
        return data or None

    async def alast_event(self, job_id: str) -> RelayEvent | None:
        entries = await self.async_redis().xrevrange(self._key(job_id, "events"), count=1)
        return _entry(entries[0]) if entries else None

    def transition(
        self, job_id: str, from_states: Iterable[str], to_state: str, fields: Mapping[str, str] | None = None
    ) -> bool:
        args: list[str] = [",".join(from_states), to_state]
        for name, value in (fields or {}).items():
            args += [name, value]
        return bool(self._transition(keys=[self._key(job_id, "job")], args=args))

    def publish(self, job_id: str, event: str, data: Mapping[str, Any]) -> str:
        key = self._key(job_id, "events")
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(key, {"e": event, "d": json.dumps(data, separators=(",", ":"))}, maxlen=self.maxlen, approximate=True)
        pipe.expire(key, self.job_ttl)
        event_id, _ = pipe.execute()
        return str(event_id)

    def finish(
        self,
        job_id: str,
        event: str,
        data: Mapping[str, Any],
        fields: Mapping[str, str] | None = None,
        *,
        only_from: Iterable[str] | None = None,
    ) -> str | None:
        args: list[str] = [
            event,
            json.dumps(data, separators=(",", ":")),
            str(self.maxlen),
            str(self.ttl),
            ",".join(only_from or ()),
        ]
        for name, value in (fields or {}).items():
            args += [name, value]
        result = self._finish(keys=self._keys(job_id), args=args)
        return None if result is None else str(result)

    def read(self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500) -> list[RelayEvent]:
        key = self._key(job_id, "events")
        if block_ms is None:
            reply = self.redis.xread({key: after}, count=count)
        else:
            # one long XREAD BLOCK would outlast the client's socket timeout (redis-py 8 sets 5 s by default) and
            # end in TimeoutError: wait in shorter steps, as long as asked in total
            deadline = time.monotonic() + block_ms / 1000.0
            while True:
                left = max(1, int((deadline - time.monotonic()) * 1000))
                reply = self.redis.xread({key: after}, count=count, block=min(left, self._block_step))
                if reply or left <= self._block_step:
                    break
        out: list[RelayEvent] = []
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                out.append(RelayEvent(str(entry_id), fields.get("e", ""), json.loads(fields.get("d") or "{}")))
        return out

    def request_cancel(self, job_id: str) -> None:
        self.redis.set(self._key(job_id, "cancel"), "1", ex=self.job_ttl)

    def is_cancelled(self, job_id: str) -> bool:
        return bool(self.redis.exists(self._key(job_id, "cancel")))

    def next_attempt(self, job_id: str) -> int:
        key = self._key(job_id, "attempts")
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self.job_ttl)
        value, _ = pipe.execute()
        return int(value)

    def claim(self, key: str, ttl: int | None = None) -> bool:
        return bool(self.redis.set(f"{self.prefix}:once:{key}", "1", nx=True, ex=ttl or self.job_ttl))

    def close(self) -> None:
        self.redis.close()


def _block_step_ms(client: Any) -> int:
    """The longest single blocking read for ``client``: :data:`MAX_BLOCK_MS`, or half its socket timeout when that
    was set shorter."""
    pool = getattr(client, "connection_pool", None)
    timeout = getattr(pool, "connection_kwargs", {}).get("socket_timeout") if pool is not None else None
    if isinstance(timeout, (int, float)) and timeout > 0:
        return max(10, min(MAX_BLOCK_MS, int(timeout * 500)))
    return MAX_BLOCK_MS


def relay_from_url(
    url: str, *, max_connections: int = DEFAULT_MAX_CONNECTIONS, async_connections: int = 50, **options: Any
) -> RedisRelay:
    """A :class:`RedisRelay` on ``url`` (``redis://host:port/db``); ``options`` go to :class:`RedisRelay`.

    A thread waiting for a job's next event holds one connection (a blocking ``XREAD``), so the thread-side pool
    allows ``max_connections``: keep Redis's ``maxclients`` above the total of all processes. On an event loop
    all waiting readers share one connection, and quick commands share at most ``async_connections`` more
    (beyond them a command waits for a free one).
    """
    try:
        import redis
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('The Redis relay needs redis-py: pip install "claude-web[celery]"') from exc
    settings: dict[str, Any] = {"decode_responses": True, "health_check_interval": 30}
    client = redis.Redis.from_url(url, max_connections=max_connections, **settings)

    def async_client() -> Any:
        pool = redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=async_connections, **settings)
        return redis.asyncio.Redis(connection_pool=pool)

    options.setdefault("async_client", async_client)
    return RedisRelay(client, **options)


def _entry(entry: Any) -> RelayEvent:
    entry_id, fields = entry
    return RelayEvent(str(entry_id), fields.get("e", ""), json.loads(fields.get("d") or "{}"))


_TWIN_KWARGS = (
    "host", "port", "db", "username", "password", "socket_timeout", "socket_connect_timeout", "socket_keepalive",
    "encoding", "encoding_errors", "decode_responses", "client_name", "health_check_interval",
)  # fmt: skip


def _async_twin(client: Any) -> Any:
    """A ``redis.asyncio`` client to the server of a sync ``redis.Redis`` (TCP or Unix socket; for TLS or other
    options pass ``async_client=`` to :class:`RedisRelay`, as :func:`relay_from_url` does)."""
    import redis.asyncio

    kwargs = dict(client.connection_pool.connection_kwargs)
    options = {name: kwargs[name] for name in _TWIN_KWARGS if name in kwargs}
    connection_class: Any = redis.asyncio.Connection
    if kwargs.get("path"):
        options.pop("host", None)
        options.pop("port", None)
        options["path"] = kwargs["path"]
        connection_class = redis.asyncio.UnixDomainSocketConnection
    pool = redis.asyncio.BlockingConnectionPool(connection_class=connection_class, max_connections=50, **options)
    return redis.asyncio.Redis(connection_pool=pool)


async def _close_with_loop(client: Any) -> AsyncIterator[None]:
    """Kept suspended for the life of a loop: the loop's ``shutdown_asyncgens()`` closes the client on it."""
    try:
        yield
    finally:
        try:
            await client.aclose()
        except Exception:  # closing must never break a shutdown
            pass


async def _start(closer: AsyncIterator[None]) -> None:
    await closer.__anext__()
