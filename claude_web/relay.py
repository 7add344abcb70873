"""A durable, resumable event relay between the process that runs a job and the browsers that watch it.

Each job has a small state record (owner, kind, state...) and an append-only event log. Workers
:meth:`~Relay.publish` events; web processes read them with :meth:`~Relay.events` from a ``Last-Event-ID`` and
get every later event exactly once, whichever process wrote them and whichever process reads them.

Two implementations share one interface:

- :class:`RedisRelay`: one Redis Stream per job (``XADD`` with an approximate ``MAXLEN`` cap), blocking
  ``XREAD`` for readers, and an ``EXPIRE`` on every key of the job once its final ``done`` / ``error`` /
  ``cancelled`` event is written. Stream entry ids (``1718000000000-0``) are the SSE ``id:`` values, and
  ``XREAD`` returns exactly the entries after a given id, so a reconnect has no gap and no duplicate.
- :class:`MemoryRelay`: the same in one process (a dict and a condition variable), for a machine without Redis.

Event ids are Redis stream ids, ``<ms>-<seq>`` with each part an unsigned 64-bit number, and both relays compare
them as Redis does (by ``ms``, then ``seq``). A ``Last-Event-ID`` is checked before a response starts
(:meth:`Relay.resume_from`): anything else than two ASCII numbers in that range, or an id beyond the last event
of a job that is still running, is an :class:`InvalidEventId` (endpoints answer 400). A reader of a finished job
that has nothing after its id gets the job's final event again at once, so a browser's ``EventSource`` learns the
job is over instead of waiting on an open connection.

Readers come in two kinds: :meth:`Relay.events` blocks its thread (WSGI), :meth:`Relay.aevents` waits on the
event loop (ASGI): ``redis.asyncio`` with a blocking ``XREAD`` per reader, or the memory relay's asyncio wake-ups,
and no thread is taken while a reader waits.

>>> relay = MemoryRelay()
>>> relay.create_job("j1", {"owner": "alice", "kind": "stream"})
>>> first = relay.publish("j1", "text", {"text": "Hel"})
>>> _ = relay.finish("j1", "done", {"stop_reason": "end_turn"})
>>> [e.event for e in relay.events("j1", first)]
['done']
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import json
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._relay_hub import ReadHub

__all__ = [
    "DEFAULT_JOB_TTL",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAXLEN",
    "DEFAULT_TTL",
    "MAX_BLOCK_MS",
    "TERMINAL_EVENTS",
    "TERMINAL_STATES",
    "InvalidEventId",
    "MemoryRelay",
    "RedisRelay",
    "Relay",
    "RelayEvent",
    "relay_from_url",
    "MAX_ID_PART",
    "STATE_CHECK",
    "check_event_id",
]

TERMINAL_EVENTS = frozenset({"done", "error", "cancelled"})
TERMINAL_STATES = TERMINAL_EVENTS
DEFAULT_MAXLEN = 10_000
"""Events kept per job (``XADD MAXLEN ~``); a long answer is a few thousand events."""
DEFAULT_TTL = 3600
"""Seconds a finished job's events and state stay readable."""
DEFAULT_JOB_TTL = 86_400
"""Seconds an unfinished job lives (a safety net for jobs whose worker vanished for good)."""
MAX_BLOCK_MS = 1000
"""The longest single ``XREAD BLOCK`` of the Redis relay (half the client's socket timeout when that is shorter):
well inside redis-py 8's default socket timeout of 5 s; a longer wait is made of several reads."""

MAX_ID_PART = 2**64 - 1
"""The largest value of either part of a Redis stream id (``<ms>-<seq>``, each an unsigned 64-bit number)."""
STATE_CHECK = 30.0
"""Seconds between two looks at a quiet job's state by a reader (is it still there, has it finished?): a job's end
comes as its final event anyway; this only catches a job whose keys expired."""
DEFAULT_MAX_CONNECTIONS = 10_000
"""Connections of the thread-side pool of :func:`relay_from_url` (a waiting thread holds one; redis-py's default
is 100)."""

_EVENT_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")  # ASCII digits only: ``\d`` would take fullwidth ones


class InvalidEventId(ValueError):
    """A ``Last-Event-ID`` that this relay never issued (endpoints answer 400); ``beyond`` when it is well formed
    but past the last event of a job that is still running."""

    def __init__(self, message: str, *, beyond: bool = False) -> None:
        super().__init__(message)
        self.beyond = beyond


