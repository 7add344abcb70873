"""A Flask blueprint for background jobs: start (202), SSE events with ``Last-Event-ID``, status, cancel.

>>> from claude_web_flask.jobs import jobs_blueprint
>>> app.config["CLAUDE_WEB_JOBS"] = {"REDIS_URL": "redis://127.0.0.1:6379/0"}  # omit: in-process threads
>>> app.register_blueprint(jobs_blueprint, url_prefix="/ai/jobs")

``CLAUDE_WEB_JOBS`` takes the keys of :class:`claude_web.jobs.JobsConfig` (``REDIS_URL``, ``CELERY_APP``,
``CLIENT_FACTORY``, ``USAGE_RECORDER``...) plus ``OWNER``: a callable (or dotted path) returning the current
owner id. Without it the owner is the Flask-Login user when there is one, else a random id kept in the signed
session. Celery workers register the tasks with :func:`register_tasks` (``register_tasks(celery_app, app)``).

Endpoints: ``POST /`` ``{"kind", "params", "alias"}`` -> 202 ``{"job_id", "events_url", "status_url",
"cancel_url"}``; ``GET /<job_id>/events/`` (``text/event-stream``, ``Last-Event-ID`` header or
``?last_event_id=``); ``GET /<job_id>/``; ``POST /<job_id>/cancel/``. Somebody else's job is a 404.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, session, url_for

from claude_web.chat import ChatRequestError
from claude_web.jobs import JobNotFound, JobRequestError, JobsConfig, JobService, import_string
from claude_web.quotas import QuotaExceeded
from claude_web.relay import InvalidEventId
from claude_web.usage import UsageRecord

from .extension import quota_response

__all__ = ["create_jobs_blueprint", "get_job_service", "jobs_blueprint", "jobs_config", "register_tasks"]

EXTENSION_KEY = "claude_web_jobs"
_ADAPTER_KEYS = ("OWNER",)
_lock = threading.Lock()


def jobs_config(app: Flask | None = None) -> JobsConfig:
    """The :class:`~claude_web.jobs.JobsConfig` from ``app.config["CLAUDE_WEB_JOBS"]``.

    When the app also uses :class:`~claude_web_flask.ClaudeWeb`, jobs default to its clients
    (``CLAUDE_WEB_CLIENTS``) and its usage pipeline (storage, quota, ``usage_recorded``), with the job's owner
    as the record's user and quota key.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    data = {k: v for k, v in dict(app.config.get("CLAUDE_WEB_JOBS") or {}).items() if k not in _ADAPTER_KEYS}
    state = app.extensions.get("claude_web")
    if state is not None:
        data.setdefault("CLIENT_FACTORY", state.sync_clients.get)
        data.setdefault("USAGE_RECORDER", _owner_recorder(state.record))
    try:
        return JobsConfig.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f'app.config["CLAUDE_WEB_JOBS"]: {exc}') from exc


def get_job_service(app: Flask | None = None) -> JobService:
    """The app's :class:`~claude_web.jobs.JobService` (built on first use, kept in ``app.extensions``)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        service = app.extensions.get(EXTENSION_KEY)
        if service is None:
            service = JobService.from_config(jobs_config(app))
            app.extensions[EXTENSION_KEY] = service
        return service


def register_tasks(celery_app: Any, app: Flask) -> dict[str, Any]:
    """Register the claude-web tasks on ``celery_app``, configured from ``app.config`` (read on first task)."""
    from claude_web.celery import register_tasks as register

    def config() -> JobsConfig:
        with app.app_context():
            return jobs_config(app)

    return register(celery_app, config=config)


def _owner_recorder(record_usage: Callable[[UsageRecord], None]) -> Callable[[UsageRecord], None]:
    """Wrap the extension's recorder so a job's owner (``"user:<id>"``) becomes the record's user and quota key."""

    def record(rec: UsageRecord) -> None:
        owner = rec.context.get("user")
        if isinstance(owner, str) and owner.startswith("user:"):
            rec.context = {**rec.context, "user": owner[5:], "quota_key": owner}
        record_usage(rec)

    return record


