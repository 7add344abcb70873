"""Where usage records are stored under Django: one :class:`~claude_web_django.models.TokenUsage` row each.

A failed write is logged and never reaches the user's request. Records finished on an event-loop thread (async
clients) are written from a small worker thread, because the ORM must not block the loop; call
:func:`wait_for_usage_writes` to wait for those (tests, graceful shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

from django.db import IntegrityError, connections, transaction

from claude_web.usage import UsageRecord
from claude_web.web.settings import UsageSettings

__all__ = ["DjangoUsageSink", "wait_for_usage_writes", "write_usage"]

log = logging.getLogger("claude_web_django.usage")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future[None]] = set()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claude-web-usage")
        return _executor


class DjangoUsageSink:
    """The runtime's sink: writes each record as a ``TokenUsage`` row (off the event loop when called on one)."""

    def __init__(self, settings: UsageSettings) -> None:
        self.settings = settings

    def save(self, record: UsageRecord) -> None:
        if not self.settings.enabled:
            return
        if _in_event_loop():
            future = _get_executor().submit(self._save_in_worker, record)
            with _executor_lock:
                _pending.add(future)
            future.add_done_callback(_forget)
        else:
            self._write(record)

    def _write(self, record: UsageRecord) -> None:
        write_usage(record, database=self.settings.database, store_context=self.settings.store_context)

    def _save_in_worker(self, record: UsageRecord) -> None:
        try:
            self._write(record)
        finally:
            for conn in connections.all(initialized_only=True):
                conn.close_if_unusable_or_obsolete()


def _forget(future: Future[None]) -> None:
    with _executor_lock:
        _pending.discard(future)


def wait_for_usage_writes(timeout: float = 10.0) -> bool:
    """Wait until usage records handed to the worker thread are written; ``False`` on timeout."""
    with _executor_lock:
        pending = list(_pending)
    if not pending:
        return True
    _done, not_done = wait_futures(pending, timeout=timeout)
    return not not_done


def _user_exists(user_id: Any, database: str) -> bool:
    from django.contrib.auth import get_user_model

    return bool(get_user_model()._default_manager.using(database).filter(pk=user_id).exists())


def write_usage(record: UsageRecord, *, database: str = "default", store_context: bool = True) -> Any:
    """Store ``record`` as a ``TokenUsage`` row; returns the row, or ``None`` if the write failed (logged)."""
    from .models import TokenUsage

    row = TokenUsage.from_record(record, store_context=store_context)
    try:
        if (
            row.user_id is not None
            and connections[database].in_atomic_block
            and not _user_exists(row.user_id, database)
        ):
            # inside the caller's transaction a foreign-key error would only surface at its commit: check first
            row.user_id = None
        try:
            with transaction.atomic(using=database):
                row.save(using=database, force_insert=True)
        except IntegrityError:
            if row.user_id is None:
                raise
            # most likely the user was deleted meanwhile: keep the row without the link
            row.user_id = None
            with transaction.atomic(using=database):
                row.save(using=database, force_insert=True)
    except Exception:
        log.exception(
            "could not store usage record %s (%s %s %s); the request goes on",
            record.id,
            record.operation,
            record.model,
            record.status,
        )
        return None
    return row
