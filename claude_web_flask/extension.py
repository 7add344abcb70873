"""``ClaudeWeb``: the Flask extension object (app-factory friendly, several apps per process).

>>> from flask import Flask
>>> from claude_web_flask import ClaudeWeb
>>> claude = ClaudeWeb()
>>> def create_app():
...     app = Flask(__name__)
...     app.config["CLAUDE_WEB_CLIENTS"] = {"default": {"OPTIONS": {"api_key": "..."}}}
...     claude.init_app(app)
...     return app
>>> @app.post("/ask")
... def ask():
...     return claude.stream_response(model="claude-haiku-4-5", max_tokens=512,
...                                   messages=[{"role": "user", "content": request.json["q"]}])
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request

from claude_web import Anthropic, AsyncAnthropic
from claude_web.chat import ChatPolicy, ChatRequestError
from claude_web.quotas import MemoryCounterStore, Quota, QuotaExceeded, RedisCounterStore
from claude_web.usage import UsageRecord

from .clients import AsyncClients, SyncClients
from .config import ConfigError, Settings, read_settings, set_defaults
from .signals import quota_exceeded, usage_recorded
from .streaming import sse_body, sse_response
from .usage import JsonLinesUsageStore, NullUsageStore, SQLAlchemyUsageStore, UsageStore, usage_table

__all__ = ["EXTENSION_KEY", "ClaudeWeb", "QuotaUnavailable", "get_state"]

log = logging.getLogger("claude_web_flask")

EXTENSION_KEY = "claude_web"
UserLoader = Callable[[], Any]


class QuotaUnavailable(RuntimeError):
    """The quota counters could not be read and ``CLAUDE_WEB_QUOTA_FAIL_OPEN`` is off (answered with 503)."""


class _AppState:
    """Everything the extension keeps for one app, in ``app.extensions["claude_web"]``."""

    def __init__(self, app: Flask, settings: Settings, ext: ClaudeWeb) -> None:
        self.app = app
        self.settings = settings
        self.ext = ext
        self.sync_clients = SyncClients(settings.clients, self.record, settings.pricing)
        self.async_clients = AsyncClients(settings.clients, self.record, settings.pricing)
        self.chat_policy = ChatPolicy(
            models=settings.chat_models,
            default_model=settings.chat_default_model,
            max_tokens_cap=settings.chat_max_tokens,
            max_messages=settings.chat_max_messages,
            max_chars=settings.chat_max_chars,
            allow_system=settings.chat_allow_system,
        )
        self.quota: Quota | None = None
        if settings.quota_limits.enabled:
            store: Any
            if settings.quota_store == "memory":
                store = MemoryCounterStore()
            else:
                import redis  # the [celery] extra; imported only when quotas are on

                store = RedisCounterStore(redis.Redis.from_url(str(settings.quota_redis_url)))
            self.quota = Quota(settings.quota_limits, store, prefix=settings.quota_key_prefix)
        self._store: UsageStore | None = None
        self._store_lock = threading.Lock()

    # -- usage ------------------------------------------------------------------------------------------------
    @property
    def usage_store(self) -> UsageStore:
        """Resolved on first use, so Flask-SQLAlchemy may be set up before or after this extension."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = self._build_store()
        return self._store

    def _build_store(self) -> UsageStore:
        kind = self.settings.usage_storage
        db = self.app.extensions.get("sqlalchemy")
        if kind == "auto":
            kind = "sqlalchemy" if db is not None else "log"
        if kind == "none":
            return NullUsageStore()
        if kind == "log":
            return JsonLinesUsageStore(self.settings.usage_log_path)
        if db is None:
            raise ConfigError(
                'CLAUDE_WEB_USAGE_STORAGE is "sqlalchemy" but the app has no Flask-SQLAlchemy: call '
                'db.init_app(app), or set CLAUDE_WEB_USAGE_STORAGE to "log"'
            )
        with self.app.app_context():
            engine = db.engine
        table = usage_table(db.metadata, self.settings.usage_table)
        return SQLAlchemyUsageStore(engine, table, create_table=self.settings.usage_create_table)

    def record(self, record: UsageRecord) -> None:
        """The core's ``usage_recorder``: store, count against the quota, then send ``usage_recorded``."""
        try:
            self.usage_store.save(record)
        except Exception:
            log.exception("could not store usage record %s (the call itself is unaffected)", record.id)
        key = record.context.get("quota_key")
        if self.quota is not None and isinstance(key, str):
            try:
                self.quota.consume(key, record)
            except Exception:
                log.exception("could not count usage record %s against the quota of %s", record.id, key)
        try:
            usage_recorded.send(self.app, record=record)
        except Exception:
            log.exception("a usage_recorded receiver failed for record %s", record.id)


