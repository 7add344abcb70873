"""A Flask blueprint for conversations kept on the server, over the web layer's conversation handlers.

>>> from claude_web_flask.conversations import conversations_blueprint
>>> app.register_blueprint(conversations_blueprint, url_prefix="/ai/conversations")

Endpoints (see :mod:`claude_web.web.handlers.conversations`): ``GET``/``POST`` ``/`` (list, create),
``GET``/``PATCH``/``DELETE`` ``/<id>/``, ``POST /<id>/messages/`` (the answer as SSE), ``GET /<id>/events/``
(resume with ``Last-Event-ID``), ``POST /<id>/stop/``; for the Vercel AI SDK's ``useChat``
(:mod:`claude_web.web.handlers.aisdk`): ``POST /ai-sdk/`` (the transport's ``api``), ``GET /ai-sdk/<id>/stream``
(resume; 204 when there is nothing to resume) and ``POST /ai-sdk/<id>/stop``. ``messages/`` and ``events/`` stream
in the AI SDK's protocol with ``?protocol=ai-sdk`` or ``create_conversations_blueprint(protocol="ai-sdk")``. Conversations are stored with Flask-SQLAlchemy when the app
uses it (:mod:`claude_web_flask.conversation_store`; ``CLAUDE_WEB_CONVERSATIONS_STORAGE``), the assistants come
from ``CLAUDE_WEB_ASSISTANTS``, and each answer runs as a job (``CLAUDE_WEB_JOBS``; Celery workers registered
with :func:`claude_web_flask.jobs.register_tasks` use the same tables).
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

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
from claude_web.web.http import WebRequest

from .csrf import protect_blueprint
from .http import flask_response
from .jobs import _neutral
from .state import get_runtime

__all__ = ["conversations_blueprint", "create_conversations_blueprint"]


def create_conversations_blueprint(name: str = "claude_web_conversations", *, protocol: str | None = None) -> Blueprint:
    """A conversations blueprint named ``name`` (register one per URL prefix); ``protocol="ai-sdk"`` streams the
    answers of ``messages/`` and ``events/`` in the AI SDK's protocol (the ``ai-sdk/`` URLs always do)."""
    bp = protect_blueprint(Blueprint(name, __name__))  # Flask-WTF's CSRFProtect, when installed
    urls = ConversationUrls(
        detail=lambda cid: url_for(f"{bp.name}.detail", conversation_id=cid),
        messages=lambda cid: url_for(f"{bp.name}.messages", conversation_id=cid),
        events=lambda cid: url_for(f"{bp.name}.events", conversation_id=cid),
        stop=lambda cid: url_for(f"{bp.name}.stop", conversation_id=cid),
    )

    def neutral(read_body: bool) -> WebRequest:
        return _neutral(read_body=read_body)

    @bp.route("/", methods=["GET", "POST"])
    def collection() -> Response:
        return flask_response(conversation_collection(get_runtime(), neutral(request.method == "POST"), urls=urls))

    @bp.route("/<conversation_id>/", methods=["GET", "PATCH", "POST", "DELETE"])
    def detail(conversation_id: str) -> Response:
        body = request.method in ("PATCH", "POST")
        return flask_response(conversation_resource(get_runtime(), neutral(body), conversation_id, urls=urls))

    @bp.post("/<conversation_id>/messages/")
    def messages(conversation_id: str) -> Response:
        return flask_response(conversation_post(get_runtime(), neutral(True), conversation_id, protocol=protocol))

    @bp.get("/<conversation_id>/events/")
    def events(conversation_id: str) -> Response:
        return flask_response(conversation_events(get_runtime(), neutral(False), conversation_id, protocol=protocol))

    @bp.post("/ai-sdk/")
    def ai_sdk() -> Response:
        return flask_response(aisdk_chat(get_runtime(), neutral(True)))

    @bp.get("/ai-sdk/<chat_id>/stream", strict_slashes=False)
    def ai_sdk_stream(chat_id: str) -> Response:
        return flask_response(aisdk_resume(get_runtime(), neutral(False), chat_id))

    @bp.post("/ai-sdk/<chat_id>/stop", strict_slashes=False)
    def ai_sdk_stop(chat_id: str) -> Response:
        return flask_response(aisdk_stop(get_runtime(), neutral(False), chat_id))

    @bp.post("/<conversation_id>/stop/")
    def stop(conversation_id: str) -> Response:
        return flask_response(conversation_stop(get_runtime(), neutral(False), conversation_id))

    return bp


conversations_blueprint = create_conversations_blueprint()
