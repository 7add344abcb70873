"""The Vercel AI SDK's ``useChat`` on conversations kept on the server: its transport, its resume, and Stop.

==============================  ======  ==================================================================
URL (under the conversations)   method  what
==============================  ======  ==================================================================
``ai-sdk/``                     POST    ``useChat``'s body -> the answer as a UI message stream (v1)
``ai-sdk/<chat id>/stream``     GET     the answer in progress again, from its start; 204 when there is none
``ai-sdk/<chat id>/stop``       POST    stop the answer in progress (the upstream call is closed) -> 202
==============================  ======  ==================================================================

Give ``useChat`` the first URL as its transport's ``api``: ``DefaultChatTransport`` GETs ``{api}/{chat id}/stream``
to resume (``useChat({ resume: true })``), and Stop is a ``POST`` to the third. The request body is the default
transport's ``{id, messages, trigger, messageId?}`` plus ``useChat``'s ``body`` option fields, of which only
``assistant`` is taken (the assistant of a new chat).

- The chat ``id`` IS a conversation id: a new id (8-32 letters, digits, ``_``, ``-``; ``useChat``'s own ids are
  16 random characters) creates a conversation of the signed-in user on first use; an id of somebody else's or a
  deleted conversation is a 404, as everywhere. Existing conversations (``POST conversations/``) work too.
- The browser's history is ignored: the stored conversation is the history. Only the text of the last user
  message is taken, as a new question (attachments are refused with 400).
- ``trigger: "regenerate-message"`` answers the latest stored question again
  (:meth:`~claude_web.web.conversations.ConversationService.regenerate`): the earlier answer leaves the prompt and
  the page (kept, marked ``error``, for the ledger and the admin); only the latest answer can be regenerated.
- The answer's UI message id is the turn's id, and its ``start`` metadata carries ``conversation_id``; the finish
  carries ``stop_reason``, ``usage`` and ``cost`` summed over the turn's upstream calls.
- Closing the response (``useChat``'s ``stop()``, a reload, a lost connection) does NOT stop the answer: it runs
  on as a job and can be resumed. Stop is the third URL; the stream then ends with ``abort`` and ``finish``.
- A resume replays the whole answer (``ai`` >= 7 expects a replay) while it is being written; once it has ended
  there is nothing to resume (204) and the stored messages have it (``GET conversations/<id>/?protocol=ai-sdk``).

Refusals are the conversation endpoints' JSON errors (``useChat`` shows their text): 400, 401, 404, 409 (an
answer is still running), 415, 429, 503.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..aisdk_request import parse_chat_request
from ..errors import NotFound, RequestError
from ..http import WebRequest, WebResponse
from .common import guarded, json_body
from .conversations import _owner, stream_turn, turn_protocol

if TYPE_CHECKING:
    from ..runtime import WebRuntime

__all__ = ["aisdk_chat", "aisdk_resume", "aisdk_stop"]

_BODY_FIELDS = ("assistant",)


@guarded
def aisdk_chat(runtime: WebRuntime, request: WebRequest, *, asynchronous: bool = False) -> WebResponse:
    """``POST`` ``useChat``'s body -> the answer as a UI message stream (or the refusal as JSON)."""
    owner = _owner(runtime, request)
    chat = parse_chat_request(json_body(request))
    unknown = sorted(set(chat.extra) - set(_BODY_FIELDS))
    if unknown:
        raise RequestError(unknown[0], f"is not something this endpoint takes (it takes: {', '.join(_BODY_FIELDS)}).")
    if chat.files:
        raise RequestError("messages", "Attachments are not supported here; send text.")
    service = runtime.conversations
    conv = service.open_chat(chat.chat_id, owner, request.principal.user_id, assistant=chat.extra.get("assistant"))
    if chat.regenerate:
        conv, turn = service.regenerate(request, conv.id, owner, chat.message_id)
    else:
        conv, turn = service.post(request, conv.id, owner, chat.text)
    events = service.events(turn, owner, None)
    return stream_turn(runtime, request, events, turn, asynchronous, turn_protocol("ai-sdk", turn, conv.id))


@guarded
def aisdk_resume(runtime: WebRuntime, request: WebRequest, chat_id: str, *, asynchronous: bool = False) -> WebResponse:
    """``GET`` -> the answer being written, replayed from its first event; 204 when nothing is being written
    (also for a chat id nobody has used yet: ``useChat`` resumes on mount)."""
    owner = _owner(runtime, request)
    service = runtime.conversations
    try:
        conv = service.get(chat_id, owner)
    except NotFound:
        if service.store.get_conversation(chat_id) is None:
            return WebResponse(204, {})
        raise
    job = service.running(conv)
    if job is None:
        return WebResponse(204, {})
    events = service.events(job.id, owner, None)
    return stream_turn(runtime, request, events, job.id, asynchronous, turn_protocol("ai-sdk", job.id, conv.id))


@guarded
def aisdk_stop(runtime: WebRuntime, request: WebRequest, chat_id: str) -> WebResponse:
    """``POST`` -> 202 ``{"turn", "state"}``: the answer stops at its next event (its upstream call is closed)."""
    owner = _owner(runtime, request)
    return WebResponse(202, {}, json=runtime.conversations.stop(chat_id, owner))
