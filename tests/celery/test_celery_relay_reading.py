"""Reading the relay: event ids as Redis has them, resuming at and beyond the end, and the async reader (on the
event loop, no threads), each against Redis and the memory twin."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from claude_web.relay import MAX_ID_PART, InvalidEventId, MemoryRelay, Relay, check_event_id


@pytest.fixture(params=["redis", "memory"])
def relay(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryRelay(ttl=60)
    return request.getfixturevalue("redis_relay")


def _job(relay: Relay, job_id: str = "job-bbbbbbbbbbbbbbbb", *, running: bool = True) -> str:
    relay.create_job(job_id, {"owner": "alice", "kind": "stream"})
    if running:
        relay.transition(job_id, ("queued",), "running")
    return job_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "0-0"),
        ("", "0-0"),
        ("0-0", "0-0"),
        (" 12-3 ", "12-3"),
        ("007-01", "7-1"),
        (f"{MAX_ID_PART}-{MAX_ID_PART}", f"{MAX_ID_PART}-{MAX_ID_PART}"),
    ],
)
def test_well_formed_ids(value: str | None, expected: str) -> None:
    assert check_event_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        f"{MAX_ID_PART + 1}-0",
        f"0-{MAX_ID_PART + 1}",
        "99999999999999999999-0",
        "0-99999999999999999999",
        "000000000000000000001-0",  # 21 digits
        "１-０",
        "٣-٤",
        "1",
        "1-",
        "-1",
        "1-2-3",
        "+1-0",
        "1 -0",
        "$",
        ">",
        "0x1-0",
    ],
)
def test_malformed_ids(value: str) -> None:
    with pytest.raises(InvalidEventId) as caught:
        check_event_id(value)
    assert not caught.value.beyond


def test_ids_compare_as_redis_does(relay: Relay) -> None:
    job = _job(relay)
    ids = [relay.publish(job, "text", {"n": i}) for i in range(3)]
    assert [e.id for e in relay.read(job, ids[0])] == ids[1:]
    ms, _ = (int(part) for part in ids[-1].split("-"))
    assert relay.read(job, f"{ms}-{MAX_ID_PART}") == []
    assert relay.read(job, f"{ms + 1}-0") == []  # the milliseconds count first: past every id above
    assert relay.read(job, f"{MAX_ID_PART}-0") == []
    ms, _ = (int(part) for part in ids[0].split("-"))
    if ms > 0:  # Redis ids carry a time: everything comes after the millisecond before it
        assert [e.id for e in relay.read(job, f"{ms - 1}-{MAX_ID_PART}")] == ids


def test_resume_from_refuses_an_id_beyond_a_running_job(relay: Relay) -> None:
    job = _job(relay)
    with pytest.raises(InvalidEventId) as caught:
        relay.resume_from(job, "0-1")  # nothing published yet
    assert caught.value.beyond
    last = relay.publish(job, "text", {})
    assert relay.resume_from(job, last) == last
    ms, seq = last.split("-")
    for beyond in (f"{ms}-{int(seq) + 1}", f"{int(ms) + 1}-0"):
        with pytest.raises(InvalidEventId):
            relay.resume_from(job, beyond)
    relay.finish(job, "done", {})
    assert relay.resume_from(job, f"{int(ms) + 1}-0") == f"{int(ms) + 1}-0"  # finished: ends with "done"


def test_a_finished_job_ends_at_once_with_its_final_event(relay: Relay) -> None:
    job = _job(relay)
    relay.publish(job, "text", {"text": "a"})
    final = relay.finish(job, "error", {"type": "overloaded_error"})
    assert final is not None
    for last in (final, f"{MAX_ID_PART}-{MAX_ID_PART}"):
        started = time.monotonic()
        got = list(relay.events(job, last, heartbeat=5.0))
        assert [(e.id, e.event) for e in got] == [(final, "error")]
        assert time.monotonic() - started < 1.0
        got = asyncio.run(_collect(relay, job, last, heartbeat=5.0))
        assert [(e.id, e.event) for e in got] == [(final, "error")]


async def _collect(relay: Relay, job: str, last: str | None, **kwargs: Any) -> list[Any]:
    return [event async for event in relay.aevents(job, last, **kwargs)]


def test_async_reader_matches_the_sync_one(relay: Relay) -> None:
    job = _job(relay)
    ids = [relay.publish(job, "text", {"text": str(i)}) for i in range(30)]
    relay.finish(job, "done", {})
    for last in (None, ids[0], ids[17], ids[-1]):
        sync = [(e.id, e.event, e.data) for e in relay.events(job, last, timeout=5)]
        asynchronous = [(e.id, e.event, e.data) for e in asyncio.run(_collect(relay, job, last, timeout=5))]
        assert asynchronous == sync


def test_async_reader_waits_on_the_loop_for_events_from_another_thread(relay: Relay) -> None:
    job = _job(relay)

    def publish_later() -> None:
        for i in range(3):
            time.sleep(0.4)  # Redis resolves short BLOCK timeouts in steps of about 0.1 s
            relay.publish(job, "text", {"text": str(i)})
        relay.finish(job, "done", {})

    async def main() -> tuple[list[str], set[threading.Thread]]:
        before = set(threading.enumerate())
        writer = threading.Thread(target=publish_later)
        writer.start()
        names = [e.event async for e in relay.aevents(job, None, heartbeat=0.1, yield_heartbeats=True)]
        writer.join()
        return names, set(threading.enumerate()) - before  # (threads of earlier tests may end meanwhile)

    names, new_threads = asyncio.run(main())
    assert [n for n in names if n] == ["text", "text", "text", "done"]
    assert names.count("") >= 4  # heartbeats while it waited
    assert not new_threads  # no reader thread was left behind (nor taken from a pool)


def test_many_idle_async_readers_do_not_hold_up_an_active_one(relay: Relay) -> None:
    idle = [_job(relay, f"job-idle-{i:012d}", running=False) for i in range(300)]  # above redis-py's 100
    active = _job(relay, "job-active-000000000")

    async def main() -> float:
        async def read_idle(job: str) -> None:
            async for _ in relay.aevents(job, None, heartbeat=30.0):
                pass

        readers = [asyncio.ensure_future(read_idle(job)) for job in idle]
        await asyncio.sleep(0.3)  # every idle reader is now waiting
        gaps: list[float] = []
        last = time.monotonic()

        async def feed() -> None:
            for i in range(10):
                await asyncio.sleep(0.05)
                await asyncio.to_thread(relay.publish, active, "text", {"n": i})
            await asyncio.to_thread(relay.finish, active, "done", {})

        feeder = asyncio.ensure_future(feed())
        async for _event in relay.aevents(active, None, heartbeat=30.0):
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        await feeder
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        return max(gaps[1:])

    assert asyncio.run(main()) < 0.5


def test_a_cancelled_async_reader_leaves_the_relay_usable(relay: Relay) -> None:
    job = _job(relay)

    async def main() -> list[str]:
        waiting = asyncio.ensure_future(relay.aread(job, "0-0", block_ms=5_000))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        relay.publish(job, "text", {"text": "after"})
        return [e.event for e in await relay.aread(job, "0-0", block_ms=1_000)]

    assert asyncio.run(main()) == ["text"]


def _pool_size(client: Any) -> int:
    pool = client.connection_pool
    return len(pool._available_connections) + len(pool._in_use_connections)


def test_redis_readers_on_a_loop_share_one_waiting_connection(redis_relay: Any) -> None:
    """300 waiting readers: one XREAD waits for all of them (the hub's connection), the pool stays small."""
    jobs = [_job(redis_relay, f"job-wait-{i:012d}") for i in range(300)]

    async def main() -> tuple[int, list[str]]:
        async def first(job: str) -> str:
            async for event in redis_relay.aevents(job, None, heartbeat=30.0):
                return event.event
            return ""

        readers = [asyncio.ensure_future(first(job)) for job in jobs]
        await asyncio.sleep(0.5)
        pooled = _pool_size(redis_relay.async_redis())
        for job in jobs:
            await asyncio.to_thread(redis_relay.publish, job, "text", {})
        names = await asyncio.wait_for(asyncio.gather(*readers), 10)
        return pooled, names

    pooled, names = asyncio.run(main())
    assert names == ["text"] * 300
    assert pooled <= 50  # not one connection per waiting reader (relay_from_url: async_connections=50)


def test_redis_reader_joining_behind_the_hub_misses_nothing(redis_relay: Any) -> None:
    """A second reader of a stream joins when the hub has already handed newer entries to the first one."""
    job = _job(redis_relay)

    async def main() -> tuple[list[str], list[str]]:
        got_a: list[str] = []
        got_b: list[str] = []

        async def read(into: list[str], last: str | None) -> None:
            async for event in redis_relay.aevents(job, last, heartbeat=30.0):
                into.append(event.id)

        first = redis_relay.publish(job, "text", {"n": 0})
        a = asyncio.ensure_future(read(got_a, None))
        await asyncio.sleep(0.2)  # a has joined the hub
        for n in range(1, 4):
            await asyncio.to_thread(redis_relay.publish, job, "text", {"n": n})
        await asyncio.sleep(0.2)  # the hub handed 1..3 to a
        b = asyncio.ensure_future(read(got_b, first))  # b starts after entry 0
        await asyncio.sleep(0.2)
        for n in range(4, 6):
            await asyncio.to_thread(redis_relay.publish, job, "text", {"n": n})
        await asyncio.to_thread(redis_relay.finish, job, "done", {})
        await asyncio.wait_for(asyncio.gather(a, b), 10)
        return got_a, got_b

    got_a, got_b = asyncio.run(main())
    everything = [e.id for e in redis_relay.read(job, "0-0")]
    assert got_a == everything
    assert got_b == everything[1:]


class _Proxy:
    """A TCP proxy to Redis on this loop, so a test can take Redis away from the relay (``stop``)."""

    def __init__(self, redis_url: str) -> None:
        from urllib.parse import urlsplit

        target = urlsplit(redis_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 6379)
        self.db = target.path or "/0"
        self.server: asyncio.AbstractServer | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self.db}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        await self.server.wait_closed()


