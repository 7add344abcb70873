"""The web side: executors (threads of this process, or Celery workers) and ``JobService``."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .._ids import random_id
from ..otel import _jobs as otel_jobs
from ..relay import TERMINAL_STATES, Relay, RelayEvent
from ..usage import UsageRecorder
from ..web.sse import StreamProtocol, awrite_events, write_events
from ._config import ClientRegistry, JobsConfig, import_string
from ._model import _JOB_ID, TASK_NAMES, JobNotFound, JobRequestError, RetryJob, validate_params
from ._runner import BudgetHooks, JobRunner, _now

if TYPE_CHECKING:
    from ._model import TurnRunnerProtocol

log = logging.getLogger("claude_web.jobs")


# ---------------------------------------------------------------------------------------------------------------
# executors and the service (web side)


class Executor(Protocol):
    mode: str

    def submit(self, kind: str, job_id: str, alias: str, params: dict[str, Any], owner: str) -> None: ...


class ThreadExecutor:
    """Runs jobs in threads of this process (the no-Redis mode): same runner, retries by sleeping."""

    mode = "in-process"

    def __init__(self, runner: JobRunner, *, threads: int = 4) -> None:
        self.runner = runner
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="claude-web-job")
        self._closed = threading.Event()

    def submit(self, kind: str, job_id: str, alias: str, params: dict[str, Any], owner: str) -> None:
        self._pool.submit(self._run, kind, job_id, alias, params, owner)

    def _sleep(self, job_id: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._closed.is_set() and not self.runner.relay.is_cancelled(job_id):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.1))

    def _run(self, kind: str, job_id: str, alias: str, params: dict[str, Any], owner: str) -> None:
        retries = 0
        try:
            while True:
                try:
                    state = self.runner.run(job_id, kind, alias, params, owner, retries=retries)
                    break
                except RetryJob as retry:
                    self._sleep(job_id, retry.countdown)
                    if self._closed.is_set():
                        return
                    retries += 1
            while kind == "batch" and state == "polling" and not self._closed.is_set():
                wait = self.runner.poll_batch(job_id, alias)
                if wait is None:
                    break
                self._sleep(job_id, wait)
        except Exception:  # never let a job kill the pool thread silently
            log.exception("in-process job %s crashed", job_id)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; jobs waiting to retry or poll stop waiting (a running call runs to its end)."""
        self._closed.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)


class CeleryExecutor:
    """The web side of the Celery mode: sends tasks by name (the web process needs no task code)."""

    mode = "celery"

    def __init__(self, app: Any = None, *, queue: str | None = None) -> None:
        self._app = app
        self.queue = queue

    @property
    def app(self) -> Any:
        if isinstance(self._app, str):
            self._app = import_string(self._app)
        if self._app is None:
            try:
                import celery
            except ImportError as exc:
                raise ImportError('claude-web jobs on Celery need it: pip install "claude-web[celery]"') from exc
            self._app = celery.current_app
        return self._app

    def submit(self, kind: str, job_id: str, alias: str, params: dict[str, Any], owner: str) -> None:
        self.app.send_task(
            TASK_NAMES[kind],
            kwargs={"job_id": job_id, "alias": alias, "params": params, "owner": owner},
            queue=self.queue,
            headers=otel_jobs.carrier() or None,  # W3C trace context, restored by the task (claude_web.otel)
        )


def new_job_id() -> str:
    """A new random job id (24 URL-safe characters)."""
    return random_id(18)


@dataclass(frozen=True)
class Job:
    """A job as the web side sees it."""

    id: str
    kind: str
    owner: str
    state: str
    alias: str = "default"
    fields: dict[str, str] = field(default_factory=dict, repr=False)

    def status(self) -> dict[str, Any]:
        """The JSON a status endpoint returns (never the owner's id, never a key)."""
        out: dict[str, Any] = {"job_id": self.id, "kind": self.kind, "state": self.state, "alias": self.alias}
        for name in ("created_at", "started_at", "finished_at", "attempt", "retry_in", "last_error", "batch_id"):
            if self.fields.get(name):
                out[name] = self.fields[name]
        for name in ("result", "error", "batch_summary"):
            if self.fields.get(name):
                out[name] = json.loads(self.fields[name])
        usage = [json.loads(v) for k, v in sorted(self.fields.items()) if k.startswith("usage:")]
        if usage:
            out["usage"] = usage
        if self.state == "running" and self.fields.get("cancel_requested"):
            out["state"] = "cancelling"
        return out


