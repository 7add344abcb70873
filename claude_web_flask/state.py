"""One app's claude-web state in ``app.extensions["claude_web"]``: its web runtime, usage store and user loader."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask, current_app

from claude_web.quotas import QuotaExceeded
from claude_web.usage import UsageRecord
from claude_web.web.budgets import BudgetAlert, BudgetStore, Scope
from claude_web.web.clients import import_string
from claude_web.web.conversations import ConversationStore, MemoryConversationStore
from claude_web.web.http import WebRequest
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import QuotaSettings, WebSettings

from .config import ConfigError, read_settings, set_defaults
from .conversation_store import SQLAlchemyConversationStore, conversation_models
from .signals import budget_threshold_crossed, quota_exceeded, usage_recorded
from .usage import JsonLinesUsageStore, NullUsageStore, SQLAlchemyUsageStore, UsageStore, usage_table

__all__ = ["EXTENSION_KEY", "current_user_id", "get_runtime", "get_state"]

log = logging.getLogger("claude_web_flask")

EXTENSION_KEY = "claude_web"
UserLoader = Callable[[], Any]


class _Extension(Protocol):
    """What the state needs of the ``ClaudeWeb`` object that made it."""

    _user_loader: UserLoader | None

    def web_request(self, *, read_body: bool = True, session: bool = False) -> WebRequest: ...


class _LazyStore:
    """The runtime's sink for Flask: the usage store, resolved on first use (Flask-SQLAlchemy may be set up after
    this extension)."""

    def __init__(self, state: _AppState) -> None:
        self._state = state

    def save(self, record: UsageRecord) -> None:
        self._state.usage_store.save(record)


class _AppState:
    """Everything the extension keeps for one app, in ``app.extensions["claude_web"]``."""

    def __init__(self, app: Flask, settings: WebSettings, ext: _Extension | None) -> None:
        self.app = app
        self.settings = settings
        self.ext = ext
        self.runtime = WebRuntime(
            settings,
            sink=_LazyStore(self),
            notify=self._notify,
            budget_store=self._budget_store,
            ledger=self,
            on_budget_alert=self._budget_alert,
            on_quota_exceeded=self._quota_exceeded,
            conversation_store=self._build_conversation_store,
        )
        self._store: UsageStore | None = None
        self._store_lock = threading.Lock()

    @property
    def chat_policy(self) -> Any:
        return self.runtime.chat_policy

    def _notify(self, record: UsageRecord) -> None:
        usage_recorded.send(self.app, record=record)

    def _quota_exceeded(self, key: str, exc: QuotaExceeded) -> None:
        quota_exceeded.send(self.app, key=key, error=exc)

    def _budget_alert(self, alert: BudgetAlert) -> None:
        budget_threshold_crossed.send(self.app, alert=alert)

    def _budget_store(self, cfg: QuotaSettings) -> BudgetStore | None:
        """``CLAUDE_WEB_QUOTA_STORE = "database"``: the budget tables in the app's Flask-SQLAlchemy database."""
        if cfg.store != "database":
            return None
        from .budgets import SQLAlchemyBudgetStore

        db, engine = self._sqlalchemy("QUOTA_STORE", "database", "redis")
        return SQLAlchemyBudgetStore(
            engine, db.metadata, prefix=cfg.key_prefix, create_tables=self.settings.usage.create_table
        )

    def totals(self, scope: Scope, since: Any, until: Any) -> Any:
        """The runtime's ledger: the usage store's totals of a budget scope (rebuilds lost budget counters)."""
        return self.usage_store.totals(scope, since, until)

    def record(self, record: UsageRecord) -> None:
        """Store, count against the quota, then send ``usage_recorded`` (the clients' usage recorder)."""
        self.runtime.record(record)

    @property
    def usage_store(self) -> UsageStore:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = self._build_store()
        return self._store

    def _build_store(self) -> UsageStore:
        usage = self.settings.usage
        kind = usage.storage if usage.enabled else "none"
        db = self.app.extensions.get("sqlalchemy")
        if kind == "auto":
            kind = "sqlalchemy" if db is not None else "log"
        if kind == "none":
            return NullUsageStore()
        if kind == "log":
            return JsonLinesUsageStore(usage.log_path)
        db, engine = self._sqlalchemy("USAGE_STORAGE", "sqlalchemy", "log")
        table = usage_table(db.metadata, usage.table)
        return SQLAlchemyUsageStore(engine, table, create_table=usage.create_table)

    def _build_conversation_store(self) -> ConversationStore:
        """Flask-SQLAlchemy tables when the app uses it (``CLAUDE_WEB_CONVERSATIONS_STORAGE`` "auto" or
        "sqlalchemy"), else this process's memory (logged: it forgets on restart and is not shared)."""
        cfg = self.settings.conversations
        db = self.app.extensions.get("sqlalchemy")
        kind = cfg.storage
        if kind == "auto":
            kind = "sqlalchemy" if db is not None else "memory"
            if kind == "memory":
                log.warning(
                    "conversations are kept in memory (no Flask-SQLAlchemy on this app): they are lost on restart "
                    "and not shared between processes; set up Flask-SQLAlchemy or CLAUDE_WEB_CONVERSATIONS_STORAGE"
                )
        if kind == "memory":
            return MemoryConversationStore()
        db, engine = self._sqlalchemy("CONVERSATIONS_STORAGE", "sqlalchemy", "memory")
        conversation, message = conversation_models(db, cfg.table_prefix)
        return SQLAlchemyConversationStore(engine, conversation.__table__, message.__table__, create=cfg.create_tables)

    def _sqlalchemy(self, setting: str, value: str, otherwise: str) -> tuple[Any, Any]:
        """The app's Flask-SQLAlchemy and its engine, for ``CLAUDE_WEB_<setting> = "<value>"``; without it a
        :class:`ConfigError` saying what to do (``otherwise``: the setting's value that needs no database)."""
        db = self.app.extensions.get("sqlalchemy")
        if db is None:
            raise ConfigError(
                f'CLAUDE_WEB_{setting} is "{value}" but the app has no Flask-SQLAlchemy: call db.init_app(app), '
                f'or set CLAUDE_WEB_{setting} to "{otherwise}"'
            )
        with self.app.app_context():
            return db, db.engine

    def usage_rows(self, since: Any, until: Any, user_id: Any = None) -> Any:
        """Stored usage rows (of one user when ``user_id`` is set), for the usage report."""
        rows = self.usage_store.rows(since, until)
        if user_id is None:
            return rows
        return (row for row in rows if str(row.get("user_id")) == str(user_id))

    def user_loader(self) -> UserLoader:
        configured = self.settings.user_loader
        if isinstance(configured, str):
            return import_string(configured)  # type: ignore[no-any-return]
        if configured is not None:
            return configured  # type: ignore[no-any-return]
        if self.ext is not None and self.ext._user_loader is not None:
            return self.ext._user_loader
        return _flask_login_user


