"""What the Bedrock and Vertex clients share: option plumbing, the response-mode views, and error classes.

(Kept here so ``claude_web.lib.vertex`` can import it without pulling in boto3, which is imported lazily.)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import httpx

from ..._exceptions import (
    APIStatusError,
    AuthenticationError,
    DeadlineExceededError,
    InternalServerError,
    OverloadedError,
    ServiceUnavailableError,
)
from ..._resource import ResourceWithRawResponse, ResourceWithStreamingResponse
from ..._types import NotGiven
from ...resources.messages import AsyncMessages, Messages

__all__ = [
    "DeadlineExceededStatusError",
    "OverloadedStatusError",
    "PlatformCredentialsError",
    "PlatformView",
    "ServiceUnavailableStatusError",
    "merge_copy_options",
    "remap_status_error",
]

SYNTHETIC_HEADER = "x-claude-web-synthetic"


class PlatformCredentialsError(AuthenticationError):
    """Cloud credentials could not be found, loaded or refreshed, so the request was never sent.

    It is an :class:`~claude_web.AuthenticationError` so one ``except AuthenticationError`` covers both a key the
    platform refused and credentials that could not be had locally. Its ``response`` is a synthetic 401 built
    here (header ``x-claude-web-synthetic: credentials``); ``request`` is the request that was about to be sent.
    """

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        response = httpx.Response(401, headers={SYNTHETIC_HEADER: "credentials"}, request=request)
        super().__init__(message, response=response, body=None)


class ServiceUnavailableStatusError(ServiceUnavailableError, InternalServerError):
    """HTTP 503 from Bedrock or Vertex: a ``ServiceUnavailableError`` (as anthropic's platform clients raise) that
    is also an ``InternalServerError`` (as a 503 is everywhere else in this library)."""


class DeadlineExceededStatusError(DeadlineExceededError, InternalServerError):
    """HTTP 504 from Vertex: a ``DeadlineExceededError`` (as anthropic's Vertex client raises) that is also an
    ``InternalServerError``."""


class OverloadedStatusError(OverloadedError, InternalServerError):
    """HTTP 529 from Bedrock or Vertex: an ``OverloadedError`` (as everywhere else in this library) that is also an
    ``InternalServerError`` (what anthropic's platform clients raise for it)."""


def remap_status_error(error: APIStatusError, *, deadline: bool) -> APIStatusError:
    """Re-class a 503, a 529 (and with ``deadline``, a 504) so that the error is an instance of both the class
    anthropic's platform clients raise and the class this library raises elsewhere."""
    status = error.status_code
    cls: type[APIStatusError] | None = None
    if status == 503:
        cls = ServiceUnavailableStatusError
    elif status == 529:
        cls = OverloadedStatusError
    elif status == 504 and deadline:
        cls = DeadlineExceededStatusError
    if cls is None:
        return error
    return cls(error.message, response=error.response, body=error.body)


class PlatformView:
    """``client.with_raw_response.messages.create(...)`` for the platform clients (they have only ``messages``)."""

    def __init__(self, client: Any, view: type[ResourceWithRawResponse] | type[ResourceWithStreamingResponse]) -> None:
        self._client = client
        self._view = view

    @property
    def messages(self) -> Any:
        return self._view(self._client.messages)


def merge_copy_options(
    client: Any,
    *,
    timeout: float | httpx.Timeout | None | NotGiven,
    http_client: Any,
    max_retries: int | NotGiven,
    default_headers: Mapping[str, str] | None,
    set_default_headers: Mapping[str, str] | None,
    default_query: Mapping[str, object] | None,
    set_default_query: Mapping[str, object] | None,
    usage_recorder: Any,
    usage_context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The keyword arguments every platform ``copy()`` passes on (headers/query merged as ``Anthropic.copy``)."""
    if default_headers is not None and set_default_headers is not None:
        raise ValueError("The `default_headers` and `set_default_headers` arguments are mutually exclusive")
    if default_query is not None and set_default_query is not None:
        raise ValueError("The `default_query` and `set_default_query` arguments are mutually exclusive")
    headers: dict[str, str] = dict(client._custom_headers)
    if default_headers is not None:
        headers.update(default_headers)
    elif set_default_headers is not None:
        headers = dict(set_default_headers)
    query: dict[str, object] = dict(client._custom_query)
    if default_query is not None:
        query.update(default_query)
    elif set_default_query is not None:
        query = dict(set_default_query)
    return {
        "timeout": client.timeout if isinstance(timeout, NotGiven) else timeout,
        "http_client": http_client or client._client,
        "max_retries": client.max_retries if isinstance(max_retries, NotGiven) else max_retries,
        "default_headers": headers,
        "default_query": query,
        "usage_recorder": client._usage_recorder if isinstance(usage_recorder, NotGiven) else usage_recorder,
        "usage_context": {**client._usage_context, **(usage_context or {})},
        "pricing": client._pricing,
    }


class SyncPlatformResources:
    """``messages`` and the raw/streaming response views every sync platform client has."""

    @cached_property
    def messages(self) -> Messages:
        return Messages(self)  # type: ignore[arg-type]

    @cached_property
    def with_raw_response(self) -> PlatformView:
        return PlatformView(self, ResourceWithRawResponse)

    @cached_property
    def with_streaming_response(self) -> PlatformView:
        return PlatformView(self, ResourceWithStreamingResponse)


class AsyncPlatformResources:
    """The async twin of :class:`SyncPlatformResources`."""

    @cached_property
    def messages(self) -> AsyncMessages:
        return AsyncMessages(self)  # type: ignore[arg-type]

    @cached_property
    def with_raw_response(self) -> PlatformView:
        return PlatformView(self, ResourceWithRawResponse)

    @cached_property
    def with_streaming_response(self) -> PlatformView:
        return PlatformView(self, ResourceWithStreamingResponse)
