"""Celery tasks for long Claude calls; Celery itself is imported only when these functions run.

Register the tasks on your project's Celery app, next to where you create it::

    # proj/celery.py
    from celery import Celery
    from claude_web.celery import register_tasks

    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")   # or your Flask config
    register_tasks(app)              # JobsConfig from CLAUDE_WEB_* environment variables
    # register_tasks(app, config=lambda: my_jobs_config())   # or build it lazily from your settings

The Django and Flask adapters offer ``register_tasks`` helpers that read their own settings. Tasks:

- ``claude_web.create_message(job_id, alias, params, owner)``: a long non-streaming ``messages.create``; the
  message's dict is the task result and the job's ``result``.
- ``claude_web.stream_message(job_id, alias, params, owner)``: ``messages.stream``; every event goes to the
  relay (:mod:`claude_web.relay`) and the last one is ``done``, ``error`` or ``cancelled``.
- ``claude_web.run_conversation_turn(job_id, alias, params, owner)``: one assistant turn of a stored conversation
  (the tool loop included), with the app's conversation store and tools (pass ``runtime=``; the adapters'
  ``register_tasks`` do).
- ``claude_web.run_batch(job_id, alias, params, owner)`` submits a Message Batch, then
  ``claude_web.poll_batch(job_id, alias)`` checks it with countdowns until it ends, stores the results and
  sends :data:`claude_web.jobs.batch_completed`.

Arguments are JSON: a client *alias*, never a key; clients are built in the worker, one per process and alias.
Every task is ``acks_late`` with ``reject_on_worker_lost``, so a job whose worker is killed runs again. Errors
that are worth retrying (429, 529, 5xx, connection) are retried by Celery with the ``retry-after`` the API sent
(or exponential backoff), without holding a worker process while waiting.

Tasks may also be sent without :class:`~claude_web.jobs.JobService` (``app.send_task("claude_web.stream_message",
kwargs={"job_id": ..., "alias": "default", "params": {...}})``): the job record is created on the fly, and bad
parameters or an unknown alias end the job with an ``error`` event instead of a failed task.

With the Redis broker, set ``broker_transport_options={"visibility_timeout": ...}`` above your longest job:
Redis redelivers an unacknowledged (``acks_late``) message after that long, even if its worker is still alive.

Async code inside a task: use :func:`run_async` and :func:`async_client`, which give every event loop its own
client (reusing one across two ``asyncio.run`` calls is what fails with "Event loop is closed").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._client import AsyncAnthropic
from .jobs import TASK_NAMES, CeleryExecutor, JobRunner, JobsConfig, RetryJob
from .otel import _jobs as otel_jobs
from .web.clients import ClientRegistry

__all__ = [
    "TASK_NAMES",
    "CeleryExecutor",
    "async_client",
    "register_shared_tasks",
    "register_tasks",
    "run_async",
]

log = logging.getLogger("claude_web.celery")

# ``shared=False``: the tasks belong to the app they are registered on (Celery's default would also add them to
# every app created later in the process); :func:`register_shared_tasks` is the explicit way to do that.
TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": None,
    "track_started": True,
    "shared": False,
}

_T = TypeVar("_T")


def _require_celery() -> Any:
    try:
        import celery
    except ImportError as exc:
        raise ImportError('claude_web.celery needs Celery and redis-py: pip install "claude-web[celery]"') from exc
    return celery


class _WorkerState:
    """What a worker process needs, built on first use in that process (and rebuilt after a fork).

    ``runtime`` (a callable returning the app's :class:`~claude_web.web.runtime.WebRuntime`) gives jobs the app's
    clients and usage pipeline, as in the web process; without it clients come from ``CLIENT_FACTORY`` or the
    ``CLAUDE_WEB_CLIENTS`` environment variable and records go to ``USAGE_RECORDER``.
    """

    def __init__(
        self,
        config: JobsConfig | Callable[[], JobsConfig] | None,
        app: Any = None,
        runtime: Callable[[], Any] | None = None,
    ) -> None:
        self._config_source = config
        self._app = app
        self._runtime = runtime
        self._lock = threading.Lock()
        self._pid = -1
        self._runner: JobRunner | None = None
        self._config: JobsConfig | None = None

    def config(self) -> JobsConfig:
        if self._config is None:
            source = self._config_source
            config = source() if callable(source) else (source or JobsConfig.from_env())
            if not config.redis_url:
                broker = str(getattr(getattr(self._app, "conf", None), "broker_url", "") or "")
                if broker.startswith(("redis://", "rediss://", "unix://")):
                    config.redis_url = broker
            if not config.redis_url:
                raise RuntimeError(
                    "claude-web Celery tasks need the relay's Redis: set CLAUDE_WEB_REDIS_URL (or REDIS_URL in "
                    "the jobs settings) to the Redis the web processes use"
                )
            self._config = config
        return self._config

    def runner(self) -> JobRunner:
        with self._lock:
            if self._runner is None or self._pid != os.getpid():
                config = self.config()
                runtime = self._runtime() if self._runtime is not None else None
                if runtime is not None:
                    clients, recorder = runtime.job_clients(config), runtime.job_recorder(config)
                else:
                    clients, recorder = config.make_clients(), config.recorder()
                budget = runtime if runtime is not None and hasattr(runtime, "job_finished") else None
                self._runner = JobRunner(
                    config.make_relay(),
                    clients,
                    recorder=recorder,
                    policy=config.retry_policy(),
                    client_max_retries=config.client_max_retries,
                    create_timeout=config.create_timeout,
                    batch_poll_interval=config.batch_poll_interval,
                    conversations=runtime.turn_runner() if runtime is not None else None,
                    budget=budget,
                )
                self._pid = os.getpid()
            return self._runner


_state: _WorkerState | None = None


def _run_attempt(
    task: Any, state: _WorkerState, kind: str, job_id: str, alias: str, params: dict[str, Any], owner: str
) -> dict[str, Any]:
    runner = state.runner()
    try:
        with otel_jobs.restored(task.request):  # the trace context the web process sent in the task headers
            final = runner.run(job_id, kind, alias, params or {}, owner, retries=task.request.retries)
    except RetryJob as retry:
        raise task.retry(countdown=retry.countdown, max_retries=None) from None
    if kind == "batch" and final == "polling":
        task.app.send_task(
            TASK_NAMES["poll"],
            kwargs={"job_id": job_id, "alias": alias},
            countdown=runner.batch_poll_interval,
            queue=state.config().queue,
        )
    job = runner.relay.get_job(job_id) or {}
    out: dict[str, Any] = {"job_id": job_id, "state": job.get("state", final)}
    if job.get("result") and kind != "batch":
        out["message"] = json.loads(job["result"])
    return out


def register_tasks(
    app: Any,
    config: JobsConfig | Callable[[], JobsConfig] | None = None,
    *,
    runtime: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Register the claude-web tasks on ``app``; returns ``{name: task}``.

    ``config`` is a :class:`~claude_web.jobs.JobsConfig` or a callable returning one (called once per worker
    process, on the first task, so it may read settings that are not ready at import time). Without it the
    configuration comes from ``CLAUDE_WEB_*`` environment variables, and the relay falls back to the broker
    URL when that is a Redis URL.
    """
    celery = _require_celery()
    global _state
    state = _WorkerState(config, app, runtime)
    _state = state

    def create_message(
        self: Any, job_id: str, alias: str = "default", params: dict[str, Any] | None = None, owner: str = ""
    ) -> dict[str, Any]:
        return _run_attempt(self, state, "create", job_id, alias, params or {}, owner)

    def stream_message(
        self: Any, job_id: str, alias: str = "default", params: dict[str, Any] | None = None, owner: str = ""
    ) -> dict[str, Any]:
        return _run_attempt(self, state, "stream", job_id, alias, params or {}, owner)

    def run_batch(
        self: Any, job_id: str, alias: str = "default", params: dict[str, Any] | None = None, owner: str = ""
    ) -> dict[str, Any]:
        return _run_attempt(self, state, "batch", job_id, alias, params or {}, owner)

    def run_conversation_turn(
        self: Any, job_id: str, alias: str = "default", params: dict[str, Any] | None = None, owner: str = ""
    ) -> dict[str, Any]:
        return _run_attempt(self, state, "conversation", job_id, alias, params or {}, owner)

    def poll_batch(self: Any, job_id: str, alias: str = "default") -> dict[str, Any]:
        runner = state.runner()
        wait = runner.poll_batch(job_id, alias)
        if wait is not None:
            raise self.retry(countdown=wait, max_retries=None)
        job = runner.relay.get_job(job_id) or {}
        return {"job_id": job_id, "state": job.get("state", "missing")}

    def _announce(**_: Any) -> None:
        try:
            config = state.config()
        except RuntimeError as exc:
            log.error("%s", exc)
            return
        log.info(
            "claude-web: Celery tasks ready (%s); relay on Redis, key prefix %r",
            ", ".join(sorted(TASK_NAMES.values())),
            config.key_prefix,
        )

    celery.signals.worker_ready.connect(_announce, weak=False)
    functions = {
        "create": create_message,
        "stream": stream_message,
        "batch": run_batch,
        "conversation": run_conversation_turn,
        "poll": poll_batch,
    }
    return {kind: app.task(name=TASK_NAMES[kind], **TASK_OPTIONS)(fn) for kind, fn in functions.items()}


def register_shared_tasks(config: JobsConfig | Callable[[], JobsConfig] | None = None) -> None:
    """Register the tasks on every Celery app, present and future (``shared_task`` style).

    Call it from a module your app imports (for example a ``tasks.py`` that ``autodiscover_tasks`` finds).
    """
    _require_celery()
    from celery import _state as celery_state

    def attach(app: Any) -> None:
        if TASK_NAMES["stream"] not in app.tasks:
            register_tasks(app, config)

    celery_state.connect_on_app_finalize(attach)
    for app in list(celery_state._get_active_apps()):
        if app.finalized:
            attach(app)


# ---------------------------------------------------------------------------------------------------------------
# async helpers


_fallback_clients: ClientRegistry | None = None


def _registry() -> ClientRegistry:
    global _fallback_clients
    if _state is not None:
        try:
            return _state.runner().clients
        except RuntimeError:
            pass
    if _fallback_clients is None:
        _fallback_clients = ClientRegistry()
    return _fallback_clients


def async_client(alias: str = "default") -> AsyncAnthropic:
    """The ``AsyncAnthropic`` for ``alias`` on the running event loop (a new loop gets a new client)."""
    return _registry().async_client(alias)


def run_async(fn: Callable[[], Awaitable[_T]]) -> _T:
    """``asyncio.run(fn())`` from a task, closing the loop's :func:`async_client` clients before it ends.

    >>> def summarise(text):
    ...     async def go():
    ...         return await async_client().messages.create(model=..., max_tokens=256, messages=[...])
    ...     return run_async(go)
    """

    async def main() -> _T:
        try:
            return await fn()
        finally:
            await _registry().aclose_loop_clients()

    return asyncio.run(main())
