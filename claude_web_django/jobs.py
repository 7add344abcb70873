"""Django views for background jobs: start (202), SSE events with ``Last-Event-ID``, status, cancel.

Include them under any prefix; the namespace is ``claude_web_jobs``::

    # urls.py
    urlpatterns = [path("ai/jobs/", include("claude_web_django.jobs"))]

    # settings.py
    CLAUDE_WEB = {
        "JOBS": {
            "REDIS_URL": "redis://127.0.0.1:6379/0",   # omit it: jobs run in threads of the web process
            "CELERY_APP": "proj.celery.app",            # default: celery.current_app
            "CLIENT_FACTORY": "proj.claude.make_client",  # callable(alias) -> Anthropic (optional)
            "USAGE_RECORDER": "proj.claude.record_usage",  # callable(UsageRecord), runs in the worker (optional)
            "OWNER": "proj.claude.job_owner",           # callable(request) -> str | None (optional)
        },
    }

    # proj/celery.py, after ``app = Celery(...)``
    from claude_web_django.jobs import register_tasks
    register_tasks(app)

Endpoints (names in the namespace): ``start`` ``POST {"kind": "stream"|"create"|"batch", "params": {...},
"alias": "default"}`` -> 202 ``{"job_id", "events_url", "status_url", "cancel_url"}``; ``events`` ``GET`` ->
``text/event-stream`` from the ``Last-Event-ID`` header (or ``?last_event_id=``); ``status`` ``GET``;
``cancel`` ``POST``. A job belongs to the user who started it (an anonymous visitor: their session); anybody
else gets 404 from every endpoint.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_POST

from claude_web.chat import ChatRequestError
from claude_web.jobs import JobNotFound, JobRequestError, JobsConfig, JobService, import_string
from claude_web.quotas import QuotaExceeded
from claude_web.relay import InvalidEventId
from claude_web.usage import UsageRecord

from .conf import claude_settings
from .quotas import check_quota, quota_exceeded_response

__all__ = [
    "app_name",
    "get_job_service",
    "job_cancel",
    "job_events",
    "job_owner",
    "job_status",
    "jobs_config",
    "register_tasks",
    "set_job_service",
    "start_job",
    "urlpatterns",
]

log = logging.getLogger("claude_web_django.jobs")

_ADAPTER_KEYS = ("OWNER",)
_lock = threading.Lock()
_service: JobService | None = None


def _settings() -> dict[str, Any]:
    root = getattr(settings, "CLAUDE_WEB", None) or {}
    jobs = root.get("JOBS") if isinstance(root, dict) else None
    return dict(jobs or {})


def record_job_usage(record: UsageRecord) -> None:
    """The default ``USAGE_RECORDER`` of Django jobs: the job owner (``"user:<pk>"``) becomes the ledger row's user
    and quota key, as for requests, then the record goes out through :data:`~claude_web_django.usage_recorded`."""
    from .signals import emit_usage

    owner = record.context.get("user")
    if isinstance(owner, str) and owner.startswith("user:"):
        pk = owner[5:]
        record.context = {**record.context, "user_id": int(pk) if pk.isdigit() else pk, "quota_key": owner}
    emit_usage(record, str(record.context.get("alias") or "default"))


def jobs_config() -> JobsConfig:
    """The :class:`~claude_web.jobs.JobsConfig` from ``settings.CLAUDE_WEB["JOBS"]``.

    Unless set there, jobs use the app's own clients (``CLAUDE_WEB["CLIENTS"]``, ``CLIENT_FACTORY`` =
    :func:`claude_web_django.clients.get_client`) and write their usage to the ledger under the job's owner
    (``USAGE_RECORDER`` = :func:`record_job_usage`).
    """
    data = {k: v for k, v in _settings().items() if k not in _ADAPTER_KEYS}
    data.setdefault("CLIENT_FACTORY", "claude_web_django.clients.get_client")
    data.setdefault("USAGE_RECORDER", "claude_web_django.jobs.record_job_usage")
    try:
        return JobsConfig.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f'settings.CLAUDE_WEB["JOBS"]: {exc}') from exc


def get_job_service() -> JobService:
    """The process's :class:`~claude_web.jobs.JobService`, built from settings on first use."""
    global _service
    with _lock:
        if _service is None:
            _service = JobService.from_config(jobs_config())
        return _service


def set_job_service(service: JobService | None) -> None:
    """Replace the process's service (tests; ``None`` rebuilds it from settings on next use)."""
    global _service
    with _lock:
        old, _service = _service, service
    if old is not None and old is not service:
        old.close()


def _reset(setting: str = "", **_: Any) -> None:
    if setting == "CLAUDE_WEB":
        set_job_service(None)