def get_state(app: Flask | None = None) -> _AppState:
    """The extension's state for ``app`` (default: the current app), with a clear error if it is not set up."""
    target = app if app is not None else current_app
    state = target.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError(
            "claude_web_flask is not set up on this app: call ClaudeWeb(app) or claude.init_app(app) first"
        )
    return state  # type: ignore[no-any-return]


def get_runtime(app: Flask | None = None) -> WebRuntime:
    """The app's web runtime (the extension's, or one built from ``app.config`` for jobs used on their own)."""
    target: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    state = target.extensions.get(EXTENSION_KEY)
    if state is not None:
        return state.runtime  # type: ignore[no-any-return]
    runtime = target.extensions.get("claude_web_runtime")
    if runtime is None:
        set_defaults(target.config)
        runtime = WebRuntime(read_settings(target.config, testing=True, debug=target.debug))
        target.extensions["claude_web_runtime"] = runtime
    return runtime


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


def current_user_id(state: _AppState) -> str | None:
    """The current user's id as a string, ``None`` for an anonymous visitor (a failing loader means anonymous)."""
    loader = state.user_loader()
    try:
        user = loader()
    except Exception:
        log.exception("the Claude user loader %r failed; treating the request as anonymous", loader)
        return None
    return None if user is None else str(user)
