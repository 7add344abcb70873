"""Jobs through real Celery worker processes (prefork), a real Redis relay and FakeClaude."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cw_helpers import PARAMS, TEST_KEY, Workers, parse_sse, usage_rows, wait_for

from claude_web.celery import CeleryExecutor
from claude_web.jobs import ClientRegistry, JobRequestError, JobService
from claude_web.relay import relay_from_url
from claude_web.testing import error, text

pytestmark = pytest.mark.needs_redis


def _service(workers: Workers) -> JobService:
    relay = relay_from_url(workers.redis_url, prefix=workers.prefix, ttl=120)
    return JobService(relay, CeleryExecutor(workers.app), clients=ClientRegistry(environ=workers.env()), heartbeat=1.0)


@pytest.fixture
def service(workers: Workers, fake: Any) -> Iterator[JobService]:
    fake.clear()
    svc = _service(workers)
    yield svc
    svc.close()


def _all(
    service: JobService, job_id: str, owner: str = "alice", last: str | None = None, timeout: float = 60
) -> list[Any]:
    return list(service.events(job_id, owner, last, timeout=timeout))


def _rows(workers: Workers, job_id: str, count: int) -> list[dict[str, Any]]:
    wait_for(lambda: len(usage_rows(workers.redis_url, workers.prefix, job_id)) >= count)
    time.sleep(0.2)  # a duplicate, if there were one, would have landed by now
    return sorted(usage_rows(workers.redis_url, workers.prefix, job_id), key=lambda r: r["context"]["attempt"])


def test_long_create_call_end_to_end(service: JobService, workers: Workers, fake: Any) -> None:
    answer = "A long considered answer. " * 40
    fake.queue(text(answer, chunks=50, event_delay=0.01))
    job = service.start("create", PARAMS, owner="alice")
    events = _all(service, job.id)
    assert [e.event for e in events] == ["done"]
    assert events[0].data["message"]["content"][0]["text"] == answer
    status = service.status(job.id, "alice")
    assert status["state"] == "done" and status["result"]["content"][0]["text"] == answer
    rows = _rows(workers, job.id, 1)
    assert [(r["status"], r["operation"]) for r in rows] == [("ok", "messages.create")]
    assert rows[0]["context"]["owner"] == "alice"
    request_body = fake.requests[-1]
    assert TEST_KEY not in json.dumps(service.relay.get_job(job.id))
    assert request_body is not None


def test_stream_resumes_with_last_event_id_without_gap_or_duplicate(
    service: JobService, workers: Workers, fake: Any
) -> None:
    answer = " ".join(f"w{i}" for i in range(40))
    fake.queue(text(answer, chunks=40, event_delay=0.03))
    job = service.start("stream", PARAMS, owner="alice")
    first_part: list[tuple[str, str, dict[str, Any]]] = []
    frames = service.sse(job.id, "alice")
    for frame in frames:
        first_part += parse_sse([frame])
        if len(first_part) == 8:
            break
    frames.close()  # the browser went away mid-answer
    other = _service(workers)  # another web process: its own Redis connections
    try:
        rest = parse_sse(other.sse(job.id, "alice", last_event_id=first_part[-1][0]))
    finally:
        other.close()
    full = parse_sse(service.sse(job.id, "alice"))
    assert [f[0] for f in first_part + rest] == [f[0] for f in full]
    assert len({f[0] for f in full}) == len(full)
    assert [f[1] for f in full][0] == "start" and full[-1][1] == "done"
    assert "".join(f[2]["text"] for f in first_part + rest if f[1] == "text") == answer


def test_cancel_stops_the_upstream_within_one_event(service: JobService, workers: Workers, fake: Any) -> None:
    fake.queue(text("token " * 80, chunks=80, event_delay=0.05))
    job = service.start("stream", PARAMS, owner="alice")
    seen = []
    for event in service.events(job.id, "alice", timeout=30):
        seen.append(event)
        if sum(e.event == "text" for e in seen) == 3:
            assert service.cancel(job.id, "alice")["state"] in ("cancelling", "running", "cancelled")
            break
    rest = _all(service, job.id, last=seen[-1].id, timeout=30)
    assert rest[-1].event == "cancelled"
    assert sum(e.event == "text" for e in rest) <= 1
    assert fake.wait_for_stream_abort(timeout=5)
    rows = _rows(workers, job.id, 1)
    assert [r["status"] for r in rows] == ["aborted"]
    assert service.status(job.id, "alice")["state"] == "cancelled"


def test_retries_on_529_honour_retry_after_with_one_ok_record(service: JobService, workers: Workers, fake: Any) -> None:
    fake.queue(error(529, headers={"retry-after-ms": "600"}), text("after the storm"))
    job = service.start("stream", PARAMS, owner="alice")
    events = _all(service, job.id)
    assert events[-1].event == "done"
    assert "".join(e.data["text"] for e in events if e.event == "text") == "after the storm"
    rows = _rows(workers, job.id, 2)
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert sum(r["status"] == "ok" for r in rows) == 1
    from datetime import datetime

    gap = datetime.fromisoformat(rows[1]["created_at"]) - datetime.fromisoformat(rows[0]["created_at"])
    assert gap.total_seconds() >= 0.55
    assert len(fake.requests) == 2


def test_a_killed_worker_process_runs_the_job_again(service: JobService, workers: Workers, fake: Any) -> None:
    workers.start("w2")
    fake.queue(text("slow " * 80, chunks=80, event_delay=0.05), text("second time lucky", chunks=4))
    job = service.start("stream", PARAMS, owner="alice")
    seen = []
    for event in service.events(job.id, "alice", timeout=30):
        seen.append(event)
        if sum(e.event == "text" for e in seen) == 3:
            break
    worker = service.relay.get_job(job.id)["worker"]
    victim = int(worker.rsplit(":", 1)[1])
    os.kill(victim, signal.SIGKILL)
    rest = _all(service, job.id, last=seen[-1].id, timeout=60)
    names = [e.event for e in rest]
    assert names[-1] == "done", names
    assert "reset" in names
    after_reset = rest[names.index("reset") + 1 :]
    assert "".join(e.data["text"] for e in after_reset if e.event == "text") == "second time lucky"
    final = service.relay.get_job(job.id)
    assert int(final["worker"].rsplit(":", 1)[1]) != victim
    rows = _rows(workers, job.id, 2)
    assert [(r["status"], r["context"]["attempt"]) for r in rows] == [("aborted", 1), ("ok", 2)]
    assert rows[0]["error_type"] == "worker_lost"


def test_async_code_in_a_task_gets_a_client_per_event_loop(workers: Workers, fake: Any) -> None:
    fake.clear()
    fake.queue(text("first loop"), text("second loop"))
    result = workers.app.send_task("cw_test.async_twice").get(timeout=30)
    assert result["texts"] == ["first loop", "second loop"]
    assert result["distinct_clients"] is True


def test_unknown_alias_is_refused_before_anything_is_queued(service: JobService, workers: Workers) -> None:
    with pytest.raises(JobRequestError) as info:
        service.start("stream", PARAMS, owner="alice", alias="nope")
    assert info.value.field == "alias"


def test_a_thousand_small_jobs_each_recorded_exactly_once(service: JobService, workers: Workers, fake: Any) -> None:
    workers.start("w3", concurrency=4)
    count = 1000
    fake.queue(*[text(f"answer {i}") for i in range(count)])
    ids = [service.start("create", PARAMS, owner=f"user{i % 7}").id for i in range(count)]

    def finished() -> bool:
        pipe = service.relay.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(f"{workers.prefix}:{{{job_id}}}:job", "state")
        return all(state == "done" for state in pipe.execute())

    wait_for(finished, timeout=100, interval=0.2)
    time.sleep(0.3)
    rows = [r for r in usage_rows(workers.redis_url, workers.prefix) if r["context"].get("job_id") in set(ids)]
    by_job: dict[str, int] = {}
    for row in rows:
        by_job[row["context"]["job_id"]] = by_job.get(row["context"]["job_id"], 0) + 1
    assert set(by_job) == set(ids)
    assert set(by_job.values()) == {1}
    assert all(r["status"] == "ok" for r in rows)


def test_a_batch_is_submitted_polled_and_stored(service: JobService, workers: Workers, fake: Any) -> None:
    fake.batch_polls_until_end = 4
    requests = [{"custom_id": f"r{i}", "params": PARAMS} for i in range(3)]
    job = service.start("batch", {"requests": requests}, owner="alice")
    events = _all(service, job.id)
    assert [e.event for e in events] == ["batch", "done"]
    assert events[-1].data["request_counts"]["succeeded"] == 3
    status = service.status(job.id, "alice")
    assert [r["custom_id"] for r in status["result"]["results"]] == ["r0", "r1", "r2"]
    assert all(r["result"]["type"] == "succeeded" for r in status["result"]["results"])
    polls = [r for r in fake.requests if r.method == "GET" and r.path.endswith(status["batch_id"])]
    assert len(polls) >= 4  # polled with countdowns until it ended
    wait_for(lambda: len(usage_rows(workers.redis_url, workers.prefix, job.id)) >= 4)
    rows = usage_rows(workers.redis_url, workers.prefix, job.id)
    assert sorted(r["operation"] for r in rows) == ["batches.create"] + ["batches.result"] * 3
    assert {r["context"].get("custom_id") for r in rows if r["operation"] == "batches.result"} == {"r0", "r1", "r2"}


def test_cancelling_a_batch_cancels_it_upstream(service: JobService, workers: Workers, fake: Any) -> None:
    fake.batch_polls_until_end = 10_000
    job = service.start("batch", {"requests": [{"custom_id": "only", "params": PARAMS}]}, owner="alice")
    first = next(iter(service.events(job.id, "alice", timeout=20)))
    assert first.event == "batch"
    service.cancel(job.id, "alice")
    fake.batch_polls_until_end = 1  # the fake ends a canceling batch at its next poll
    events = _all(service, job.id, last=first.id)
    assert events[-1].event == "cancelled"
    assert any(r.method == "POST" and r.path.endswith("/cancel") for r in fake.requests)


def test_workers_log_the_mode_at_startup(workers: Workers) -> None:
    log = workers.log("w1", tail=None)
    assert "claude-web: Celery tasks ready" in log
    assert TEST_KEY not in log
