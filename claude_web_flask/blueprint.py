"""A ready blueprint: ``POST <prefix>/chat`` streams Claude's answer to a browser as SSE.

>>> from claude_web_flask import chat_blueprint
>>> app.register_blueprint(chat_blueprint, url_prefix="/claude")

Request body: ``{"messages": [{"role": "user", "content": "Hi"}], "model"?, "max_tokens"?, "system"?,
"temperature"?}`` checked by the ``CLAUDE_WEB_CHAT_*`` policy. Answers:

- 200 ``text/event-stream``: events ``start``, ``text``, ``thinking``, ``tool_use``, ``done`` or ``error``;
- 400 ``{"error": {"type": "invalid_request", "field", "message"}}`` for a malformed body (no upstream call);
- 429 ``{"error": {"type": "quota_exceeded", ...}}`` with ``Retry-After`` (no upstream call).

The endpoint takes JSON, so it is not a CSRF target for form posts; if your app enforces CSRF on every POST
(Flask-WTF's ``CSRFProtect``), send the token header or exempt the blueprint deliberately.
"""

from __future__ import annotations

from flask import Blueprint, Response

from claude_web.chat import ChatRequestError
from claude_web.quotas import QuotaExceeded

from .extension import chat_error_response, get_state, quota_response

__all__ = ["chat_blueprint"]

chat_blueprint = Blueprint("claude_web", __name__)


@chat_blueprint.post("/chat")
def chat() -> Response:
    ext = get_state().ext
    try:
        params = ext.validate_chat()
    except ChatRequestError as exc:
        return chat_error_response(exc)
    try:
        return ext.stream_response(alias=get_state().settings.chat_client, **params)
    except QuotaExceeded as exc:
        return quota_response(exc)
