"""The job endpoints: start (202), status, events (SSE from ``Last-Event-ID``), cancel.

Jobs follow the chat rules: ``CHAT["LOGIN_REQUIRED"]`` (an anonymous visitor may only start jobs when it is off,
owning them through their session), the model allow-list and ``max_tokens`` cap for every kind (each request of
a batch too), and the quota of whoever owns the job. A job belongs to its owner: anybody else gets 404 from every
endpoint. When the job store (Redis) cannot be reached the answer is 503 ``jobs_unavailable``, and the cause is
logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...jobs import PUBLIC_JOB_KINDS, JobNotFound
from ...relay import InvalidEventId
from ..errors import Forbidden, NotFound, RequestError, WebError, is_store_down, jobs_unavailable
from ..http import WebRequest, WebResponse
from ..protocols import stream_protocol
from ..sse import sse_headers
from .common import AsyncGuardedBody, GuardedBody, guarded, json_body, protocol_name, require_login

if TYPE_CHECKING:
    from ...jobs import JobService
    from ..runtime import WebRuntime

__all__ = ["JobUrls", "job_cancel", "job_events", "job_start", "job_status"]

log = logging.getLogger("claude_web.web")

_START_FIELDS = ("kind", "params", "alias")


@dataclass(frozen=True)
class JobUrls:
    """How the adapter spells a job's URLs: ``events(job_id)``, ``status(job_id)``, ``cancel(job_id)``."""

    events: Callable[[str], str]
    status: Callable[[str], str]
    cancel: Callable[[str], str]


_unavailable = jobs_unavailable
_is_store_down = is_store_down


def _service(runtime: WebRuntime) -> JobService:
    return runtime.job_service()


def _owner(request: WebRequest, runtime: WebRuntime, owner: str | None | _Default) -> str:
    """The job owner: the app's own answer when it has an owner hook (``JOBS["OWNER"]``), else the signed-in
    user, else (only when ``CHAT["LOGIN_REQUIRED"]`` is off) the visitor's session."""
    if isinstance(owner, _Default):
        require_login(request, runtime.settings.chat.login_required, "Log in to use background jobs.")
        owner = request.principal.owner
    if not owner:
        raise Forbidden("Background jobs need a signed-in user or a session.")
    return owner


class _Default:
    """No owner hook: the owner comes from the request's principal."""


def _quota_key(request: WebRequest, who: str, owner: str | None | _Default) -> str:
    """Whose quota a new job counts against: its owner, except an anonymous visitor's session (a client that drops
    cookies gets a new session on every request): then its address, as for the visitor's chats."""
    if isinstance(owner, _Default) and not request.principal.authenticated:
        return f"ip:{request.remote_addr or 'unknown'}"
    return who


PRINCIPAL = _Default()


def _checked_params(runtime: WebRuntime, kind: str, params: Any) -> Any:
    policy = runtime.chat_policy
    if kind in ("stream", "create"):
        if not isinstance(params, dict):
            raise RequestError("params", "must be a JSON object")
        extra = {k: v for k, v in params.items() if k in ("tools", "tool_choice", "stop_sequences", "thinking")}
        checked = policy.validate({k: v for k, v in params.items() if k not in extra}, where="params.")
        return {**checked, **extra}
    if kind == "batch":
        requests = params.get("requests") if isinstance(params, dict) else None
        if not isinstance(requests, list):
            raise RequestError("params.requests", "must be a non-empty list")
        out = []
        for i, item in enumerate(requests):
            if not isinstance(item, dict) or not isinstance(item.get("params"), dict):
                raise RequestError(f"params.requests[{i}]", "must be {'custom_id': ..., 'params': {...}}")
            checked = policy.validate(item["params"], where=f"params.requests[{i}].params.")
            out.append({**item, "params": checked})
        return {**params, "requests": out}
    raise RequestError("kind", f"must be one of {', '.join(PUBLIC_JOB_KINDS)}")


