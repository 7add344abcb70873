"""One app's claude-web runtime: its settings, clients, usage pipeline, quota and jobs, built once.

An adapter makes one :class:`WebRuntime` per Django process (rebuilt when ``CLAUDE_WEB`` changes) or per Flask
app, and plugs in what only it knows: where usage records are stored (``sink``), which signal announces them
(``notify``), and Django's cache as a quota store. Everything else, including the usage-context keys every record
carries, is decided here.

>>> runtime = WebRuntime(parse_settings({"CLIENTS": {"default": {"BACKEND": "fake",
...                                                             "OPTIONS": {"base_url": "http://127.0.0.1:9"}}}}))
>>> runtime.usage_context(WebRequest("POST", "/chat", principal=Principal(user_id=7)), "default")["owner"]
'user:7'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._client import Anthropic, AsyncAnthropic
from ..quotas import CounterStore, MemoryCounterStore, Quota, QuotaExceeded, RedisCounterStore
from ..usage import UsageRecord
from .clients import ClientRegistry, import_string
from .errors import ServiceUnavailable
from .http import Principal, WebRequest
from .settings import WebSettings, parse_settings
from .streams import StreamSlots

if TYPE_CHECKING:
    from ..jobs import JobService

__all__ = ["CONTEXT_KEYS", "UsageSink", "WebRuntime", "parse_settings"]

log = logging.getLogger("claude_web.web")

CONTEXT_KEYS = ("alias", "backend", "request_id", "path", "user_id", "owner", "quota_key")
"""The usage-context keys every record made for a web request carries (jobs add ``job_id``, ``job_kind``,
``attempt``); the same names under Django, Flask and workers."""


class UsageSink(Protocol):
    """Where an adapter stores usage records (Django: ``TokenUsage`` rows; Flask: a table or JSON lines)."""

    def save(self, record: UsageRecord) -> None: ...


class WebRuntime:
    """Settings, clients, usage pipeline, quota and jobs of one app."""

    def __init__(
        self,
        settings: WebSettings,
        *,
        sink: UsageSink | None = None,
        notify: Callable[[UsageRecord], None] | None = None,
        quota_store: Callable[[], CounterStore] | None = None,
        on_quota_exceeded: Callable[[str, QuotaExceeded], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.notify = notify
        self.on_quota_exceeded = on_quota_exceeded
        self._quota_store = quota_store
        self.clients = ClientRegistry(
            settings.clients,
            recorder=self.record,
            pricing=settings.pricing.table,
            environ=environ,
            stream_capacity=settings.streaming.max_streams,
        )
        self.chat_policy = settings.chat.policy()
        self.streams = StreamSlots(settings.streaming.max_streams)
        self._lock = threading.Lock()
        self._quota: Quota | None = None
        self._quota_built = False
        self._jobs: JobService | None = None

    def __repr__(self) -> str:
        return f"<WebRuntime clients={sorted(self.settings.clients)}>"

    # -- usage ----------------------------------------------------------------------------------------------
    def record(self, record: UsageRecord) -> None:
        """The ``usage_recorder`` of every client: complete the context, store, count, announce. Never raises."""
        context = record.context
        backend = context.get("backend")
        if isinstance(backend, str) and backend:
            record.backend = backend
        owner = context.get("owner")
        if isinstance(owner, str) and owner:
            if context.get("user_id") is None and owner.startswith("user:"):
                context["user_id"] = owner[5:]
            context.setdefault("quota_key", owner)
        if self.sink is not None:
            try:
                self.sink.save(record)
            except Exception:
                log.exception("could not store usage record %s (the call itself is unaffected)", record.id)
        key = context.get("quota_key")
        quota = self.quota
        if quota is not None and isinstance(key, str) and key:
            try:
                quota.consume(key, record)
            except Exception:
                log.exception("could not count usage record %s against the quota of %s", record.id, key)
        if self.notify is not None:
            try:
                self.notify(record)
            except Exception:
                log.exception("announcing usage record %s failed", record.id)

    def usage_context(self, request: WebRequest, alias: str) -> dict[str, Any]:
        """The usage context of a call made for ``request`` through client ``alias``."""
        cfg = self.settings.clients.get(alias)
        principal = request.principal
        return {
            "alias": alias,
            "backend": cfg.backend if cfg is not None else None,
            "request_id": request.request_id,
            "path": request.path,
            "user_id": principal.user_id,
            "owner": principal.owner,
            "quota_key": request.quota_key,
        }

    # -- clients --------------------------------------------------------------------------------------------
    def client_for(self, request: WebRequest, alias: str | None = None) -> Anthropic:
        """A cheap per-request view of the process client (same pool; records carry the request's context)."""
        name = alias or self.settings.chat.client
        return self.clients.get(name).with_options(usage_context=self.usage_context(request, name))

    def async_client_for(self, request: WebRequest, alias: str | None = None) -> AsyncAnthropic:
        """The async twin of :meth:`client_for`, for the running event loop."""
        name = alias or self.settings.chat.client
        return self.clients.get_async(name).with_options(usage_context=self.usage_context(request, name))

    # -- quota ----------------------------------------------------------------------------------------------
    @property
    def quota(self) -> Quota | None:
        """The configured quota, or ``None`` without limits (built on first use)."""
        if not self._quota_built:
            with self._lock:
                if not self._quota_built:
                    self._quota = self._build_quota()
                    self._quota_built = True
        return self._quota

    def _build_quota(self) -> Quota | None:
        cfg = self.settings.quotas
        if not cfg.limits.enabled:
            return None
        store: CounterStore
        if cfg.store == "memory":
            store = MemoryCounterStore()
        elif cfg.store == "redis":
            import redis  # the [celery] extra; imported only when quotas count in Redis

            store = RedisCounterStore(redis.Redis.from_url(str(cfg.redis_url), socket_timeout=2.0))
        elif self._quota_store is not None:
            store = self._quota_store()
        else:
            store = MemoryCounterStore()
            log.warning("quotas: no shared counter store here; counting in this process's memory")
        return Quota(cfg.limits, store, prefix=cfg.key_prefix)

    def check_quota(self, key: str) -> None:
        """Raise :class:`~claude_web.quotas.QuotaExceeded` when ``key`` is over a limit (and count the request).

        When the counters cannot be read, ``QUOTAS["FAIL_OPEN"]`` (default True) lets the request through (logged);
        otherwise it is a 503 :class:`~claude_web.web.errors.ServiceUnavailable` ``quota_unavailable``.
        """
        quota = self.quota
        if quota is None:
            return
        try:
            quota.check(key)
        except QuotaExceeded as exc:
            if self.on_quota_exceeded is not None:
                try:
                    self.on_quota_exceeded(key, exc)
                except Exception:
                    log.exception("a quota-exceeded receiver failed")
            raise
        except Exception as exc:
            if not self.settings.quotas.fail_open:
                log.error("quota store unavailable: %s", exc.__class__.__name__, exc_info=True)
                raise ServiceUnavailable("quota_unavailable", "Please try again in a moment.") from exc
            log.exception("quota check failed for %s; letting the request through (QUOTAS['FAIL_OPEN'])", key)

    # -- jobs -----------------------------------------------------------------------------------------------
    @property
    def jobs(self) -> JobService:
        """The app's job service (Celery + Redis when ``JOBS["REDIS_URL"]`` is set, else in-process threads)."""
        if self._jobs is None:
            with self._lock:
                if self._jobs is None:
                    self._jobs = self._build_jobs()
        return self._jobs

    def jobs_config(self) -> Any:
        from ..jobs import JobsConfig

        return JobsConfig.from_settings(self.settings.jobs)

    def job_clients(self, config: Any) -> ClientRegistry:
        """The registry jobs use: the app's own, unless ``JOBS["CLIENT_FACTORY"]`` builds them."""
        if config.client_factory is None:
            return self.clients
        factory = (
            import_string(config.client_factory) if isinstance(config.client_factory, str) else config.client_factory
        )
        return ClientRegistry(self.settings.clients, factory=factory, recorder=self.record)

    def job_recorder(self, config: Any) -> Callable[[UsageRecord], None]:
        """Where jobs' usage records go: ``JOBS["USAGE_RECORDER"]`` when set, else this app's pipeline."""
        if config.usage_recorder is None:
            return self.record
        recorder: Callable[[UsageRecord], None] = (
            import_string(config.usage_recorder) if isinstance(config.usage_recorder, str) else config.usage_recorder
        )
        return recorder

    def _build_jobs(self) -> JobService:
        from ..jobs import JobService

        config = self.jobs_config()
        return JobService.from_config(config, clients=self.job_clients(config), recorder=self.job_recorder(config))

    def set_jobs(self, service: JobService | None) -> None:
        """Replace the job service (tests); ``None`` rebuilds it from settings on next use."""
        with self._lock:
            old, self._jobs = self._jobs, service
        if old is not None and old is not service:
            old.close()

    def close(self) -> None:
        """Close clients and jobs (settings changed, or the app shuts down)."""
        self.set_jobs(None)
        self.clients.close()


def principal_from(user_id: Any = None, session_key: str | None = None) -> Principal:
    """A :class:`Principal`; ``user_id`` ``None`` for an anonymous visitor."""
    return Principal(user_id=user_id, session_key=session_key)
