"""The conversation endpoints, for Django and Flask alike.

==========================  =========  ==============================================================
URL (the adapters' spelling)  method     what
==========================  =========  ==============================================================
``conversations/``           GET        my conversations, newest first: ``?page=N`` (``PAGE_SIZE`` each)
``conversations/``           POST       create: ``{"assistant"?, "title"?}`` -> 201
``conversations/<id>/``      GET        one, with its messages and the answer in progress (if any)
``conversations/<id>/``      PATCH      rename: ``{"title"}`` (POST works too)
``conversations/<id>/``      DELETE     delete
``<id>/messages/``           POST       ``{"message": "..."}`` -> the answer as Server-Sent Events
``<id>/events/``             GET        the latest answer's events again, after ``Last-Event-ID``
``<id>/stop/``               POST       stop the answer in progress -> 202
``ai-sdk/``                  POST       the AI SDK's ``useChat`` transport (:mod:`~claude_web.web.handlers.aisdk`)
``ai-sdk/<id>/stream``       GET        its resume (204: nothing to resume)
``ai-sdk/<id>/stop``         POST       its Stop
==========================  =========  ==============================================================

The streams (``messages/``, ``events/``) speak our event vocabulary, or the AI SDK's UI message stream with
``?protocol=ai-sdk`` (or the adapter's ``protocol`` option); ``GET <id>/?protocol=ai-sdk`` gives the messages as
``useChat`` UI messages (:func:`~claude_web.web.aisdk_history.ui_messages`), for its ``messages`` option.

Events: ``start`` ``{id, model, message_id}``, ``text``, ``thinking``, ``tool_use {id, name, input}``,
``tool_result {tool_use_id, name, content, is_error}``, ``done {stop_reason, usage, cost}`` once per upstream call
(the last one also carries ``conversation`` with its new totals and ``message_ids``), or ``error`` /
``cancelled``. Every event has an id; send the last one as ``Last-Event-ID`` to the events URL to resume.

Refusals are JSON ``{"error": {"type", "message", "field"?}}`` with a sentence the user can read: 400 (an empty
or too long message, an unknown assistant, a bad title), 401 (login required), 404 (not yours, deleted,
missing: the same answer), 409 (an answer is still running), 415, 429 (quota), 503 (jobs unavailable). None of
them makes an upstream call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Forbidden, RequestError, WebError
from ..http import WebRequest, WebResponse
from ..protocols import stream_protocol
from ..sse import StreamProtocol, sse_headers, write_events
from .common import (
    AsyncGuardedBody,
    GuardedBody,
    guarded,
    iterate_in_thread,
    json_body,
    protocol_name,
    require_login,
)

if TYPE_CHECKING:
    from ..conversations import ChatMessage, Conversation, ConversationService
    from ..runtime import WebRuntime

__all__ = [
    "ConversationUrls",
    "conversation_collection",
    "conversation_create",
    "conversation_delete",
    "conversation_detail",
    "conversation_events",
    "conversation_list",
    "conversation_post",
    "conversation_rename",
    "conversation_resource",
    "conversation_stop",
]


@dataclass(frozen=True)
class ConversationUrls:
    """How the adapter spells a conversation's URLs (each a function of the conversation id)."""

    detail: Callable[[str], str]
    messages: Callable[[str], str]
    events: Callable[[str], str]
    stop: Callable[[str], str]


class MethodNotAllowed(WebError):
    status = 405
    type = "method_not_allowed"


def _owner(runtime: WebRuntime, request: WebRequest) -> str:
    require_login(request, runtime.settings.chat.login_required, "Log in to use conversations.")
    owner = request.principal.owner
    if not owner:
        raise Forbidden("Conversations need a signed-in user or a session.")
    return owner


def _service(runtime: WebRuntime) -> ConversationService:
    return runtime.conversations


def _conversation_json(conv: Conversation, urls: ConversationUrls | None) -> dict[str, Any]:
    data = conv.to_dict()
    if urls is not None:
        data["urls"] = {
            "detail": urls.detail(conv.id),
            "messages": urls.messages(conv.id),
            "events": urls.events(conv.id),
            "stop": urls.stop(conv.id),
        }
    return data


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise RequestError(unknown[0], f"is not something this endpoint takes (it takes: {', '.join(allowed)}).")