setting_changed.connect(_reset, dispatch_uid="claude_web_django.jobs.reset")


def register_tasks(app: Any) -> dict[str, Any]:
    """Register the claude-web Celery tasks on ``app`` with the jobs settings (read in the worker on first use)."""
    from claude_web.celery import register_tasks as register

    return register(app, config=jobs_config)


def job_owner(request: HttpRequest) -> str | None:
    """Who owns jobs started by ``request``: ``JOBS["OWNER"](request)`` when set, else the logged-in user, else
    the visitor's session; ``None`` (403) when there is neither."""
    custom = _settings().get("OWNER")
    if custom is not None:
        func: Callable[[HttpRequest], str | None] = import_string(custom) if isinstance(custom, str) else custom
        owner = func(request)
        return str(owner) if owner else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    session = getattr(request, "session", None)
    if session is None:
        return None
    if not session.session_key:
        session.save()
    return f"session:{session.session_key}" if session.session_key else None


async def _async_frames(frames: Iterator[str]) -> AsyncIterator[str]:
    """Under ASGI: pull each frame in a worker thread (Django would otherwise read a sync iterator to its end
    before sending anything, which defeats streaming)."""
    pull = sync_to_async(next, thread_sensitive=False)
    done = object()
    while True:
        frame = await pull(frames, done)
        if frame is done:
            return
        yield frame


def _error(status: int, kind: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"type": kind, "message": message, **extra}}, status=status)


def _not_found() -> JsonResponse:
    return _error(404, "not_found", "No such job.")


def _forbidden() -> JsonResponse:
    return _error(403, "forbidden", "Sign in to use background jobs.")


def _url(request: HttpRequest, name: str, job_id: str, fallback: str) -> str:
    namespace = getattr(request.resolver_match, "namespace", "") or "claude_web_jobs"
    try:
        return reverse(f"{namespace}:{name}", args=[job_id])
    except NoReverseMatch:
        return request.path.rstrip("/") + f"/{job_id}/{fallback}"


@require_POST
def start_job(request: HttpRequest) -> HttpResponse:
    owner = job_owner(request)
    if owner is None:
        return _forbidden()
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "invalid_request", "The body must be JSON.", field="body")
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The body must be a JSON object.", field="body")
    unknown = sorted(set(body) - {"kind", "params", "alias"})
    if unknown:
        return _error(400, "invalid_request", "Unknown field.", field=unknown[0])
    kind = str(body.get("kind", "stream"))
    params = body.get("params")
    if kind in ("stream", "create") and isinstance(params, dict):
        # the same rules as the chat views: allowed models, the max_tokens cap, message limits, then the quota
        try:
            params = {**params, **claude_settings().chat.policy().validate(params)}
        except ChatRequestError as exc:
            return JsonResponse(ChatRequestError(f"params.{exc.field}", exc.message).to_dict(), status=400)
        if owner.startswith("user:"):
            try:
                check_quota(owner)
            except QuotaExceeded as exc:
                return quota_exceeded_response(exc)
    service = get_job_service()
    try:
        job = service.start(kind, params, owner=owner, alias=body.get("alias", "default"))
    except JobRequestError as exc:
        return JsonResponse(exc.to_dict(), status=400)
    data = {
        "job_id": job.id,
        "kind": job.kind,
        "state": job.state,
        "events_url": _url(request, "events", job.id, "events/"),
        "status_url": _url(request, "status", job.id, ""),
        "cancel_url": _url(request, "cancel", job.id, "cancel/"),
    }
    return JsonResponse(data, status=202)


@require_GET
def job_events(request: HttpRequest, job_id: str) -> HttpResponse:
    owner = job_owner(request)
    if owner is None:
        return _forbidden()
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    try:
        frames = get_job_service().sse(job_id, owner, last_event_id)
    except JobNotFound:
        return _not_found()
    except InvalidEventId:
        return _error(400, "invalid_request", "Bad Last-Event-ID.", field="Last-Event-ID")
    content: Any = _async_frames(frames) if isinstance(request, ASGIRequest) else frames
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


@require_GET
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    owner = job_owner(request)
    if owner is None:
        return _forbidden()
    try:
        return JsonResponse(get_job_service().status(job_id, owner))
    except JobNotFound:
        return _not_found()


@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    owner = job_owner(request)
    if owner is None:
        return _forbidden()
    try:
        return JsonResponse(get_job_service().cancel(job_id, owner), status=202)
    except JobNotFound:
        return _not_found()


app_name = "claude_web_jobs"
urlpatterns = [
    path("", start_job, name="start"),
    path("<str:job_id>/", job_status, name="status"),
    path("<str:job_id>/events/", job_events, name="events"),
    path("<str:job_id>/cancel/", job_cancel, name="cancel"),
]
