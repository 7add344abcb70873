"""One app's claude-web runtime: its settings, clients, usage pipeline, budgets and jobs, built once.

An adapter makes one :class:`WebRuntime` per Django process (rebuilt when ``CLAUDE_WEB`` changes) or per Flask
app, and plugs in what only it knows: where usage records are stored (``sink``) and summed (``ledger``), which
signals announce them (``notify``, ``on_budget_alert``), and its own budget stores (``budget_store``: Django's
database or cache, Flask's SQLAlchemy). Everything else, including the usage-context keys every record carries
and the budgets every call is admitted by (:meth:`WebRuntime.admit`), is decided here.

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

from .. import otel
from .._client import Anthropic, AsyncAnthropic
from ..quotas import QuotaExceeded
from ..usage import UsageRecord
from .clients import ClientRegistry, import_string
from .errors import ServiceUnavailable, WebError, is_store_down, jobs_unavailable
from .http import Principal, WebRequest
from .settings import QuotaSettings, WebSettings, parse_settings
from .streams import StreamSlots

if TYPE_CHECKING:
    from ..jobs import JobService
    from .budgets import BudgetAlert, Budgets, BudgetStore, Ledger, Watch
    from .conversations import ConversationService, ConversationStore, TurnRunner
    from .tools import ToolRegistry

__all__ = ["CONTEXT_KEYS", "UsageSink", "WebRuntime", "parse_settings"]

log = logging.getLogger("claude_web.web")

CONTEXT_KEYS = ("alias", "backend", "request_id", "path", "user_id", "owner", "quota_key")
"""The usage-context keys every record made for a web request carries (jobs add ``job_id``, ``job_kind``,
``attempt``; conversation turns ``conversation_id`` and ``message_id``; an admitted call adds ``reservation`` and
``reserved``, a call a budget stopped ``stop_reason``); the same names under Django, Flask and workers."""


class UsageSink(Protocol):
    """Where an adapter stores usage records (Django: ``TokenUsage`` rows; Flask: a table or JSON lines)."""

    def save(self, record: UsageRecord) -> None: ...


class WebRuntime:
    """Settings, clients, usage pipeline, budgets and jobs of one app."""

    def __init__(
        self,
        settings: WebSettings,
        *,
        sink: UsageSink | None = None,
        notify: Callable[[UsageRecord], None] | None = None,
        budget_store: Callable[[QuotaSettings], BudgetStore | None] | None = None,
        ledger: Ledger | None = None,
        on_budget_alert: Callable[[BudgetAlert], None] | None = None,
        on_quota_exceeded: Callable[[str, QuotaExceeded], None] | None = None,
        environ: Mapping[str, str] | None = None,
        conversation_store: Any = None,
        thread_done: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.thread_done = thread_done
        """Run at the end of a thread the web layer started (a sync stream's upstream reader): Django closes
        that thread's database connections."""
        self.sink = sink
        self.notify = notify
        self.ledger = ledger
        self.on_budget_alert = on_budget_alert
        self.on_quota_exceeded = on_quota_exceeded
        self._budget_store = budget_store
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
        self._budgets: Budgets | None = None
        self._budgets_built = False
        self._jobs: JobService | None = None
        self._conversation_store = conversation_store  # a ConversationStore, or a function returning one
        self._conversations: ConversationService | None = None
        self._tools: ToolRegistry | None = None

    def __repr__(self) -> str:
        return f"<WebRuntime clients={sorted(self.settings.clients)}>"

    # -- usage ----------------------------------------------------------------------------------------------
    def record(self, record: UsageRecord) -> None:
        """The ``usage_recorder`` of every client: complete the context, store, settle the budget, announce.
        Never raises."""
        context = record.context
        backend = context.get("backend")
        if isinstance(backend, str) and backend:
            record.backend = backend
        owner = context.get("owner")
        if isinstance(owner, str) and owner:
            if context.get("user_id") is None and owner.startswith("user:"):
                context["user_id"] = owner[5:]
            context.setdefault("quota_key", owner)
        budgets = self.budgets
        if budgets is not None:
            budgets.note_stop(record)
        if self.sink is not None:
            try:
                self.sink.save(record)
            except Exception:
                log.exception("could not store usage record %s (the call itself is unaffected)", record.id)
        if budgets is not None:
            try:
                budgets.settle(record)
            except Exception:
                log.exception("could not settle usage record %s against its budgets", record.id)
        if self.notify is not None:
            try:
                self.notify(record)
            except Exception:
                log.exception("announcing usage record %s failed", record.id)

    def usage_context(self, request: WebRequest, alias: str) -> dict[str, Any]:
        """The usage context of a call made for ``request`` through client ``alias``."""
        cfg = self.settings.clients.get(alias)
        principal = request.principal
        context = {
            "alias": alias,
            "backend": cfg.backend if cfg is not None else None,
            "request_id": request.request_id,
            "path": request.path,
            "user_id": principal.user_id,
            "owner": principal.owner,
            "quota_key": request.quota_key,
        }
        # the request's span, for calls made after the view returned (streamed bodies)
        return otel.with_parent(context) or context

    # -- clients --------------------------------------------------------------------------------------------
    def client_for(
        self, request: WebRequest, alias: str | None = None, extra: Mapping[str, Any] | None = None
    ) -> Anthropic:
        """A cheap per-request view of the process client (same pool; records carry the request's context, plus
        ``extra``, e.g. what :meth:`admit` returned)."""
        name = alias or self.settings.chat.client
        context = {**self.usage_context(request, name), **(extra or {})}
        return self.clients.get(name).with_options(usage_context=context)

    def async_client_for(
        self, request: WebRequest, alias: str | None = None, extra: Mapping[str, Any] | None = None
    ) -> AsyncAnthropic:
        """The async twin of :meth:`client_for`, for the running event loop."""
        name = alias or self.settings.chat.client
        context = {**self.usage_context(request, name), **(extra or {})}
        return self.clients.get_async(name).with_options(usage_context=context)

    # -- budgets --------------------------------------------------------------------------------------------
    @property
    def budgets(self) -> Budgets | None:
        """The app's :class:`~claude_web.web.budgets.Budgets`, or ``None`` without limits (built on first use)."""
        if not self._budgets_built:
            with self._lock:
                if not self._budgets_built:
                    self._budgets = self._build_budgets()
                    self._budgets_built = True
        return self._budgets

    quota = budgets
    """The first release's name for :attr:`budgets`."""

    def _build_budgets(self) -> Budgets | None:
        from .budgets import Budgets, MemoryBudgetStore, RedisBudgetStore

        cfg = self.settings.quotas
        if not cfg.enabled:
            return None
        store: BudgetStore | None = None
        if cfg.store == "redis":
            import redis  # the [celery] extra; imported only when budgets live in Redis

            store = RedisBudgetStore(redis.Redis.from_url(str(cfg.redis_url), socket_timeout=2.0), cfg.key_prefix)
        elif cfg.store != "memory" and self._budget_store is not None:
            store = self._budget_store(cfg)
        if store is None:
            if cfg.store != "memory":
                log.warning(
                    "budgets: no shared store here (QUOTAS STORE %r); counting in this process's memory", cfg.store
                )
            store = MemoryBudgetStore(cfg.key_prefix)
        return Budgets(
            cfg,
            store,
            pricing=self.settings.pricing.table,
            ledger=self.ledger,
            on_alert=self.on_budget_alert,
            count_tokens=self._count_tokens,
        )

    def _count_tokens(self, alias: str, params: Mapping[str, Any]) -> int:
        client = self.clients.get(alias).with_options(usage_recorder=None)
        fields = ("model", "messages", "system", "tools", "tool_choice", "thinking")
        counted = client.messages.count_tokens(**{k: params[k] for k in fields if k in params})
        return int(counted.input_tokens)

    def admit(
        self,
        key: str,
        params: Mapping[str, Any],
        *,
        alias: str | None = None,
        job: bool = False,
        prompt_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Every limit a call must pass before it goes upstream, for the quota ``key`` (``user:42``...).

        Reserves the call's worst case on every budget it counts against (the caller's, its client alias's, the
        site's). With ``job`` the reservation is held until released: a job (its worker releases it), or an
        admission for several calls, e.g. a tool loop (``release(admitted, force=True)`` when it is over). Raises the refusal (:class:`~claude_web.quotas.QuotaExceeded`
        429, a 503 ``ServiceUnavailable`` when the store is down and ``FAIL_OPEN`` is off). Returns what the call's
        usage records must carry in their context (``quota_key``, ``reservation``, ``reserved``), so that its
        record settles exactly what admitting it took. Chat, jobs, batches and conversations all call this one
        method; :meth:`release` gives a reservation back when the call never happens.
        """
        budgets = self.budgets
        if budgets is None:
            return {}
        name = alias if isinstance(alias, str) and alias else self.settings.chat.client
        admitted: dict[str, Any] = self._guarded(
            key,
            lambda: budgets.admit(key, params, alias=name, job=job, prompt_tokens=prompt_tokens),
            {"quota_key": key},
        )
        return admitted

    def release(self, admitted: Mapping[str, Any] | None, *, force: bool = False) -> None:
        """Give back what :meth:`admit` reserved when no usage record will settle it (the call never started).
        A no-op for a reservation already settled. Never raises."""
        budgets = self.budgets
        if budgets is None or not admitted:
            return
        try:
            budgets.release(admitted, force=force)
        except Exception:
            log.exception("could not release a budget reservation (it expires on its own)")

    def watch(self, context: Mapping[str, Any], params: Mapping[str, Any]) -> Watch | None:
        """The per-event budget check of a streamed call whose client carries ``context`` (``client.usage_context``),
        or ``None``: call it with each stream event; ``True`` means stop the stream (see
        :class:`~claude_web.web.budgets.Watch`)."""
        budgets = self.budgets
        if budgets is None:
            return None
        watch: Watch | None = budgets.watch(context, params)
        return watch

    def cancel_job(self, job_id: str, owner: str) -> dict[str, Any]:
        """Cancel a job (chat jobs and conversation turns alike); one that ended before a worker took it gives its
        reservation back here, since no worker will. Raises what :meth:`JobService.cancel` raises."""
        service = self.jobs
        status = service.cancel(job_id, owner)
        if status.get("state") == "cancelled":
            self.job_finished(job_id, service.get(job_id, owner).fields)
        return status

    def job_finished(self, job_id: str, fields: Mapping[str, str]) -> None:
        """A job ended (called by its worker): give back what its admission still holds. Never raises."""
        budgets = self.budgets
        raw = fields.get("usage_context")
        if budgets is None or not raw:
            return
        try:
            import json

            budgets.job_finished(json.loads(raw))
        except Exception:
            log.exception("could not release the budget of job %s (it expires on its own)", job_id)

    def check_quota(self, key: str) -> None:
        """Raise :class:`~claude_web.quotas.QuotaExceeded` when ``key`` is over a limit (and count the request),
        without reserving anything: for calls a view makes itself. Prefer :meth:`admit`."""
        budgets = self.budgets
        if budgets is None:
            return
        self._guarded(key, lambda: budgets.check(key), None)

    def _guarded(self, key: str, admission: Callable[[], Any], fallback: Any) -> Any:
        """Run an admission; refusals are announced and raised, a store that cannot be reached fails open
        (``QUOTAS["FAIL_OPEN"]``, logged) or answers 503 ``quota_unavailable``."""
        try:
            return admission()
        except QuotaExceeded as exc:
            otel.quota_refused(exc.limit)
            if self.on_quota_exceeded is not None:
                try:
                    self.on_quota_exceeded(key, exc)
                except Exception:
                    log.exception("a quota-exceeded receiver failed")
            raise
        except WebError:
            raise
        except Exception as exc:
            if not self.settings.quotas.fail_open:
                log.error("budget store unavailable: %s", exc.__class__.__name__, exc_info=True)
                raise ServiceUnavailable("quota_unavailable", "Please try again in a moment.") from exc
            log.exception("budget check failed for %s; letting the request through (QUOTAS['FAIL_OPEN'])", key)
            return fallback

    # -- jobs -----------------------------------------------------------------------------------------------
    @property
    def jobs(self) -> JobService:
        """The app's job service (Celery + Redis when ``JOBS["REDIS_URL"]`` is set, else in-process threads)."""
        if self._jobs is None:
            with self._lock:
                if self._jobs is None:
                    self._jobs = self._build_jobs()
        return self._jobs

    def job_service(self) -> JobService:
        """:attr:`jobs`, or the 503 ``jobs_unavailable`` when its store (Redis) cannot be reached (logged)."""
        try:
            return self.jobs
        except WebError:
            raise
        except Exception as exc:
            if is_store_down(exc):
                raise jobs_unavailable(exc) from exc
            raise

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
        return JobService.from_config(
            config,
            clients=self.job_clients(config),
            recorder=self.job_recorder(config),
            conversations=self.turn_runner(),
            budget=self,
        )

    def set_jobs(self, service: JobService | None) -> None:
        """Replace the job service (tests); ``None`` rebuilds it from settings on next use."""
        with self._lock:
            old, self._jobs = self._jobs, service
        if old is not None and old is not service:
            old.close()

    # -- conversations --------------------------------------------------------------------------------------
    @property
    def conversation_store(self) -> ConversationStore:
        """The app's conversation store (the adapter's); 503 ``conversations_unavailable`` when there is none."""
        store = self._conversation_store
        if store is None:
            log.error("conversations were asked for, but this app has no conversation store")
            raise ServiceUnavailable("conversations_unavailable", "Conversations are not set up on this site.")
        if callable(store) and not hasattr(store, "get_conversation"):
            with self._lock:
                if callable(self._conversation_store) and not hasattr(self._conversation_store, "get_conversation"):
                    self._conversation_store = self._conversation_store()
                store = self._conversation_store
        return store  # type: ignore[no-any-return]

    @property
    def conversations(self) -> ConversationService:
        """The app's :class:`~claude_web.web.conversations.ConversationService`."""
        if self._conversations is None:
            from .conversations import ConversationService

            self._conversations = ConversationService(self)
        return self._conversations

    @property
    def tools(self) -> ToolRegistry:
        """The app's tool registry (tools imported once per process)."""
        if self._tools is None:
            from .tools import ToolRegistry

            self._tools = ToolRegistry()
        return self._tools

    def turn_runner(self) -> TurnRunner | None:
        """What runs ``conversation`` jobs with this app's store and tools (``None`` without a store)."""
        if self._conversation_store is None:
            return None
        from .conversations import TurnRunner

        return TurnRunner(self.settings, lambda: self.conversation_store, tools=self.tools)

    def close(self) -> None:
        """Close clients, jobs and the budget store (settings changed, or the app shuts down)."""
        self.set_jobs(None)
        self.clients.close()
        budgets, self._budgets, self._budgets_built = self._budgets, None, False
        if budgets is not None:
            try:
                budgets.store.close()
            except Exception:
                log.debug("closing the budget store failed", exc_info=True)


def principal_from(user_id: Any = None, session_key: str | None = None) -> Principal:
    """A :class:`Principal`; ``user_id`` ``None`` for an anonymous visitor."""
    return Principal(user_id=user_id, session_key=session_key)