@dataclass(frozen=True)
class RelayEvent:
    """One event of a job: ``id`` is the SSE ``id:``, ``event`` its name, ``data`` its JSON payload."""

    id: str
    event: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS


def check_event_id(value: str | None) -> str:
    """``"0-0"`` for no id (read from the start), the id in its plain form when it is a Redis stream id
    (``<ms>-<seq>``, ASCII digits, each part at most :data:`MAX_ID_PART`), else :class:`InvalidEventId`.

    >>> check_event_id("1718000000000-07")
    '1718000000000-7'
    >>> check_event_id("0-99999999999999999999")
    Traceback (most recent call last):
    ...
    claude_web.relay.InvalidEventId: not an event id of this relay: '0-99999999999999999999'
    """
    if value is None or value == "":
        return "0-0"
    text = value.strip(" \t")
    match = _EVENT_ID.fullmatch(text)
    if match is None or int(match[1]) > MAX_ID_PART or int(match[2]) > MAX_ID_PART:
        raise InvalidEventId(f"not an event id of this relay: {value[:40]!r}")
    return f"{int(match[1])}-{int(match[2])}"


def _id_key(event_id: str) -> tuple[int, int]:
    """The order of stream ids, as Redis compares them: milliseconds first, then the sequence number."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class Relay(abc.ABC):
    """The interface both relays implement; job state values are strings."""

    mode: str = "abstract"

    # -- job state ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        """Create the job record with ``state=queued`` (``fields`` add owner, kind...)."""

    @abc.abstractmethod
    def get_job(self, job_id: str) -> dict[str, str] | None:
        """The job record, or ``None`` if there is no such job (or it expired)."""

    @abc.abstractmethod
    def update_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        """Set fields of an existing job record (no effect on a missing job)."""

    @abc.abstractmethod
    def transition(
        self, job_id: str, from_states: Iterable[str], to_state: str, fields: Mapping[str, str] | None = None
    ) -> bool:
        """Atomically move the job to ``to_state`` if its state is one of ``from_states``; ``True`` if moved."""

    # -- events -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def publish(self, job_id: str, event: str, data: Mapping[str, Any]) -> str:
        """Append a (non-final) event; returns its id."""

    @abc.abstractmethod
    def finish(
        self,
        job_id: str,
        event: str,
        data: Mapping[str, Any],
        fields: Mapping[str, str] | None = None,
        *,
        only_from: Iterable[str] | None = None,
    ) -> str | None:
        """Append the final event, set ``state`` to the event name (plus ``fields``) and start the expiry.

        Atomic and at most once per job: returns ``None`` (and writes nothing) when the job is missing, already
        finished, or not in one of ``only_from`` states.
        """

    @abc.abstractmethod
    def read(self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500) -> list[RelayEvent]:
        """Events after id ``after`` (``"0-0"``: from the start), waiting up to ``block_ms`` for the first one."""

    # -- cancellation, attempts, idempotency ---------------------------------------------------------------
    @abc.abstractmethod
    def request_cancel(self, job_id: str) -> None:
        """Raise the job's cancel flag (the worker checks it between events)."""

    @abc.abstractmethod
    def is_cancelled(self, job_id: str) -> bool: ...

    @abc.abstractmethod
    def next_attempt(self, job_id: str) -> int:
        """A counter per job, incremented by every execution (retries and redeliveries): 1, 2, 3..."""

    @abc.abstractmethod
    def claim(self, key: str, ttl: int | None = None) -> bool:
        """``True`` exactly once per ``key`` (``SET NX``): the idempotency guard for usage records."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections (the relay must not be used afterwards)."""

    @abc.abstractmethod
    def last_event(self, job_id: str) -> RelayEvent | None:
        """The newest event of the job's log, or ``None`` when nothing was published yet."""

    # -- async twins (used by :meth:`aevents`) --------------------------------------------------------------
    @staticmethod
    def entry_event(entry: Any) -> RelayEvent:
        """A stream entry as it comes from Redis (``(id, fields)``) as a :class:`RelayEvent`."""
        return _entry(entry)

    async def aread(
        self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500
    ) -> list[RelayEvent]:
        """:meth:`read` for a coroutine. Both relays here wait on the event loop; this fallback, for other
        relays, runs :meth:`read` in a worker thread."""
        return await asyncio.to_thread(self.read, job_id, after, block_ms=block_ms, count=count)

    async def aget_job(self, job_id: str) -> dict[str, str] | None:
        """:meth:`get_job` for a coroutine (the fallback runs it in a worker thread)."""
        return await asyncio.to_thread(self.get_job, job_id)

    async def alast_event(self, job_id: str) -> RelayEvent | None:
        """:meth:`last_event` for a coroutine (the fallback runs it in a worker thread)."""
        return await asyncio.to_thread(self.last_event, job_id)

    # -- the readers -------------------------------------------------------------------------------------
    def resume_from(self, job_id: str, last_event_id: str | None) -> str:
        """Check a browser's ``Last-Event-ID`` before its response starts; the id to read after.

        :class:`InvalidEventId` when the id is malformed (see :func:`check_event_id`), or when the job has not
        finished and the id is beyond its last event (no browser was ever sent that id). For a finished job any
        well-formed id is accepted: reading after the end gives the final event again.
        """
        after = check_event_id(last_event_id)
        if after == "0-0":
            return after
        job = self.get_job(job_id)
        if job is None or job.get("state") in TERMINAL_STATES:
            return after
        last = self.last_event(job_id)
        if last is None or _id_key(after) > _id_key(last.id):
            raise InvalidEventId(f"beyond the last event of this job: {after!r}", beyond=True)
        return after

    def events(
        self,
        job_id: str,
        last_event_id: str | None = None,
        *,
        heartbeat: float = 15.0,
        timeout: float | None = None,
        yield_heartbeats: bool = False,
    ) -> Iterator[RelayEvent]:
        """Every event after ``last_event_id`` until the final one, blocking this thread for new ones.

        A finished job with nothing after the id gives its final event again and ends. With
        ``yield_heartbeats=True`` a ``RelayEvent(id="", event="", data={})`` comes every ``heartbeat`` seconds of
        silence (an SSE endpoint turns it into a comment line). ``timeout`` bounds the whole read. While the job is
        quiet its state is looked at every :data:`STATE_CHECK` seconds (a job whose keys expired ends the read).
        """
        after = check_event_id(last_event_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        wait = heartbeat if yield_heartbeats else max(heartbeat, STATE_CHECK)
        wait_ms: int | None = None  # the first read does not wait: a finished job ends at once
        checked = 0.0
        while True:
            batch = self.read(job_id, after, block_ms=wait_ms)
            if not batch:
                if wait_ms is None or time.monotonic() - checked >= STATE_CHECK:
                    checked = time.monotonic()
                    job = self.get_job(job_id)
                    if job is None:
                        return
                    if job.get("state") in TERMINAL_STATES:
                        batch = self.read(job_id, after)  # anything published between the two reads
                        if not batch:
                            final = self.last_event(job_id)
                            if final is not None and final.terminal:
                                yield final
                            return
                if not batch and wait_ms is not None and yield_heartbeats:
                    yield _HEARTBEAT
            for item in batch:
                yield item
                after = item.id
                if item.terminal:
                    return
            wait_ms = _wait_ms(wait, deadline)
            if wait_ms is None:
                return

    async def aevents(
        self,
        job_id: str,
        last_event_id: str | None = None,
        *,
        heartbeat: float = 15.0,
        timeout: float | None = None,
        yield_heartbeats: bool = False,
    ) -> AsyncIterator[RelayEvent]:
        """The async twin of :meth:`events`: waits on the running event loop, never on a thread (ASGI).

        >>> async for event in relay.aevents(job_id, request.headers.get("last-event-id")):
        ...     ...
        """
        cursor = self._acursor(job_id, check_event_id(last_event_id))
        deadline = None if timeout is None else time.monotonic() + timeout
        wait = heartbeat if yield_heartbeats else max(heartbeat, STATE_CHECK)
        wait_ms: int | None = None
        checked = 0.0
        try:
            while True:
                batch = await cursor.read(wait_ms)
                if not batch:
                    if wait_ms is None or time.monotonic() - checked >= STATE_CHECK:
                        checked = time.monotonic()
                        job = await self.aget_job(job_id)
                        if job is None:
                            return
                        if job.get("state") in TERMINAL_STATES:
                            batch = await cursor.read(None)
                            if not batch:
                                final = await self.alast_event(job_id)
                                if final is not None and final.terminal:
                                    yield final
                                return
                    if not batch and wait_ms is not None and yield_heartbeats:
                        yield _HEARTBEAT
                for item in batch:
                    yield item
                    if item.terminal:
                        return
                wait_ms = _wait_ms(wait, deadline)
                if wait_ms is None:
                    return
        finally:
            cursor.close()

    def _acursor(self, job_id: str, after: str) -> _AsyncCursor:
        """How :meth:`aevents` reads: here by :meth:`aread` (the Redis relay shares one wait per event loop)."""
        return _PollCursor(self, job_id, after)


class _AsyncCursor(Protocol):
    async def read(self, block_ms: int | None) -> list[RelayEvent]: ...

    def close(self) -> None: ...


class _PollCursor:
    """Reads after the last id returned, with :meth:`Relay.aread`."""

    def __init__(self, relay: Relay, job_id: str, after: str) -> None:
        self.relay = relay
        self.job_id = job_id
        self.after = after

    async def read(self, block_ms: int | None) -> list[RelayEvent]:
        batch = await self.relay.aread(self.job_id, self.after, block_ms=block_ms)
        if batch:
            self.after = batch[-1].id
        return batch

    def close(self) -> None:
        pass


_HEARTBEAT = RelayEvent("", "", {})


def _wait_ms(heartbeat: float, deadline: float | None) -> int | None:
    """How long the next read may block (milliseconds, at least 1), or ``None`` once ``deadline`` has passed."""
    wait = heartbeat
    if deadline is not None:
        wait = min(wait, deadline - time.monotonic())
        if wait <= 0:
            return None
    return max(1, int(wait * 1000))


# ---------------------------------------------------------------------------------------------------------------
# Redis


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
        """The loop's :class:`~claude_web._relay_hub.ReadHub`: one blocking ``XREAD`` for all its waiting readers."""
        from ._relay_hub import ReadHub

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


# ---------------------------------------------------------------------------------------------------------------
# Memory


@dataclass
class _MemJob:
    fields: dict[str, str]
    events: deque[RelayEvent]
    seq: int = 0
    cancelled: bool = False
    attempts: int = 0
    expires: float = 0.0


class MemoryRelay(Relay):
    """The relay inside one process: same semantics as :class:`RedisRelay`, ids ``0-1``, ``0-2``...

    Threads wait on a condition variable; coroutines (:meth:`aread`) on an ``asyncio.Event`` of their own loop,
    set from whichever thread publishes.
    """

    mode = "memory"

    def __init__(
        self,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        ttl: int = DEFAULT_TTL,
        job_ttl: int = DEFAULT_JOB_TTL,
        clock: Any = time.monotonic,
    ) -> None:
        self.maxlen = maxlen
        self.ttl = ttl
        self.job_ttl = job_ttl
        self._clock = clock
        self._jobs: dict[str, _MemJob] = {}
        self._once: dict[str, float] = {}
        self._cond = threading.Condition()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def __repr__(self) -> str:
        return f"<MemoryRelay jobs={len(self._jobs)}>"

    def _live(self, job_id: str) -> _MemJob | None:
        job = self._jobs.get(job_id)
        if job is not None and job.expires <= self._clock():
            del self._jobs[job_id]
            return None
        return job

    def _purge(self) -> None:
        now = self._clock()
        for job_id in [j for j, job in self._jobs.items() if job.expires <= now]:
            del self._jobs[job_id]
        for key in [k for k, exp in self._once.items() if exp <= now]:
            del self._once[key]

    def create_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        with self._cond:
            self._purge()
            self._jobs[job_id] = _MemJob(
                {**fields, "state": "queued"}, deque(maxlen=self.maxlen), expires=self._clock() + self.job_ttl
            )

    def get_job(self, job_id: str) -> dict[str, str] | None:
        with self._cond:
            job = self._live(job_id)
            return dict(job.fields) if job is not None else None

    def update_job(self, job_id: str, fields: Mapping[str, str]) -> None:
        with self._cond:
            job = self._live(job_id)
            if job is not None:
                job.fields.update(fields)

    def transition(
        self, job_id: str, from_states: Iterable[str], to_state: str, fields: Mapping[str, str] | None = None
    ) -> bool:
        with self._cond:
            job = self._live(job_id)
            if job is None or job.fields.get("state") not in set(from_states):
                return False
            job.fields.update(fields or {})
            job.fields["state"] = to_state
            return True

    def _append(self, job_id: str, job: _MemJob, event: str, data: Mapping[str, Any]) -> str:
        job.seq += 1
        item = RelayEvent(f"0-{job.seq}", event, json.loads(json.dumps(data)))
        job.events.append(item)
        self._cond.notify_all()
        self._wake(self._waiters.get(job_id, ()))
        return item.id

    @staticmethod
    def _wake(waiters: Iterable[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
        for loop, ready in list(waiters):
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass

    def publish(self, job_id: str, event: str, data: Mapping[str, Any]) -> str:
        with self._cond:
            job = self._live(job_id)
            if job is None:
                raise KeyError(f"no such job: {job_id}")
            return self._append(job_id, job, event, data)

    def finish(
        self,
        job_id: str,
        event: str,
        data: Mapping[str, Any],
        fields: Mapping[str, str] | None = None,
        *,
        only_from: Iterable[str] | None = None,
    ) -> str | None:
        with self._cond:
            job = self._live(job_id)
            if job is None or job.fields.get("state") in TERMINAL_STATES:
                return None
            allowed = set(only_from or ())
            if allowed and job.fields.get("state") not in allowed:
                return None
            event_id = self._append(job_id, job, event, data)
            job.fields.update(fields or {})
            job.fields["state"] = event
            job.expires = self._clock() + self.ttl
            return event_id

    def _after(self, job_id: str, after: tuple[int, int], count: int) -> list[RelayEvent]:
        """Up to ``count`` events with ids greater than ``after`` (call with the lock held)."""
        job = self._live(job_id)
        if job is None or not job.events:
            return []
        first_seq = job.seq - len(job.events) + 1  # ids are 0-1, 0-2...: consecutive, so index by arithmetic
        if after[0] > 0:
            return []  # past every id this relay issues, as Redis compares ids
        start = max(0, after[1] - first_seq + 1)
        if start >= len(job.events):
            return []
        return list(itertools.islice(job.events, start, start + count))

    def read(self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500) -> list[RelayEvent]:
        key = _id_key(after)
        deadline = None if block_ms is None else time.monotonic() + block_ms / 1000.0
        with self._cond:
            while True:
                found = self._after(job_id, key, count)
                if found or deadline is None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    async def aread(
        self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500
    ) -> list[RelayEvent]:
        key = _id_key(after)
        loop = asyncio.get_running_loop()
        deadline = None if block_ms is None else loop.time() + block_ms / 1000.0
        while True:
            waiter = (loop, asyncio.Event())
            with self._cond:
                found = self._after(job_id, key, count)
                if found or deadline is None:
                    return found
                self._waiters.setdefault(job_id, set()).add(waiter)
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(waiter[1].wait(), remaining)
                except asyncio.TimeoutError:
                    return []
            finally:
                with self._cond:
                    waiting = self._waiters.get(job_id)
                    if waiting is not None:
                        waiting.discard(waiter)
                        if not waiting:
                            del self._waiters[job_id]

    async def aget_job(self, job_id: str) -> dict[str, str] | None:
        return self.get_job(job_id)  # no I/O: safe on the loop

    def last_event(self, job_id: str) -> RelayEvent | None:
        with self._cond:
            job = self._live(job_id)
            return job.events[-1] if job is not None and job.events else None

    async def alast_event(self, job_id: str) -> RelayEvent | None:
        return self.last_event(job_id)

    def request_cancel(self, job_id: str) -> None:
        with self._cond:
            job = self._live(job_id)
            if job is not None:
                job.cancelled = True

    def is_cancelled(self, job_id: str) -> bool:
        with self._cond:
            job = self._live(job_id)
            return bool(job is not None and job.cancelled)

    def next_attempt(self, job_id: str) -> int:
        with self._cond:
            job = self._live(job_id)
            if job is None:
                return 1
            job.attempts += 1
            return job.attempts

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
            for waiting in self._waiters.values():
                self._wake(waiting)

    def claim(self, key: str, ttl: int | None = None) -> bool:
        with self._cond:
            self._purge()
            if key in self._once:
                return False
            self._once[key] = self._clock() + (ttl or self.job_ttl)
            return True
