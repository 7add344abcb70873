"""The errors the web layer answers with: one JSON shape, one status per kind.

Every refusal is ``{"error": {"type": ..., "message": ..., "field"?: ...}}`` with a status that fits; an adapter
turns a :class:`WebError` into a response with :meth:`WebError.response` and never renders an HTML error page.

>>> RequestError("messages[0].content", "must not be empty").to_dict()
{'error': {'type': 'invalid_request', 'message': 'must not be empty', 'field': 'messages[0].content'}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthenticationRequired",
    "JOBS_UNAVAILABLE",
    "is_store_down",
    "jobs_unavailable",
    "Conflict",
    "Forbidden",
    "NotFound",
    "RequestError",
    "ServiceUnavailable",
    "UnsupportedMediaType",
    "WebError",
]


class WebError(Exception):
    """A refusal with an HTTP status and a JSON body; ``extra`` keys go into the ``error`` object."""

    status: int = 400
    type: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.field = field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}

    def response(self) -> Any:
        """This error as a neutral :class:`~claude_web.web.http.WebResponse`."""
        from .http import WebResponse

        return WebResponse(self.status, dict(self.headers), json=self.to_dict())


class RequestError(WebError):
    """A body (or header) the endpoint refuses, 400; ``field`` names the offending part (``messages[2].role``)."""

    def __init__(self, field: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, field=field, status=status, type="invalid_request")


class AuthenticationRequired(WebError):
    status = 401
    type = "authentication_required"


class Forbidden(WebError):
    status = 403
    type = "forbidden"


class NotFound(WebError):
    status = 404
    type = "not_found"


class Conflict(WebError):
    status = 409
    type = "conflict"


class UnsupportedMediaType(WebError):
    status = 415
    type = "unsupported_media_type"


class ServiceUnavailable(WebError):
    """A service the endpoint needs is down (``type`` says which, e.g. ``jobs_unavailable``); 503 + Retry-After."""

    status = 503

    def __init__(self, type: str, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, type=type, headers={"Retry-After": str(retry_after)})


JOBS_UNAVAILABLE = "jobs_unavailable"


def is_store_down(exc: BaseException) -> bool:
    """A Redis connection or timeout error (checked by name: redis-py is an optional dependency)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return type(exc).__module__.startswith("redis") and bool(
        names & {"ConnectionError", "TimeoutError", "BusyLoadingError"}
    )


def jobs_unavailable(exc: BaseException) -> ServiceUnavailable:
    """The 503 of jobs whose store (Redis) cannot be reached; the cause goes to the log."""
    import logging

    logging.getLogger("claude_web.web").error(
        "claude-web jobs are unavailable: the job store cannot be reached (%s: %s)", type(exc).__name__, exc
    )
    return ServiceUnavailable(
        JOBS_UNAVAILABLE, "Background jobs are unavailable right now: the job store cannot be reached."
    )
