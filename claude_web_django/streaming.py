"""Stream ``messages.stream(...)`` to the browser from your own views (the chat views use the same path).

>>> from claude_web_django.streaming import stream_chat
>>> def summarize(request):
...     return stream_chat(request, {"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [...]})

Events, ids, heartbeats and headers come from the web layer's one SSE writer (:mod:`claude_web.web.sse`). Under
ASGI the body is an async iterator on the serving loop's client; under WSGI a sync one. When the browser goes
away the upstream stream is closed at once (usage ``aborted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponseBase

from claude_web.web.errors import WebError
from claude_web.web.handlers import error_response, stream_response

from .http import aweb_request, django_response, is_asgi, web_request
from .runtime import get_runtime

__all__ = ["astream_chat", "stream_chat"]


def stream_chat(
    request: Any,
    params: Mapping[str, Any],
    *,
    alias: str | None = None,
    heartbeat: float | None = None,
    protocol: str | None = None,
) -> HttpResponseBase:
    """Stream ``messages.stream(**params)`` from a sync view (an async body when served by ASGI); ``protocol``
    ``"ai-sdk"`` answers in the AI SDK's UI message stream."""
    neutral = web_request(request, read_body=False)
    try:
        out = stream_response(
            get_runtime(),
            neutral,
            dict(params),
            alias=alias,
            asynchronous=is_asgi(request),
            heartbeat=heartbeat,
            protocol=protocol,
        )
    except WebError as exc:
        out = error_response(exc)
    return django_response(out)


async def astream_chat(
    request: Any,
    params: Mapping[str, Any],
    *,
    alias: str | None = None,
    heartbeat: float | None = None,
    protocol: str | None = None,
) -> HttpResponseBase:
    """Stream ``messages.stream(**params)`` from an async view (ASGI)."""
    neutral = await aweb_request(request, read_body=False)
    try:
        out = stream_response(
            get_runtime(), neutral, dict(params), alias=alias, asynchronous=True, heartbeat=heartbeat, protocol=protocol
        )
    except WebError as exc:
        out = error_response(exc)
    return django_response(out)