def get_state(app: Flask | None = None) -> _AppState:
    """The extension's state for ``app`` (default: the current app), with a clear error if it is not set up."""
    target = app if app is not None else current_app
    state = target.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError(
            "claude_web_flask is not set up on this app: call ClaudeWeb(app) or claude.init_app(app) first"
        )
    return state  # type: ignore[no-any-return]


def _flask_login_user() -> Any:
    """The default user loader: Flask-Login's ``current_user`` id when the app uses Flask-Login."""
    if not hasattr(current_app, "login_manager"):
        return None
    try:
        flask_login = importlib.import_module("flask_login")
    except ImportError:
        return None
    user = flask_login.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.get_id()


class ClaudeWeb:
    """Claude for a Flask app: per-request clients, streamed responses, usage records, quotas and a CLI.

    ``ClaudeWeb(app)`` or ``claude = ClaudeWeb(); claude.init_app(app)`` (any number of apps). Settings are the
    ``CLAUDE_WEB_*`` keys of ``app.config`` (see :mod:`claude_web_flask.config`).
    """

    def __init__(self, app: Flask | None = None, *, user_loader: UserLoader | None = None) -> None:
        self._user_loader = user_loader
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read and check the settings, keep the state in ``app.extensions``, add error handlers and the CLI."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "claude_web_flask is already registered on this app: create one ClaudeWeb and call init_app once "
                "per app"
            )
        set_defaults(app.config)
        settings = read_settings(app.config, testing=app.testing, debug=app.debug)
        app.extensions[EXTENSION_KEY] = _AppState(app, settings, self)
        if settings.register_error_handlers:
            app.register_error_handler(QuotaExceeded, quota_response)
            app.register_error_handler(ChatRequestError, chat_error_response)
            app.register_error_handler(QuotaUnavailable, _quota_unavailable_response)
        from .cli import claude_cli

        app.cli.add_command(claude_cli)

    def user_loader(self, func: UserLoader) -> UserLoader:
        """Decorator: ``func()`` returns the current user's id (or ``None``), for usage records and quotas."""
        self._user_loader = func
        return func

    # -- request metadata ---------------------------------------------------------------------------------------
    def request_metadata(self) -> dict[str, Any]:
        """``{"user", "request_id", "endpoint", "quota_key"}`` of the current request (kept on ``g``)."""
        cached: dict[str, Any] | None = g.get("_claude_web_meta")
        if cached is not None:
            return cached
        state = get_state()
        loader = state.settings.user_loader or self._user_loader or _flask_login_user
        try:
            user = loader()
        except Exception:
            log.exception("the Claude user loader %r failed; treating the request as anonymous", loader)
            user = None
        header = request.headers.get(state.settings.request_id_header, "")
        request_id = header.strip()[:128] if header.strip() else uuid.uuid4().hex
        meta = {
            "user": None if user is None else str(user),
            "request_id": request_id,
            "endpoint": request.endpoint,
            "quota_key": f"user:{user}" if user is not None else f"ip:{request.remote_addr or 'unknown'}",
        }
        g._claude_web_meta = meta
        return meta

    # -- clients ------------------------------------------------------------------------------------------------
    @property
    def client(self) -> Anthropic:
        """The default client for this request (see :meth:`get_client`)."""
        return self.get_client()

    def get_client(self, alias: str | None = None) -> Anthropic:
        """A cheap view of the app's process-wide client ``alias`` carrying this request's metadata.

        Inside a request it is kept on ``g`` (one view per alias per request); outside one (CLI, shell) the view
        carries only the alias.
        """
        state = get_state()
        name = alias or state.settings.default_client
        base = state.sync_clients.get(name)
        if not has_request_context():
            return base.with_options(usage_context={"client": name})
        views: dict[str, Anthropic] = g.setdefault("_claude_web_clients", {})
        view = views.get(name)
        if view is None:
            view = base.with_options(usage_context={"client": name, **self.request_metadata()})
            views[name] = view
        return view

    @property
    def async_client(self) -> AsyncAnthropic:
        """The default async client for this request and event loop (see :meth:`get_async_client`)."""
        return self.get_async_client()

    def get_async_client(self, alias: str | None = None) -> AsyncAnthropic:
        """An async client for ``async def`` views: one per event loop (Flask gives each async view its own)."""
        state = get_state()
        name = alias or state.settings.default_client
        base = state.async_clients.get(name)
        if not has_request_context():
            return base.with_options(usage_context={"client": name})
        loop = asyncio.get_running_loop()
        views: dict[tuple[str, asyncio.AbstractEventLoop], AsyncAnthropic] = g.setdefault(
            "_claude_web_async_clients", {}
        )
        view = views.get((name, loop))
        if view is None:
            view = base.with_options(usage_context={"client": name, **self.request_metadata()})
            views[(name, loop)] = view
        return view

    # -- quotas -------------------------------------------------------------------------------------------------
    def check_quota(self) -> None:
        """Raise :class:`~claude_web.quotas.QuotaExceeded` if this request's user is over a limit (counts it)."""
        state = get_state()
        if state.quota is None:
            return
        key = self.request_metadata()["quota_key"]
        try:
            state.quota.check(key)
        except QuotaExceeded as exc:
            quota_exceeded.send(state.app, key=key, error=exc)
            raise
        except Exception as exc:
            if not state.settings.quota_fail_open:
                raise QuotaUnavailable("the quota store is unavailable") from exc
            log.exception("quota check failed for %s; letting the request through (CLAUDE_WEB_QUOTA_FAIL_OPEN)", key)

    # -- chat and streaming -------------------------------------------------------------------------------------
    def validate_chat(self, body: bytes | str | dict[str, Any] | None = None) -> dict[str, Any]:
        """Check a chat body (default: this request's) against the ``CLAUDE_WEB_CHAT_*`` policy.

        Raises :class:`~claude_web.chat.ChatRequestError` (answered with 400 JSON naming the field).
        """
        raw = request.get_data() if body is None else body
        return get_state().chat_policy.validate(raw)

    def stream_response(self, *, alias: str | None = None, check_quota: bool = True, **params: Any) -> Response:
        """A streamed ``text/event-stream`` response of ``messages.stream(**params)``.

        The quota is checked first (``QuotaExceeded`` -> 429 before any upstream call). The upstream call starts
        when the response body is sent; an upstream failure becomes an SSE ``error`` event; a browser that goes
        away closes the upstream stream (usage ``aborted``).

        >>> return claude.stream_response(model="claude-haiku-4-5", max_tokens=512, messages=messages)
        """
        if check_quota:
            self.check_quota()
        client = self.get_client(alias)
        response = sse_response(sse_body(client, params, heartbeat=get_state().settings.heartbeat))
        response.headers["X-Request-ID"] = self.request_metadata()["request_id"]
        return response


def quota_response(exc: QuotaExceeded) -> Response:
    """429 JSON with ``Retry-After`` (the error handler the extension registers for ``QuotaExceeded``)."""
    response = jsonify(exc.to_dict())
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def chat_error_response(exc: ChatRequestError) -> Response:
    """400 JSON naming the field (the error handler the extension registers for ``ChatRequestError``)."""
    response = jsonify(exc.to_dict())
    response.status_code = 400
    return response


def _quota_unavailable_response(exc: QuotaUnavailable) -> Response:
    response = jsonify({"error": {"type": "quota_unavailable", "message": "Please try again in a moment."}})
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response
