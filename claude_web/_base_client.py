"""Request building, the retry loop, backoff, timeouts and response parsing: the only module that sends.

``BaseClient`` holds the I/O-free logic (headers, URLs, retry decisions, delays, error mapping, parsing);
``SyncAPIClient`` and ``AsyncAPIClient`` add the two send loops that mirror each other line for line. What a call is
made of lives in :mod:`._request_options`; what a finished exchange becomes (parsed result, usage record) in
:mod:`._results`.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import httpx

from . import _exceptions
from ._constants import (
    DEFAULT_TIMEOUT,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    MODEL_NONSTREAMING_TOKENS,
)
from ._logs import logger, redact_headers
from ._request_options import (
    RESPONSE_MODE_HEADER,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    FinalRequestOptions,
    ResponseMode,
    json_default,
    make_request_options,
    nonstreaming_timeout,
    options_from_mapping,
    response_mode,
    strip_not_given,
    to_timeout,
)
from ._results import (
    end_interrupted,
    finish_usage_error,
    finish_usage_ok,
    finish_usage_unparsed,
    parse_response,
    status_error,
)
from ._types import NotGiven, Omit
from ._version import __version__
from .usage import DEFAULT_PRICING, ModelPrice, UsageRecorder, UsageTracker

if TYPE_CHECKING:
    from ._response import APIResponse, AsyncAPIResponse, AsyncStreamedAPIResponse, StreamedAPIResponse

__all__ = [
    "RESPONSE_MODE_HEADER",
    "AsyncAPIClient",
    "BaseClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "FinalRequestOptions",
    "SyncAPIClient",
    "make_request_options",
    "strip_not_given",
]

_T = TypeVar("_T")


class BaseClient:
    """Options and the I/O-free half of every client."""

    _version = __version__
    _platform_backend = "anthropic"

    def __init__(
        self,
        *,
        base_url: str | httpx.URL,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        custom_headers: Mapping[str, str] | None,
        custom_query: Mapping[str, object] | None,
        usage_recorder: UsageRecorder | None = None,
        usage_context: Mapping[str, Any] | None = None,
        pricing: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        if max_retries is None:
            raise TypeError("max_retries cannot be None; pass 0 to disable retries")
        self._base_url = self._enforce_trailing_slash(httpx.URL(str(base_url)))
        self.timeout = timeout
        self.max_retries = max_retries
        self._custom_headers: dict[str, str] = dict(custom_headers or {})
        self._custom_query: dict[str, object] = dict(custom_query or {})
        self._usage_recorder = usage_recorder
        self._usage_context: dict[str, Any] = dict(usage_context or {})
        self._pricing = pricing
        self._headers_cache: dict[str, str] | None = None
        self._url_cache: dict[str, httpx.URL] = {}  # path -> absolute URL: joining costs more than the rest

    # -- options ---------------------------------------------------------------------------------------------
    @staticmethod
    def _enforce_trailing_slash(url: httpx.URL) -> httpx.URL:
        return url if url.raw_path.endswith(b"/") else url.copy_with(raw_path=url.raw_path + b"/")

    @property
    def base_url(self) -> httpx.URL:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str | httpx.URL) -> None:
        self._base_url = self._enforce_trailing_slash(httpx.URL(str(url)))
        self._headers_cache = None
        self._url_cache = {}

    @property
    def usage_context(self) -> dict[str, Any]:
        return dict(self._usage_context)

    @property
    def pricing(self) -> Mapping[str, ModelPrice]:
        """The price table this client's usage records are priced with: ``pricing=``, else the default table."""
        return DEFAULT_PRICING if self._pricing is None else self._pricing

    @property
    def auth_headers(self) -> dict[str, str]:
        return {}

    @property
    def default_headers(self) -> dict[str, str | Omit]:
        return {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": f"claude-web/{self._version} (python)",
            **self._custom_headers,
        }

    @property
    def default_query(self) -> dict[str, object]:
        return dict(self._custom_query)

    def _validate_headers(self, headers: Mapping[str, str]) -> None:
        """Raise if no credentials are present (subclasses know which ones they need)."""

    def _base_headers(self) -> dict[str, str]:
        cached = self._headers_cache
        if cached is None:
            merged: dict[str, str | Omit] = {**self.default_headers, **self.auth_headers}
            cached = {k: v for k, v in merged.items() if isinstance(v, str)}
            self._headers_cache = cached
        return cached

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={str(self._base_url)!r} max_retries={self.max_retries}>"

    # -- building a request ----------------------------------------------------------------------------------
    def _prepare_url(self, url: str) -> httpx.URL:
        cache = self._url_cache
        joined = cache.get(url)
        if joined is None:
            if url.startswith(("http://", "https://")):
                joined = httpx.URL(url)
            else:
                joined = self._base_url.join(url.lstrip("/"))
            if len(cache) >= 256:  # paths with ids in them (batches) must not grow it without bound
                cache.clear()
            cache[url] = joined
        return joined

    def _build_headers(self, options: FinalRequestOptions) -> dict[str, str]:
        headers = self._base_headers()
        custom = options.headers
        if custom:
            headers = dict(headers)
            lowered = {k.lower(): k for k in headers}
            for name, value in custom.items():
                existing = lowered.get(name.lower())
                if existing is not None:
                    del headers[existing]
                if isinstance(value, str):
                    headers[name] = value
        self._validate_headers(headers)
        return headers

    def _build_body(self, options: FinalRequestOptions) -> bytes | None:
        if options.content is not None:
            return options.content
        data = options.json_data
        if options.extra_json:
            data = {**(data or {}), **options.extra_json}
        if data is None:
            return None
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=json_default).encode()

    def _effective_timeout(self, options: FinalRequestOptions) -> httpx.Timeout:
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        return to_timeout(timeout)

    def _max_retries_for(self, options: FinalRequestOptions) -> int:
        return self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries

    # -- hooks for platform clients (Bedrock, Vertex) ---------------------------------------------------------
    def _prepare_options(self, options: FinalRequestOptions) -> FinalRequestOptions:
        """Rewrite a call before it is built (e.g. move ``model`` from the body into the URL). Default: as is."""
        return options

    def _prepare_request(self, request: httpx.Request) -> None:
        """Adjust each attempt's request just before it is sent (e.g. sign it). Default: nothing."""

    def _make_sse_decoder(self) -> Any:
        """The decoder streams use: ``feed(bytes) -> list[ServerSentEvent]`` plus ``pending``."""
        from ._sse import SSEDecoder

        return SSEDecoder()

    def _build_request_args(self, options: FinalRequestOptions) -> dict[str, Any]:
        params = options.params
        if self._custom_query:
            params = {**self._custom_query, **(params or {})}
        headers = self._build_headers(options)
        if options.method.lower() == "get" and "content-type" in headers:
            # as anthropic does: a GET carries no body, so no content-type
            headers = {k: v for k, v in headers.items() if k != "content-type"}
        return {
            "method": options.method,
            "url": self._prepare_url(options.url),
            "headers": headers,
            "params": params or None,
            "content": self._build_body(options),
            "timeout": self._effective_timeout(options),
            "extensions": options.extensions or None,
        }

    def _log_request(self, request: httpx.Request, options: FinalRequestOptions, attempt: int) -> None:
        if logger.isEnabledFor(10):
            logger.debug(
                "Request %s %s (attempt %d) headers=%s json=%s",
                request.method,
                request.url,
                attempt + 1,
                redact_headers(dict(request.headers)),
                options.json_data,
            )

    # -- retries ---------------------------------------------------------------------------------------------
    @staticmethod
    def _should_retry(response: httpx.Response) -> bool:
        decision = response.headers.get("x-should-retry")
        if decision == "true":
            return True
        if decision == "false":
            return False
        status = response.status_code
        return status in (408, 409, 429) or status >= 500

    @staticmethod
    def _parse_retry_after(headers: httpx.Headers | None) -> float | None:
        if headers is None:
            return None
        ms = headers.get("retry-after-ms")
        if ms is not None:
            try:
                return float(ms) / 1000.0
            except ValueError:
                pass
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            pass
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed) - time.time())

    def _retry_delay(self, retries_taken: int, headers: httpx.Headers | None) -> float:
        """Seconds to wait before retry number ``retries_taken + 1``."""
        retry_after = self._parse_retry_after(headers)
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
            return retry_after
        backoff = min(INITIAL_RETRY_DELAY * (2.0 ** min(retries_taken, 1000)), MAX_RETRY_DELAY)
        return max(backoff * (1 - 0.25 * random.random()), 0.0)

    # -- errors and parsing ----------------------------------------------------------------------------------
    def _make_status_error(self, response: httpx.Response) -> _exceptions.APIStatusError:
        return status_error(response)

    def _parse(self, cast_to: Any, response: httpx.Response, options: FinalRequestOptions) -> Any:
        """Turn a fully read response into ``cast_to`` (a model, ``str``, ``httpx.Response``, ``object``...)."""
        return parse_response(self, cast_to, response, options)

    # -- usage -----------------------------------------------------------------------------------------------
    def _start_usage(self, options: FinalRequestOptions) -> UsageTracker | None:
        if self._usage_recorder is None or options.usage_operation is None:
            return None
        return UsageTracker(
            self._usage_recorder,
            operation=options.usage_operation,
            model=options.usage_model,
            backend=self._platform_backend,
            context=self._usage_context,
            pricing=self._pricing,
        )

    _finish_usage_ok = staticmethod(finish_usage_ok)
    _finish_usage_error = staticmethod(finish_usage_error)

    # -- the non-streaming guard ------------------------------------------------------------------------------
    def _nonstreaming_guard(self, max_tokens: int, model: str, timeout: Any) -> Any:
        """The timeout to use for a non-streaming ``create`` (raises ``ValueError`` when it should stream)."""
        if isinstance(timeout, NotGiven) and self.timeout == DEFAULT_TIMEOUT:
            return nonstreaming_timeout(max_tokens, MODEL_NONSTREAMING_TOKENS.get(model))
        return timeout


