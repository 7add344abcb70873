"""A ready blueprint over the web layer's handlers: ``POST <prefix>/chat`` streams Claude's answer as SSE, and
``GET <prefix>/usage`` gives the signed-in user's usage as JSON.

>>> from claude_web_flask import chat_blueprint
>>> app.register_blueprint(chat_blueprint, url_prefix="/claude")

Request body (``Content-Type: application/json``): ``{"messages": [{"role": "user", "content": "Hi"}], "model"?,
"max_tokens"?, "system"?, "temperature"?}`` checked by the ``CLAUDE_WEB_CHAT_*`` rules. Answers:

- 200 ``text/event-stream``: events ``start``, ``text``, ``thinking``, ``tool_use``, ``done`` or ``error`` (the AI
  SDK's UI message stream with ``create_chat_blueprint(protocol="ai-sdk")`` or ``?protocol=ai-sdk``);
- 400 ``{"error": {"type": "invalid_request", "field", "message"}}`` for a malformed body (no upstream call);
- 401 when ``CLAUDE_WEB_CHAT_LOGIN_REQUIRED`` is on (the default) and the user loader finds nobody;
- 415 for a body that is not ``application/json``: a cross-site form or ``text/plain`` post never reaches Claude;
- 429 ``{"error": {"type": "quota_exceeded", ...}}`` with ``Retry-After`` (no upstream call).

CSRF (see :mod:`claude_web_flask.csrf`): browsers cannot send ``application/json`` cross-site without a CORS
preflight, which this blueprint does not answer; when Flask-WTF's ``CSRFProtect`` is installed it also checks
these endpoints (send the ``X-CSRFToken`` header; a refusal is a JSON 400 ``csrf_failed``), unless you exempt the
blueprint deliberately.
"""

from __future__ import annotations

from flask import Blueprint, Response

from claude_web.web.handlers import ChatOptions, chat_stream, usage_report

from .csrf import protect_blueprint
from .extension import get_state
from .http import flask_response

__all__ = ["chat_blueprint", "create_chat_blueprint"]


def create_chat_blueprint(name: str = "claude_web", *, protocol: str | None = None) -> Blueprint:
    """A chat blueprint named ``name``; ``protocol="ai-sdk"`` answers every chat in the AI SDK's UI message
    stream (the body is then ``useChat``'s; without it a request may ask with ``?protocol=ai-sdk``)."""
    bp = protect_blueprint(Blueprint(name, __name__))  # Flask-WTF's CSRFProtect, when installed

    @bp.post("/chat")
    def chat() -> Response:
        state = get_state()
        assert state.ext is not None
        options = ChatOptions(alias=state.settings.chat.client, protocol=protocol)
        return flask_response(chat_stream(state.runtime, state.ext.web_request(), options))

    @bp.get("/usage")
    def usage() -> Response:
        state = get_state()
        assert state.ext is not None
        neutral = state.ext.web_request(read_body=False)
        return flask_response(usage_report(state.runtime, neutral, state.usage_rows))

    return bp


chat_blueprint = create_chat_blueprint()
