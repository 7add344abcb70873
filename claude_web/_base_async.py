"""``AsyncAPIClient``: the asyncio send loop (attempts, retries, waits) over an ``httpx.AsyncClient``.

The twin of :mod:`._base_sync`, line for line; everything that does no I/O is in :mod:`._base_core`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

import anyio
import httpx

from . import retries
from ._base_core import BaseClient
from ._logs import logger
from ._request_options import (
    DefaultAsyncHttpxClient,
    FinalRequestOptions,
    ResponseMode,
    options_from_mapping,
    response_mode,
    to_timeout,
)
from ._response import AsyncAPIResponse, AsyncStreamedAPIResponse
from ._results import end_interrupted
from ._types import NOT_GIVEN, NotGiven
from .otel._calls import deactivate
from .usage import UsageTracker

__all__ = ["AsyncAPIClient"]

_T = TypeVar("_T")


class AsyncAPIClient(BaseClient):
    _client: httpx.AsyncClient
    _raw_response_cls = AsyncAPIResponse
    _streamed_response_cls = AsyncStreamedAPIResponse

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}")
        super().__init__(timeout=self._resolve_timeout(timeout, http_client), **kwargs)
        self._client = http_client or DefaultAsyncHttpxClient(timeout=to_timeout(self.timeout))

    async def _aprepare_request(self, request: httpx.Request) -> None:
        """Async form of ``_prepare_request`` (override to do I/O without blocking the loop)."""
        self._prepare_request(request)

    def is_closed(self) -> bool:
        return self._client.is_closed

    async def close(self) -> None:
        """Close the underlying httpx client, also one passed in as ``http_client`` (as ``anthropic`` does)."""
        if not self._client.is_closed:
            await self._client.aclose()

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def request(
        self,
        cast_to: Any,
        options: FinalRequestOptions,
        *,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any:
        mode, options = response_mode(options)
        options = self._prepare_options(options)
        tracker = self._start_usage(options)
        call = tracker.call if tracker is not None else None
        scope = call.activate() if call is not None else None  # the call's span is current while it is sent
        try:
            return await self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            end_interrupted(tracker, exc)
            raise
        finally:
            if scope is not None:
                deactivate(scope)

    async def _request(
        self,
        cast_to: Any,
        options: FinalRequestOptions,
        mode: ResponseMode,
        stream: bool,
        stream_cls: Any,
        tracker: UsageTracker | None,
    ) -> Any:
        max_retries = self._max_retries_for(options)
        retries_taken = 0
        parts = self._build_request_parts(options)
        while True:
            request = self._client.build_request(**parts.args)
            self._attach_credentials(request, parts.credentials)
            await self._aprepare_request(request)
            self._log_request(request, options, retries_taken)
            try:
                response = await self._client.send(request, stream=stream or mode == "stream")
            except Exception as exc:
                error = self._send_failure(exc, request)
                if retries_taken < max_retries and retries.should_retry_error(error):
                    delay = self._retry_delay(retries_taken, self._failure_headers(error))
                    if tracker is not None:
                        tracker.retry(retries_taken + 1, delay, error=error)
                    await anyio.sleep(delay)
                    retries_taken += 1
                    continue
                self._finish_usage_error(tracker, error)
                if error is exc:
                    raise
                raise error from exc
            logger.debug("Response %s %s -> %d", request.method, request.url, response.status_code)
            if response.status_code >= 400:
                if retries_taken < max_retries and self._should_retry(response):
                    await response.aclose()
                    delay = self._retry_delay(retries_taken, response.headers)
                    if tracker is not None:
                        tracker.retry(retries_taken + 1, delay, status=response.status_code)
                    await anyio.sleep(delay)
                    retries_taken += 1
                    continue
                if not response.is_closed:
                    await response.aread()
                status_error = self._make_status_error(response)
                self._finish_usage_error(tracker, status_error)
                raise status_error
            return self._deliver(cast_to, response, options, mode, stream, stream_cls, tracker, retries_taken)

    # -- custom requests: client.get/post/put/patch/delete ----------------------------------------------------
    async def _custom(
        self, method: str, path: str, cast_to: Any, body: Any, options: Mapping[str, Any], stream: bool, stream_cls: Any
    ) -> Any:
        opts = FinalRequestOptions(method=method, url=path, json_data=body, **options_from_mapping(options))
        return await self.request(cast_to, opts, stream=stream, stream_cls=stream_cls)

    async def get(
        self,
        path: str,
        *,
        cast_to: type[_T],
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> _T:
        """Send ``GET path`` with the client's auth, retries and headers; parse the answer as ``cast_to``."""
        return cast(_T, await self._custom("get", path, cast_to, None, options or {}, stream, stream_cls))

    async def post(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Any = None,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> _T:
        """Send ``POST path`` with a JSON ``body``; e.g. ``await client.post("/v1/x", cast_to=object, body={...})``."""
        return cast(_T, await self._custom("post", path, cast_to, body, options or {}, stream, stream_cls))

    async def put(
        self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None
    ) -> _T:
        return cast(_T, await self._custom("put", path, cast_to, body, options or {}, False, None))

    async def patch(
        self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None
    ) -> _T:
        return cast(_T, await self._custom("patch", path, cast_to, body, options or {}, False, None))

    async def delete(
        self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None
    ) -> _T:
        return cast(_T, await self._custom("delete", path, cast_to, body, options or {}, False, None))
