"""The error tree, identical in shape to ``anthropic``'s::

    AnthropicError
     ├── APIError                       (message, request, body)
     │    ├── APIConnectionError        network failure, no response
     │    │    └── APITimeoutError
     │    ├── APIResponseValidationError  the response was not what the API promises
     │    └── APIStatusError            (status_code, response, request_id, workspace_id, type)
     │         ├── BadRequestError          400
     │         ├── AuthenticationError      401
     │         ├── PermissionDeniedError    403
     │         ├── NotFoundError            404
     │         ├── ConflictError            409
     │         ├── RequestTooLargeError     413
     │         ├── UnprocessableEntityError 422
     │         ├── RateLimitError           429
     │         ├── OverloadedError          529
     │         ├── InternalServerError      other >= 500
     │         ├── ServiceUnavailableError  (exported; not raised for a plain 503)
     │         └── DeadlineExceededError    (exported; not raised for a plain 504)
     └── RetryableError                 raise it from your own code to opt into retries

Messages never contain the API key: nothing here formats request headers.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AnthropicError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DeadlineExceededError",
    "InternalServerError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "RetryableError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "make_status_error",
]


class AnthropicError(Exception):
    pass


class RetryableError(AnthropicError):
    """Raise from a hook or transport to make the client retry the attempt."""


class APIError(AnthropicError):
    message: str
    request: httpx.Request
    body: object | None
    """The decoded JSON body of the response, its raw text if it was not JSON, or None."""

    def __init__(self, message: str, request: httpx.Request, *, body: object | None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIResponseValidationError(APIError):
    response: httpx.Response
    status_code: int

    def __init__(self, response: httpx.Response, body: object | None, *, message: str | None = None) -> None:
        super().__init__(message or "Data returned by API invalid for expected schema.", response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status (or an ``error`` event inside a stream)."""

    response: httpx.Response
    status_code: int
    request_id: str | None
    workspace_id: str | None
    """The ``anthropic-workspace-id`` response header, when the API sent one."""
    type: str | None

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        headers = response.headers
        self.request_id = headers.get("request-id")
        self.workspace_id = headers.get("anthropic-workspace-id")
        self.type = None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict) and isinstance(error.get("type"), str):
                self.type = error["type"]


class APIConnectionError(APIError):
    def __init__(self, *, message: str = "Connection error.", request: httpx.Request) -> None:
        super().__init__(message, request, body=None)


# ``anthropic``'s wording, so logs and code that match on it read the same
_TIMEOUT_MESSAGE = (
    "Request timed out or interrupted. This could be due to a network timeout, dropped connection, or request "
    "cancellation. See https://docs.anthropic.com/en/api/errors#long-requests for more details."
)


class APITimeoutError(APIConnectionError):
    def __init__(self, request: httpx.Request) -> None:
        super().__init__(message=_TIMEOUT_MESSAGE, request=request)


class BadRequestError(APIStatusError):
    status_code: Literal[400] = 400


class AuthenticationError(APIStatusError):
    status_code: Literal[401] = 401


class PermissionDeniedError(APIStatusError):
    status_code: Literal[403] = 403


class NotFoundError(APIStatusError):
    status_code: Literal[404] = 404


class ConflictError(APIStatusError):
    status_code: Literal[409] = 409


class RequestTooLargeError(APIStatusError):
    status_code: Literal[413] = 413


class UnprocessableEntityError(APIStatusError):
    status_code: Literal[422] = 422


class RateLimitError(APIStatusError):
    status_code: Literal[429] = 429


class ServiceUnavailableError(APIStatusError):
    status_code: Literal[503] = 503


class OverloadedError(APIStatusError):
    status_code: Literal[529] = 529


class DeadlineExceededError(APIStatusError):
    status_code: Literal[504] = 504


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    529: OverloadedError,
}

# in-stream ``error`` events carry a type but no status: map the documented types to theirs
STATUS_BY_ERROR_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def status_error_class(status: int) -> type[APIStatusError]:
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    return InternalServerError if status >= 500 else APIStatusError


def make_status_error(message: str, *, body: Any, response: httpx.Response) -> APIStatusError:
    """The right :class:`APIStatusError` subclass for ``response.status_code``."""
    return status_error_class(response.status_code)(message, response=response, body=body)
