"""What every handler shares: turning errors into responses, the checks that come before any body is read,
and stream bodies that give their capacity slot back however they end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from ...quotas import QuotaExceeded
from ..chat import load_json_object
from ..errors import AuthenticationRequired, RequestError, UnsupportedMediaType, WebError
from ..http import WebRequest, WebResponse
from ..protocols import PROTOCOLS
from ..streams import AsyncGuardedBody, GuardedBody, StreamSlots

__all__ = [
    "AsyncGuardedBody",
    "GuardedBody",
    "StreamSlots",
    "error_response",
    "guarded",
    "iterate_in_thread",
    "json_body",
    "protocol_name",
    "quota_response",
    "require_json",
    "require_login",
]

log = logging.getLogger("claude_web.web")

_R = TypeVar("_R")


def quota_response(exc: QuotaExceeded) -> WebResponse:
    """429 JSON with ``Retry-After``."""
    return WebResponse(429, {"Retry-After": str(exc.retry_after)}, json=exc.to_dict())


def error_response(exc: BaseException) -> WebResponse:
    """The response for a refusal (:class:`WebError` or :class:`QuotaExceeded`)."""
    if isinstance(exc, QuotaExceeded):
        return quota_response(exc)
    if isinstance(exc, WebError):
        response: WebResponse = exc.response()
        return response
    raise TypeError(f"not a refusal: {exc!r}")


def guarded(handler: Callable[..., WebResponse]) -> Callable[..., WebResponse]:
    """Decorator: a handler's refusals (``WebError``, ``QuotaExceeded``) become their JSON responses."""

    def run(*args: Any, **kwargs: Any) -> WebResponse:
        try:
            return handler(*args, **kwargs)
        except (WebError, QuotaExceeded) as exc:
            return error_response(exc)

    run.__name__ = handler.__name__
    run.__qualname__ = handler.__qualname__
    run.__doc__ = handler.__doc__
    return run


def require_login(request: WebRequest, required: bool, message: str = "Log in to use the chat.") -> None:
    if required and not request.principal.authenticated:
        raise AuthenticationRequired(message)


def require_json(request: WebRequest) -> None:
    """JSON endpoints take only ``application/json`` (a cross-site form or ``text/plain`` post is refused, 415)
    and a body the framework agreed to read."""
    if request.body_refused is not None:
        size, limit = request.body_refused
        told = f"{size:,} bytes" if size >= 0 else "larger than allowed"
        raise RequestError("body", f"is too large ({told}; at most {limit:,} bytes)")
    media = request.media_type
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got {media or 'no content type'!r}).",
            field="Content-Type",
        )


def json_body(request: WebRequest) -> dict[str, Any]:
    """The request's JSON object body, after :func:`require_json`."""
    require_json(request)
    return load_json_object(request.body or b"{}")


def protocol_name(request: WebRequest, default: str | None = None) -> str:
    """The stream protocol of ``request``: its ``?protocol=`` (``events`` or ``ai-sdk``), else the endpoint's
    ``default`` (``None``: ``events``); 400 naming ``protocol`` for another value."""
    name = request.query.get("protocol") or default or "events"
    if name not in PROTOCOLS:
        raise RequestError("protocol", f"must be one of: {', '.join(PROTOCOLS)}")
    return name


async def iterate_in_thread(iterator: Iterator[_R]) -> AsyncIterator[_R]:
    """Pull a blocking iterator from worker threads, one item at a time, without holding the event loop."""
    loop = asyncio.get_running_loop()
    done = object()
    try:
        while True:
            item = await loop.run_in_executor(None, next, iterator, done)
            if item is done:
                return
            yield item  # type: ignore[misc]
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await loop.run_in_executor(None, close)
