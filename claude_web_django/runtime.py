"""The process's :class:`~claude_web.web.runtime.WebRuntime`: ``CLAUDE_WEB`` plus what only Django knows.

Django plugs in the ``TokenUsage`` ledger (written off the event loop for async clients, and summed to rebuild
budget counters), the ``usage_recorded`` and ``budget_threshold_crossed`` signals, its database or cache as the
budget store (:mod:`claude_web_django.budgets`), and the conversation models. The runtime is rebuilt when the
``CLAUDE_WEB`` setting changes (tests' ``override_settings``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed

from claude_web.usage import UsageRecord
from claude_web.web.budgets import BudgetStore
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import QuotaSettings

from .budgets import DjangoLedger, budget_store
from .conf import claude_settings
from .conversation_store import DjangoConversationStore
from .receivers import DjangoUsageSink
from .signals import emit_budget_alert, emit_usage

__all__ = ["get_runtime", "reset_runtime"]

_lock = threading.Lock()
_runtime: WebRuntime | None = None


def _notify(record: UsageRecord) -> None:
    emit_usage(record, str(record.context.get("alias") or "default"))


def _budget_store(cfg: QuotaSettings) -> BudgetStore | None:
    return budget_store(cfg, claude_settings().usage)


def _close_thread_connections() -> None:
    """A stream's reader thread ends: close the database connections it opened (usage rows, receivers)."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()


def get_runtime() -> WebRuntime:
    """The runtime of this process (built from ``CLAUDE_WEB`` on first use)."""
    global _runtime
    runtime = _runtime
    if runtime is not None:
        return runtime
    with _lock:
        if _runtime is None:
            cfg = claude_settings()
            _runtime = WebRuntime(
                cfg,
                sink=DjangoUsageSink(cfg.usage),
                notify=_notify,
                budget_store=_budget_store,
                ledger=DjangoLedger(cfg.usage),
                on_budget_alert=emit_budget_alert,
                conversation_store=lambda: DjangoConversationStore(cfg.conversations),
                thread_done=_close_thread_connections,
            )
        return _runtime


def reset_runtime() -> None:
    """Close and forget the runtime (``CLAUDE_WEB`` changed, or shutting down)."""
    global _runtime
    with _lock:
        old, _runtime = _runtime, None
    if old is not None:
        old.close()


def _on_setting_changed(setting: str = "", **kwargs: Any) -> None:
    if setting == "CLAUDE_WEB":
        from .conf import reset

        reset()
        reset_runtime()


setting_changed.connect(_on_setting_changed, dispatch_uid="claude_web_django.runtime.setting_changed")
