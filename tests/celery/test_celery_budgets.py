"""A job's reservation travels with the job and is settled by the worker's records, exactly once: through
retries, a worker killed mid-call, a budget that runs out mid-answer, and a cancel before a worker took it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cw_helpers import PARAMS

from claude_web.jobs import JobRunner, RetryJob
from claude_web.relay import MemoryRelay
from claude_web.testing import error, text
from claude_web.usage import UsageRecord
from claude_web.web.budgets import budget_report
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import parse_settings


class Setup:
    def __init__(self, fake: Any, **quotas: Any) -> None:
        settings = parse_settings(
            {
                "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake.base_url, "max_retries": 0}}},
                "QUOTAS": {"STORE": "memory", **quotas},
            }
        )
        self.records: list[UsageRecord] = []
        self.runtime = WebRuntime(settings, notify=self.records.append)
        self.relay = MemoryRelay()
        self.runner = JobRunner(self.relay, self.runtime.clients, budget=self.runtime)

    def start(self, job_id: str, params: dict[str, Any] = PARAMS, kind: str = "stream") -> dict[str, Any]:
        """What the web side does: admit the job's worst case and store it with the job."""
        admitted = self.runtime.admit("user:1", params, alias="default", job=True)
        fields = {"owner": "user:1", "kind": kind, "alias": "default", "usage_context": json.dumps(admitted)}
        self.relay.create_job(job_id, fields)
        return admitted

    def line(self) -> tuple[int, int]:
        budgets = self.runtime.budgets
        assert budgets is not None
        (found,) = [line for line in budget_report(budgets) if line.limit == "tokens_per_day"]
        return int(found.used), int(found.reserved)


def test_a_retried_job_keeps_its_hold_until_it_ends(clean_fake: Any) -> None:
    s = Setup(clean_fake, TOKENS_PER_DAY=10_000)
    admitted = s.start("job-retry-retry-retry-01")
    worst = admitted["reserved"]["tokens"]
    clean_fake.queue(error(529), text("the answer", chunks=2))
    with pytest.raises(RetryJob):
        s.runner.run("job-retry-retry-retry-01", "stream", "default", PARAMS, "user:1")
    assert s.line() == (0, worst)  # the failed attempt used nothing; the job still holds its worst case
    assert s.runner.run("job-retry-retry-retry-01", "stream", "default", PARAMS, "user:1", retries=1) == "done"
    used = sum(r.total_tokens for r in s.records)
    assert [r.status for r in s.records] == ["error", "ok"] and used > 0
    assert all(r.context["reservation"] == admitted["reservation"] for r in s.records)
    assert s.line() == (used, 0)  # settled once per record, the rest given back when the job ended


def test_a_call_lost_with_its_worker_is_settled_and_the_hold_given_back(clean_fake: Any) -> None:
    s = Setup(clean_fake, TOKENS_PER_DAY=10_000)
    admitted = s.start("job-lost-lost-lost-budget")
    # a worker killed mid-stream (kill -9): attempt 1 started, nothing recorded, the hold still there
    assert s.relay.next_attempt("job-lost-lost-lost-budget") == 1
    s.relay.claim("started:job-lost-lost-lost-budget:1:1")
    s.relay.transition("job-lost-lost-lost-budget", ("queued",), "running", {"output": "1"})
    assert s.line() == (0, admitted["reserved"]["tokens"])
    clean_fake.queue(text("a whole answer", chunks=3))
    assert s.runner.run("job-lost-lost-lost-budget", "stream", "default", PARAMS, "user:1") == "done"
    assert [(r.status, r.error_type) for r in s.records] == [("aborted", "worker_lost"), ("ok", None)]
    ok = s.records[1]
    assert s.line() == (ok.total_tokens, 0)
    # a redelivery of the finished job settles nothing again
    assert s.runner.run("job-lost-lost-lost-budget", "stream", "default", PARAMS, "user:1") == "done"
    assert s.line() == (ok.total_tokens, 0) and len(s.records) == 2


