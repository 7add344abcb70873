"""A Flask blueprint for background jobs over the web layer's job handlers: start (202), SSE events with
``Last-Event-ID``, status, cancel.

>>> from claude_web_flask.jobs import jobs_blueprint
>>> app.config["CLAUDE_WEB_JOBS"] = {"REDIS_URL": "redis://127.0.0.1:6379/0"}  # omit: in-process threads
>>> app.register_blueprint(jobs_blueprint, url_prefix="/ai/jobs")

``CLAUDE_WEB_JOBS`` takes the ``JOBS`` keys of the settings schema (``REDIS_URL``, ``CELERY_APP``,
``CLIENT_FACTORY``, ``USAGE_RECORDER``, ``OWNER``...). Jobs use the app's clients and usage pipeline, with the
job's owner as the record's user and quota key; they follow the chat rules (``CLAUDE_WEB_CHAT_LOGIN_REQUIRED``,
allowed models, ``max_tokens`` cap) and the owner's quota. Celery workers register the tasks with
:func:`register_tasks` (``register_tasks(celery_app, app)``).

Endpoints: ``POST /`` ``{"kind", "params", "alias"}`` -> 202 ``{"job_id", "events_url", "status_url",
"cancel_url"}``; ``GET /<job_id>/events/`` (``text/event-stream``, ``Last-Event-ID`` header or
``?last_event_id=``); ``GET /<job_id>/``; ``POST /<job_id>/cancel/``. Somebody else's job is a 404; an unreachable
Redis is a 503 ``jobs_unavailable``. CSRF: as the chat blueprint (:mod:`claude_web_flask.csrf`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, url_for

from claude_web.jobs import JobsConfig, JobService
from claude_web.web.clients import import_string
from claude_web.web.handlers import JobUrls, job_cancel, job_events, job_start, job_status
from claude_web.web.handlers.jobs import PRINCIPAL
from claude_web.web.http import WebRequest

from .csrf import protect_blueprint
from .http import flask_response, web_request
from .state import current_user_id, get_runtime

__all__ = ["create_jobs_blueprint", "get_job_service", "jobs_blueprint", "jobs_config", "register_tasks"]


def jobs_config(app: Flask | None = None) -> JobsConfig:
    """The :class:`~claude_web.jobs.JobsConfig` from ``app.config["CLAUDE_WEB_JOBS"]``."""
    return get_runtime(app).jobs_config()  # type: ignore[no-any-return]


def get_job_service(app: Flask | None = None) -> JobService:
    """The app's :class:`~claude_web.jobs.JobService` (built on first use)."""
    return get_runtime(app).jobs


def register_tasks(celery_app: Any, app: Flask) -> dict[str, Any]:
    """Register the claude-web tasks on ``celery_app``, configured from ``app.config`` and using the app's clients
    and usage pipeline (read on the first task)."""
    from claude_web.celery import register_tasks as register

    def config() -> JobsConfig:
        with app.app_context():
            return jobs_config(app)

    return register(celery_app, config=config, runtime=lambda: get_runtime(app))


def _neutral(*, read_body: bool) -> WebRequest:
    runtime = get_runtime()
    state = current_app.extensions.get("claude_web")
    user = current_user_id(state) if state is not None else None
    return web_request(
        user, request_id_header=runtime.settings.streaming.request_id_header, read_body=read_body, session=True
    )


def create_jobs_blueprint(
    name: str = "claude_web_jobs",
    *,
    service: JobService | None = None,
    owner: Callable[[], str | None] | None = None,
    protocol: str | None = None,
) -> Blueprint:
    """A jobs blueprint; ``service`` and ``owner`` override the app configuration (handy in tests);
    ``protocol="ai-sdk"`` streams the events as the AI SDK's UI message stream (else ``?protocol=ai-sdk`` does)."""
    bp = protect_blueprint(Blueprint(name, __name__))  # Flask-WTF's CSRFProtect, when installed

    def runtime() -> Any:
        rt = get_runtime()
        if service is not None:
            rt.set_jobs(service)  # the same service again is a no-op
        return rt

    def who() -> Any:
        custom = owner
        if custom is None:
            configured = get_runtime().settings.jobs.get("OWNER")
            if configured is not None:
                custom = import_string(configured) if isinstance(configured, str) else configured
        if custom is None:
            return PRINCIPAL  # the signed-in user (or, without LOGIN_REQUIRED, the visitor's session)
        found = custom()
        return str(found) if found else None

    urls = JobUrls(
        events=lambda job_id: url_for(f"{bp.name}.events", job_id=job_id),
        status=lambda job_id: url_for(f"{bp.name}.status", job_id=job_id),
        cancel=lambda job_id: url_for(f"{bp.name}.cancel", job_id=job_id),
    )

    @bp.post("/")
    def start() -> Response:
        return flask_response(job_start(runtime(), _neutral(read_body=True), urls=urls, owner=who()))

    @bp.get("/<job_id>/events/")
    def events(job_id: str) -> Response:
        return flask_response(job_events(runtime(), _neutral(read_body=False), job_id, owner=who(), protocol=protocol))

    @bp.get("/<job_id>/")
    def status(job_id: str) -> Response:
        return flask_response(job_status(runtime(), _neutral(read_body=False), job_id, owner=who()))

    @bp.post("/<job_id>/cancel/")
    def cancel(job_id: str) -> Response:
        return flask_response(job_cancel(runtime(), _neutral(read_body=False), job_id, owner=who()))

    return bp


jobs_blueprint = create_jobs_blueprint()