# -- the collection -----------------------------------------------------------------------------------------


@guarded
def conversation_list(runtime: WebRuntime, request: WebRequest, *, urls: ConversationUrls | None = None) -> WebResponse:
    """``GET ?page=N`` -> ``{"conversations": [...], "page", "has_more", "assistants": [...]}``."""
    owner = _owner(runtime, request)
    raw = request.query.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        page = 0
    if page < 1 or page > 100_000:
        raise RequestError("page", "The page must be a whole number from 1.")
    found, more = _service(runtime).page(owner, page)
    assistants = [a.public() for a in runtime.settings.assistants.values()]
    body = {
        "conversations": [_conversation_json(c, urls) for c in found],
        "page": page,
        "has_more": more,
        "assistants": assistants,
        "default_assistant": runtime.settings.conversations.default_assistant,
    }
    return WebResponse(200, {}, json=body)


@guarded
def conversation_create(
    runtime: WebRuntime, request: WebRequest, *, urls: ConversationUrls | None = None
) -> WebResponse:
    """``POST {"assistant"?, "title"?}`` -> 201 ``{"conversation": {...}}``."""
    owner = _owner(runtime, request)
    body = json_body(request)
    _fields(body, ("assistant", "title"))
    conv = _service(runtime).create(
        owner, request.principal.user_id, assistant=body.get("assistant"), title=body.get("title")
    )
    return WebResponse(201, {}, json={"conversation": _conversation_json(conv, urls)})


def conversation_collection(
    runtime: WebRuntime, request: WebRequest, *, urls: ConversationUrls | None = None
) -> WebResponse:
    """``GET`` lists, ``POST`` creates (one URL, for adapters that route by path only)."""
    if request.method == "GET":
        return conversation_list(runtime, request, urls=urls)
    if request.method == "POST":
        return conversation_create(runtime, request, urls=urls)
    return MethodNotAllowed("Use GET or POST here.", headers={"Allow": "GET, POST"}).response()  # type: ignore[no-any-return]


# -- one conversation ---------------------------------------------------------------------------------------


def _message_json(message: ChatMessage) -> dict[str, Any]:
    return message.to_dict()


@guarded
def conversation_detail(
    runtime: WebRuntime, request: WebRequest, conversation_id: str, *, urls: ConversationUrls | None = None
) -> WebResponse:
    """``GET`` -> ``{"conversation", "messages", "active_turn": {"id", "question_id", "events_url"} | null}``;
    with ``?protocol=ai-sdk`` the messages are ``useChat`` UI messages."""
    owner = _owner(runtime, request)
    ui = protocol_name(request) == "ai-sdk"
    conv, messages, job = _service(runtime).detail(conversation_id, owner)
    active = None
    if job is not None:
        question = next((m.id for m in messages if m.job_id == job.id and m.role == "user"), None)
        active = {"id": job.id, "question_id": question, "events_url": urls.events(conv.id) if urls else None}
    if ui:
        from ..aisdk_history import ui_messages

        shown: list[dict[str, Any]] = ui_messages(messages, running=None if job is None else job.id)
    else:
        shown = [_message_json(m) for m in messages]
    body = {"conversation": _conversation_json(conv, urls), "messages": shown, "active_turn": active}
    return WebResponse(200, {}, json=body)


@guarded
def conversation_rename(
    runtime: WebRuntime, request: WebRequest, conversation_id: str, *, urls: ConversationUrls | None = None
) -> WebResponse:
    """``PATCH {"title"}`` -> ``{"conversation": {...}}``."""
    owner = _owner(runtime, request)
    body = json_body(request)
    _fields(body, ("title",))
    if "title" not in body:
        raise RequestError("title", "Send the new title.")
    conv = _service(runtime).rename(conversation_id, owner, body["title"])
    return WebResponse(200, {}, json={"conversation": _conversation_json(conv, urls)})


@guarded
def conversation_delete(runtime: WebRuntime, request: WebRequest, conversation_id: str) -> WebResponse:
    """``DELETE`` -> ``{"id", "deleted": true}`` (an answer in progress is stopped)."""
    owner = _owner(runtime, request)
    _service(runtime).delete(conversation_id, owner)
    return WebResponse(200, {}, json={"id": conversation_id, "deleted": True})