class SyncAPIClient(BaseClient):
    _client: httpx.Client

    def __init__(self, *, http_client: httpx.Client | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client must be an httpx.Client, not {type(http_client).__name__}")
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
        try:
            return self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            end_interrupted(tracker, exc)
            raise

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
        args = self._build_request_args(options)
        while True:
            request = self._client.build_request(**args)
            self._prepare_request(request)
            self._log_request(request, options, retries_taken)
            try:
                response = self._client.send(request, stream=stream or mode == "stream")
            except (httpx.TransportError, _exceptions.RetryableError) as exc:
                if retries_taken < max_retries:
                    time.sleep(self._retry_delay(retries_taken, None))
                    retries_taken += 1
                    continue
                error: _exceptions.APIError = (
                    _exceptions.APITimeoutError(request)
                    if isinstance(exc, httpx.TimeoutException)
                    else _exceptions.APIConnectionError(request=request)
                )
                self._finish_usage_error(tracker, error)
                raise error from exc
            logger.debug("Response %s %s -> %d", request.method, request.url, response.status_code)
            if response.status_code >= 400:
                if retries_taken < max_retries and self._should_retry(response):
                    response.close()
                    time.sleep(self._retry_delay(retries_taken, response.headers))
                    retries_taken += 1
                    continue
                if not response.is_closed:
                    response.read()
                status_error = self._make_status_error(response)
                self._finish_usage_error(tracker, status_error)
                raise status_error
            return self._deliver(cast_to, response, options, mode, stream, stream_cls, tracker, retries_taken)

    def _deliver(
        self,
        cast_to: Any,
        response: httpx.Response,
        options: FinalRequestOptions,
        mode: ResponseMode,
        stream: bool,
        stream_cls: Any,
        tracker: UsageTracker | None,
        retries_taken: int,
    ) -> Any:
        from ._response import APIResponse, StreamedAPIResponse

        def parse() -> Any:
            if stream:
                return stream_cls(cast_to=cast_to, response=response, client=self, usage=tracker)
            try:
                result = self._parse(cast_to, response, options)
            except _exceptions.APIError as exc:
                self._finish_usage_error(tracker, exc)
                raise
            self._finish_usage_ok(tracker, result, response)
            return result

        if mode == "stream":
            wrapped: StreamedAPIResponse[Any] = StreamedAPIResponse(response, parse, retries_taken=retries_taken)
            wrapped._on_close = lambda: finish_usage_unparsed(
                tracker, response, stream=stream, complete=wrapped._exhausted
            )
            return wrapped
        if mode == "raw":
            raw: APIResponse[Any] = APIResponse(response, parse, retries_taken=retries_taken)
            if not stream:  # the body is here: the call's usage record need not wait for parse()
                finish_usage_unparsed(tracker, response, stream=False)
            return raw
        return parse()

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


class AsyncAPIClient(BaseClient):
    _client: httpx.AsyncClient

    def __init__(self, *, http_client: httpx.AsyncClient | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}")
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
        try:
            return await self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            end_interrupted(tracker, exc)
            raise

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
        args = self._build_request_args(options)
        while True:
            request = self._client.build_request(**args)
            await self._aprepare_request(request)
            self._log_request(request, options, retries_taken)
            try:
                response = await self._client.send(request, stream=stream or mode == "stream")
            except (httpx.TransportError, _exceptions.RetryableError) as exc:
                if retries_taken < max_retries:
                    await anyio.sleep(self._retry_delay(retries_taken, None))
                    retries_taken += 1
                    continue
                error: _exceptions.APIError = (
                    _exceptions.APITimeoutError(request)
                    if isinstance(exc, httpx.TimeoutException)
                    else _exceptions.APIConnectionError(request=request)
                )
                self._finish_usage_error(tracker, error)
                raise error from exc
            logger.debug("Response %s %s -> %d", request.method, request.url, response.status_code)
            if response.status_code >= 400:
                if retries_taken < max_retries and self._should_retry(response):
                    await response.aclose()
                    await anyio.sleep(self._retry_delay(retries_taken, response.headers))
                    retries_taken += 1
                    continue
                if not response.is_closed:
                    await response.aread()
                status_error = self._make_status_error(response)
                self._finish_usage_error(tracker, status_error)
                raise status_error
            return await self._deliver(cast_to, response, options, mode, stream, stream_cls, tracker, retries_taken)

    async def _deliver(
        self,
        cast_to: Any,
        response: httpx.Response,
        options: FinalRequestOptions,
        mode: ResponseMode,
        stream: bool,
        stream_cls: Any,
        tracker: UsageTracker | None,
        retries_taken: int,
    ) -> Any:
        from ._response import AsyncAPIResponse, AsyncStreamedAPIResponse

        def parse() -> Any:
            if stream:
                return stream_cls(cast_to=cast_to, response=response, client=self, usage=tracker)
            try:
                result = self._parse(cast_to, response, options)
            except _exceptions.APIError as exc:
                self._finish_usage_error(tracker, exc)
                raise
            self._finish_usage_ok(tracker, result, response)
            return result

        if mode == "stream":
            wrapped: AsyncStreamedAPIResponse[Any] = AsyncStreamedAPIResponse(
                response, parse, retries_taken=retries_taken
            )
            wrapped._on_close = lambda: finish_usage_unparsed(
                tracker, response, stream=stream, complete=wrapped._exhausted
            )
            return wrapped
        if mode == "raw":
            raw: AsyncAPIResponse[Any] = AsyncAPIResponse(response, parse, retries_taken=retries_taken)
            if not stream:
                finish_usage_unparsed(tracker, response, stream=False)
            return raw
        return parse()

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
        """Send ``POST path`` with a JSON ``body``."""
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
