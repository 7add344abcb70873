"""Background jobs for long Claude calls: the framework-free service behind the Django views and Flask blueprint.

A *job* is one long call run away from the web request: ``create`` (a non-streaming ``messages.create``),
``stream`` (``messages.stream``, every event published to the relay as it arrives) or ``batch`` (a Message
Batch, polled until it ends). A view calls :class:`JobService`:

>>> service = JobService.from_config(JobsConfig())         # no Redis URL: in-process threads + memory relay
>>> job = service.start("stream", {"model": "claude-haiku-4-5", "max_tokens": 512,
...                                "messages": [{"role": "user", "content": "Hi"}]}, owner="user:42")
>>> for frame in service.sse(job.id, "user:42", last_event_id=None):  # an SSE body, resumable
...     ...

With ``JobsConfig(redis_url=...)`` jobs go to Celery workers (see :mod:`claude_web.celery`) and events travel
through Redis Streams (:mod:`claude_web.relay`). A job belongs to the ``owner`` that started it: every other
owner gets :class:`JobNotFound`, exactly as for an id that does not exist. Job ids come from
:func:`secrets.token_urlsafe`.

Worker side, :class:`JobRunner` runs one attempt of a job: one client per process and alias (from
:class:`ClientRegistry`), ``max_retries=0`` on the upstream client so that retries happen at the job level
(honouring ``retry-after``, without holding a worker), and exactly one usage record per upstream call: every
record passes an idempotency claim keyed by job id, attempt and call number, and a call lost with its worker
(``kill -9``) is recorded as ``aborted`` by the next attempt.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import json
import logging
import os
import random
import re
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from ._client import Anthropic, AsyncAnthropic
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    InternalServerError,
    OverloadedError,
    RateLimitError,
)
from .relay import TERMINAL_STATES, MemoryRelay, Relay, RelayEvent, check_event_id, relay_from_url
from .usage import UsageRecord, UsageRecorder, compute_cost
from .web_stream import _translate, safe_error

__all__ = [
    "JOB_KINDS",
    "ClientRegistry",
    "Job",
    "JobNotFound",
    "JobRequestError",
    "JobRunner",
    "JobService",
    "JobsConfig",
    "RetryJob",
    "RetryPolicy",
    "Signal",
    "ThreadExecutor",
    "batch_completed",
    "job_finished",
    "retry_delay",
    "sse_frame",
    "validate_params",
]

log = logging.getLogger("claude_web.jobs")

JOB_KINDS = ("create", "stream", "batch")
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PARAMS = frozenset({
    "model", "max_tokens", "messages", "system", "temperature", "top_k", "top_p", "stop_sequences", "metadata",
    "tools", "tool_choice", "thinking", "service_tier", "output_config", "container", "inference_geo",
    "cache_control",
})
_MAX_PARAMS_BYTES = 8 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------------------
# errors and signals


class JobNotFound(LookupError):
    """No such job for this owner (a missing job and somebody else's job look the same: 404)."""


class JobRequestError(ValueError):
    """A job the service refuses at enqueue time (400); ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"type": "invalid_request", "field": self.field, "message": self.message}}


class RetryJob(Exception):
    """Raised by :class:`JobRunner` when the attempt failed in a retryable way: run again in ``countdown`` s."""

    def __init__(self, countdown: float, cause: BaseException | None = None) -> None:
        super().__init__(f"retry in {countdown:.3f}s")
        self.countdown = countdown
        self.cause = cause


class Signal:
    """A tiny signal: ``@batch_completed.connect`` a receiver; receivers get keyword arguments only.

    Receivers run in the process that ran the job (a Celery worker, or the web process in in-process mode);
    an exception in one is logged and does not stop the others.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Callable[..., Any]] = []
        self._lock = threading.Lock()

    def connect(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        with self._lock:
            if receiver not in self._receivers:
                self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable[..., Any]) -> None:
        with self._lock:
            if receiver in self._receivers:
                self._receivers.remove(receiver)

    def send(self, **kwargs: Any) -> None:
        for receiver in list(self._receivers):
            try:
                receiver(**kwargs)
            except Exception:
                log.exception("receiver %r of signal %s failed", receiver, self.name)


