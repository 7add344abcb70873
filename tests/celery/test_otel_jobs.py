"""A job is one trace: the request that started it, the submit, each worker attempt, the upstream call, and every
SSE connection that read it (first and resumed, linked to their own requests); Celery carries the context in the
task headers. With the in-memory span exporter, in-process (threads) and through a real Celery worker on Redis."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cw_helpers import PARAMS, TEST_KEY, cleanup_prefix

from claude_web import Anthropic
from claude_web import otel as cw_otel
from claude_web.jobs import TASK_NAMES, CeleryExecutor, JobsConfig, JobService
from claude_web.relay import relay_from_url
from claude_web.testing import error, text
from claude_web.usage import UsageRecord


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _read_until_text(frames: Iterator[bytes]) -> str:
    """Read SSE frames until the first text event; returns its id (then the caller drops the connection)."""
    for frame in frames:
        block = frame.decode()
        if "event: text" in block:
            return next(line[4:] for line in block.splitlines() if line.startswith("id: "))
    raise AssertionError("no text event")


def _check_one_trace(harness: Any, post: Any, gets: list[Any], records: list[UsageRecord]) -> None:
    trace_id = post.get_span_context().trace_id
    (submit,) = harness.spans("job.submit")
    runs = harness.spans("job.run")
    events = harness.spans("job.events")
    calls = harness.call_spans()
    assert runs and len(events) == len(gets) and len(calls) == len(records)
    for span in [submit, *runs, *events, *calls]:
        assert span.context.trace_id == trace_id, span.name
    assert submit.parent.span_id == post.get_span_context().span_id
    assert submit.kind.name == "PRODUCER"
    for run in runs:
        assert run.parent.span_id == submit.context.span_id and run.kind.name == "CONSUMER"
    run_ids = {run.context.span_id for run in runs}
    for call in calls:
        assert call.parent.span_id in run_ids  # the upstream call nests under its attempt
    # every browser connection joins the job's trace, linked to the request that made it
    for span, get in zip(sorted(events, key=lambda s: s.start_time), gets, strict=True):
        assert span.parent.span_id == submit.context.span_id
        assert [link.context.span_id for link in span.links] == [get.get_span_context().span_id]
        assert get.get_span_context().trace_id != trace_id
    first, *resumed = sorted(events, key=lambda s: s.start_time)
    assert first.attributes["claude_web.job.resumed"] is False
    assert all(span.attributes["claude_web.job.resumed"] is True for span in resumed)
    # ledger rows point at their spans
    by_record = {span.attributes["claude_web.usage.record_id"]: span for span in calls}
    for record in records:
        span = by_record[record.id]
        assert record.context["trace_id"] == _hex(span.context.trace_id, 32)
        assert record.context["span_id"] == _hex(span.context.span_id, 16)
        assert span.attributes["claude_web.job_id"] == record.context["job_id"]


def test_in_process_job_and_its_resumes_form_one_trace(otel: Any, clean_fake: Any) -> None:
    records: list[UsageRecord] = []
    lock = threading.Lock()

    def record(rec: UsageRecord) -> None:
        with lock:
            records.append(rec)

    config = JobsConfig(
        client_factory=lambda alias: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url),
        usage_recorder=record,
        retry_backoff=0.01,
    )
    service = JobService.from_config(config)
    try:
        clean_fake.queue(error(529), text("one two three four five six", chunks=6, event_delay=0.02))
        with otel.tracer.start_as_current_span("POST /jobs") as post:
            job = service.start("stream", PARAMS, owner="alice")
        with otel.tracer.start_as_current_span("GET /jobs/events") as get1:
            frames = service.sse(job.id, "alice", None, timeout=20)
        first = iter(frames)  # the body is read after the view returned, as WSGI does
        last_id = _read_until_text(first)
        first.close()  # the browser went away
        with otel.tracer.start_as_current_span("GET /jobs/events (resume)") as get2:
            frames = service.sse(job.id, "alice", last_id, timeout=20)
        body = b"".join(frames).decode()
        assert "event: done" in body
    finally:
        service.close()
    assert [r.status for r in records] == ["error", "ok"]  # the job retried once: two attempts, two calls
    _check_one_trace(otel, post, [get1, get2], records)
    assert len(otel.spans("job.run")) == 2
    retried = [s for s in otel.spans("job.run") if "claude_web.job.retry_in_s" in s.attributes]
    assert len(retried) == 1 and retried[0].status.is_ok


@pytest.fixture
def celery_worker(redis_url: str, clean_fake: Any) -> Iterator[tuple[Any, Any, list[UsageRecord]]]:
    """A Celery app on Redis with the claude-web tasks, and a worker thread in this process (so the in-memory
    exporter sees the worker's spans); the web side sends tasks by name, with headers, through Redis."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    from claude_web.celery import register_tasks

    prefix = f"cwtest-{uuid.uuid4().hex[:12]}"
    records: list[UsageRecord] = []
    root_level = logging.getLogger().level
    app = Celery(f"cw-{prefix}", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{prefix}-queue",
        broker_transport_options={"global_keyprefix": f"{prefix}:broker:"},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    def config() -> JobsConfig:
        return JobsConfig(
            redis_url=redis_url,
            key_prefix=prefix,
            client_factory=lambda alias: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url),
            usage_recorder=records.append,
            retry_backoff=0.01,
            retry_backoff_max=0.05,
            ttl=120,
        )

    # finalize first: an earlier register_shared_tasks() (another test) adds its own tasks to every new app then
    app.finalize(auto=True)
    for name in TASK_NAMES.values():
        app.tasks.pop(name, None)
    register_tasks(app, config=config)
    relay = relay_from_url(redis_url, prefix=prefix, ttl=120)
    service = JobService(relay, CeleryExecutor(app, queue=f"{prefix}-queue"), heartbeat=5.0)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app, service, records
    finally:
        logging.getLogger().setLevel(root_level)  # Celery's worker logging set the root logger to ERROR
        service.close()
        cleanup_prefix(redis_url, prefix)


def test_celery_job_and_its_resumes_form_one_trace(otel: Any, clean_fake: Any, celery_worker: Any) -> None:
    _, service, records = celery_worker
    clean_fake.queue(error(529), text("alpha beta gamma delta epsilon zeta", chunks=6, event_delay=0.02))
    with otel.tracer.start_as_current_span("POST /jobs") as post:
        job = service.start("stream", PARAMS, owner="bob")
    with otel.tracer.start_as_current_span("GET /jobs/events") as get1:
        frames = service.sse(job.id, "bob", None, timeout=30)
    first = iter(frames)
    last_id = _read_until_text(first)
    first.close()
    with otel.tracer.start_as_current_span("GET /jobs/events (resume)") as get2:
        frames = service.sse(job.id, "bob", last_id, timeout=30)
    assert "event: done" in b"".join(frames).decode()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(otel.spans("job.run")) < 2:
        time.sleep(0.05)  # the worker ends its span just after publishing the last event
    assert [r.status for r in records] == ["error", "ok"]
    _check_one_trace(otel, post, [get1, get2], records)
    # the relay's ids carry their publication time: each delivered event's wait is measured
    (lag,) = otel.points("claude_web.relay.lag")
    assert lag.count >= 6 and 0 <= lag.sum / lag.count < 5


def test_celery_task_headers_carry_the_context(otel: Any, clean_fake: Any, celery_worker: Any) -> None:
    """A task sent without JobService (no job record, so no stored context): only its headers link it."""
    app, service, records = celery_worker
    job_id = f"direct-{uuid.uuid4().hex[:8]}"
    with otel.tracer.start_as_current_span("enqueue by hand") as parent:
        app.send_task(
            "claude_web.create_message",
            kwargs={"job_id": job_id, "alias": "default", "params": PARAMS, "owner": "carol"},
            queue=service.executor.queue,
            headers=cw_otel.carrier(),
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (otel.call_spans() and otel.spans("job.run")):
        time.sleep(0.05)  # the worker ends the call's span first, then its job.run span
    (run,) = otel.spans("job.run")
    (call,) = otel.call_spans()
    assert run.parent.span_id == parent.get_span_context().span_id
    assert call.parent.span_id == run.context.span_id
    assert records[0].context["trace_id"] == _hex(parent.get_span_context().trace_id, 32)
