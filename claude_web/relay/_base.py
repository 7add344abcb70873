"""The relay's interface: event ids, events, and the reading loop both relays share."""

from __future__ import annotations

import abc
import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

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