class JobService:
    """Start, watch, inspect and cancel jobs on behalf of an owner (a user id string)."""

    def __init__(
        self, relay: Relay, executor: Executor, *, clients: ClientRegistry | None = None, heartbeat: float = 15.0
    ) -> None:
        self.relay = relay
        self.executor = executor
        self.clients = clients or ClientRegistry()
        self.heartbeat = heartbeat

    def __repr__(self) -> str:
        return f"<JobService mode={self.mode} relay={self.relay!r}>"

    @property
    def mode(self) -> str:
        return self.executor.mode

    @classmethod
    def from_config(
        cls,
        config: JobsConfig,
        *,
        clients: ClientRegistry | None = None,
        recorder: UsageRecorder | None = None,
        conversations: TurnRunnerProtocol | None = None,
        budget: BudgetHooks | None = None,
    ) -> JobService:
        """Celery + Redis when ``config.redis_url`` is set, else threads + memory; logs the mode chosen.

        ``clients``, ``recorder`` and ``budget`` are the app's (the web runtime passes its own); without them
        they come from ``config`` (``client_factory``, ``usage_recorder``) or the environment. ``conversations``
        runs the ``conversation`` jobs of the in-process mode (Celery workers get theirs from the app's runtime).
        """
        relay = config.make_relay()
        clients = clients or config.make_clients()
        executor: Executor
        if config.redis_url:
            executor = CeleryExecutor(config.celery_app, queue=config.queue)
            log.info("claude-web jobs: Celery workers with the Redis relay %r", relay)
        else:
            runner = JobRunner(
                relay,
                clients,
                recorder=recorder or config.recorder(),
                policy=config.retry_policy(),
                client_max_retries=config.client_max_retries,
                create_timeout=config.create_timeout,
                batch_poll_interval=config.batch_poll_interval,
                conversations=conversations,
                budget=budget,
            )
            executor = ThreadExecutor(runner, threads=config.threads)
            log.info(
                "claude-web jobs: in-process mode (no Redis URL configured): %d threads and an in-memory "
                "relay; jobs do not survive a restart",
                config.threads,
            )
        return cls(relay, executor, clients=clients, heartbeat=config.heartbeat)

    def start(
        self,
        kind: str,
        params: Any,
        *,
        owner: str,
        alias: Any = "default",
        job_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Job:
        """Validate and enqueue a job; :class:`JobRequestError` for bad input (nothing is enqueued then).

        ``job_id`` lets the caller choose the id (e.g. claim it elsewhere first); by default a new random one.
        ``context`` is what the job's admission returned (:meth:`~claude_web.web.runtime.WebRuntime.admit`): it
        travels with the job and every usage record of the job carries it.
        """
        if not owner:
            raise JobRequestError("owner", "jobs need an owner")
        checked = validate_params(kind, params)
        alias = self.clients.validate(alias)
        if job_id is None:
            job_id = new_job_id()
        elif not _JOB_ID.match(job_id):
            raise JobRequestError("job_id", "must be 16-64 letters, digits, '_' or '-'")
        fields = {"owner": owner, "kind": kind, "alias": alias, "created_at": _now()}
        if context:
            fields["usage_context"] = json.dumps(dict(context), separators=(",", ":"), default=str)
        with otel_jobs.submitting(kind, job_id, self.mode) as trace_context:
            if trace_context:  # the job's trace: its worker attempts and every SSE resume join it
                fields[otel_jobs.TRACE_FIELD] = json.dumps(trace_context)
            self.relay.create_job(job_id, fields)
            try:
                self.executor.submit(kind, job_id, alias, checked, owner)
            except Exception:
                self.relay.finish(job_id, "error", {"type": "api_error", "message": "The job could not be queued."})
                raise
        return Job(job_id, kind, owner, "queued", alias, {**fields, "state": "queued"})

    def get(self, job_id: str, owner: str) -> Job:
        """The job if ``owner`` owns it; :class:`JobNotFound` otherwise (including a malformed id)."""
        if not isinstance(job_id, str) or not _JOB_ID.match(job_id) or not owner:
            raise JobNotFound(job_id)
        fields = self.relay.get_job(job_id)
        if fields is None or not secrets.compare_digest(fields.get("owner", "").encode(), owner.encode()):
            raise JobNotFound(job_id)
        return Job(job_id, fields.get("kind", ""), owner, fields.get("state", ""), fields.get("alias", ""), fields)

    def status(self, job_id: str, owner: str) -> dict[str, Any]:
        return self.get(job_id, owner).status()

    def events(
        self,
        job_id: str,
        owner: str,
        last_event_id: str | None = None,
        *,
        heartbeats: bool = False,
        timeout: float | None = None,
    ) -> Iterator[RelayEvent]:
        """The job's events after ``last_event_id`` until the final one (this thread waits for them).

        Ownership and the id are checked now (:class:`JobNotFound`, :class:`~claude_web.relay.InvalidEventId`
        for a malformed id or one beyond the last event of an unfinished job), so a view can answer 404/400
        before it starts a streaming response.
        """
        self.get(job_id, owner)
        after = self.relay.resume_from(job_id, last_event_id)
        return self.relay.events(job_id, after, heartbeat=self.heartbeat, timeout=timeout, yield_heartbeats=heartbeats)

    def aevents(
        self,
        job_id: str,
        owner: str,
        last_event_id: str | None = None,
        *,
        heartbeats: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[RelayEvent]:
        """:meth:`events` for the event loop (ASGI): the checks run now, the reading waits on the loop (see
        :meth:`~claude_web.relay.Relay.aevents`), so idle readers take no thread."""
        self.get(job_id, owner)
        after = self.relay.resume_from(job_id, last_event_id)
        return self.relay.aevents(job_id, after, heartbeat=self.heartbeat, timeout=timeout, yield_heartbeats=heartbeats)

    def sse(
        self,
        job_id: str,
        owner: str,
        last_event_id: str | None = None,
        *,
        timeout: float | None = None,
        retry: int = 2000,
        protocol: str | StreamProtocol | None = None,
    ) -> Iterator[bytes]:
        """An SSE body (heartbeat comments included) for a streaming response, through the one SSE writer, in
        ``protocol`` (ours by default, or ``"ai-sdk"``: see :func:`claude_web.web.protocols.stream_protocol`)."""
        events = self.events(job_id, owner, last_event_id, heartbeats=True, timeout=timeout)
        events = otel_jobs.watched(events, lambda: self.relay.get_job(job_id), last_event_id)  # no-op without OTel
        return write_events(events, heartbeat=self.heartbeat, retry=retry, protocol=protocol)

    def asse(
        self,
        job_id: str,
        owner: str,
        last_event_id: str | None = None,
        *,
        timeout: float | None = None,
        retry: int = 2000,
        protocol: str | StreamProtocol | None = None,
    ) -> AsyncIterator[bytes]:
        """The async twin of :meth:`sse` (the writer sends the heartbeats while the relay is quiet)."""
        events = self.aevents(job_id, owner, last_event_id, timeout=timeout)
        events = otel_jobs.awatched(events, lambda: self.relay.get_job(job_id), last_event_id)  # no-op without OTel
        return awrite_events(events, heartbeat=self.heartbeat, retry=retry, protocol=protocol)

    def cancel(self, job_id: str, owner: str) -> dict[str, Any]:
        """Cancel: a queued job ends now; a running one stops at its next event (the worker publishes it)."""
        job = self.get(job_id, owner)
        if job.state in TERMINAL_STATES:
            return job.status()
        self.relay.request_cancel(job_id)
        self.relay.update_job(job_id, {"cancel_requested": _now()})
        self.relay.finish(job_id, "cancelled", {"reason": "cancelled"}, {"finished_at": _now()}, only_from=("queued",))
        return self.get(job_id, owner).status()

    def close(self) -> None:
        shutdown = getattr(self.executor, "shutdown", None)
        if shutdown is not None:
            shutdown(wait=False)
        self.relay.close()
