"""Resource base classes and the generic ``with_raw_response`` / ``with_streaming_response`` views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._response import to_raw_response_wrapper, to_streamed_response_wrapper

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncAPIResource", "ResourceWithRawResponse", "ResourceWithStreamingResponse", "SyncAPIResource"]

_HELPERS_NOT_WRAPPED = frozenset({"stream", "parse", "tool_runner"})


class _Resource:
    _is_async = False

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning the raw response (``.headers``, ``.parse()``) instead of the parsed object."""
        return ResourceWithRawResponse(self)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods as context managers around the open response (``iter_lines()``, ``parse()``...)."""
        return ResourceWithStreamingResponse(self)


class SyncAPIResource(_Resource):
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource(_Resource):
    _is_async = True

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


class _View:
    def __init__(self, resource: _Resource) -> None:
        self._resource = resource

    def _wrap(self, method: Any) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _HELPERS_NOT_WRAPPED:
            raise AttributeError(name)
        attr = getattr(self._resource, name)
        if isinstance(attr, _Resource):
            return type(self)(attr)
        if callable(attr):
            return self._wrap(attr)
        raise AttributeError(name)


class ResourceWithRawResponse(_View):
    def _wrap(self, method: Any) -> Any:
        return to_raw_response_wrapper(method)


class ResourceWithStreamingResponse(_View):
    def _wrap(self, method: Any) -> Any:
        return to_streamed_response_wrapper(method, is_async=self._resource._is_async)
