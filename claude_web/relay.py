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

>>> relay = MemoryRelay()
>>> relay.create_job("j1", {"owner": "alice", "kind": "stream"})
>>> first = relay.publish("j1", "text", {"text": "Hel"})
>>> _ = relay.finish("j1", "done", {"stop_reason": "end_turn"})
>>> [e.event for e in relay.events("j1", first)]
['done']
"""

from __future__ import annotations

import abc
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_JOB_TTL",
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

_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


class InvalidEventId(ValueError):
    """A ``Last-Event-ID`` that this relay never issued (endpoints answer 400)."""


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
    """``"0-0"`` for no id (read from the start), the id itself when well formed, else :class:`InvalidEventId`."""
    if value is None or value == "":
        return "0-0"
    value = value.strip()
    if not _EVENT_ID.match(value):
        raise InvalidEventId(f"not an event id of this relay: {value[:40]!r}")
    return value


def _id_key(event_id: str) -> tuple[int, int]:
    ms, seq = event_id.split("-")
    return int(ms), int(seq)


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

    # -- the reader ---------------------------------------------------------------------------------------
    def events(
        self,
        job_id: str,
        last_event_id: str | None = None,
        *,
        heartbeat: float = 15.0,
        timeout: float | None = None,
        yield_heartbeats: bool = False,
    ) -> Iterator[RelayEvent]:
        """Every event after ``last_event_id`` until the final one, blocking for new ones.

        With ``yield_heartbeats=True`` a ``RelayEvent(id="", event="", data={})`` comes every ``heartbeat``
        seconds of silence (an SSE endpoint turns it into a comment line). ``timeout`` bounds the whole read.
        """
        after = check_event_id(last_event_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = heartbeat
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return
            batch = self.read(job_id, after, block_ms=max(1, int(wait * 1000)))
            if not batch:
                if self.get_job(job_id) is None:
                    return
                if yield_heartbeats:
                    yield RelayEvent("", "", {})
                continue
            for item in batch:
                yield item
                after = item.id
                if item.terminal:
                    return


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
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.maxlen = maxlen
        self.ttl = ttl
        self.job_ttl = job_ttl
        self._block_step = _block_step_ms(client)
        self._finish = client.register_script(_FINISH)
        self._transition = client.register_script(_TRANSITION)

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


def relay_from_url(url: str, **options: Any) -> RedisRelay:
    """A :class:`RedisRelay` on ``url`` (``redis://host:port/db``); ``options`` go to :class:`RedisRelay`."""
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('The Redis relay needs redis-py: pip install "claude-web[celery]"') from exc
    client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
    return RedisRelay(client, **options)


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
    """The relay inside one process: same semantics as :class:`RedisRelay`, ids ``0-1``, ``0-2``..."""

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

    def _append(self, job: _MemJob, event: str, data: Mapping[str, Any]) -> str:
        job.seq += 1
        item = RelayEvent(f"0-{job.seq}", event, json.loads(json.dumps(data)))
        job.events.append(item)
        self._cond.notify_all()
        return item.id

    def publish(self, job_id: str, event: str, data: Mapping[str, Any]) -> str:
        with self._cond:
            job = self._live(job_id)
            if job is None:
                raise KeyError(f"no such job: {job_id}")
            return self._append(job, event, data)

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
            event_id = self._append(job, event, data)
            job.fields.update(fields or {})
            job.fields["state"] = event
            job.expires = self._clock() + self.ttl
            return event_id

    def read(self, job_id: str, after: str, *, block_ms: int | None = None, count: int = 500) -> list[RelayEvent]:
        after_seq = _id_key(after)[1]
        deadline = None if block_ms is None else time.monotonic() + block_ms / 1000.0
        with self._cond:
            while True:
                job = self._live(job_id)
                found: list[RelayEvent] = []
                if job is not None and job.events:
                    first_seq = job.seq - len(job.events) + 1  # ids are consecutive: index by arithmetic
                    start = max(0, after_seq - first_seq + 1)
                    found = list(itertools.islice(job.events, start, start + count))
                if found or deadline is None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

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

    def claim(self, key: str, ttl: int | None = None) -> bool:
        with self._cond:
            self._purge()
            if key in self._once:
                return False
            self._once[key] = self._clock() + (ttl or self.job_ttl)
            return True