def test_redis_hub_failure_ends_its_readers_with_the_error(redis_url: str, prefix: str) -> None:
    """Redis goes away under waiting readers: each read fails (the browser reconnects with its Last-Event-ID)."""
    from claude_web.relay import relay_from_url

    async def main() -> list[BaseException]:
        proxy = _Proxy(redis_url)
        relay = relay_from_url(await proxy.start(), prefix=prefix)
        job = await asyncio.to_thread(_job, relay)

        async def read() -> None:
            async for _ in relay.aevents(job, None, heartbeat=30.0):
                pass

        readers = [asyncio.ensure_future(read()) for _ in range(3)]
        await asyncio.sleep(0.3)
        await proxy.stop()
        results = await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 20)
        relay.close()
        return [r for r in results if isinstance(r, BaseException)]

    errors = asyncio.run(main())
    assert len(errors) == 3
    assert all(type(e).__module__.startswith("redis") for e in errors), errors


def test_redis_hub_reconnects_after_its_connection_is_dropped(redis_relay: Any) -> None:
    job = _job(redis_relay)

    async def main() -> list[str]:
        names: list[str] = []

        async def read() -> None:
            async for event in redis_relay.aevents(job, None, heartbeat=30.0):
                names.append(event.event)

        reader = asyncio.ensure_future(read())
        await asyncio.sleep(0.3)
        hub = redis_relay._hubs[asyncio.get_running_loop()]
        assert hub._client_id is not None
        await redis_relay.async_redis().client_kill_filter(_id=hub._client_id)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(redis_relay.publish, job, "text", {})
        await asyncio.to_thread(redis_relay.finish, job, "done", {})
        await asyncio.wait_for(reader, 10)
        return names

    assert asyncio.run(main()) == ["text", "done"]


def test_a_quiet_reader_looks_at_the_job_only_every_state_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Heartbeats cost no store lookup; the state is read every STATE_CHECK seconds (and a job whose keys expired
    ends the read at the next look)."""
    from claude_web.relay import _base as relay_module  # where the reading loop reads it

    now = [1000.0]

    class Counting(MemoryRelay):
        lookups = 0

        def get_job(self, job_id: str) -> dict[str, str] | None:
            Counting.lookups += 1
            return super().get_job(job_id)

    monkeypatch.setattr(relay_module, "STATE_CHECK", 0.5)
    relay = Counting(job_ttl=100, clock=lambda: now[0])
    job = _job(relay)
    beats = 0
    started = time.monotonic()
    for event in relay.events(job, None, heartbeat=0.05, yield_heartbeats=True):
        assert event.event == ""
        beats += 1
        if beats == 12:
            now[0] += 1000  # the job's keys expire
    assert beats >= 12
    assert Counting.lookups <= 4  # the first look, one per 0.5 s, the one that found it gone
    assert time.monotonic() - started < 2.0