def conversation_resource(
    runtime: WebRuntime, request: WebRequest, conversation_id: str, *, urls: ConversationUrls | None = None
) -> WebResponse:
    """``GET`` reads, ``PATCH``/``POST`` renames, ``DELETE`` deletes (one URL)."""
    if request.method == "GET":
        return conversation_detail(runtime, request, conversation_id, urls=urls)
    if request.method in ("PATCH", "POST"):
        return conversation_rename(runtime, request, conversation_id, urls=urls)
    if request.method == "DELETE":
        return conversation_delete(runtime, request, conversation_id)
    error = MethodNotAllowed("Use GET, PATCH or DELETE here.", headers={"Allow": "GET, PATCH, POST, DELETE"})
    return error.response()  # type: ignore[no-any-return]


# -- turns --------------------------------------------------------------------------------------------------


def turn_protocol(name: str, turn: str, conversation_id: str) -> StreamProtocol:
    """The protocol of a turn's stream; in the AI SDK's, the UI message is the turn (its id is the turn's id,
    the same in the answer, its resume and :func:`~claude_web.web.aisdk_history.ui_messages`)."""
    return stream_protocol(name, message_id=turn, metadata={"conversation_id": conversation_id})


def stream_turn(
    runtime: WebRuntime,
    request: WebRequest,
    events: Any,
    turn: str,
    asynchronous: bool,
    protocol: StreamProtocol | None = None,
) -> WebResponse:
    """The SSE response of a turn's events (``X-Conversation-Turn`` names the turn)."""
    jobs = runtime.jobs
    frames = write_events(events, heartbeat=jobs.heartbeat, retry=runtime.settings.streaming.retry, protocol=protocol)
    runtime.streams.acquire()
    headers = sse_headers(request.request_id, {"X-Conversation-Turn": turn}, protocol=protocol)
    if asynchronous:
        return WebResponse(200, headers, astream=AsyncGuardedBody(iterate_in_thread(frames), runtime.streams.release))
    return WebResponse(200, headers, stream=GuardedBody(frames, runtime.streams.release))


@guarded
def conversation_post(
    runtime: WebRuntime,
    request: WebRequest,
    conversation_id: str,
    *,
    asynchronous: bool = False,
    protocol: str | None = None,
) -> WebResponse:
    """``POST {"message": "..."}`` -> ``text/event-stream`` of the answer (or the refusal as JSON)."""
    owner = _owner(runtime, request)
    name = protocol_name(request, protocol)
    body = json_body(request)
    _fields(body, ("message",))
    service = _service(runtime)
    conv, turn = service.post(request, conversation_id, owner, body.get("message"))
    proto = turn_protocol(name, turn, conv.id)
    return stream_turn(runtime, request, service.events(turn, owner, None), turn, asynchronous, proto)


@guarded
def conversation_events(
    runtime: WebRuntime,
    request: WebRequest,
    conversation_id: str,
    *,
    asynchronous: bool = False,
    protocol: str | None = None,
) -> WebResponse:
    """``GET`` -> the latest answer's events after ``Last-Event-ID`` (header, or ``?last_event_id=``); in the AI
    SDK's protocol all of them (a resume there is a replay)."""
    owner = _owner(runtime, request)
    name = protocol_name(request, protocol)
    service = _service(runtime)
    conv = service.get(conversation_id, owner)
    turn = str(conv.turn_job_id)
    proto = turn_protocol(name, turn, conv.id)
    last = None if proto.replay else request.last_event_id or request.query.get("last_event_id") or None
    events = service.events(conv.turn_job_id, owner, last)
    return stream_turn(runtime, request, events, turn, asynchronous, proto)


@guarded
def conversation_stop(runtime: WebRuntime, request: WebRequest, conversation_id: str) -> WebResponse:
    """``POST`` -> 202 ``{"turn", "state"}``: the answer stops at its next event (upstream call closed)."""
    owner = _owner(runtime, request)
    return WebResponse(202, {}, json=_service(runtime).stop(conversation_id, owner))
