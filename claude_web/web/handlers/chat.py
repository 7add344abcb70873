"""The chat stream: ``POST`` a chat body, get Claude's answer as Server-Sent Events.

Order of checks, each answered before any upstream call: stream capacity first (503 + ``Retry-After``: a full
process does no other work for a stream it cannot serve, and counts nothing against the quota; async views make this
check on the event loop, before any thread hop), then login (401), JSON content type (415) and body size (400), the
body against the chat rules (400 naming the field), the quota (429 + ``Retry-After``); the slot is taken last. Then the answer streams: sync bodies for WSGI, async bodies (the serving loop's client)
for ASGI; when the browser goes away the body is closed and so is the upstream stream (usage ``aborted``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..chat import ChatPolicy
from ..events import abrowser_events, browser_events, safe_error
from ..http import WebRequest, WebResponse
from ..sse import awrite_events, sse_headers, write_events
from .common import AsyncGuardedBody, GuardedBody, error_response, guarded, json_body, require_login

if TYPE_CHECKING:
    from ..runtime import WebRuntime

__all__ = ["ChatOptions", "capacity_refusal", "chat_params", "chat_stream", "stream_response"]

log = logging.getLogger("claude_web.web")


@dataclass(frozen=True)
class ChatOptions:
    """What a chat endpoint may change: ``None`` everywhere means "as the settings say".

    ``prepare(request, params)`` returns the final ``messages.stream`` arguments (add a system prompt, tools...);
    ``quota_key(request)`` chooses whose quota the call counts against.
    """

    alias: str | None = None
    policy: ChatPolicy | None = None
    login_required: bool | None = None
    prepare: Callable[[WebRequest, dict[str, Any]], dict[str, Any]] | None = None
    quota_key: Callable[[WebRequest], str] | None = None
    heartbeat: float | None = None


DEFAULT_OPTIONS = ChatOptions()


def capacity_refusal(runtime: WebRuntime) -> WebResponse | None:
    """The 503 (``too_many_streams``, ``Retry-After``) when the process is at its stream capacity, else ``None``.

    No I/O: async views call it on the event loop before anything else, so a full process answers at once.
    """
    if runtime.streams.full:
        return error_response(runtime.streams.refusal())
    return None


def chat_params(runtime: WebRuntime, request: WebRequest, options: ChatOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """Every check before the call; the ``messages.stream`` arguments. Raises the refusal (``WebError``,
    ``QuotaExceeded``)."""
    login = runtime.settings.chat.login_required if options.login_required is None else options.login_required
    require_login(request, login)
    body = json_body(request)
    policy = options.policy or runtime.chat_policy
    params = policy.validate(body)
    if options.prepare is not None:
        params = options.prepare(request, params)
    runtime.streams.check()  # full now: refuse before the quota counts this request (stream_response takes the slot)
    key = options.quota_key(request) if options.quota_key is not None else request.quota_key
    runtime.check_quota(key)
    return params


@guarded
def chat_stream(
    runtime: WebRuntime, request: WebRequest, options: ChatOptions = DEFAULT_OPTIONS, *, asynchronous: bool = False
) -> WebResponse:
    """``POST`` chat body -> ``text/event-stream`` (or the refusal as JSON)."""
    refused = capacity_refusal(runtime)
    if refused is not None:
        return refused
    params = chat_params(runtime, request, options)
    return stream_response(
        runtime, request, params, alias=options.alias, asynchronous=asynchronous, heartbeat=options.heartbeat
    )


def stream_response(
    runtime: WebRuntime,
    request: WebRequest,
    params: dict[str, Any],
    *,
    alias: str | None = None,
    asynchronous: bool = False,
    heartbeat: float | None = None,
) -> WebResponse:
    """The SSE response of ``messages.stream(**params)`` for ``request`` (no checks: the caller made them).

    Raises :class:`~claude_web.web.errors.ServiceUnavailable` when the process is at its stream capacity.
    """
    name = alias or runtime.settings.chat.client
    interval = runtime.settings.streaming.heartbeat if heartbeat is None else heartbeat
    headers = sse_headers(request.request_id)
    if asynchronous:
        events: Any = awrite_events(_async_events(runtime, request, name, params), heartbeat=interval)
        runtime.streams.acquire()  # the last step: from here the guarded body gives the slot back
        return WebResponse(200, headers, astream=AsyncGuardedBody(events, runtime.streams.release))
    client = runtime.client_for(request, name)
    frames = write_events(_sync_events(lambda: client.messages.stream(**params), client.pricing), heartbeat=interval)
    runtime.streams.acquire()
    return WebResponse(200, headers, stream=GuardedBody(frames, runtime.streams.release))


def _failure(exc: BaseException) -> dict[str, str]:
    from ..._exceptions import AnthropicError

    if isinstance(exc, AnthropicError):
        log.warning("upstream stream failed to open: %s", type(exc).__name__, exc_info=True)
    else:
        log.error("could not open the upstream stream", exc_info=exc)
    return safe_error(exc)


def _sync_events(open_stream: Callable[[], Any], pricing: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Browser events of a sync stream: opened on the first pull (an error becomes an ``error`` event); upstream
    pings pace heartbeats, since this thread blocks on the upstream read in between."""
    try:
        stream = open_stream().__enter__()
    except Exception as exc:
        yield ("error", _failure(exc))
        return
    events = browser_events(stream, heartbeats=True, pricing=pricing)
    try:
        yield from events
    finally:
        events.close()
        stream.close()


async def _async_events(
    runtime: WebRuntime, request: WebRequest, alias: str, params: dict[str, Any]
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Browser events of an async stream, on the loop that serves the response (its own client)."""
    try:
        client = runtime.async_client_for(request, alias)
        stream = await client.messages.stream(**params).__aenter__()
    except Exception as exc:
        yield ("error", _failure(exc))
        return
    events = abrowser_events(stream, pricing=client.pricing)
    try:
        async for item in events:
            yield item
    finally:
        await events.aclose()
        await stream.close()