@guarded
def job_start(
    runtime: WebRuntime, request: WebRequest, *, urls: JobUrls, owner: str | None | _Default = PRINCIPAL
) -> WebResponse:
    """``POST {"kind": "stream"|"create"|"batch", "params": {...}, "alias"?}`` -> 202 with the job's URLs."""
    who = _owner(request, runtime, owner)
    body = json_body(request)
    unknown = sorted(set(body) - set(_START_FIELDS))
    if unknown:
        raise RequestError(unknown[0], "unknown field")
    kind = body.get("kind", "stream")
    if not isinstance(kind, str):
        raise RequestError("kind", f"must be one of {', '.join(PUBLIC_JOB_KINDS)}")
    params = _checked_params(runtime, kind, body.get("params"))
    admitted = runtime.admit(
        _quota_key(request, who, owner), params if isinstance(params, dict) else {}, alias=body.get("alias"), job=True
    )
    try:
        service = _service(runtime)
        job = service.start(
            kind, params, owner=who, alias=body.get("alias", runtime.settings.chat.client), context=admitted
        )
    except BaseException as exc:
        runtime.release(admitted, force=True)  # nothing was queued: give the job's reservation back
        if not isinstance(exc, WebError) and _is_store_down(exc):
            raise _unavailable(exc) from exc
        raise
    data = {
        "job_id": job.id,
        "kind": job.kind,
        "state": job.state,
        "events_url": urls.events(job.id),
        "status_url": urls.status(job.id),
        "cancel_url": urls.cancel(job.id),
    }
    return WebResponse(202, {}, json=data)


def _lookup(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except JobNotFound:
        raise NotFound("No such job.") from None
    except InvalidEventId as exc:
        problem = "is beyond the last event of this job" if exc.beyond else "is not an event id of this job"
        raise RequestError("Last-Event-ID", problem) from None
    except WebError:
        raise
    except Exception as exc:
        if _is_store_down(exc):
            raise _unavailable(exc) from exc
        raise


@guarded
def job_status(
    runtime: WebRuntime, request: WebRequest, job_id: str, *, owner: str | None | _Default = PRINCIPAL
) -> WebResponse:
    who = _owner(request, runtime, owner)
    service = _service(runtime)
    return WebResponse(200, {}, json=_lookup(lambda: service.status(job_id, who)))


@guarded
def job_cancel(
    runtime: WebRuntime, request: WebRequest, job_id: str, *, owner: str | None | _Default = PRINCIPAL
) -> WebResponse:
    who = _owner(request, runtime, owner)
    _service(runtime)
    return WebResponse(202, {}, json=_lookup(lambda: runtime.cancel_job(job_id, who)))


@guarded
def job_events(
    runtime: WebRuntime,
    request: WebRequest,
    job_id: str,
    *,
    owner: str | None | _Default = PRINCIPAL,
    asynchronous: bool = False,
    protocol: str | None = None,
) -> WebResponse:
    """``GET`` -> the job's events after ``Last-Event-ID`` (header, or ``?last_event_id=``) until its last one;
    in the AI SDK's protocol (``protocol="ai-sdk"`` or ``?protocol=ai-sdk``) all of them, as one UI message whose
    id is the job id.

    ``asynchronous=True`` (ASGI) reads the relay on the event loop, so open readers take no thread while they
    wait. A malformed id, or one beyond the last event of an unfinished job, is a 400 naming ``Last-Event-ID``.
    """
    who = _owner(request, runtime, owner)
    proto = stream_protocol(protocol_name(request, protocol), message_id=job_id)
    service = _service(runtime)
    last = None if proto.replay else request.last_event_id or request.query.get("last_event_id") or None
    retry = runtime.settings.streaming.retry
    headers = sse_headers(request.request_id, protocol=proto)
    if asynchronous:
        aframes = _lookup(lambda: service.asse(job_id, who, last, retry=retry, protocol=proto))
        runtime.streams.acquire()
        return WebResponse(200, headers, astream=AsyncGuardedBody(aframes, runtime.streams.release))
    frames = _lookup(lambda: service.sse(job_id, who, last, retry=retry, protocol=proto))
    runtime.streams.acquire()
    return WebResponse(200, headers, stream=GuardedBody(frames, runtime.streams.release))
