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

The interface and the reading loop are in ``_base``, the relays in ``_redis`` and ``_memory``, the event-loop
reader hub of the Redis relay in ``_hub``; import them from here.

>>> relay = MemoryRelay()
>>> relay.create_job("j1", {"owner": "alice", "kind": "stream"})
>>> first = relay.publish("j1", "text", {"text": "Hel"})
>>> _ = relay.finish("j1", "done", {"stop_reason": "end_turn"})
>>> [e.event for e in relay.events("j1", first)]
['done']
"""

from ._base import (
    DEFAULT_JOB_TTL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAXLEN,
    DEFAULT_TTL,
    MAX_BLOCK_MS,
    MAX_ID_PART,
    STATE_CHECK,
    TERMINAL_EVENTS,
    TERMINAL_STATES,
    InvalidEventId,
    Relay,
    RelayEvent,
    check_event_id,
)
from ._memory import MemoryRelay
from ._redis import RedisRelay, relay_from_url

for _public in (InvalidEventId, MemoryRelay, RedisRelay, Relay, RelayEvent):
    _public.__module__ = __name__  # their public home, as errors and reprs name them
del _public

__all__ = [
    "DEFAULT_JOB_TTL",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAXLEN",
    "DEFAULT_TTL",
    "MAX_BLOCK_MS",
    "MAX_ID_PART",
    "STATE_CHECK",
    "TERMINAL_EVENTS",
    "TERMINAL_STATES",
    "InvalidEventId",
    "MemoryRelay",
    "RedisRelay",
    "Relay",
    "RelayEvent",
    "check_event_id",
    "relay_from_url",
]
