"""The relay inside one process, for a machine without Redis: a dict, a condition variable, asyncio wake-ups."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._base import (
    DEFAULT_JOB_TTL,
    DEFAULT_MAXLEN,
    DEFAULT_TTL,
    TERMINAL_STATES,
    Relay,
    RelayEvent,
    _id_key,
)


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
