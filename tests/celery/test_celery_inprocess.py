"""Jobs without Redis: the in-process executor and the memory relay, against FakeClaude."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

import pytest
from cw_helpers import PARAMS, TEST_KEY

from claude_web import Anthropic
from claude_web.jobs import (
    ClientRegistry,
    JobNotFound,
    JobRequestError,
    JobRunner,
    JobsConfig,
    JobService,
    RetryJob,
    RetryPolicy,
    job_finished,
)
from claude_web.relay import MemoryRelay
from claude_web.testing import error, text
from claude_web.usage import UsageRecord


class Harness:
    def __init__(self, fake: Any, **config: Any) -> None:
        self.records: list[UsageRecord] = []
        self.lock = threading.Lock()

        def factory(alias: str) -> Anthropic:
            if alias not in ("default", "other"):
                raise KeyError(alias)
            return Anthropic(api_key=TEST_KEY, base_url=fake.base_url)

        def record(rec: UsageRecord) -> None:
            with self.lock:
                self.records.append(rec)

        options = {"client_factory": factory, "usage_recorder": record, "retry_backoff": 0.05, **config}
        self.service = JobService.from_config(JobsConfig(**options))

    def for_job(self, job_id: str) -> list[UsageRecord]:
        with self.lock:
            return [r for r in self.records if r.context.get("job_id") == job_id]


@pytest.fixture
def harness(clean_fake: Any) -> Any:
    h = Harness(clean_fake)
    yield h
    h.service.close()


def _events(service: JobService, job_id: str, owner: str = "alice", last: str | None = None) -> list[Any]:
    return list(service.events(job_id, owner, last, timeout=20))


def test_stream_job_end_to_end(harness: Harness, clean_fake: Any) -> None:
    answer = "The quick brown fox jumps over the lazy dog, again and again."
    clean_fake.queue(text(answer, chunks=12))
    job = harness.service.start("stream", PARAMS, owner="alice")
    events = _events(harness.service, job.id)
    names = [e.event for e in events]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) == {"text"}
    assert "".join(e.data["text"] for e in events if e.event == "text") == answer
    status = harness.service.status(job.id, "alice")
    assert status["state"] == "done"
    assert status["result"]["content"][0]["text"] == answer
    records = harness.for_job(job.id)
    assert [(r.status, r.operation) for r in records] == [("ok", "messages.stream")]
    assert records[0].context["owner"] == "alice" and records[0].output_tokens > 0


def test_create_job_stores_the_message_dict(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(text("a complete answer"))
    job = harness.service.start("create", PARAMS, owner="alice")
    events = _events(harness.service, job.id)
    assert [e.event for e in events] == ["done"]
    assert events[0].data["message"]["content"][0]["text"] == "a complete answer"
    status = harness.service.status(job.id, "alice")
    assert status["result"]["type"] == "message"
    assert [r.status for r in harness.for_job(job.id)] == ["ok"]


def test_retry_after_is_honoured_and_usage_has_exactly_one_ok(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(
        error(529, headers={"retry-after-ms": "400"}), error(429, headers={"retry-after": "0"}), text("finally")
    )
    job = harness.service.start("stream", PARAMS, owner="alice")
    events = _events(harness.service, job.id)
    assert events[-1].event == "done"
    records = sorted(harness.for_job(job.id), key=lambda r: r.context["attempt"])
    assert [r.status for r in records] == ["error", "error", "ok"]
    assert [r.error_type for r in records[:2]] == ["overloaded_error", "rate_limit_error"]
    gap = (records[1].created_at - records[0].created_at).total_seconds()
    assert 0.38 <= gap < 2.0, gap
    assert len(clean_fake.requests) == 3


def test_a_final_error_publishes_a_safe_error_event(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(error(400))
    job = harness.service.start("stream", PARAMS, owner="alice")
    events = _events(harness.service, job.id)
    assert [e.event for e in events] == ["error"]
    assert events[0].data["type"] == "invalid_request_error"
    assert "Error code" not in events[0].data["message"]
    assert len(clean_fake.requests) == 1  # a 400 is not retried
    assert [r.status for r in harness.for_job(job.id)] == ["error"]


def test_retries_give_up_after_the_budget(clean_fake: Any) -> None:
    harness = Harness(clean_fake, max_retries=2, retry_backoff=0.01)
    try:
        clean_fake.queue(*[error(500) for _ in range(5)])
        job = harness.service.start("create", PARAMS, owner="alice")
        events = _events(harness.service, job.id)
        assert [e.event for e in events] == ["error"]
        assert len(clean_fake.requests) == 3
        assert [r.status for r in harness.for_job(job.id)] == ["error", "error", "error"]
    finally:
        harness.service.close()


def test_cancel_stops_the_upstream_stream_within_one_event(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(text("word " * 60, chunks=60, event_delay=0.05))
    job = harness.service.start("stream", PARAMS, owner="alice")
    seen: list[Any] = []
    for event in harness.service.events(job.id, "alice", timeout=20):
        seen.append(event)
        if sum(e.event == "text" for e in seen) == 3:
            harness.service.cancel(job.id, "alice")
            break
    rest = _events(harness.service, job.id, last=seen[-1].id)
    assert rest[-1].event == "cancelled"
    assert sum(e.event == "text" for e in rest) <= 1
    assert clean_fake.wait_for_stream_abort(timeout=5)
    records = harness.for_job(job.id)
    assert [r.status for r in records] == ["aborted"]
    assert harness.service.status(job.id, "alice")["state"] == "cancelled"


def test_cancel_a_queued_job_ends_it_at_once(clean_fake: Any) -> None:
    class Never:
        mode = "never"

        def submit(self, *args: Any) -> None:
            pass

    service = JobService(MemoryRelay(), Never())
    job = service.start("stream", PARAMS, owner="alice")
    assert service.cancel(job.id, "alice")["state"] == "cancelled"
    assert [e.event for e in _events(service, job.id)] == ["cancelled"]


@pytest.mark.parametrize(
    ("kind", "params", "alias", "field"),
    [
        ("stream", {**PARAMS, "model": ""}, "default", "params.model"),
        ("stream", {**PARAMS, "max_tokens": 0}, "default", "params.max_tokens"),
        ("stream", {**PARAMS, "messages": []}, "default", "params.messages"),
        ("stream", {**PARAMS, "api_key": "x"}, "default", "params.api_key"),
        ("stream", {**PARAMS, "messages": [{"role": "system", "content": "x"}]}, "default", "params.messages[0].role"),
        ("poem", PARAMS, "default", "kind"),
        ("stream", PARAMS, "nope", "alias"),
        (
            "batch",
            {"requests": [{"custom_id": "a", "params": PARAMS}, {"custom_id": "a", "params": PARAMS}]},
            "default",
            "params.requests[1].custom_id",
        ),
    ],
)
def test_bad_input_is_refused_at_enqueue_time(harness: Harness, kind: str, params: Any, alias: str, field: str) -> None:
    with pytest.raises(JobRequestError) as info:
        harness.service.start(kind, params, owner="alice", alias=alias)
    assert info.value.field == field


def test_another_owner_sees_nothing(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(text("secret answer"))
    job = harness.service.start("create", PARAMS, owner="alice")
    _events(harness.service, job.id)
    for call in (harness.service.status, harness.service.cancel, harness.service.get):
        with pytest.raises(JobNotFound):
            call(job.id, "mallory")
    with pytest.raises(JobNotFound):
        harness.service.events(job.id, "mallory")
    with pytest.raises(JobNotFound):
        harness.service.status("not-a-job-id-at-all-x", "alice")
    assert len(job.id) >= 24


def test_the_key_never_reaches_job_data(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(text("hi"), error(529))
    first = harness.service.start("stream", PARAMS, owner="alice")
    _events(harness.service, first.id)
    second = harness.service.start("create", PARAMS, owner="alice")
    _events(harness.service, second.id)
    relay = harness.service.relay
    blob = json.dumps(
        [
            relay.get_job(first.id),
            relay.get_job(second.id),
            [e.data for e in _events(harness.service, first.id)],
            [r.to_dict() for r in harness.records],
        ],
        default=str,
    )
    assert TEST_KEY not in blob
    assert TEST_KEY not in repr(harness.service.clients.get("default"))


def test_mode_is_logged_at_startup(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="claude_web.jobs"):
        service = JobService.from_config(JobsConfig())
    service.close()
    assert service.mode == "in-process"
    assert any("in-process mode" in r.getMessage() for r in caplog.records)


def test_a_call_lost_with_its_worker_is_recorded_once_as_aborted(clean_fake: Any) -> None:
    records: list[UsageRecord] = []
    relay = MemoryRelay()
    clients = ClientRegistry(lambda alias: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url))
    runner = JobRunner(relay, clients, recorder=records.append)
    relay.create_job("job-lost-lost-lost-01", {"owner": "alice", "kind": "stream"})
    # what a worker killed mid-stream leaves behind: attempt 1 started, output published, nothing recorded
    assert relay.next_attempt("job-lost-lost-lost-01") == 1
    relay.claim("started:job-lost-lost-lost-01:1:1")
    relay.transition("job-lost-lost-lost-01", ("queued",), "running", {"output": "1"})
    relay.publish("job-lost-lost-lost-01", "text", {"text": "half an ans"})
    clean_fake.queue(text("a whole answer"))
    assert runner.run("job-lost-lost-lost-01", "stream", "default", PARAMS, "alice") == "done"
    assert [(r.status, r.error_type, r.context["attempt"]) for r in records] == [
        ("aborted", "worker_lost", 1),
        ("ok", None, 2),
    ]
    names = [e.event for e in relay.events("job-lost-lost-lost-01", None, timeout=2)]
    assert names[:3] == ["text", "reset", "start"] and names[-1] == "done"
    # a redelivery of the finished job does nothing and records nothing
    assert runner.run("job-lost-lost-lost-01", "stream", "default", PARAMS, "alice") == "done"
    assert len(records) == 2 and len(clean_fake.requests) == 1


def test_runner_raises_retry_with_the_retry_after_countdown(clean_fake: Any) -> None:
    relay = MemoryRelay()
    runner = JobRunner(
        relay,
        ClientRegistry(lambda a: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url)),
        policy=RetryPolicy(max_retries=3),
    )
    clean_fake.queue(error(529, headers={"retry-after": "7"}))
    with pytest.raises(RetryJob) as info:
        runner.run("job-retry-retry-retry", "create", "default", PARAMS, "alice")
    assert info.value.countdown == 7.0
    assert relay.get_job("job-retry-retry-retry")["state"] == "queued"


def test_job_finished_signal(harness: Harness, clean_fake: Any) -> None:
    seen: list[dict[str, Any]] = []
    receiver = job_finished.connect(lambda **kw: seen.append(kw))
    try:
        clean_fake.queue(text("x"))
        job = harness.service.start("create", PARAMS, owner="alice")
        _events(harness.service, job.id)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [{"job_id": job.id, "kind": "create", "state": "done", "owner": "alice"}]
    finally:
        job_finished.disconnect(receiver)


def test_async_clients_are_per_event_loop(clean_fake: Any) -> None:
    clients = ClientRegistry(lambda a: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url))
    clean_fake.queue(text("one"), text("two"))

    async def once() -> tuple[str, int]:
        client = clients.async_client("default")
        assert clients.async_client("default") is client  # one per loop
        message = await client.messages.create(**PARAMS)
        await clients.aclose_loop_clients()
        return message.content[0].text, id(client)

    first = asyncio.run(once())
    second = asyncio.run(once())
    assert [first[0], second[0]] == ["one", "two"]


class BatchAPI:
    """A scripted Message Batches endpoint (httpx.MockTransport): in progress once, then ended with results."""

    def __init__(self) -> None:
        self.retrieves = 0
        self.created: list[Any] = []

    def batch(self, status: str) -> dict[str, Any]:
        ended = status == "ended"
        return {
            "id": "msgbatch_01",
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else 2,
                "succeeded": 1 if ended else 0,
                "errored": 1 if ended else 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2025-01-01T00:00:00Z",
            "expires_at": "2025-01-02T00:00:00Z",
            "results_url": "http://batches.test/v1/messages/batches/msgbatch_01/results" if ended else None,
        }

    def __call__(self, request: Any) -> Any:
        import httpx

        path = request.url.path
        if request.method == "POST" and path == "/v1/messages/batches":
            self.created.append(json.loads(request.content))
            return httpx.Response(200, json=self.batch("in_progress"))
        if path == "/v1/messages/batches/msgbatch_01":
            self.retrieves += 1
            return httpx.Response(200, json=self.batch("ended" if self.retrieves >= 2 else "in_progress"))
        if path.endswith("/results"):
            message = {
                "id": "msg_a",
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-4-5",
                "content": [{"type": "text", "text": "batched"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1000, "output_tokens": 1000},
            }
            lines = [
                {"custom_id": "a", "result": {"type": "succeeded", "message": message}},
                {
                    "custom_id": "b",
                    "result": {
                        "type": "errored",
                        "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}},
                    },
                },
            ]
            return httpx.Response(200, content="\n".join(json.dumps(x) for x in lines).encode())
        return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})


def test_batch_job_polls_until_ended_and_signals_completion() -> None:
    import httpx

    from claude_web.jobs import batch_completed

    api = BatchAPI()
    records: list[UsageRecord] = []
    completed: list[dict[str, Any]] = []
    receiver = batch_completed.connect(lambda **kw: completed.append(kw))
    http = httpx.Client(transport=httpx.MockTransport(api))
    config = JobsConfig(
        client_factory=lambda a: Anthropic(api_key=TEST_KEY, base_url="http://batches.test", http_client=http),
        usage_recorder=records.append,
        batch_poll_interval=0.05,
    )
    service = JobService.from_config(config)
    try:
        requests = [{"custom_id": "a", "params": PARAMS}, {"custom_id": "b", "params": PARAMS}]
        job = service.start("batch", {"requests": requests}, owner="alice")
        events = _events(service, job.id)
        assert [e.event for e in events] == ["batch", "done"]
        assert events[-1].data["request_counts"]["succeeded"] == 1
        assert api.created == [{"requests": requests}]
        status = service.status(job.id, "alice")
        assert status["batch_id"] == "msgbatch_01"
        assert [r["custom_id"] for r in status["result"]["results"]] == ["a", "b"]
        assert len(completed) == 1 and completed[0]["job_id"] == job.id
        assert [(r.operation, r.status) for r in records] == [("batches.create", "ok"), ("batches.result", "ok")]
        assert str(records[1].cost) == "0.00300000"  # half of 1000 in at $1 + 1000 out at $5 per MTok
    finally:
        batch_completed.disconnect(receiver)
        service.close()


def test_an_in_stream_overload_is_retried_and_the_browser_told_to_reset(harness: Harness, clean_fake: Any) -> None:
    clean_fake.queue(text("one two three four five six", chunks=6, error_after=4), text("fresh answer", chunks=2))
    job = harness.service.start("stream", PARAMS, owner="alice")
    events = _events(harness.service, job.id)
    names = [e.event for e in events]
    assert names[-1] == "done" and names.count("reset") == 1 and names.count("start") == 2
    after = events[names.index("reset") + 1 :]
    assert "".join(e.data["text"] for e in after if e.event == "text") == "fresh answer"
    records = sorted(harness.for_job(job.id), key=lambda r: r.context["attempt"])
    assert [r.status for r in records] == ["error", "ok"]


def test_a_task_sent_directly_with_bad_input_ends_with_an_error_event(clean_fake: Any) -> None:
    relay = MemoryRelay()
    runner = JobRunner(
        relay,
        ClientRegistry(lambda a: Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url) if a == "default" else None),
    )  # type: ignore[arg-type,return-value]
    assert runner.run("job-direct-direct-01", "stream", "default", {"model": "m"}, "bob") == "error"
    assert runner.run("job-direct-direct-02", "stream", "ghost", PARAMS, "bob") == "error"
    for job_id in ("job-direct-direct-01", "job-direct-direct-02"):
        events = list(relay.events(job_id, None, timeout=1))
        assert [e.event for e in events] == ["error"]
        assert events[0].data["type"] == "invalid_request_error"
    assert clean_fake.requests == []
