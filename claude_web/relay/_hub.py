"""Reading the Redis relay on an event loop: one blocking ``XREAD`` for every waiting reader of that loop.

A reader that has caught up with its job's stream joins the loop's :class:`ReadHub`; the hub's one task waits with
``XREAD BLOCK`` on the streams of every joined reader at once (one connection, however many readers) and hands
each new entry to the readers of its stream. An idle reader therefore costs no command and no connection while it
waits, and an active one is woken as soon as Redis has its entry. When a reader joins a stream the hub is not
waiting on yet, the hub's wait is cut short (``CLIENT UNBLOCK``) so that it starts waiting on the new stream too.

Readers catch up, and read without waiting, with plain ``XREAD`` calls of their own; entries reach a reader at
most once, in order, because it keeps only those after the last id it has seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

# The relay (``claude_web.relay.RedisRelay``) and its events (``RelayEvent``) are typed ``Any`` here: the Redis
# relay (``_redis``) builds its hubs, so this module does not import it back.
RedisRelay = Any
RelayEvent = Any

__all__ = ["HubCursor", "ReadHub"]

log = logging.getLogger("claude_web.relay")

RETRIES = 3
"""Times in a row the hub opens its connection again before it gives up and fails its readers."""


def _key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def _time_up(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class HubCursor:
    """One reader's place in one job's stream: what it has consumed (``after``), what it has received
    (``seen``) and the entries waiting for it."""

    def __init__(self, hub: ReadHub, job_id: str, after: str) -> None:
        self.hub = hub
        self.job_id = job_id
        self.stream = hub.relay._key(job_id, "events")
        self.after = after
        self.seen = after
        self.joined = False
        self._queue: deque[RelayEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None  # set while read() waits
        self._error: BaseException | None = None

    def push(self, events: list[RelayEvent]) -> None:
        """Take the entries after the last one seen (the hub may hand over some this reader already read)."""
        seen = _key(self.seen)
        for event in events:
            key = _key(event.id)
            if key > seen:
                self._queue.append(event)
                self.seen, seen = event.id, key
        if self._queue:
            self._wake()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self.joined = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _take(self, count: int) -> list[RelayEvent]:
        out: list[RelayEvent] = []
        while self._queue and len(out) < count:
            out.append(self._queue.popleft())
        if out:
            self.after = out[-1].id
        return out

    async def read(self, block_ms: int | None, count: int = 500) -> list[RelayEvent]:
        """Entries after :attr:`after`: at once (``block_ms=None``), or waiting up to ``block_ms`` for the hub."""
        if self._error is not None:
            raise self._error
        if self._queue:
            return self._take(count)
        if block_ms is None or not self.joined:
            # ask Redis directly: catching up, or an answer now (entries the hub has not handed over yet too)
            self.push(await self.hub.relay.aread(self.job_id, self.seen, count=count))
            if self._queue or block_ms is None:
                return self._take(count)
        if not self.joined:
            await self.hub.join(self)
            if self._queue:
                return self._take(count)
        # a bare future and a timer: an idle reader waits here for a whole heartbeat, so whatever the wait
        # allocates lives long enough to reach the garbage collector's oldest generation; keep it small
        loop = self.hub.loop
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(block_ms / 1000.0, _time_up, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self._error is not None:
            raise self._error
        return self._take(count)

    def close(self) -> None:
        if self.joined:
            self.hub.leave(self)


class ReadHub:
    """The waiting readers of one :class:`~claude_web.relay.RedisRelay` on one event loop, and the task that
    waits for them all."""

    def __init__(self, relay: RedisRelay, loop: asyncio.AbstractEventLoop) -> None:
        self.relay = relay
        self.loop = loop
        self.readers: dict[str, set[HubCursor]] = {}
        self.position: dict[str, str] = {}  # per stream: the id the hub waits after
        self.waiting_on: frozenset[str] | None = None  # the streams of the XREAD in flight
        self._task: asyncio.Task[None] | None = None
        self._kicker: asyncio.Task[None] | None = None
        self._client_id: int | None = None

    def cursor(self, job_id: str, after: str) -> HubCursor:
        return HubCursor(self, job_id, after)

    async def join(self, cursor: HubCursor) -> None:
        """Start handing ``cursor`` the new entries of its stream (entries the hub already handed to others
        after the cursor's place are read first, so nothing falls between the two)."""
        stream = cursor.stream
        while True:
            position = self.position.get(stream)
            if position is not None and _key(position) > _key(cursor.seen):
                before = cursor.seen
                cursor.push(await self.relay.aread(cursor.job_id, cursor.seen))
                if cursor.seen != before:
                    continue  # check again: the hub may have moved on while we read
            break
        # no await from the check above to here: the hub cannot move in between
        if stream not in self.readers:
            self.readers[stream] = set()
            self.position[stream] = cursor.seen
        self.readers[stream].add(cursor)
        cursor.joined = True
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())
        elif self.waiting_on is not None and stream not in self.waiting_on:
            self._kick()

    def leave(self, cursor: HubCursor) -> None:
        cursor.joined = False
        readers = self.readers.get(cursor.stream)
        if readers is None:
            return
        readers.discard(cursor)
        if not readers:
            del self.readers[cursor.stream]
            self.position.pop(cursor.stream, None)

    def _kick(self) -> None:
        if self._kicker is None or self._kicker.done():
            self._kicker = self.loop.create_task(self._unblock())

    async def _unblock(self) -> None:
        """Cut the hub's wait short until it waits on every joined stream (``CLIENT UNBLOCK``; the wait returns
        as if it had timed out). Bounded: a wait lasts at most one block step anyway."""
        client = self.relay.async_redis()
        deadline = self.loop.time() + 2.0
        while self.loop.time() < deadline:
            waiting_on = self.waiting_on
            if waiting_on is None or self._client_id is None or not (self.readers.keys() - waiting_on):
                return
            try:
                unblocked = await client.client_unblock(self._client_id)
            except Exception:  # the next block step picks the new stream up anyway
                log.debug("CLIENT UNBLOCK failed", exc_info=True)
                return
            await asyncio.sleep(0 if unblocked else 0.002)

    async def _run(self) -> None:
        """Wait on every joined stream until no reader is left. A dropped connection is opened again (up to
        :data:`RETRIES` times in a row, with a short pause); when Redis stays away every waiting reader fails."""
        failures = 0
        while self.readers:
            connection = self.relay._make_async().client()  # one connection of its own, held while it runs
            try:
                self._client_id = int(await connection.client_id())
                step = self.relay._block_step
                while self.readers:
                    streams = {stream: self.position[stream] for stream in self.readers}
                    self.waiting_on = frozenset(streams)
                    try:
                        reply = await connection.xread(streams, count=500, block=step)
                    finally:
                        self.waiting_on = None
                    failures = 0
                    self._hand_over(reply)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                if failures > RETRIES:
                    log.warning("the relay's reader hub stopped: %s: %s", type(exc).__name__, exc)
                    self._fail(exc)
                    return
                log.info("the relay's reader hub reconnects after %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(0.1 * 2**failures)
            finally:
                self._client_id = None
                try:
                    await connection.aclose()
                    await connection.connection_pool.disconnect()
                except Exception:
                    log.debug("closing the hub's connection failed", exc_info=True)

    def _fail(self, exc: BaseException) -> None:
        for readers in list(self.readers.values()):
            for cursor in list(readers):
                cursor.fail(exc)
        self.readers.clear()
        self.position.clear()

    def _hand_over(self, reply: Any) -> None:
        for stream, entries in reply or ():
            readers = self.readers.get(stream)
            if not readers or not entries:
                continue  # everybody left meanwhile
            events = [self.relay.entry_event(entry) for entry in entries]
            self.position[stream] = events[-1].id
            for cursor in list(readers):
                cursor.push(events)
