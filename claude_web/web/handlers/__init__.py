"""Framework-neutral request handlers: ``(runtime, WebRequest, ...) -> WebResponse``.

Each adapter view is a few lines: build a :class:`~claude_web.web.http.WebRequest`, call a handler, turn the
:class:`~claude_web.web.http.WebResponse` into the framework's response. Every refusal is a JSON body with the
right status (see :mod:`claude_web.web.errors`); handlers never raise for bad input.

>>> response = chat_stream(runtime, request)              # POST a chat body -> SSE (or 4xx JSON)
>>> response = job_start(runtime, request, urls=urls)     # POST a job -> 202 JSON
"""

from .chat import ChatOptions, capacity_refusal, chat_params, chat_stream, stream_response
from .common import error_response, guarded
from .jobs import JobUrls, job_cancel, job_events, job_start, job_status
from .usage import usage_report

__all__ = [
    "ChatOptions",
    "JobUrls",
    "capacity_refusal",
    "chat_params",
    "chat_stream",
    "error_response",
    "guarded",
    "job_cancel",
    "job_events",
    "job_start",
    "job_status",
    "stream_response",
    "usage_report",
]
