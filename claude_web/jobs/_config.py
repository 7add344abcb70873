"""Jobs configuration (``JobsConfig``), the per-process client registry, and the retry policy."""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import json
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._client import Anthropic, AsyncAnthropic
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    OverloadedError,
    RateLimitError,
)
from ..relay import MemoryRelay, Relay, relay_from_url
from ._model import JobRequestError

if TYPE_CHECKING:
    from ._runner import JobRunner


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
        ("REDIS_URL", "redis_url", str),
        ("CELERY_APP", "celery_app", str),
        ("CLIENT_FACTORY", "client_factory", str),
        ("USAGE_RECORDER", "usage_recorder", str),
        ("KEY_PREFIX", "key_prefix", str),
        ("STREAM_MAXLEN", "stream_maxlen", int),
        ("TTL", "ttl", int),
        ("JOB_TTL", "job_ttl", int),
        ("QUEUE", "queue", str),
        ("MAX_RETRIES", "max_retries", int),
        ("RETRY_BACKOFF", "retry_backoff", float),
        ("RETRY_BACKOFF_MAX", "retry_backoff_max", float),
        ("MAX_ATTEMPTS", "max_attempts", int),
        ("CLIENT_MAX_RETRIES", "client_max_retries", int),
        ("CREATE_TIMEOUT", "create_timeout", float),
        ("BATCH_POLL_INTERVAL", "batch_poll_interval", float),
        ("HEARTBEAT", "heartbeat", float),
        ("THREADS", "threads", int),
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
        return RetryPolicy(
            max_retries=self.max_retries,
            backoff=self.retry_backoff,
            backoff_max=self.retry_backoff_max,
            max_attempts=self.max_attempts,
        )

    def make_relay(self) -> Relay:
        if self.redis_url:
            return relay_from_url(
                self.redis_url, prefix=self.key_prefix, maxlen=self.stream_maxlen, ttl=self.ttl, job_ttl=self.job_ttl
            )
        return MemoryRelay(maxlen=self.stream_maxlen, ttl=self.ttl, job_ttl=self.job_ttl)

    def make_clients(self) -> ClientRegistry:
        return ClientRegistry(_resolve(self.client_factory), aliases=self.aliases)

    def make_runner(self, relay: Relay | None = None) -> JobRunner:
        from ._runner import JobRunner

        return JobRunner(
            relay or self.make_relay(),
            self.make_clients(),
            recorder=_resolve(self.usage_recorder),
            policy=self.retry_policy(),
            client_max_retries=self.client_max_retries,
            create_timeout=self.create_timeout,
            batch_poll_interval=self.batch_poll_interval,
        )


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


_CLIENT_OPTIONS = frozenset(
    {"base_url", "api_key", "api_key_env", "auth_token_env", "timeout", "max_retries", "default_headers"}
)


class ClientRegistry:
    """One client per process and alias, built on first use (and again after a ``fork``).

    Built by ``factory(alias)`` when given; otherwise from the ``CLAUDE_WEB_CLIENTS`` environment variable,
    ``{"default": {"base_url": "...", "api_key_env": "MY_KEY_VAR"}, "fast": {...}}`` (``api_key`` may be
    given directly; it is read in the process that builds the client and never travels with a job); with
    neither, the one alias ``default`` is ``Anthropic()`` from ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``.
    """

    def __init__(
        self,
        factory: Callable[[str], Anthropic] | None = None,
        *,
        aliases: tuple[str, ...] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._factory = factory
        self._environ = os.environ if environ is None else environ
        self._aliases = aliases
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._clients: dict[str, Anthropic] = {}
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncAnthropic]] = (
            weakref.WeakKeyDictionary()
        )

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
        kwargs: dict[str, Any] = {
            k: options[k] for k in ("base_url", "timeout", "max_retries", "default_headers") if k in options
        }
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
                    api_key=sync.api_key,
                    auth_token=sync.auth_token,
                    base_url=sync.base_url,
                    timeout=sync.timeout,
                    max_retries=sync.max_retries,
                    default_headers=sync._custom_headers,
                    usage_recorder=sync._usage_recorder,
                    usage_context=sync._usage_context,
                    pricing=sync._pricing,
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
