"""Django URLs for conversations kept on the server, over the web layer's conversation handlers.

Include them under any prefix; the namespace is ``claude_web_conversations``::

    # urls.py
    urlpatterns = [path("ai/conversations/", include("claude_web_django.conversations"))]

    # settings.py
    CLAUDE_WEB = {
        "ASSISTANTS": {"default": {"MODEL": "claude-haiku-4-5", "SYSTEM": "You are ...", "TOOLS": [...]}},
        "CONVERSATIONS": {"PAGE_SIZE": 20},
    }

Endpoints (see :mod:`claude_web.web.handlers.conversations`): ``GET``/``POST`` ``""`` (list, create),
``GET``/``PATCH``/``DELETE`` ``<id>/``, ``POST <id>/messages/`` (the answer as SSE), ``GET <id>/events/``
(resume with ``Last-Event-ID``), ``POST <id>/stop/``; for the Vercel AI SDK's ``useChat``
(:mod:`claude_web.web.handlers.aisdk`): ``POST ai-sdk/`` (the transport's ``api``), ``GET ai-sdk/<id>/stream``
(resume; 204 when there is nothing to resume), ``POST ai-sdk/<id>/stop``. The streams of ``messages/`` and
``events/`` take ``?protocol=ai-sdk``, or a ``protocol`` URL kwarg (``path(..., messages, {"protocol": "ai-sdk"})``).
Each answer runs as a job (``CLAUDE_WEB["JOBS"]``:
in-process threads, or Celery workers with ``REDIS_URL``; workers registered with
:func:`claude_web_django.jobs.register_tasks` reach the same models). The views are not CSRF-exempt: send
Django's ``X-CSRFToken`` header.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, path, re_path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claude_web.web.handlers import (
    ConversationUrls,
    aisdk_chat,
    aisdk_resume,
    aisdk_stop,
    conversation_collection,
    conversation_events,
    conversation_post,
    conversation_resource,
    conversation_stop,
)

from .http import django_response, is_asgi, web_request
from .runtime import get_runtime

__all__ = [
    "ai_sdk_chat",
    "ai_sdk_stop",
    "ai_sdk_stream",
    "app_name",
    "collection",
    "events",
    "messages",
    "resource",
    "stop",
    "urlpatterns",
]


def _urls(request: HttpRequest) -> ConversationUrls:
    namespace = getattr(request.resolver_match, "namespace", "") or "claude_web_conversations"

    def url(name: str) -> Callable[[str], str]:
        def build(conversation_id: str) -> str:
            try:
                return reverse(f"{namespace}:{name}", args=[conversation_id])
            except NoReverseMatch:
                return ""

        return build

    return ConversationUrls(detail=url("detail"), messages=url("messages"), events=url("events"), stop=url("stop"))


@require_http_methods(["GET", "POST"])
def collection(request: HttpRequest) -> HttpResponseBase:
    neutral = web_request(request, read_body=request.method == "POST", session=True)
    return django_response(conversation_collection(get_runtime(), neutral, urls=_urls(request)))


@require_http_methods(["GET", "PATCH", "POST", "DELETE"])
def resource(request: HttpRequest, conversation_id: str) -> HttpResponseBase:
    neutral = web_request(request, read_body=request.method in ("PATCH", "POST"), session=True)
    return django_response(conversation_resource(get_runtime(), neutral, conversation_id, urls=_urls(request)))


@require_POST
def messages(request: HttpRequest, conversation_id: str, protocol: str | None = None) -> HttpResponseBase:
    neutral = web_request(request, session=True)
    response = conversation_post(
        get_runtime(), neutral, conversation_id, asynchronous=is_asgi(request), protocol=protocol
    )
    return django_response(response)


@require_GET
def events(request: HttpRequest, conversation_id: str, protocol: str | None = None) -> HttpResponseBase:
    neutral = web_request(request, read_body=False, session=True)
    response = conversation_events(
        get_runtime(), neutral, conversation_id, asynchronous=is_asgi(request), protocol=protocol
    )
    return django_response(response)


@require_POST
def ai_sdk_chat(request: HttpRequest) -> HttpResponseBase:
    """``useChat``'s transport ``api``: its body in, the answer out as a UI message stream."""
    neutral = web_request(request, session=True)
    return django_response(aisdk_chat(get_runtime(), neutral, asynchronous=is_asgi(request)))


@require_GET
def ai_sdk_stream(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    """``useChat({ resume: true })``'s resume: the answer in progress from its start, or 204."""
    neutral = web_request(request, read_body=False, session=True)
    return django_response(aisdk_resume(get_runtime(), neutral, chat_id, asynchronous=is_asgi(request)))


@require_POST
def ai_sdk_stop(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    """Stop the chat's answer in progress (its upstream call is closed) -> 202."""
    neutral = web_request(request, read_body=False, session=True)
    return django_response(aisdk_stop(get_runtime(), neutral, chat_id))


@require_POST
def stop(request: HttpRequest, conversation_id: str) -> HttpResponseBase:
    neutral = web_request(request, read_body=False, session=True)
    return django_response(conversation_stop(get_runtime(), neutral, conversation_id))


app_name = "claude_web_conversations"
urlpatterns = [
    path("", collection, name="list"),
    path("ai-sdk/", ai_sdk_chat, name="ai_sdk"),  # before <id>/: "ai-sdk" is never a conversation id (too short)
    re_path(r"^ai-sdk/(?P<chat_id>[A-Za-z0-9_-]{1,64})/stream/?$", ai_sdk_stream, name="ai_sdk_stream"),
    re_path(r"^ai-sdk/(?P<chat_id>[A-Za-z0-9_-]{1,64})/stop/?$", ai_sdk_stop, name="ai_sdk_stop"),
    path("<str:conversation_id>/", resource, name="detail"),
    path("<str:conversation_id>/messages/", messages, name="messages"),
    path("<str:conversation_id>/events/", events, name="events"),
    path("<str:conversation_id>/stop/", stop, name="stop"),
]
