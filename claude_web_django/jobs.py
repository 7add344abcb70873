"""Django views for background jobs over the web layer's job handlers: start (202), SSE events with
``Last-Event-ID``, status, cancel.

Include them under any prefix; the namespace is ``claude_web_jobs``::

    # urls.py
    urlpatterns = [path("ai/jobs/", include("claude_web_django.jobs"))]

    # settings.py
    CLAUDE_WEB = {
        "JOBS": {
            "REDIS_URL": "redis://127.0.0.1:6379/0",   # omit it: jobs run in threads of the web process
            "CELERY_APP": "proj.celery.app",            # default: celery.current_app
            "OWNER": "proj.claude.job_owner",           # callable(request) -> str | None (optional)
        },
    }

    # proj/celery.py, after ``app = Celery(...)``
    from claude_web_django.jobs import register_tasks
    register_tasks(app)

Jobs use the app's clients and write their usage rows under the job's owner. They follow the chat rules
(``CHAT["LOGIN_REQUIRED"]``, allowed models, ``max_tokens`` cap) and the owner's quota; somebody else's job is a
404 from every endpoint; an unreachable Redis is a 503 ``jobs_unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_POST

from claude_web.jobs import JobsConfig, JobService
from claude_web.web.clients import import_string
from claude_web.web.handlers import JobUrls
from claude_web.web.handlers import job_cancel as cancel_handler
from claude_web.web.handlers import job_events as events_handler
from claude_web.web.handlers import job_start as start_handler
from claude_web.web.handlers import job_status as status_handler
from claude_web.web.handlers.jobs import PRINCIPAL

from .http import django_response, is_asgi, web_request
from .runtime import get_runtime

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


def jobs_config() -> JobsConfig:
    """The :class:`~claude_web.jobs.JobsConfig` from ``settings.CLAUDE_WEB["JOBS"]``."""
    return get_runtime().jobs_config()  # type: ignore[no-any-return]


def get_job_service() -> JobService:
    """The process's :class:`~claude_web.jobs.JobService`, built from settings on first use."""
    return get_runtime().jobs


def set_job_service(service: JobService | None) -> None:
    """Replace the process's service (tests; ``None`` rebuilds it from settings on next use)."""
    get_runtime().set_jobs(service)


def register_tasks(app: Any) -> dict[str, Any]:
    """Register the claude-web Celery tasks on ``app`` with the jobs settings and this app's clients and ledger
    (read in the worker on first use)."""
    from claude_web.celery import register_tasks as register

    return register(app, config=jobs_config, runtime=get_runtime)


def job_owner(request: HttpRequest) -> str | None:
    """Who owns jobs started by ``request``: ``JOBS["OWNER"](request)`` when set, else the signed-in user, else
    the visitor's session (used only when ``CHAT["LOGIN_REQUIRED"]`` is off)."""
    owner = _hook_owner(request)
    if isinstance(owner, str) or owner is None:
        return owner
    return web_request(request, read_body=False, session=True).principal.owner


def _hook_owner(request: HttpRequest) -> Any:
    """``JOBS["OWNER"](request)`` when the hook is set, else the marker that means "the request's principal"."""
    custom = get_runtime().settings.jobs.get("OWNER")
    if custom is None:
        return PRINCIPAL
    func: Callable[[HttpRequest], str | None] = import_string(custom) if isinstance(custom, str) else custom
    owner = func(request)
    return str(owner) if owner else None


def _urls(request: HttpRequest) -> JobUrls:
    namespace = getattr(request.resolver_match, "namespace", "") or "claude_web_jobs"

    def url(name: str, fallback: str) -> Callable[[str], str]:
        def build(job_id: str) -> str:
            try:
                return reverse(f"{namespace}:{name}", args=[job_id])
            except NoReverseMatch:
                return request.path.rstrip("/") + f"/{job_id}/{fallback}"

        return build

    return JobUrls(events=url("events", "events/"), status=url("status", ""), cancel=url("cancel", "cancel/"))


@require_POST
def start_job(request: HttpRequest) -> HttpResponseBase:
    neutral = web_request(request, session=True)
    return django_response(start_handler(get_runtime(), neutral, urls=_urls(request), owner=_hook_owner(request)))


@require_GET
def job_events(request: HttpRequest, job_id: str, protocol: str | None = None) -> HttpResponseBase:
    """The job's events; ``protocol="ai-sdk"`` (a URL kwarg) or ``?protocol=ai-sdk`` for a UI message stream."""
    neutral = web_request(request, read_body=False, session=True)
    response = events_handler(
        get_runtime(), neutral, job_id, owner=_hook_owner(request), asynchronous=is_asgi(request), protocol=protocol
    )
    return django_response(response)


@require_GET
def job_status(request: HttpRequest, job_id: str) -> HttpResponseBase:
    neutral = web_request(request, read_body=False, session=True)
    return django_response(status_handler(get_runtime(), neutral, job_id, owner=_hook_owner(request)))


@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponseBase:
    neutral = web_request(request, read_body=False, session=True)
    return django_response(cancel_handler(get_runtime(), neutral, job_id, owner=_hook_owner(request)))


app_name = "claude_web_jobs"
urlpatterns = [
    path("", start_job, name="start"),
    path("<str:job_id>/", job_status, name="status"),
    path("<str:job_id>/events/", job_events, name="events"),
    path("<str:job_id>/cancel/", job_cancel, name="cancel"),
]