def test_a_job_whose_budget_runs_out_mid_answer_stops(clean_fake: Any) -> None:
    s = Setup(clean_fake, TOKENS_PER_DAY=2000, ON_EXHAUSTED="stop")
    s.start("job-stop-stop-stop-stop01")
    clean_fake.queue(text("never " * 40, chunks=20, event_delay=0.02, usage={"input_tokens": 5000}))
    assert s.runner.run("job-stop-stop-stop-stop01", "stream", "default", PARAMS, "user:1") == "done"
    events = list(s.relay.events("job-stop-stop-stop-stop01", None, timeout=2))
    assert [e.event for e in events] == ["done"] and events[0].data["stop_reason"] == "budget"
    (record,) = s.records
    assert record.status == "aborted" and record.error_type == "budget" and record.context["stop_reason"] == "budget"
    assert s.line() == (record.total_tokens, 0)
    assert clean_fake.wait_for_stream_abort()


def test_a_batch_job_gives_back_what_its_results_did_not_use(clean_fake: Any) -> None:
    s = Setup(clean_fake, TOKENS_PER_DAY=100_000)
    batch = {"requests": [{"custom_id": f"r{i}", "params": PARAMS} for i in range(3)]}
    admitted = s.start("job-batch-batch-batch01", batch, kind="batch")
    assert admitted["reserved"]["tokens"] == 3 * (16 + PARAMS["max_tokens"])  # "Hello": 16 prompt tokens
    assert s.runner.run("job-batch-batch-batch01", "batch", "default", batch, "user:1") == "polling"
    while s.runner.poll_batch("job-batch-batch-batch01", "default") is not None:
        pass
    results = [r for r in s.records if r.operation == "batches.result"]
    assert len(results) == 3 and all(r.context["reservation"] == admitted["reservation"] for r in results)
    assert s.line() == (sum(r.total_tokens for r in s.records), 0)


def test_starting_and_cancelling_a_queued_job_through_the_handlers(clean_fake: Any, redis_url: str) -> None:
    import uuid

    import redis
    from celery import Celery

    from claude_web.celery import CeleryExecutor
    from claude_web.jobs import JobService
    from claude_web.web.handlers import JobUrls, job_cancel, job_start
    from claude_web.web.http import Principal, WebRequest

    prefix = f"cwbudget-{uuid.uuid4().hex[:8]}"
    app = Celery(prefix, broker=redis_url, set_as_current=False)
    app.conf.broker_transport_options = {"global_keyprefix": f"{prefix}:broker:"}
    s = Setup(clean_fake, TOKENS_PER_DAY=1200)
    s.runtime.set_jobs(JobService(s.relay, CeleryExecutor(app, queue=f"{prefix}-queue"), clients=s.runtime.clients))
    urls = JobUrls(events=lambda j: f"/jobs/{j}/events", status=lambda j: f"/jobs/{j}", cancel=lambda j: f"/jobs/{j}/c")

    def post(body: dict[str, Any]) -> Any:
        request = WebRequest(
            "POST", "/jobs/", json.dumps(body).encode(), content_type="application/json", principal=Principal(1)
        )
        return job_start(s.runtime, request, urls=urls, owner="user:1")

    try:
        started = post({"kind": "stream", "params": PARAMS})  # no worker listens: it stays queued
        assert started.status == 202
        assert s.line() == (0, 528)
        second = post({"kind": "stream", "params": PARAMS})  # 2 x 528 fit in 1,200; a third does not
        assert second.status == 202
        third = post({"kind": "stream", "params": PARAMS})
        assert third.status == 429 and third.json["error"]["limit"] == "tokens_per_day"
        for job in (started, second):
            request = WebRequest("POST", "/c", principal=Principal(1))
            cancelled = job_cancel(s.runtime, request, job.json["job_id"], owner="user:1")
            assert cancelled.json["state"] == "cancelled"
        assert s.line() == (0, 0)  # no worker will ever run them: their holds came back at once
        assert clean_fake.requests == []
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        s.runtime.close()
