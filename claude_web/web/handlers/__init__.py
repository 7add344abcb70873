"""Framework-neutral request handlers: ``(runtime, WebRequest, ...) -> WebResponse``.

Each adapter view is a few lines: build a :class:`~claude_web.web.http.WebRequest`, call a handler, turn the
:class:`~claude_web.web.http.WebResponse` into the framework's response. Every refusal is a JSON body with the
right status (see :mod:`claude_web.web.errors`); handlers never raise for bad input.

>>> response = chat_stream(runtime, request)              # POST a chat body -> SSE (or 4xx JSON)
>>> response = job_start(runtime, request, urls=urls)     # POST a job -> 202 JSON
>>> response = conversation_post(runtime, request, "c1")  # POST a message to a stored conversation -> SSE
>>> response = aisdk_chat(runtime, request)               # POST useChat's body -> a UI message stream
"""

from .aisdk import aisdk_chat, aisdk_resume, aisdk_stop
from .chat import ChatOptions, capacity_refusal, chat_params, chat_stream, stream_response
from .common import error_response, guarded
from .conversations import (
    ConversationUrls,
    conversation_collection,
    conversation_create,
    conversation_delete,
    conversation_detail,
    conversation_events,
    conversation_list,
    conversation_post,
    conversation_rename,
    conversation_resource,
    conversation_stop,
)
from .jobs import JobUrls, job_cancel, job_events, job_start, job_status
from .usage import usage_report

__all__ = [
    "ChatOptions",
    "ConversationUrls",
    "JobUrls",
    "aisdk_chat",
    "aisdk_resume",
    "aisdk_stop",
    "capacity_refusal",
    "chat_params",
    "chat_stream",
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
    "error_response",
    "guarded",
    "job_cancel",
    "job_events",
    "job_start",
    "job_status",
    "stream_response",
    "usage_report",
]
