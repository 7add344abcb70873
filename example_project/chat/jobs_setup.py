"""Wiring of the background-jobs service (the long-task page) to the Django app's clients and usage ledger.

The jobs settings live in ``settings.DEMO_JOBS`` (the shape of :class:`claude_web.jobs.JobsConfig`); the chat app
installs the service when Django starts (:func:`install_job_service`, called from ``ChatConfig.ready``).
"""

from __future__ import annotations

import logging
from typing import Any

from claude_web import Anthropic
from claude_web.jobs import JobsConfig, JobService
from claude_web.usage import UsageRecord

__all__ = ["install_job_service", "job_client", "jobs_config", "record_job_usage"]

log = logging.getLogger("chat.jobs")


def job_client(alias: str) -> Anthropic:
    """Jobs use the same process-wide client as the chat views (``CLAUDE_WEB["CLIENTS"]``)."""
    from claude_web_django import get_client

    return get_client(alias)


def record_job_usage(record: UsageRecord) -> None:
    """A job's usage record, with the owner (``"user:<pk>"``) turned into the ledger's user and quota key."""
    from claude_web_django.signals import emit_usage

    owner = record.context.get("user")
    if isinstance(owner, str) and owner.startswith("user:") and owner[5:].isdigit():
        record.context = {**record.context, "user_id": int(owner[5:]), "quota_key": owner}
    emit_usage(record, str(record.context.get("alias") or "default"))


def jobs_config(settings: Any = None) -> JobsConfig:
    """The :class:`JobsConfig` of ``settings.DEMO_JOBS`` (web processes and Celery workers alike)."""
    if settings is None:
        from django.conf import settings
    raw = {k: v for k, v in getattr(settings, "DEMO_JOBS", {}).items() if v is not None}
    return JobsConfig.from_mapping(raw)


def install_job_service(settings: Any) -> None:
    """Build the process's :class:`JobService` from ``settings.DEMO_JOBS`` and hand it to the Django views."""
    from claude_web_django.jobs import set_job_service

    service = JobService.from_config(jobs_config(settings))
    set_job_service(service)
    log.debug("background jobs: %r", service)
