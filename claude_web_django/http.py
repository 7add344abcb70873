"""Django requests to the web layer's neutral requests, and its neutral responses back to Django responses.

>>> def view(request):
...     return django_response(chat_stream(get_runtime(), web_request(request)))
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse

from claude_web.web.http import Principal, WebRequest, WebResponse, request_id_from

from .conf import claude_settings

__all__ = ["aweb_request", "django_response", "is_asgi", "request_id", "web_request"]


def is_asgi(request: Any) -> bool:
    return isinstance(request, ASGIRequest)


def request_id(request: Any) -> str:
    """The request's id: the ``X-Request-ID`` header (``STREAMING["REQUEST_ID_HEADER"]``), cleaned, or a new one."""
    cached = getattr(request, "_claude_web_request_id", None)
    if isinstance(cached, str):
        return cached
    header = claude_settings().streaming.request_id_header
    headers = getattr(request, "headers", None)
    rid = request_id_from(headers.get(header) if headers is not None else None)
    try:
        request._claude_web_request_id = rid
    except AttributeError:
        pass
    return rid


def loaded_user(request: Any) -> Any:
    """``request.user`` if it is safe to read here (never triggers a query inside an event loop)."""
    cached = getattr(request, "_acached_user", None) or getattr(request, "_cached_user", None)
    if cached is not None:
        return cached
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return getattr(request, "user", None)
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", None)
    if user is not None and wrapped is None:
        return user  # a plain user object, not a lazy one
    from django.utils.functional import empty

    return None if wrapped is empty else wrapped


def principal(request: Any, user: Any = None, *, session: bool = False) -> Principal:
    """Who is asking: the signed-in user, else (``session=True``) the visitor's session, created if needed."""
    if user is None:
        user = loaded_user(request)
    if user is not None and getattr(user, "is_authenticated", False):
        return Principal(user_id=user.pk)
    key = None
    store = getattr(request, "session", None) if session else None
    if store is not None:
        if not store.session_key:
            store.save()
        key = store.session_key
    return Principal(session_key=key)


def web_request(request: HttpRequest, user: Any = None, *, read_body: bool = True, session: bool = False) -> WebRequest:
    """The neutral request of a Django request (``read_body=False`` for metadata only)."""
    body = b""
    refused: tuple[int, int] | None = None
    if read_body:
        try:
            body = request.body
        except RequestDataTooBig:
            from django.conf import settings

            try:
                size = int(request.META.get("CONTENT_LENGTH") or -1)
            except ValueError:
                size = -1
            refused = (size, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0))
    return WebRequest(
        method=request.method or "GET",
        path=request.path,
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
        principal=principal(request, user, session=session),
        request_id=request_id(request),
        remote_addr=request.META.get("REMOTE_ADDR") or "",
        last_event_id=request.headers.get("Last-Event-ID"),
        query={k: str(v) for k, v in request.GET.items()},
        body_refused=refused,
    )


async def aweb_request(request: HttpRequest, *, read_body: bool = True) -> WebRequest:
    """The async twin of :func:`web_request`: loads the user with ``await request.auser()``."""
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else getattr(request, "user", None)
    return web_request(request, user, read_body=read_body)


def django_response(response: WebResponse) -> HttpResponseBase:
    """A ``JsonResponse`` or a ``StreamingHttpResponse`` (sync or async body) for a neutral response."""
    out: HttpResponseBase
    if response.streaming:
        content: Any = response.astream if response.astream is not None else response.stream
        headers = dict(response.headers)
        content_type = headers.pop("Content-Type", "text/event-stream; charset=utf-8")
        streaming = StreamingHttpResponse(content, status=response.status, content_type=content_type)
        for name, value in headers.items():
            streaming[name] = value
        return streaming
    if response.status == 204:  # No Content: no body at all (a JSON "null" would break the HTTP framing)
        out = HttpResponse(status=204)
    else:
        out = JsonResponse(response.json, status=response.status, safe=False)
    for name, value in response.headers.items():
        out[name] = value
    return out
