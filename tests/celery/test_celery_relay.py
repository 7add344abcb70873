"""The relay contract, run against Redis and against the in-memory twin."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from claude_web.relay import InvalidEventId, MemoryRelay, RedisRelay, Relay, relay_from_url


@pytest.fixture(params=["redis", "memory"])
def relay(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryRelay(ttl=60)
    return request.getfixturevalue("redis_relay")


def _job(relay: Relay, job_id: str = "job-aaaaaaaaaaaaaaaa") -> str:
    relay.create_job(job_id, {"owner": "alice", "kind": "stream"})
    return job_id


def test_resume_from_any_event_id_has_no_gap_and_no_duplicate(relay: Relay) -> None:
    job = _job(relay)
    ids = [relay.publish(job, "text", {"text": str(i)}) for i in range(20)]
    relay.finish(job, "done", {"stop_reason": "end_turn"})
    everything = list(relay.events(job, None, timeout=5))
    assert [e.data.get("text") for e in everything[:-1]] == [str(i) for i in range(20)]
    assert everything[-1].event == "done"
    assert [e.id for e in everything[:-1]] == ids
    for cut in (0, 1, 7, 19):
        resumed = list(relay.events(job, ids[cut], timeout=5))
        assert [e.id for e in resumed] == [e.id for e in everything[cut + 1 :]]


def test_blocking_reader_gets_events_published_later(relay: Relay) -> None:
    job = _job(relay)
    got: list[str] = []

    def read() -> None:
        for event in relay.events(job, None, timeout=10):
            got.append(event.event)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)
    relay.publish(job, "start", {"id": "m"})
    relay.publish(job, "text", {"text": "x"})
    relay.finish(job, "done", {})
    reader.join(10)
    assert not reader.is_alive()
    assert got == ["start", "text", "done"]


def test_a_wait_longer_than_the_socket_timeout_is_not_an_error(redis_url: str, prefix: str) -> None:
    """Heartbeats longer than the Redis client's socket timeout (redis-py 8 defaults to 5 s; here 0.4 s): the
    reader waits in short blocking reads, sends its heartbeat after the full interval, then gets the events."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=0.4)
    relay = RedisRelay(client, prefix=prefix, ttl=60)
    job = _job(relay)
    got: list[tuple[str, float]] = []
    started = time.monotonic()

    def read() -> None:
        for event in relay.events(job, None, heartbeat=1.2, yield_heartbeats=True, timeout=10):
            got.append((event.event, time.monotonic() - started))

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1.5)
    relay.publish(job, "text", {"text": "late"})
    relay.finish(job, "done", {})
    reader.join(10)
    client.close()
    assert not reader.is_alive()
    assert [name for name, _ in got] == ["", "text", "done"]  # one heartbeat, after the whole interval
    assert got[0][1] >= 1.2


def test_finish_happens_once_and_sets_state(relay: Relay) -> None:
    job = _job(relay)
    assert relay.finish(job, "cancelled", {"reason": "cancelled"}, {"finished_at": "now"}) is not None
    assert relay.finish(job, "done", {}) is None
    assert relay.get_job(job)["state"] == "cancelled"
    assert relay.get_job(job)["finished_at"] == "now"
    assert [e.event for e in relay.events(job, None, timeout=2)] == ["cancelled"]


def test_finish_only_from_a_given_state(relay: Relay) -> None:
    job = _job(relay)
    assert relay.transition(job, ("queued",), "running")
    assert relay.finish(job, "cancelled", {}, only_from=("queued",)) is None
    assert relay.get_job(job)["state"] == "running"
    assert not relay.transition(job, ("queued",), "running")


def test_cancel_flag_attempts_and_claims(relay: Relay) -> None:
    job = _job(relay)
    assert not relay.is_cancelled(job)
    relay.request_cancel(job)
    assert relay.is_cancelled(job)
    assert [relay.next_attempt(job) for _ in range(3)] == [1, 2, 3]
    assert relay.claim(f"{job}:usage:1") is True
    assert relay.claim(f"{job}:usage:1") is False
    assert relay.claim(f"{job}:usage:2") is True


def test_invalid_last_event_id_is_refused(relay: Relay) -> None:
    job = _job(relay)
    with pytest.raises(InvalidEventId):
        list(relay.events(job, "1; DROP", timeout=1))


def test_missing_job_reads_nothing(relay: Relay) -> None:
    assert relay.get_job("nope-nope-nope-nope") is None
    assert list(relay.events("nope-nope-nope-nope", None, timeout=0.5)) == []


def test_redis_stream_is_capped_and_expires_after_the_final_event(redis_url: str, prefix: str) -> None:
    relay = relay_from_url(redis_url, prefix=prefix, maxlen=100, ttl=30, job_ttl=5000)
    try:
        job = _job(relay)
        for i in range(1000):
            relay.publish(job, "text", {"text": str(i)})
        events_key = f"{prefix}:{{{job}}}:events"
        job_key = f"{prefix}:{{{job}}}:job"
        assert relay.redis.xlen(events_key) < 300  # approximate MAXLEN trims whole nodes
        assert relay.redis.ttl(events_key) > 1000  # unfinished: the long safety TTL
        relay.finish(job, "done", {})
        assert 0 < relay.redis.ttl(events_key) <= 30
        assert 0 < relay.redis.ttl(job_key) <= 30
        last = relay.read(job, "0-0", count=100_000)[-1]
        assert last.event == "done"
    finally:
        relay.close()


def test_redis_relay_repr_hides_the_password(redis_url: str) -> None:
    relay = relay_from_url(redis_url.replace("redis://", "redis://user:s3cret-pw@"))
    try:
        assert isinstance(relay, RedisRelay)
        assert "s3cret" not in repr(relay)
    finally:
        relay.close()


def test_memory_relay_expires_finished_jobs() -> None:
    now = [1000.0]
    relay = MemoryRelay(ttl=10, job_ttl=100, clock=lambda: now[0])
    job = _job(relay)
    relay.finish(job, "done", {})
    now[0] += 9
    assert relay.get_job(job) is not None
    now[0] += 2
    assert relay.get_job(job) is None