def _default_owner() -> str | None:
    try:
        from flask_login import current_user  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        current_user = None
    if current_user is not None and getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.get_id()}"
    try:
        token = session.get("claude_web_owner")
        if not token:
            token = secrets.token_urlsafe(18)
            session["claude_web_owner"] = token
    except RuntimeError:  # no SECRET_KEY: no session
        return None
    return f"session:{token}"


def _owner(custom: Callable[[], str | None] | None) -> str | None:
    if custom is None:
        configured = (current_app.config.get("CLAUDE_WEB_JOBS") or {}).get("OWNER")
        if configured is not None:
            custom = import_string(configured) if isinstance(configured, str) else configured
    owner = custom() if custom is not None else _default_owner()
    return str(owner) if owner else None


def _error(status: int, kind: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": {"type": kind, "message": message, **extra}}), status


def create_jobs_blueprint(
    name: str = "claude_web_jobs", *, service: JobService | None = None, owner: Callable[[], str | None] | None = None
) -> Blueprint:
    """A jobs blueprint; ``service`` and ``owner`` override the app configuration (handy in tests)."""
    bp = Blueprint(name, __name__)

    def svc() -> JobService:
        return service if service is not None else get_job_service()

    def who() -> str | None:
        return _owner(owner)

    @bp.post("/")
    def start() -> Any:
        current = who()
        if current is None:
            return _error(403, "forbidden", "Sign in to use background jobs.")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "The body must be a JSON object.", field="body")
        unknown = sorted(set(body) - {"kind", "params", "alias"})
        if unknown:
            return _error(400, "invalid_request", "Unknown field.", field=unknown[0])
        kind, params = str(body.get("kind", "stream")), body.get("params")
        state = current_app.extensions.get("claude_web")
        if state is not None and kind in ("stream", "create") and isinstance(params, dict):
            # the same rules as the chat endpoint: allowed models, max_tokens cap, message limits, then the quota
            try:
                params = {**params, **state.chat_policy.validate(params)}
            except ChatRequestError as exc:
                return jsonify(ChatRequestError(f"params.{exc.field}", exc.message).to_dict()), 400
            try:
                state.ext.check_quota()
            except QuotaExceeded as exc:
                return quota_response(exc)
        try:
            job = svc().start(kind, params, owner=current, alias=body.get("alias", "default"))
        except JobRequestError as exc:
            return jsonify(exc.to_dict()), 400
        return jsonify(
            {
                "job_id": job.id,
                "kind": job.kind,
                "state": job.state,
                "events_url": url_for(f"{bp.name}.events", job_id=job.id),
                "status_url": url_for(f"{bp.name}.status", job_id=job.id),
                "cancel_url": url_for(f"{bp.name}.cancel", job_id=job.id),
            }
        ), 202

    @bp.get("/<job_id>/events/")
    def events(job_id: str) -> Any:
        current = who()
        if current is None:
            return _error(403, "forbidden", "Sign in to use background jobs.")
        last_event_id = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
        try:
            frames = svc().sse(job_id, current, last_event_id)
        except JobNotFound:
            return _error(404, "not_found", "No such job.")
        except InvalidEventId:
            return _error(400, "invalid_request", "Bad Last-Event-ID.", field="Last-Event-ID")
        response = Response(frames, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache, no-transform"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    @bp.get("/<job_id>/")
    def status(job_id: str) -> Any:
        current = who()
        if current is None:
            return _error(403, "forbidden", "Sign in to use background jobs.")
        try:
            return jsonify(svc().status(job_id, current))
        except JobNotFound:
            return _error(404, "not_found", "No such job.")

    @bp.post("/<job_id>/cancel/")
    def cancel(job_id: str) -> Any:
        current = who()
        if current is None:
            return _error(403, "forbidden", "Sign in to use background jobs.")
        try:
            return jsonify(svc().cancel(job_id, current)), 202
        except JobNotFound:
            return _error(404, "not_found", "No such job.")

    return bp


jobs_blueprint = create_jobs_blueprint()
