"""The chat stream: ``POST`` a chat body, get Claude's answer as Server-Sent Events.

The answer comes in our event vocabulary, or in the AI SDK's UI message stream (``ChatOptions(protocol="ai-sdk")``
or ``?protocol=ai-sdk``): then the body is ``useChat``'s (``{id, messages: UIMessage[], trigger, ...}``), whose
text parts become the ``messages`` (the other fields: ``model``, ``max_tokens``... as in our body).

Order of checks, each answered before any upstream call: stream capacity first (503 + ``Retry-After``: a full
process does no other work for a stream it cannot serve, and counts nothing against the budgets; async views make
this check on the event loop, before any thread hop), then login (401), JSON content type (415) and body size
(400), the body against the chat rules (400 naming the field), the budgets (429 + ``Retry-After``: the call's worst
case is reserved); the slot is taken last. Then the answer streams: sync bodies for WSGI, async bodies (the
serving loop's client) for ASGI; when the browser goes away the body is closed and so is the upstream stream (usage
``aborted``). A sync body reads upstream on a thread of its own while the server's thread writes a heartbeat every
``STREAMING["HEARTBEAT"]`` seconds, so a silent upstream cannot hide a browser that went away: the next heartbeat
fails to write, and the upstream read is interrupted then.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import otel
from ..chat import ChatPolicy
from ..events import abrowser_events, browser_events, safe_error
from ..http import WebRequest, WebResponse
from ..protocols import stream_protocol
from ..sse import StreamProtocol, awrite_events, sse_headers, write_events
from .common import AsyncGuardedBody, GuardedBody, error_response, guarded, json_body, protocol_name, require_login

if TYPE_CHECKING:
    from ..runtime import WebRuntime

__all__ = ["ChatOptions", "capacity_refusal", "chat_params", "chat_stream", "stream_response"]

log = logging.getLogger("claude_web.web")


@dataclass(frozen=True)
class ChatOptions:
    """What a chat endpoint may change: ``None`` everywhere means "as the settings say".

    ``prepare(request, params)`` returns the final ``messages.stream`` arguments (add a system prompt, tools...);
    ``quota_key(request)`` chooses whose quota the call counts against; ``protocol`` is the stream protocol
    (``"events"``, the default, or ``"ai-sdk"``; a request's ``?protocol=`` overrides it).
    """

    alias: str | None = None
    policy: ChatPolicy | None = None
    login_required: bool | None = None
    prepare: Callable[[WebRequest, dict[str, Any]], dict[str, Any]] | None = None
    quota_key: Callable[[WebRequest], str] | None = None
    heartbeat: float | None = None
    protocol: str | None = None


DEFAULT_OPTIONS = ChatOptions()


def capacity_refusal(runtime: WebRuntime) -> WebResponse | None:
    """The 503 (``too_many_streams``, ``Retry-After``) when the process is at its stream capacity, else ``None``.

    No I/O: async views call it on the event loop before anything else, so a full process answers at once.
    """
    if runtime.streams.full:
        return error_response(runtime.streams.refusal())
    return None


def chat_params(
    runtime: WebRuntime, request: WebRequest, options: ChatOptions = DEFAULT_OPTIONS
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every check before the call: the ``messages.stream`` arguments, and the usage context the admission adds.
    Raises the refusal (``WebError``, ``QuotaExceeded``)."""
    login = runtime.settings.chat.login_required if options.login_required is None else options.login_required
    require_login(request, login)
    body = json_body(request)
    policy = options.policy or runtime.chat_policy
    if protocol_name(request, options.protocol) == "ai-sdk":
        body = _from_use_chat(body, policy)
    params = policy.validate(body)
    if options.prepare is not None:
        params = options.prepare(request, params)
    runtime.streams.check()  # full now: refuse before the quota counts this request (stream_response takes the slot)
    key = options.quota_key(request) if options.quota_key is not None else request.quota_key
    admitted = runtime.admit(key, params, alias=options.alias)
    return params, admitted


@guarded
def chat_stream(
    runtime: WebRuntime, request: WebRequest, options: ChatOptions = DEFAULT_OPTIONS, *, asynchronous: bool = False
) -> WebResponse:
    """``POST`` chat body -> ``text/event-stream`` (or the refusal as JSON)."""
    refused = capacity_refusal(runtime)
    if refused is not None:
        return refused
    params, admitted = chat_params(runtime, request, options)
    return stream_response(
        runtime,
        request,
        params,
        alias=options.alias,
        asynchronous=asynchronous,
        heartbeat=options.heartbeat,
        usage_context=admitted,
        protocol=protocol_name(request, options.protocol),
    )


def _from_use_chat(body: dict[str, Any], policy: ChatPolicy) -> dict[str, Any]:
    """A ``useChat`` body as our chat body: the UI messages' text as ``messages``, the other fields as they are."""
    from ..aisdk_request import parse_chat_request, ui_messages_to_api

    chat = parse_chat_request(body)
    messages = ui_messages_to_api(chat.messages, allow_assistant=policy.allow_assistant_turns)
    return {**chat.extra, "messages": messages}


def stream_response(
    runtime: WebRuntime,
    request: WebRequest,
    params: dict[str, Any],
    *,
    alias: str | None = None,
    asynchronous: bool = False,
    heartbeat: float | None = None,
    usage_context: dict[str, Any] | None = None,
    protocol: str | StreamProtocol | None = None,
) -> WebResponse:
    """The SSE response of ``messages.stream(**params)`` for ``request`` (no checks: the caller made them;
    ``usage_context`` is what :meth:`~claude_web.web.runtime.WebRuntime.admit` returned; ``protocol``:
    ``"events"`` (default) or ``"ai-sdk"``).

    Raises :class:`~claude_web.web.errors.ServiceUnavailable` when the process is at its stream capacity.
    """
    name = alias or runtime.settings.chat.client
    interval = runtime.settings.streaming.heartbeat if heartbeat is None else heartbeat
    proto = stream_protocol(protocol)

    def release() -> None:  # the body ended: a reservation no record settled (the call never started) goes back
        runtime.streams.release()
        runtime.release(usage_context)

    headers = sse_headers(request.request_id, protocol=proto)
    try:
        if asynchronous:
            usage_context = otel.with_parent(usage_context)  # the client is made later, on the serving loop
            events = _async_events(runtime, request, name, params, usage_context)
            body: Any = awrite_events(events, heartbeat=interval, protocol=proto)
            runtime.streams.acquire()  # the last step: from here the guarded body gives the slot back
            return WebResponse(200, headers, astream=AsyncGuardedBody(body, release))
        client = runtime.client_for(request, name, usage_context)
        watch = runtime.watch(client.usage_context, params)
        upstream = _Upstream()
        source = _sync_events(lambda: client.messages.stream(**params), client.pricing, watch, upstream)
        frames = write_events(
            source,
            heartbeat=interval,
            protocol=proto,
            source_thread=True,
            interrupt=upstream.interrupt,
            thread_done=runtime.thread_done,
        )
        runtime.streams.acquire()
    except Exception:
        runtime.release(usage_context)  # no call will settle what the admission reserved
        raise
    return WebResponse(200, headers, stream=GuardedBody(frames, release))


def _failure(exc: BaseException) -> dict[str, str]:
    from ..._exceptions import AnthropicError

    if isinstance(exc, AnthropicError):
        log.warning("upstream stream failed to open: %s", type(exc).__name__, exc_info=True)
    else:
        log.error("could not open the upstream stream", exc_info=exc)
    return safe_error(exc)


class _Upstream:
    """The upstream stream of a sync response, for the writing thread to interrupt when the browser has gone."""

    def __init__(self) -> None:
        self.stream: Any = None
        self.cancelled = False

    def interrupt(self) -> None:
        self.cancelled = True
        stream = self.stream
        interrupt = getattr(stream, "interrupt", None)
        if interrupt is not None:
            interrupt()


def _sync_events(
    open_stream: Callable[[], Any],
    pricing: Any,
    watch: Callable[[Any], bool] | None = None,
    upstream: _Upstream | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Browser events of a sync stream, opened on the first pull (an error becomes an ``error`` event). The
    writer pulls them on a thread of its own and writes heartbeats meanwhile; ``upstream`` lets it interrupt the
    read when the browser goes away; ``watch`` is the budget's per-event check."""
    try:
        stream = open_stream().__enter__()
    except Exception as exc:
        yield ("error", _failure(exc))
        return
    if upstream is not None:
        upstream.stream = stream
        if upstream.cancelled:  # the browser went away while the stream was opening
            stream.close()
            return
    events = browser_events(stream, pricing=pricing, watch=watch)
    try:
        yield from events
    finally:
        events.close()
        stream.close()


async def _async_events(
    runtime: WebRuntime,
    request: WebRequest,
    alias: str,
    params: dict[str, Any],
    usage_context: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Browser events of an async stream, on the loop that serves the response (its own client)."""
    try:
        client = runtime.async_client_for(request, alias, usage_context)
        watch = runtime.watch(client.usage_context, params)
        stream = await client.messages.stream(**params).__aenter__()
    except Exception as exc:
        yield ("error", _failure(exc))
        return
    events = abrowser_events(stream, pricing=client.pricing, watch=watch)
    try:
        async for item in events:
            yield item
    finally:
        await events.aclose()
        await stream.close()
