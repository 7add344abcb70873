"""The worker side: ``JobRunner`` runs one attempt of a job and records usage exactly once per upstream call."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from .._client import Anthropic
from .._exceptions import (
    APIError,
)
from ..otel import _jobs as otel_jobs
from ..otel import record_span
from ..relay import TERMINAL_STATES, Relay
from ..usage import ModelPrice, UsageRecord, UsageRecorder
from ..web.events import budget_done, safe_error, translate
from ._config import ClientRegistry, RetryPolicy, is_retryable, retry_delay
from ._model import (
    JobRequestError,
    RetryJob,
    TurnJob,
    TurnRunnerProtocol,
    batch_completed,
    job_finished,
    validate_params,
)

log = logging.getLogger("claude_web.jobs")


# ---------------------------------------------------------------------------------------------------------------
# the runner (worker side)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _admitted(job: Mapping[str, str]) -> dict[str, Any]:
    """What the job's admission put in its usage context (its budget reservation), stored with the job."""
    try:
        found = json.loads(job.get("usage_context") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class BudgetHooks(Protocol):
    """What a runner asks of the app's budgets (the web runtime is one): a per-event ``watch`` of a streamed
    call, and ``job_finished`` to give back what a job's admission still holds."""

    def watch(self, context: Mapping[str, Any], params: Mapping[str, Any]) -> Callable[[Any], bool] | None: ...

    def job_finished(self, job_id: str, fields: Mapping[str, str]) -> None: ...


class _UsageGuard:
    """The ``usage_recorder`` of one job attempt: each record passes an idempotency claim, then is delivered."""

    def __init__(self, runner: JobRunner, job_id: str, attempt: int, deliver: UsageRecorder | None) -> None:
        self.runner = runner
        self.job_id = job_id
        self.attempt = attempt
        self.deliver = deliver
        self.calls = 0
        self.records: list[UsageRecord] = []

    def mark_started(self) -> None:
        """Called just before the upstream call: a later attempt finds the mark if this worker dies mid-call."""
        self.runner.relay.claim(f"started:{self.job_id}:{self.attempt}:{self.calls + 1}")

    def __call__(self, record: UsageRecord) -> None:
        self.claim(record)

    def claim(self, record: UsageRecord) -> bool:
        """Deliver ``record`` unless it was delivered before; ``True`` when delivered now."""
        self.calls += 1
        delivered = self.runner.emit_usage(self.job_id, f"{self.attempt}:{self.calls}", record, self.deliver)
        self.records.append(record)
        return delivered


class JobRunner:
    """Runs jobs in a worker (a Celery task or a thread); the same code in both modes."""

    def __init__(
        self,
        relay: Relay,
        clients: ClientRegistry,
        *,
        recorder: UsageRecorder | None = None,
        policy: RetryPolicy | None = None,
        client_max_retries: int = 0,
        create_timeout: float = 3600.0,
        batch_poll_interval: float = 30.0,
        pricing: Mapping[str, ModelPrice] | None = None,
        conversations: TurnRunnerProtocol | None = None,
        budget: BudgetHooks | None = None,
    ) -> None:
        self.relay = relay
        self.conversations = conversations  # runs ``conversation`` jobs (the app's conversation store and tools)
        self.budget = budget
        self.pricing = pricing  # batch results are priced with it; None: the price table of the job's client
        self.clients = clients
        self.recorder = recorder
        self.policy = policy or RetryPolicy()
        self.client_max_retries = client_max_retries
        self.create_timeout = create_timeout
        self.batch_poll_interval = batch_poll_interval
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    # -- usage --------------------------------------------------------------------------------------------
    def emit_usage(
        self,
        job_id: str,
        key: str,
        record: UsageRecord,
        deliver: UsageRecorder | None,
        *,
        summarize: bool = True,
        quiet: bool = False,
    ) -> bool:
        """Hand ``record`` to the recorder unless ``job_id``/``key`` was recorded before; ``True`` if delivered."""
        if not self.relay.claim(f"usage:{job_id}:{key}"):
            if not quiet:
                log.warning("usage record %s of job %s was already recorded; skipping the duplicate", key, job_id)
            return False
        record_span(record)  # a record no client call made (lost call, batch result) gets its span here
        target = self.recorder or deliver
        if target is not None:
            try:
                target(record)
            except Exception:
                log.exception("usage recorder failed for job %s", job_id)
        if summarize:
            self.relay.update_job(job_id, {f"usage:{key}": _dumps(_usage_summary(record))})
        return True

    def _settle_lost_calls(
        self,
        job_id: str,
        job: Mapping[str, str],
        attempt: int,
        context: dict[str, Any],
        model: str | None,
        operation: str,
    ) -> None:
        """Record ``aborted`` for upstream calls whose worker died before it could record them."""
        start = int(job.get("settled") or 0) + 1
        for previous in range(start, attempt):
            started = not self.relay.claim(f"started:{job_id}:{previous}:1")
            if started:
                record = UsageRecord(
                    operation=operation,
                    model=model,
                    status="aborted",
                    error_type="worker_lost",
                    context={**context, "attempt": previous},
                )
                deliver = self.clients.recorder
                if self.emit_usage(job_id, f"{previous}:1", record, deliver, quiet=True):
                    log.warning("job %s: attempt %d lost its worker mid-call; recorded as aborted", job_id, previous)
        if attempt > start:
            self.relay.update_job(job_id, {"settled": str(attempt - 1)})

    # -- one attempt --------------------------------------------------------------------------------------
    def run(
        self, job_id: str, kind: str, alias: str, params: Mapping[str, Any], owner: str = "", *, retries: int = 0
    ) -> str:
        """Run one attempt of a ``create`` or ``stream`` job (or the submit step of a ``batch``).

        Returns the job's state afterwards; raises :class:`RetryJob` when it should run again later.
        """
        with otel_jobs.running(job_id, kind, retries, lambda: self.relay.get_job(job_id)):  # no-op without OTel
            return self._run(job_id, kind, alias, params, owner, retries)

    def _run(self, job_id: str, kind: str, alias: str, params: Mapping[str, Any], owner: str, retries: int) -> str:
        job = self.relay.get_job(job_id)
        if job is None:  # enqueued directly (not through JobService): make the record now
            self.relay.create_job(job_id, {"owner": owner, "kind": kind, "alias": alias, "created_at": _now()})
            job = self.relay.get_job(job_id) or {}
        if job.get("state") in TERMINAL_STATES:
            log.info("job %s already %s; nothing to do", job_id, job.get("state"))
            return job["state"]
        if self.relay.is_cancelled(job_id):
            return self._cancelled(job_id, kind, owner)
        attempt = self.relay.next_attempt(job_id)
        context = {
            **_admitted(job),
            "job_id": job_id,
            "job_kind": kind,
            "alias": alias,
            "owner": owner or None,
            "attempt": attempt,
        }
        if kind == "conversation" and isinstance(params.get("context"), Mapping):
            context = {**params["context"], **context}  # the request's context (user, request id, admission)
        operation = {"create": "messages.create", "batch": "batches.create"}.get(kind, "messages.stream")
        self._settle_lost_calls(job_id, job, attempt, context, params.get("model"), operation)
        if attempt > self.policy.max_attempts:
            return self._fail(job_id, kind, owner, {"type": "api_error", "message": "The job failed repeatedly."})
        moved = self.relay.transition(
            job_id,
            ("queued", "running"),
            "running",
            {"attempt": str(attempt), "worker": self.worker, "started_at": _now()},
        )
        if not moved:
            return (self.relay.get_job(job_id) or {}).get("state", "missing")
        if self.relay.is_cancelled(job_id):
            return self._cancelled(job_id, kind, owner)
        if kind == "stream" and job.get("output"):
            self.relay.publish(job_id, "reset", {"attempt": attempt})
            self.relay.update_job(job_id, {"output": ""})
        guard = _UsageGuard(self, job_id, attempt, None)
        try:
            validate_params(kind, params)
            base = self.clients.get(alias)
        except (JobRequestError, KeyError) as exc:  # a task sent directly, without JobService's checks
            log.error("job %s refused: %s", job_id, exc)
            return self._fail(
                job_id,
                kind,
                owner,
                {"type": "invalid_request_error", "message": "The job's parameters or client alias are invalid."},
            )
        try:
            guard.deliver = self.clients.recorder
            if kind == "conversation":  # the client's own retries: a turn is never re-run (its tools ran)
                client = base.with_options(usage_recorder=guard, usage_context=context)
                return self._conversation(job_id, client, params, owner, guard, attempt)
            client = base.with_options(usage_recorder=guard, usage_context=context, max_retries=self.client_max_retries)
            if kind == "create":
                return self._create(job_id, client, params, owner, guard)
            if kind == "stream":
                return self._stream(job_id, client, params, owner, guard)
            if kind == "batch":
                return self._batch_submit(job_id, client, params, owner, guard)
            raise ValueError(f"unknown job kind {kind!r}")
        except APIError as exc:
            if guard.calls == 0:
                self._record_failure(guard, operation, params, context, exc)
            delay = None if self.relay.is_cancelled(job_id) else self.policy.delay(exc, retries)
            if delay is not None:
                log.info("job %s attempt %d: %s; retrying in %.3fs", job_id, attempt, type(exc).__name__, delay)
                self.relay.transition(
                    job_id, ("running",), "queued", {"retry_in": f"{delay:.3f}", "last_error": safe_error(exc)["type"]}
                )
                raise RetryJob(delay, exc) from exc
            log.warning("job %s attempt %d failed for good: %s", job_id, attempt, type(exc).__name__)
            if self.relay.is_cancelled(job_id):
                return self._cancelled(job_id, kind, owner)
            return self._fail(job_id, kind, owner, safe_error(exc))
        except Exception as exc:
            log.exception("job %s attempt %d crashed", job_id, attempt)
            if guard.calls == 0:
                self._record_failure(guard, operation, params, context, exc)
            return self._fail(job_id, kind, owner, safe_error(exc))

    def _record_failure(
        self, guard: _UsageGuard, operation: str, params: Mapping[str, Any], context: dict[str, Any], exc: BaseException
    ) -> None:
        """A failed attempt that produced no usage record (no upstream call got that far) still records one."""
        guard(
            UsageRecord(
                operation=operation,
                model=params.get("model"),
                status="error",
                error_type=getattr(exc, "type", None) or type(exc).__name__,
                context=context,
            )
        )

    def _finish(
        self,
        job_id: str,
        kind: str,
        owner: str,
        event: str,
        data: Mapping[str, Any],
        fields: Mapping[str, str] | None = None,
    ) -> str:
        if self.relay.finish(job_id, event, data, {"finished_at": _now(), **(fields or {})}) is None:
            return (self.relay.get_job(job_id) or {}).get("state", "missing")
        if self.budget is not None:
            self.budget.job_finished(job_id, self.relay.get_job(job_id) or {})
        job_finished.send(job_id=job_id, kind=kind, state=event, owner=owner)
        return event

    def _fail(self, job_id: str, kind: str, owner: str, error: Mapping[str, Any]) -> str:
        return self._finish(job_id, kind, owner, "error", error, {"error": _dumps(error)})

    def _cancelled(self, job_id: str, kind: str, owner: str) -> str:
        return self._finish(job_id, kind, owner, "cancelled", {"reason": "cancelled"})

    def _create(self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str, guard: _UsageGuard) -> str:
        guard.mark_started()
        message = client.messages.create(**params, timeout=self.create_timeout)
        result = message.to_dict(mode="json")
        done = {"stop_reason": message.stop_reason, "usage": message.usage.to_dict(mode="json"), "message": result}
        return self._finish(job_id, "create", owner, "done", done, {"result": _dumps(result)})

    def _stream(self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str, guard: _UsageGuard) -> str:
        done: dict[str, Any] | None = None
        watch = self.budget.watch(client.usage_context, params) if self.budget is not None else None
        guard.mark_started()
        with client.messages.stream(**params) as stream:
            first = True
            checked = time.monotonic()
            for raw in stream:
                if watch is not None and watch(raw):  # the budget ran out mid-answer (ON_EXHAUSTED "stop")
                    stream.close()
                    return self._finish(job_id, "stream", owner, "done", budget_done(stream, client.pricing))
                out = translate(raw, pricing=client.pricing)
                if out is not None and out[0] == "done":
                    done = out[1]
                elif out is not None:
                    self.relay.publish(job_id, *out)
                    if first:
                        first = False
                        self.relay.update_job(job_id, {"output": "1"})
                elif time.monotonic() - checked < 0.25:
                    continue  # pings and block boundaries: check the cancel flag at most 4 times a second
                checked = time.monotonic()
                if done is None and self.relay.is_cancelled(job_id):
                    stream.close()  # releases the connection at once; the usage record says "aborted"
                    return self._cancelled(job_id, "stream", owner)
            message = stream.current_message_snapshot
        if done is None:
            return self._fail(
                job_id,
                "stream",
                owner,
                {"type": "stream_error", "message": "The answer stream broke off. Please try again."},
            )
        return self._finish(job_id, "stream", owner, "done", done, {"result": _dumps(message.to_dict(mode="json"))})

    def _conversation(
        self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str, guard: _UsageGuard, attempt: int
    ) -> str:
        if self.conversations is None:
            log.error("job %s is a conversation turn, but this worker has no conversation store", job_id)
            error = {"type": "api_error", "message": "Conversations are not set up on the server that ran this."}
            return self._fail(job_id, "conversation", owner, error)
        turn = TurnJob(
            job_id=job_id,
            owner=owner,
            attempt=attempt,
            params=dict(params),
            client=client,
            record=guard.claim,
            mark_started=guard.mark_started,
            publish=lambda event, data: self.relay.publish(job_id, event, data),
            cancelled=lambda: self.relay.is_cancelled(job_id),
        )
        event, data = self.conversations.run_turn(turn)
        fields = {"error": _dumps(data)} if event == "error" else {}
        return self._finish(job_id, "conversation", owner, event, data, fields)

    # -- batches ------------------------------------------------------------------------------------------
    def _batch_submit(
        self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str, guard: _UsageGuard
    ) -> str:
        job = self.relay.get_job(job_id) or {}
        if job.get("batch_id"):  # redelivered after the submit went through: do not submit twice
            return "polling"
        guard.mark_started()
        batch = client.messages.batches.create(requests=params["requests"])
        summary = _batch_summary(batch)
        self.relay.update_job(job_id, {"batch_id": batch.id, "batch_summary": _dumps(summary)})
        self.relay.publish(job_id, "batch", summary)
        return "polling"

    def poll_batch(self, job_id: str, alias: str) -> float | None:
        """Check a submitted batch once: seconds until the next check, or ``None`` when the job has ended."""
        job = self.relay.get_job(job_id)
        if job is None or job.get("state") in TERMINAL_STATES or not job.get("batch_id"):
            return None
        owner = job.get("owner", "")
        batch_id = job["batch_id"]
        client = self.clients.get(alias).with_options(max_retries=2)
        try:
            if self.relay.is_cancelled(job_id) and not job.get("cancel_sent"):
                client.messages.batches.cancel(batch_id)
                self.relay.update_job(job_id, {"cancel_sent": "1"})
            batch = client.messages.batches.retrieve(batch_id)
            summary = _batch_summary(batch)
            if batch.processing_status != "ended":
                if _dumps(summary) != job.get("batch_summary"):
                    self.relay.update_job(job_id, {"batch_summary": _dumps(summary)})
                    self.relay.publish(job_id, "batch", summary)
                return self.batch_poll_interval
            results = [entry.to_dict(mode="json") for entry in client.messages.batches.results(batch_id)]
        except APIError as exc:
            if is_retryable(exc):
                return retry_delay(exc, 0, self.policy)
            self._fail(job_id, "batch", owner, safe_error(exc))
            return None
        self._record_batch_usage(job_id, job, results)
        batch_completed.send(job_id=job_id, batch=batch.to_dict(mode="json"), results=results)
        state = "cancelled" if self.relay.is_cancelled(job_id) else "done"
        self._finish(job_id, "batch", owner, state, summary, {"result": _dumps({"batch": summary, "results": results})})
        return None

    def _record_batch_usage(self, job_id: str, job: Mapping[str, str], results: list[dict[str, Any]]) -> None:
        base = {
            **_admitted(job),
            "job_id": job_id,
            "job_kind": "batch",
            "alias": job.get("alias"),
            "owner": job.get("owner") or None,
        }
        client = self.clients.get(job.get("alias") or "default")
        deliver = self.clients.recorder
        pricing = client.pricing if self.pricing is None else self.pricing
        for entry in results:
            result = entry.get("result") or {}
            if result.get("type") != "succeeded":
                continue
            message = result.get("message") or {}
            usage = message.get("usage") or {}
            record = UsageRecord(
                operation="batches.result",
                model=message.get("model"),
                context={**base, "custom_id": entry.get("custom_id")},
            )
            record.update_usage(usage)
            record.apply_pricing(pricing, batch=True)  # batch rates, with the configured table
            self.emit_usage(job_id, f"result:{entry.get('custom_id')}", record, deliver, summarize=False)


def _usage_summary(record: UsageRecord) -> dict[str, Any]:
    return {
        "operation": record.operation,
        "status": record.status,
        "model": record.model,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cost": None if record.cost is None else str(record.cost),
        "error_type": record.error_type,
    }


def _batch_summary(batch: Any) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "processing_status": batch.processing_status,
        "request_counts": batch.request_counts.to_dict(mode="json"),
    }