job_finished = Signal("job_finished")
"""Sent once per job when it ends: ``job_id``, ``kind``, ``state`` (done/error/cancelled), ``owner``."""
batch_completed = Signal("batch_completed")
"""Sent when a batch job's Message Batch has ended: ``job_id``, ``batch`` (dict), ``results`` (list of dicts)."""


# ---------------------------------------------------------------------------------------------------------------
# validation


def validate_params(kind: str, params: Any) -> dict[str, Any]:
    """Check a job's parameters before anything is enqueued; raises :class:`JobRequestError`."""
    if kind not in JOB_KINDS:
        raise JobRequestError("kind", f"must be one of {', '.join(JOB_KINDS)}")
    if not isinstance(params, dict):
        raise JobRequestError("params", "must be a JSON object")
    try:
        size = len(json.dumps(params, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise JobRequestError("params", "must be JSON (strings, numbers, lists, objects)") from exc
    if size > _MAX_PARAMS_BYTES:
        raise JobRequestError("params", "is too large")
    if kind == "batch":
        return {"requests": _validate_batch(params)}
    return _validate_message(params, "params")


def _validate_message(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise JobRequestError(f"{where}.{unknown[0]}", "is not a parameter a job accepts")
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise JobRequestError(f"{where}.model", "is required (a model id)")
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise JobRequestError(f"{where}.max_tokens", "must be a positive integer")
    messages = params.get("messages")
    if not isinstance(messages, list) or not messages:
        raise JobRequestError(f"{where}.messages", "must be a non-empty list")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise JobRequestError(f"{where}.messages[{i}]", "must be an object")
        if message.get("role") not in ("user", "assistant"):
            raise JobRequestError(f"{where}.messages[{i}].role", "must be 'user' or 'assistant'")
        if not isinstance(message.get("content"), (str, list)):
            raise JobRequestError(f"{where}.messages[{i}].content", "must be a string or a list of blocks")
    return dict(params)


def _validate_batch(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    if set(params) - {"requests"}:
        raise JobRequestError("params", "a batch takes only 'requests'")
    requests = params.get("requests")
    if not isinstance(requests, list) or not requests:
        raise JobRequestError("params.requests", "must be a non-empty list")
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, item in enumerate(requests):
        where = f"params.requests[{i}]"
        if not isinstance(item, dict) or set(item) != {"custom_id", "params"}:
            raise JobRequestError(where, "must be {'custom_id': ..., 'params': {...}}")
        custom_id = item["custom_id"]
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
            raise JobRequestError(f"{where}.custom_id", "must be 1-64 letters, digits, '_' or '-'")
        if custom_id in seen:
            raise JobRequestError(f"{where}.custom_id", "is used twice")
        seen.add(custom_id)
        if not isinstance(item["params"], dict):
            raise JobRequestError(f"{where}.params", "must be an object")
        out.append({"custom_id": custom_id, "params": _validate_message(item["params"], f"{where}.params")})
    return out


# ---------------------------------------------------------------------------------------------------------------
# configuration and clients


def import_string(path: str) -> Any:
    """``"package.module:attr"`` or ``"package.module.attr"`` -> the object."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{path!r} is not a dotted path like 'myproject.claude:make_client'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _resolve(value: Any) -> Any:
    return import_string(value) if isinstance(value, str) else value


@dataclass
class JobsConfig:
    """Everything jobs need, for web processes and workers alike (the adapters build it from their settings).

    ``redis_url`` chooses the mode: set, jobs run on Celery workers with a Redis relay; unset, they run in
    threads of this process with an in-memory relay. ``client_factory`` is ``callable(alias) -> Anthropic`` or
    its dotted path; without it clients come from ``CLAUDE_WEB_CLIENTS`` (see :class:`ClientRegistry`).
    ``usage_recorder`` (callable or dotted path) receives every job's usage records in the worker; without it
    the records go to the factory client's own ``usage_recorder``.
    """

    redis_url: str | None = None
    celery_app: Any = None
    client_factory: Any = None
    usage_recorder: Any = None
    aliases: tuple[str, ...] | None = None
    key_prefix: str = "claude_web"
    stream_maxlen: int = 10_000
    ttl: int = 3600
    job_ttl: int = 86_400
    queue: str | None = None
    max_retries: int = 5
    retry_backoff: float = 1.0
    retry_backoff_max: float = 60.0
    max_attempts: int = 8
    client_max_retries: int = 0
    create_timeout: float = 3600.0
    batch_poll_interval: float = 30.0
    heartbeat: float = 15.0
    threads: int = 4

    _FIELDS = (
        ("REDIS_URL", "redis_url", str), ("CELERY_APP", "celery_app", str),
        ("CLIENT_FACTORY", "client_factory", str), ("USAGE_RECORDER", "usage_recorder", str),
        ("KEY_PREFIX", "key_prefix", str), ("STREAM_MAXLEN", "stream_maxlen", int), ("TTL", "ttl", int),
        ("JOB_TTL", "job_ttl", int), ("QUEUE", "queue", str), ("MAX_RETRIES", "max_retries", int),
        ("RETRY_BACKOFF", "retry_backoff", float), ("RETRY_BACKOFF_MAX", "retry_backoff_max", float),
        ("MAX_ATTEMPTS", "max_attempts", int), ("CLIENT_MAX_RETRIES", "client_max_retries", int),
        ("CREATE_TIMEOUT", "create_timeout", float), ("BATCH_POLL_INTERVAL", "batch_poll_interval", float),
        ("HEARTBEAT", "heartbeat", float), ("THREADS", "threads", int),
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> JobsConfig:
        """From ``{"REDIS_URL": ..., "CLIENT_FACTORY": ..., ...}`` (the Django ``CLAUDE_WEB["JOBS"]`` shape)."""
        known = {key for key, _, _ in cls._FIELDS} | {"ALIASES"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown jobs setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
        kwargs: dict[str, Any] = {}
        for key, attr, _ in cls._FIELDS:
            if key in data and data[key] is not None:
                kwargs[attr] = data[key]
        if data.get("ALIASES") is not None:
            kwargs["aliases"] = tuple(data["ALIASES"])
        return cls(**kwargs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, prefix: str = "CLAUDE_WEB_") -> JobsConfig:
        """From ``CLAUDE_WEB_REDIS_URL``, ``CLAUDE_WEB_CLIENT_FACTORY``, ``CLAUDE_WEB_USAGE_RECORDER``... ."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        for key, attr, kind in cls._FIELDS:
            value = env.get(prefix + key)
            if value:
                kwargs[attr] = kind(value)
        aliases = env.get(prefix + "ALIASES")
        if aliases:
            kwargs["aliases"] = tuple(a.strip() for a in aliases.split(",") if a.strip())
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"<JobsConfig mode={'celery' if self.redis_url else 'in-process'} prefix={self.key_prefix!r}>"

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.max_retries, backoff=self.retry_backoff,
                           backoff_max=self.retry_backoff_max, max_attempts=self.max_attempts)

    def make_relay(self) -> Relay:
        if self.redis_url:
            return relay_from_url(self.redis_url, prefix=self.key_prefix, maxlen=self.stream_maxlen, ttl=self.ttl,
                                  job_ttl=self.job_ttl)
        return MemoryRelay(maxlen=self.stream_maxlen, ttl=self.ttl, job_ttl=self.job_ttl)

    def make_clients(self) -> ClientRegistry:
        return ClientRegistry(_resolve(self.client_factory), aliases=self.aliases)

    def make_runner(self, relay: Relay | None = None) -> JobRunner:
        return JobRunner(relay or self.make_relay(), self.make_clients(), recorder=_resolve(self.usage_recorder),
                         policy=self.retry_policy(), client_max_retries=self.client_max_retries,
                         create_timeout=self.create_timeout, batch_poll_interval=self.batch_poll_interval)


def _env_clients(environ: Mapping[str, str]) -> dict[str, dict[str, Any]] | None:
    raw = environ.get("CLAUDE_WEB_CLIENTS")
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError("CLAUDE_WEB_CLIENTS must be a JSON object {alias: {base_url, api_key_env, ...}}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("CLAUDE_WEB_CLIENTS must be a JSON object {alias: {base_url, api_key_env, ...}}")
    return data


_CLIENT_OPTIONS = frozenset({"base_url", "api_key", "api_key_env", "auth_token_env", "timeout", "max_retries",
                             "default_headers"})


class ClientRegistry:
    """One client per process and alias, built on first use (and again after a ``fork``).

    Built by ``factory(alias)`` when given; otherwise from the ``CLAUDE_WEB_CLIENTS`` environment variable,
    ``{"default": {"base_url": "...", "api_key_env": "MY_KEY_VAR"}, "fast": {...}}`` (``api_key`` may be
    given directly; it is read in the process that builds the client and never travels with a job); with
    neither, the one alias ``default`` is ``Anthropic()`` from ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``.
    """

    def __init__(self, factory: Callable[[str], Anthropic] | None = None, *,
                 aliases: tuple[str, ...] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._factory = factory
        self._environ = os.environ if environ is None else environ
        self._aliases = aliases
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._clients: dict[str, Anthropic] = {}
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncAnthropic]] = (
            weakref.WeakKeyDictionary())

    def __repr__(self) -> str:
        return f"<ClientRegistry aliases={sorted(self._clients)}>"

    def known_aliases(self) -> tuple[str, ...] | None:
        """The aliases this registry can build, or ``None`` when only the factory knows."""
        if self._aliases is not None:
            return self._aliases
        if self._factory is not None:
            return None
        env = _env_clients(self._environ)
        return tuple(env) if env is not None else ("default",)

    def validate(self, alias: Any) -> str:
        """The alias if it can be built; :class:`JobRequestError` (at enqueue time) if not."""
        if not isinstance(alias, str) or not alias:
            raise JobRequestError("alias", "must be a client alias name")
        known = self.known_aliases()
        if known is not None:
            if alias not in known:
                raise JobRequestError("alias", f"unknown client alias {alias!r}")
            return alias
        try:
            self.get(alias)
        except Exception as exc:
            raise JobRequestError("alias", f"unknown client alias {alias!r}") from exc
        return alias

    def get(self, alias: str = "default") -> Anthropic:
        """The process's client for ``alias``."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connection pool is not ours
                self._pid = os.getpid()
                self._clients = {}
                self._async = weakref.WeakKeyDictionary()
            client = self._clients.get(alias)
            if client is None:
                client = self._build(alias)
                self._clients[alias] = client
            return client

    def _build(self, alias: str) -> Anthropic:
        if self._factory is not None:
            client = self._factory(alias)
            if client is None:
                raise KeyError(f"client factory returned no client for alias {alias!r}")
            return client
        env = _env_clients(self._environ)
        if env is None:
            if alias != "default":
                raise KeyError(f"unknown client alias {alias!r} (only 'default' without CLAUDE_WEB_CLIENTS)")
            return Anthropic()
        if alias not in env:
            raise KeyError(f"unknown client alias {alias!r}; CLAUDE_WEB_CLIENTS has {', '.join(sorted(env))}")
        options = env[alias]
        unknown = sorted(set(options) - _CLIENT_OPTIONS)
        if unknown:
            raise ValueError(f"CLAUDE_WEB_CLIENTS[{alias!r}]: unknown option {unknown[0]!r}")
        kwargs: dict[str, Any] = {k: options[k] for k in ("base_url", "timeout", "max_retries", "default_headers")
                                  if k in options}
        if "api_key" in options:
            kwargs["api_key"] = options["api_key"]
        elif "api_key_env" in options:
            kwargs["api_key"] = self._environ.get(options["api_key_env"])
        if "auth_token_env" in options:
            kwargs["auth_token"] = self._environ.get(options["auth_token_env"])
        return Anthropic(**kwargs)

    def async_client(self, alias: str = "default") -> AsyncAnthropic:
        """An ``AsyncAnthropic`` for ``alias`` bound to the running event loop.

        An async client's connections belong to the loop that opened them; reusing one under a second
        ``asyncio.run`` fails with "Event loop is closed". This gives each loop its own client (built from the
        same options as :meth:`get`) and forgets it with the loop. Close them with :meth:`aclose_loop_clients`.
        """
        loop = asyncio.get_running_loop()
        sync = self.get(alias)
        with self._lock:
            per_loop = self._async.setdefault(loop, {})
            client = per_loop.get(alias)
            if client is None:
                client = AsyncAnthropic(
                    api_key=sync.api_key, auth_token=sync.auth_token, base_url=sync.base_url, timeout=sync.timeout,
                    max_retries=sync.max_retries, default_headers=sync._custom_headers,
                    usage_recorder=sync._usage_recorder, usage_context=sync._usage_context, pricing=sync._pricing,
                )
                per_loop[alias] = client
            return client

    async def aclose_loop_clients(self) -> None:
        """Close the async clients of the running loop (call it before the loop ends)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            clients = list(self._async.pop(loop, {}).values())
        for client in clients:
            await client.close()


# ---------------------------------------------------------------------------------------------------------------
# retries


_RETRYABLE = (RateLimitError, OverloadedError, InternalServerError, APIConnectionError)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else float(email.utils.mktime_tz(parsed) - time.time())


def is_retryable(exc: BaseException) -> bool:
    """Rate limits, overload, 5xx, 408/409 and connection errors; ``x-should-retry`` overrides."""
    if isinstance(exc, APIStatusError):
        decision = exc.response.headers.get("x-should-retry")
        if decision in ("true", "false"):
            return bool(decision == "true")
        return isinstance(exc, _RETRYABLE) or exc.status_code in (408, 409) or exc.status_code >= 500
    return isinstance(exc, APIConnectionError)


@dataclass(frozen=True)
class RetryPolicy:
    """Job-level retries: ``retry-after`` when the API sends one (up to ``max_retry_after``), else exponential
    backoff from ``backoff`` seconds capped at ``backoff_max``, with jitter. ``max_attempts`` bounds executions
    including redeliveries after a lost worker, so a job that kills its worker cannot loop for ever."""

    max_retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 600.0
    max_attempts: int = 8

    def delay(self, exc: BaseException, retries: int) -> float | None:
        """Seconds before the next try, or ``None`` when the error is final or the budget is spent."""
        if retries >= self.max_retries or not is_retryable(exc):
            return None
        return retry_delay(exc, retries, self)


def retry_delay(exc: BaseException, retries: int, policy: RetryPolicy | None = None) -> float:
    """The countdown for retry number ``retries + 1`` of ``exc`` (``retry-after`` first)."""
    policy = policy or RetryPolicy()
    after = _retry_after(exc)
    if after is not None and 0 <= after <= policy.max_retry_after:
        return after
    backoff = min(policy.backoff * (2.0 ** min(retries, 30)), policy.backoff_max)
    return backoff * (1 - 0.25 * random.random())


# ---------------------------------------------------------------------------------------------------------------
# the runner (worker side)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


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
        self.calls += 1
        self.runner.emit_usage(self.job_id, f"{self.attempt}:{self.calls}", record, self.deliver)
        self.records.append(record)


class JobRunner:
    """Runs jobs in a worker (a Celery task or a thread); the same code in both modes."""

    def __init__(self, relay: Relay, clients: ClientRegistry, *, recorder: UsageRecorder | None = None,
                 policy: RetryPolicy | None = None, client_max_retries: int = 0, create_timeout: float = 3600.0,
                 batch_poll_interval: float = 30.0) -> None:
        self.relay = relay
        self.clients = clients
        self.recorder = recorder
        self.policy = policy or RetryPolicy()
        self.client_max_retries = client_max_retries
        self.create_timeout = create_timeout
        self.batch_poll_interval = batch_poll_interval
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    # -- usage --------------------------------------------------------------------------------------------
    def emit_usage(self, job_id: str, key: str, record: UsageRecord, deliver: UsageRecorder | None, *,
                   summarize: bool = True, quiet: bool = False) -> bool:
        """Hand ``record`` to the recorder unless ``job_id``/``key`` was recorded before; ``True`` if delivered."""
        if not self.relay.claim(f"usage:{job_id}:{key}"):
            if not quiet:
                log.warning("usage record %s of job %s was already recorded; skipping the duplicate", key, job_id)
            return False
        target = self.recorder or deliver
        if target is not None:
            try:
                target(record)
            except Exception:
                log.exception("usage recorder failed for job %s", job_id)
        if summarize:
            self.relay.update_job(job_id, {f"usage:{key}": _dumps(_usage_summary(record))})
        return True

    def _settle_lost_calls(self, job_id: str, job: Mapping[str, str], attempt: int, context: dict[str, Any],
                           model: str | None, operation: str) -> None:
        """Record ``aborted`` for upstream calls whose worker died before it could record them."""
        start = int(job.get("settled") or 0) + 1
        for previous in range(start, attempt):
            started = not self.relay.claim(f"started:{job_id}:{previous}:1")
            if started:
                record = UsageRecord(operation=operation, model=model, status="aborted", error_type="worker_lost",
                                     context={**context, "attempt": previous})
                try:
                    deliver = self.clients.get(str(context.get("alias") or "default"))._usage_recorder
                except Exception:
                    deliver = None
                if self.emit_usage(job_id, f"{previous}:1", record, deliver, quiet=True):
                    log.warning("job %s: attempt %d lost its worker mid-call; recorded as aborted", job_id, previous)
        if attempt > start:
            self.relay.update_job(job_id, {"settled": str(attempt - 1)})

    # -- one attempt --------------------------------------------------------------------------------------
    def run(self, job_id: str, kind: str, alias: str, params: Mapping[str, Any], owner: str = "", *,
            retries: int = 0) -> str:
        """Run one attempt of a ``create`` or ``stream`` job (or the submit step of a ``batch``).

        Returns the job's state afterwards; raises :class:`RetryJob` when it should run again later.
        """
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
        context = {"job_id": job_id, "job_kind": kind, "alias": alias, "user": owner or None, "attempt": attempt}
        operation = {"create": "messages.create", "stream": "messages.stream"}.get(kind, "batches.create")
        self._settle_lost_calls(job_id, job, attempt, context, params.get("model"), operation)
        if attempt > self.policy.max_attempts:
            return self._fail(job_id, kind, owner, {"type": "api_error", "message": "The job failed repeatedly."})
        moved = self.relay.transition(job_id, ("queued", "running"), "running",
                                      {"attempt": str(attempt), "worker": self.worker, "started_at": _now()})
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
            return self._fail(job_id, kind, owner, {"type": "invalid_request_error",
                                                     "message": "The job's parameters or client alias are invalid."})
        try:
            guard.deliver = base._usage_recorder
            client = base.with_options(usage_recorder=guard, usage_context=context,
                                       max_retries=self.client_max_retries)
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
                self.relay.transition(job_id, ("running",), "queued",
                                      {"retry_in": f"{delay:.3f}", "last_error": safe_error(exc)["type"]})
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

    def _record_failure(self, guard: _UsageGuard, operation: str, params: Mapping[str, Any],
                        context: dict[str, Any], exc: BaseException) -> None:
        """A failed attempt that produced no usage record (no upstream call got that far) still records one."""
        guard(UsageRecord(operation=operation, model=params.get("model"), status="error",
                          error_type=getattr(exc, "type", None) or type(exc).__name__, context=context))

    def _finish(self, job_id: str, kind: str, owner: str, event: str, data: Mapping[str, Any],
                fields: Mapping[str, str] | None = None) -> str:
        if self.relay.finish(job_id, event, data, {"finished_at": _now(), **(fields or {})}) is None:
            return (self.relay.get_job(job_id) or {}).get("state", "missing")
        job_finished.send(job_id=job_id, kind=kind, state=event, owner=owner)
        return event

    def _fail(self, job_id: str, kind: str, owner: str, error: Mapping[str, Any]) -> str:
        return self._finish(job_id, kind, owner, "error", error, {"error": _dumps(error)})

    def _cancelled(self, job_id: str, kind: str, owner: str) -> str:
        return self._finish(job_id, kind, owner, "cancelled", {"reason": "cancelled"})

    def _create(self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str,
                guard: _UsageGuard) -> str:
        guard.mark_started()
        message = client.messages.create(**params, timeout=self.create_timeout)
        result = message.to_dict(mode="json")
        done = {"stop_reason": message.stop_reason, "usage": message.usage.to_dict(mode="json"), "message": result}
        return self._finish(job_id, "create", owner, "done", done, {"result": _dumps(result)})

    def _stream(self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str,
                guard: _UsageGuard) -> str:
        done: dict[str, Any] | None = None
        guard.mark_started()
        with client.messages.stream(**params) as stream:
            first = True
            checked = time.monotonic()
            for raw in stream:
                out = _translate(raw)
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
            return self._fail(job_id, "stream", owner, {"type": "stream_error",
                                                          "message": "The answer stream broke off. Please try again."})
        return self._finish(job_id, "stream", owner, "done", done, {"result": _dumps(message.to_dict(mode="json"))})

    # -- batches ------------------------------------------------------------------------------------------
    def _batch_submit(self, job_id: str, client: Anthropic, params: Mapping[str, Any], owner: str,
                      guard: _UsageGuard) -> str:
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
        base = {"job_id": job_id, "job_kind": "batch", "alias": job.get("alias"), "user": job.get("owner") or None}
        deliver = self.clients.get(job.get("alias") or "default")._usage_recorder
        for entry in results:
            result = entry.get("result") or {}
            if result.get("type") != "succeeded":
                continue
            message = result.get("message") or {}
            usage = message.get("usage") or {}
            record = UsageRecord(operation="batches.result", model=message.get("model"),
                                 context={**base, "custom_id": entry.get("custom_id")})
            for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
                value = usage.get(name)
                if isinstance(value, int):
                    setattr(record, name, value)
            cost = compute_cost(record.model, input_tokens=record.input_tokens, output_tokens=record.output_tokens,
                                cache_creation_input_tokens=record.cache_creation_input_tokens,
                                cache_read_input_tokens=record.cache_read_input_tokens)
            record.cost = None if cost is None else cost / 2  # batches are billed at half price
            self.emit_usage(job_id, f"result:{entry.get('custom_id')}", record, deliver, summarize=False)


def _usage_summary(record: UsageRecord) -> dict[str, Any]:
    return {"operation": record.operation, "status": record.status, "model": record.model,
            "input_tokens": record.input_tokens, "output_tokens": record.output_tokens,
            "cost": None if record.cost is None else str(record.cost), "error_type": record.error_type}


def _batch_summary(batch: Any) -> dict[str, Any]:
    return {"batch_id": batch.id, "processing_status": batch.processing_status,
            "request_counts": batch.request_counts.to_dict(mode="json")}


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


def sse_frame(event: RelayEvent) -> str:
    """One SSE frame: ``id:``/``event:``/``data:`` lines, or a keep-alive comment for a heartbeat."""
    if not event.event:
        return ": keep-alive\n\n"
    return f"id: {event.id}\nevent: {event.event}\ndata: {json.dumps(event.data, separators=(',', ':'))}\n\n"


class JobService:
    """Start, watch, inspect and cancel jobs on behalf of an owner (a user id string)."""

    def __init__(self, relay: Relay, executor: Executor, *, clients: ClientRegistry | None = None,
                 heartbeat: float = 15.0) -> None:
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
    def from_config(cls, config: JobsConfig) -> JobService:
        """Celery + Redis when ``config.redis_url`` is set, else threads + memory; logs the mode chosen."""
        relay = config.make_relay()
        executor: Executor
        if config.redis_url:
            from .celery import CeleryExecutor

            executor = CeleryExecutor(config.celery_app, queue=config.queue)
            log.info("claude-web jobs: Celery workers with the Redis relay %r", relay)
        else:
            executor = ThreadExecutor(config.make_runner(relay), threads=config.threads)
            log.info("claude-web jobs: in-process mode (no Redis URL configured): %d threads and an in-memory "
                     "relay; jobs do not survive a restart", config.threads)
        return cls(relay, executor, clients=config.make_clients(), heartbeat=config.heartbeat)

    def start(self, kind: str, params: Any, *, owner: str, alias: Any = "default") -> Job:
        """Validate and enqueue a job; :class:`JobRequestError` for bad input (nothing is enqueued then)."""
        if not owner:
            raise JobRequestError("owner", "jobs need an owner")
        checked = validate_params(kind, params)
        alias = self.clients.validate(alias)
        job_id = secrets.token_urlsafe(18)
        fields = {"owner": owner, "kind": kind, "alias": alias, "created_at": _now()}
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

    def events(self, job_id: str, owner: str, last_event_id: str | None = None, *,
               heartbeats: bool = False, timeout: float | None = None) -> Iterator[RelayEvent]:
        """The job's events after ``last_event_id`` until the final one.

        Ownership and the id are checked now (:class:`JobNotFound`, :class:`~claude_web.relay.InvalidEventId`),
        so a view can answer 404/400 before it starts a streaming response.
        """
        self.get(job_id, owner)
        after = check_event_id(last_event_id)
        return self.relay.events(job_id, after, heartbeat=self.heartbeat, timeout=timeout,
                                 yield_heartbeats=heartbeats)

    def sse(self, job_id: str, owner: str, last_event_id: str | None = None, *,
            timeout: float | None = None) -> Iterator[str]:
        """An SSE body (``str`` frames, heartbeat comments included) for a streaming response."""
        events = self.events(job_id, owner, last_event_id, heartbeats=True, timeout=timeout)

        def frames() -> Iterator[str]:
            yield "retry: 2000\n\n"
            for event in events:
                yield sse_frame(event)

        return frames()

    def cancel(self, job_id: str, owner: str) -> dict[str, Any]:
        """Cancel: a queued job ends now; a running one stops at its next event (the worker publishes it)."""
        job = self.get(job_id, owner)
        if job.state in TERMINAL_STATES:
            return job.status()
        self.relay.request_cancel(job_id)
        self.relay.update_job(job_id, {"cancel_requested": _now()})
        self.relay.finish(job_id, "cancelled", {"reason": "cancelled"}, {"finished_at": _now()},
                          only_from=("queued",))
        return self.get(job_id, owner).status()

    def close(self) -> None:
        shutdown = getattr(self.executor, "shutdown", None)
        if shutdown is not None:
            shutdown(wait=False)
        self.relay.close()
