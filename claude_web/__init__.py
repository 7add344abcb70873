"""claude-web: an ``anthropic``-compatible Claude client on httpx + pydantic, with Django/Flask/Celery adapters.

>>> import claude_web as anthropic   # code written for ``anthropic`` runs with only the import changed
>>> client = anthropic.Anthropic()
"""

from . import types
from ._base_client import DefaultAsyncHttpxClient, DefaultHttpxClient
from ._client import Anthropic, AsyncAnthropic, MissingCredentialsError
from ._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import (
    AnthropicError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeadlineExceededError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    RetryableError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from ._files import file_from_path
from ._models import BaseModel
from ._response import APIResponse, AsyncAPIResponse
from ._streaming import AsyncStream, Stream
from ._types import NOT_GIVEN, NotGiven, Omit, RequestOptions, Timeout, not_given, omit
from ._version import __title__, __version__

Client = Anthropic
AsyncClient = AsyncAnthropic
HUMAN_PROMPT = "\n\nHuman:"
AI_PROMPT = "\n\nAssistant:"

__all__ = [
    "AI_PROMPT",
    "DEFAULT_CONNECTION_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "HUMAN_PROMPT",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Anthropic",
    "AnthropicBedrock",
    "AnthropicError",
    "AnthropicVertex",
    "AsyncAPIResponse",
    "AsyncAnthropic",
    "AsyncAnthropicBedrock",
    "AsyncAnthropicVertex",
    "AsyncClient",
    "AsyncStream",
    "BetaAsyncMessageStream",
    "BetaAsyncMessageStreamManager",
    "BetaMessageStream",
    "BetaMessageStreamManager",
    "AuthenticationError",
    "BadRequestError",
    "BaseModel",
    "Client",
    "ConflictError",
    "DeadlineExceededError",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "InternalServerError",
    "MissingCredentialsError",
    "NotFoundError",
    "NotGiven",
    "Omit",
    "OverloadedError",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestOptions",
    "RequestTooLargeError",
    "RetryableError",
    "ServiceUnavailableError",
    "Stream",
    "Timeout",
    "UnprocessableEntityError",
    "__title__",
    "__version__",
    "beta_async_tool",
    "beta_tool",
    "file_from_path",
    "not_given",
    "omit",
    "transform_schema",
    "types",
]

_LAZY = {
    "AnthropicBedrock": ("claude_web.lib.bedrock", "AnthropicBedrock"),
    "AsyncAnthropicBedrock": ("claude_web.lib.bedrock", "AsyncAnthropicBedrock"),
    "AnthropicVertex": ("claude_web.lib.vertex", "AnthropicVertex"),
    "AsyncAnthropicVertex": ("claude_web.lib.vertex", "AsyncAnthropicVertex"),
    "transform_schema": ("claude_web.lib._parse", "transform_schema"),
    "beta_tool": ("claude_web.lib.tools", "beta_tool"),
    "beta_async_tool": ("claude_web.lib.tools", "beta_async_tool"),
    "BetaMessageStream": ("claude_web.lib.streaming", "BetaMessageStream"),
    "BetaAsyncMessageStream": ("claude_web.lib.streaming", "BetaAsyncMessageStream"),
    "BetaMessageStreamManager": ("claude_web.lib.streaming", "BetaMessageStreamManager"),
    "BetaAsyncMessageStreamManager": ("claude_web.lib.streaming", "BetaAsyncMessageStreamManager"),
    "ParsedMessageStopEvent": ("claude_web.lib.streaming", "ParsedMessageStopEvent"),
    "ParsedContentBlockStopEvent": ("claude_web.lib.streaming", "ParsedContentBlockStopEvent"),
}


def __getattr__(name: str) -> object:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'claude_web' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(target[0]), target[1])
