"""Jobs configuration (``JobsConfig``) and the job-level retry policy.

Clients come from the web layer's one registry (:class:`claude_web.web.clients.ClientRegistry`); the settings
come from the one schema (:mod:`claude_web.web.settings`), whichever source they were read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..relay import MemoryRelay, Relay, relay_from_url
from ..retries import retry_delay_for, should_retry_error
from ..web.clients import ClientRegistry, import_string
from ..web.settings import JobsSettings, Where, parse_jobs_section, settings_from_env

__all__ = ["ClientRegistry", "JobsConfig", "RetryPolicy", "import_string", "is_retryable", "retry_delay"]

_FIELDS = (
    ("REDIS_URL", "redis_url"), ("CELERY_APP", "celery_app"), ("CLIENT_FACTORY", "client_factory"),
    ("USAGE_RECORDER", "usage_recorder"), ("KEY_PREFIX", "key_prefix"), ("STREAM_MAXLEN", "stream_maxlen"),
    ("TTL", "ttl"), ("JOB_TTL", "job_ttl"), ("QUEUE", "queue"), ("MAX_RETRIES", "max_retries"),
    ("RETRY_BACKOFF", "retry_backoff"), ("RETRY_BACKOFF_MAX", "retry_backoff_max"), ("MAX_ATTEMPTS", "max_attempts"),
    ("CLIENT_MAX_RETRIES", "client_max_retries"), ("CREATE_TIMEOUT", "create_timeout"),
    ("BATCH_POLL_INTERVAL", "batch_poll_interval"), ("HEARTBEAT", "heartbeat"), ("THREADS", "threads"),
    ("ALIASES", "aliases"), ("OWNER", "owner"),
)  # fmt: skip


@dataclass
class JobsConfig:
    """Everything jobs need, for web processes and workers alike: the ``JOBS`` section of the settings.

    ``redis_url`` chooses the mode: set, jobs run on Celery workers with a Redis relay; unset, they run in
    threads of this process with an in-memory relay. ``client_factory`` (``callable(alias) -> Anthropic`` or its
    dotted path) replaces the app's clients; ``usage_recorder`` (callable or dotted path) receives every job's
    usage records instead of the app's usage pipeline. ``owner`` (callable or dotted path) is read by the
    adapters: who owns a job started by a request.
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
    owner: Any = None

    @classmethod
    def from_settings(cls, jobs: JobsSettings) -> JobsConfig:
        """From the parsed ``JOBS`` section."""
        kwargs = {attr: jobs.values[key] for key, attr in _FIELDS if jobs.values.get(key) is not None}
        return cls(**kwargs)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str = "JOBS") -> JobsConfig:
        """From ``{"REDIS_URL": ..., "CLIENT_FACTORY": ..., ...}`` (the ``JOBS`` section's shape)."""
        return cls.from_settings(parse_jobs_section(dict(data), Where(where)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobsConfig:
        """From ``CLAUDE_WEB_REDIS_URL`` / ``CLAUDE_WEB_JOBS_REDIS_URL``, ``CLAUDE_WEB_CLIENT_FACTORY``... ."""
        return cls.from_settings(settings_from_env(environ).jobs)

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
        """The clients of a worker without a web app: ``client_factory``, else ``CLAUDE_WEB_CLIENTS`` from the
        environment (see :func:`~claude_web.web.settings.settings_from_env`)."""
        factory = import_string(self.client_factory) if isinstance(self.client_factory, str) else self.client_factory
        return ClientRegistry(factory, aliases=self.aliases)

    def recorder(self) -> Any:
        """The configured ``usage_recorder`` as a callable (or ``None``)."""
        value = self.usage_recorder
        return import_string(value) if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------------------------------
# retries: the client's rules (:mod:`claude_web.retries`) with the longer backoff of jobs


def is_retryable(exc: BaseException) -> bool:
    """Rate limits, overload, 5xx, 408/409 and connection errors; ``x-should-retry`` overrides (the client's rule)."""
    return should_retry_error(exc)


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
    return retry_delay_for(
        exc,
        retries,
        initial_delay=policy.backoff,
        max_delay=policy.backoff_max,
        max_retry_after=policy.max_retry_after,
        allow_immediate=True,
    )
