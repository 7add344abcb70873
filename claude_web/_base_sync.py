"""``SyncAPIClient``: the blocking send loop (attempts, retries, waits) over an ``httpx.Client``.

Its twin :mod:`._base_async` mirrors it line for line; everything that does no I/O is in :mod:`._base_core`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import httpx

from . import retries
from ._base_core import BaseClient
from ._logs import logger
from ._request_options import (
    DefaultHttpxClient,
    FinalRequestOptions,
    ResponseMode,
    options_from_mapping,
    response_mode,
    to_timeout,
)
from ._response import APIResponse, StreamedAPIResponse
from ._results import end_interrupted
from ._types import NOT_GIVEN, NotGiven
from .otel._calls import deactivate
from .usage import UsageTracker

__all__ = ["SyncAPIClient"]

_T = TypeVar("_T")


class SyncAPIClient(BaseClient):
    _client: httpx.Client
    _raw_response_cls = APIResponse
    _streamed_response_cls = StreamedAPIResponse

    def __init__(
        self,
        *,
        http_client: httpx.Client | None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client must be an httpx.Client, not {type(http_client).__name__}")
        super().__init__(timeout=self._resolve_timeout(timeout, http_client), **kwargs)
        self._client = http_client or DefaultHttpxClient(timeout=to_timeout(self.timeout))

    def is_closed(self) -> bool:
        return self._client.is_closed

    def close(self) -> None:
        """Close the underlying httpx client, also one passed in as ``http_client`` (as ``anthropic`` does).

        Copies made with ``with_options`` share that pool: close only the client you own for the process.
        """
        if not self._client.is_closed:
            self._client.close()

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
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
            return self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            end_interrupted(tracker, exc)
            raise
        finally:
            if scope is not None:
                deactivate(scope)

    def _request(
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
            self._prepare_request(request)
            self._log_request(request, options, retries_taken)
            try:
                response = self._client.send(request, stream=stream or mode == "stream")
            except Exception as exc:
                error = self._send_failure(exc, request)
                if retries_taken < max_retries and retries.should_retry_error(error):
                    delay = self._retry_delay(retries_taken, self._failure_headers(error))
                    if tracker is not None:
                        tracker.retry(retries_taken + 1, delay, error=error)
                    time.sleep(delay)
                    retries_taken += 1
                    continue
                self._finish_usage_error(tracker, error)
                if error is exc:
                    raise
                raise error from exc
            logger.debug("Response %s %s -> %d", request.method, request.url, response.status_code)
            if response.status_code >= 400:
                if retries_taken < max_retries and self._should_retry(response):
                    response.close()
                    delay = self._retry_delay(retries_taken, response.headers)
                    if tracker is not None:
                        tracker.retry(retries_taken + 1, delay, status=response.status_code)
                    time.sleep(delay)
                    retries_taken += 1
                    continue
                if not response.is_closed:
                    response.read()
                status_error = self._make_status_error(response)
                self._finish_usage_error(tracker, status_error)
                raise status_error
            return self._deliver(cast_to, response, options, mode, stream, stream_cls, tracker, retries_taken)

    # -- custom requests: client.get/post/put/patch/delete ----------------------------------------------------
    def _custom(
        self, method: str, path: str, cast_to: Any, body: Any, options: Mapping[str, Any], stream: bool, stream_cls: Any
    ) -> Any:
        opts = FinalRequestOptions(method=method, url=path, json_data=body, **options_from_mapping(options))
        return self.request(cast_to, opts, stream=stream, stream_cls=stream_cls)

    def get(
        self,
        path: str,
        *,
        cast_to: type[_T],
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> _T:
        """Send ``GET path`` with the client's auth, retries and headers; parse the answer as ``cast_to``."""
        return cast(_T, self._custom("get", path, cast_to, None, options or {}, stream, stream_cls))

    def post(
        self,
        path: str,
        *,
        cast_to: type[_T],
        body: Any = None,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> _T:
        """Send ``POST path`` with a JSON ``body``; e.g. ``client.post("/v1/x", cast_to=object, body={...})``."""
        return cast(_T, self._custom("post", path, cast_to, body, options or {}, stream, stream_cls))

    def put(self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, self._custom("put", path, cast_to, body, options or {}, False, None))

    def patch(self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, self._custom("patch", path, cast_to, body, options or {}, False, None))

    def delete(self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, self._custom("delete", path, cast_to, body, options or {}, False, None))
