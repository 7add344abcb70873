"""Flask requests to the web layer's neutral requests, and its neutral responses back to Flask responses."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from flask import Response, request, session, stream_with_context
from werkzeug.exceptions import RequestEntityTooLarge

from claude_web.web.http import Principal, WebRequest, WebResponse, request_id_from

__all__ = ["flask_response", "session_key", "web_request"]

SESSION_KEY = "claude_web_owner"


def session_key() -> str | None:
    """An anonymous visitor's key, kept in the signed session (created on first use); ``None`` without sessions."""
    try:
        token = session.get(SESSION_KEY)
        if not token:
            token = secrets.token_urlsafe(18)
            session[SESSION_KEY] = token
    except RuntimeError:  # no SECRET_KEY: no session
        return None
    return str(token)


def web_request(
    user_id: Any,
    *,
    request_id_header: str = "X-Request-ID",
    read_body: bool = True,
    session: bool = False,
) -> WebRequest:
    """The neutral request of the current Flask request; ``user_id`` ``None`` for an anonymous visitor."""
    body = b""
    refused: tuple[int, int] | None = None
    if read_body:
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            refused = (request.content_length or -1, int(request.max_content_length or 0))
    principal = Principal(user_id=user_id, session_key=session_key() if session and user_id is None else None)
    return WebRequest(
        method=request.method,
        path=request.path,
        body=body,
        content_type=request.headers.get("Content-Type", ""),
        principal=principal,
        request_id=request_id_from(request.headers.get(request_id_header)),
        remote_addr=request.remote_addr or "",
        last_event_id=request.headers.get("Last-Event-ID"),
        query=request.args.to_dict(),
        body_refused=refused,
    )


def flask_response(response: WebResponse, *, wrap: Callable[[Any], Any] = stream_with_context) -> Response:
    """A Flask ``Response`` for a neutral response (a streamed body keeps the request context while it runs)."""
    headers = dict(response.headers)
    if response.stream is not None:
        content_type = headers.pop("Content-Type", "text/event-stream; charset=utf-8")
        return Response(wrap(response.stream), status=response.status, headers=headers, content_type=content_type)
    if response.astream is not None:
        raise TypeError("Flask serves sync bodies: call the handler with asynchronous=False")
    if response.status == 204:  # No Content: no body at all
        return Response(status=204, headers=headers)
    body = json.dumps(response.json, separators=(",", ":"))
    return Response(body, status=response.status, headers=headers, content_type="application/json")
