"""Request building, the retry loop, backoff, timeouts and response parsing: the only module that sends.

``BaseClient`` holds the I/O-free logic (headers, URLs, retry decisions, delays, error mapping, parsing);
``SyncAPIClient`` and ``AsyncAPIClient`` add the two send loops that mirror each other line for line.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import anyio
import httpx
import pydantic

from . import _exceptions
from ._constants import (
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_TIMEOUT,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    MODEL_NONSTREAMING_TOKENS,
    NONSTREAMING_DEFAULT_SECONDS,
    NONSTREAMING_MAX_SECONDS,
    NONSTREAMING_TOKENS_PER_HOUR,
)
from ._logs import logger, redact_headers
from ._streaming import upstream_request_id
from ._types import NOT_GIVEN, NotGiven, Omit
from ._version import __version__
from .usage import ModelPrice, UsageRecorder, UsageTracker

if TYPE_CHECKING:
    from ._response import APIResponse, AsyncAPIResponse, AsyncStreamedAPIResponse, StreamedAPIResponse

__all__ = ["AsyncAPIClient", "BaseClient", "FinalRequestOptions", "SyncAPIClient", "make_request_options"]

_T = TypeVar("_T")

# Private marker headers, stripped before sending: they tell the client to hand back a raw or a
# streamed response wrapper instead of the parsed object (``with_raw_response`` / ``with_streaming_response``).
RESPONSE_MODE_HEADER = "x-claude-web-response-mode"
ResponseMode = Literal["parsed", "raw", "stream"]


@dataclass
class FinalRequestOptions:
    """Everything one API call needs; immutable in practice (``replace`` makes variants)."""

    method: str
    url: str
    params: Mapping[str, object] | None = None
    headers: Mapping[str, str | Omit] | None = None
    max_retries: int | NotGiven = NOT_GIVEN
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN
    json_data: Any = None
    content: bytes | None = None
    extra_json: Mapping[str, Any] | None = None
    # usage accounting: what the call is, for the record (None: not an accountable call)
    usage_operation: str | None = None
    usage_model: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


def make_request_options(
    *,
    extra_headers: Mapping[str, str | Omit] | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    query: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The per-call options every resource method accepts, as keyword arguments for ``FinalRequestOptions``."""
    opts: dict[str, Any] = {}
    if extra_headers:
        opts["headers"] = extra_headers
    params: dict[str, object] = {}
    if query:
        params.update({k: v for k, v in query.items() if not isinstance(v, NotGiven)})
    if extra_query:
        params.update(extra_query)
    if params:
        opts["params"] = params
    if extra_body:
        opts["extra_json"] = extra_body
    if not isinstance(timeout, NotGiven):
        opts["timeout"] = timeout
    return opts


def strip_not_given(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if not isinstance(v, NotGiven)}


def _to_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


class _DefaultsMixin:
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("limits", DEFAULT_CONNECTION_LIMITS)
        kwargs.setdefault("follow_redirects", True)
        super().__init__(**kwargs)


class DefaultHttpxClient(_DefaultsMixin, httpx.Client):
    """An ``httpx.Client`` with this library's defaults (timeouts, pool limits, redirects)."""


class DefaultAsyncHttpxClient(_DefaultsMixin, httpx.AsyncClient):
    """An ``httpx.AsyncClient`` with this library's defaults (timeouts, pool limits, redirects)."""


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
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()

    def _effective_timeout(self, options: FinalRequestOptions) -> httpx.Timeout:
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        return _to_timeout(timeout)

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
        if response.is_closed and not response.is_stream_consumed:
            return _exceptions.make_status_error(f"Error code: {response.status_code}", body=None, response=response)
        text = response.text.strip()
        body: object = text
        try:
            body = json.loads(text)
            message = f"Error code: {response.status_code} - {body}"
        except ValueError:
            message = text or f"Error code: {response.status_code}"
        return _exceptions.make_status_error(message, body=body, response=response)

    def _parse(self, cast_to: Any, response: httpx.Response, options: FinalRequestOptions) -> Any:
        """Turn a fully read response into ``cast_to`` (a model, ``str``, ``httpx.Response``, ``object``...)."""
        if cast_to is httpx.Response:
            return response
        if cast_to is type(None):
            return None
        if cast_to is str:
            return response.text
        if cast_to is bytes:
            return response.content
        content = response.content
        if cast_to is object or cast_to is dict or cast_to is Any:
            try:
                return json.loads(content) if content else None
            except ValueError as exc:
                raise _exceptions.APIResponseValidationError(
                    response, response.text, message=f"Expected a JSON response body: {exc}"
                ) from exc
        if isinstance(cast_to, type) and issubclass(cast_to, pydantic.BaseModel):
            try:
                result = _json_validator(cast_to)(content)
            except pydantic.ValidationError as exc:
                raise _exceptions.APIResponseValidationError(
                    response, _safe_body(response), message=_validation_message(cast_to, exc)
                ) from exc
            request_id = response.headers.get("request-id")
            if request_id is not None:
                object.__setattr__(result, "_request_id", request_id)  # a plain attribute, not a field
            set_context = getattr(result, "_set_page_context", None)
            if set_context is not None:
                set_context(self, options, cast_to)
            return result
        try:
            return pydantic.TypeAdapter(cast_to).validate_json(content)
        except pydantic.ValidationError as exc:
            raise _exceptions.APIResponseValidationError(
                response, _safe_body(response), message=_validation_message(cast_to, exc)
            ) from exc

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

    @staticmethod
    def _finish_usage_ok(tracker: UsageTracker | None, result: Any, response: httpx.Response) -> None:
        if tracker is None or tracker.done:
            return
        usage = getattr(result, "usage", None)
        if usage is not None:
            tracker.set_usage(usage, model=getattr(result, "model", None))
        elif isinstance(getattr(result, "input_tokens", None), int):  # count_tokens
            pass
        tracker.finish("ok", request_id=upstream_request_id(response.headers))

    @staticmethod
    def _finish_usage_error(tracker: UsageTracker | None, error: BaseException) -> None:
        if tracker is None:
            return
        response = getattr(error, "response", None)
        request_id = upstream_request_id(response.headers) if isinstance(response, httpx.Response) else None
        tracker.finish("error", error=error, request_id=request_id)

    # -- the non-streaming guard ------------------------------------------------------------------------------
    def _calculate_nonstreaming_timeout(self, max_tokens: int, max_nonstreaming_tokens: int | None) -> httpx.Timeout:
        expected = NONSTREAMING_MAX_SECONDS * max_tokens / NONSTREAMING_TOKENS_PER_HOUR
        if expected > NONSTREAMING_DEFAULT_SECONDS or (max_nonstreaming_tokens and max_tokens > max_nonstreaming_tokens):
            raise ValueError(
                "Streaming is required for operations that may take longer than 10 minutes: pass stream=True or use "
                "client.messages.stream(...), or set an explicit timeout= to take responsibility for long calls."
            )
        return httpx.Timeout(NONSTREAMING_DEFAULT_SECONDS, connect=5.0)

    def _nonstreaming_guard(self, max_tokens: int, model: str, timeout: Any) -> Any:
        """The timeout to use for a non-streaming ``create`` (raises ``ValueError`` when it should stream)."""
        if isinstance(timeout, NotGiven) and self.timeout == DEFAULT_TIMEOUT:
            return self._calculate_nonstreaming_timeout(max_tokens, MODEL_NONSTREAMING_TOKENS.get(model))
        return timeout


_JSON_VALIDATORS: dict[type, Any] = {}


def _json_validator(model: type[pydantic.BaseModel]) -> Any:
    """``model``'s core ``validate_json`` (skipping ``model_validate_json``'s Python wrapper on every call)."""
    validate = _JSON_VALIDATORS.get(model)
    if validate is None:
        model.model_rebuild(force=True)  # our models defer building their schema until first use
        validate = _JSON_VALIDATORS[model] = model.__pydantic_validator__.validate_json
    return validate


def _finish_usage_unparsed(tracker: UsageTracker | None, response: httpx.Response, *, stream: bool,
                           complete: bool = True) -> None:
    """End the usage record of a call handed over unparsed (``with_raw_response`` / ``with_streaming_response``):
    tokens from the JSON body when it was read, else none known; ``aborted`` if a body was left unread."""
    if tracker is None or tracker.done:
        return
    request_id = upstream_request_id(response.headers)
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = None
    if body is not None and not stream and complete:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("usage"), dict):
            model = data.get("model")
            tracker.set_usage(data["usage"], model=model if isinstance(model, str) else None)
        tracker.finish("ok", request_id=request_id)
        return
    tracker.finish("ok" if complete else "aborted", request_id=request_id)


def _end_interrupted(tracker: UsageTracker | None, exc: BaseException) -> None:
    """A call that ended by an exception the request loop did not record (task cancelled, KeyboardInterrupt,
    a bug) still gets its one usage record: ``aborted`` for cancellation and interrupts, ``error`` otherwise."""
    if tracker is None or tracker.done:
        return
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)) or type(exc).__name__ in ("CancelledError", "Cancelled"):
        tracker.finish("aborted")
    else:
        tracker.finish("error", error=exc)


def _json_default(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_unset=True, by_alias=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _safe_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


def _validation_message(cast_to: Any, exc: pydantic.ValidationError) -> str:
    name = getattr(cast_to, "__name__", str(cast_to))
    errors = exc.errors()
    first: Mapping[str, Any] = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"The API response could not be read as {name}: {first.get('msg', 'invalid')} at {where!r}"


def _response_mode(options: FinalRequestOptions) -> tuple[ResponseMode, FinalRequestOptions]:
    headers = options.headers
    if not headers or RESPONSE_MODE_HEADER not in headers:
        return "parsed", options
    mode = cast(ResponseMode, headers[RESPONSE_MODE_HEADER])
    rest = {k: v for k, v in headers.items() if k != RESPONSE_MODE_HEADER}
    return mode, replace(options, headers=rest)


class SyncAPIClient(BaseClient):
    _client: httpx.Client

    def __init__(self, *, http_client: httpx.Client | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client must be an httpx.Client, not {type(http_client).__name__}")
        self._client = http_client or DefaultHttpxClient(timeout=_to_timeout(self.timeout))

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
        mode, options = _response_mode(options)
        options = self._prepare_options(options)
        tracker = self._start_usage(options)
        try:
            return self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            _end_interrupted(tracker, exc)
            raise

    def _request(self, cast_to: Any, options: FinalRequestOptions, mode: ResponseMode, stream: bool,
                 stream_cls: Any, tracker: UsageTracker | None) -> Any:
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
            wrapped._on_close = lambda: _finish_usage_unparsed(tracker, response, stream=stream,
                                                                complete=wrapped._exhausted)
            return wrapped
        if mode == "raw":
            raw: APIResponse[Any] = APIResponse(response, parse, retries_taken=retries_taken)
            if not stream:  # the body is here: the call's usage record need not wait for parse()
                _finish_usage_unparsed(tracker, response, stream=False)
            return raw
        return parse()

    # -- custom requests: client.get/post/put/patch/delete ----------------------------------------------------
    def _custom(self, method: str, path: str, cast_to: Any, body: Any, options: Mapping[str, Any], stream: bool,
                stream_cls: Any) -> Any:
        opts = FinalRequestOptions(method=method, url=path, json_data=body, **_options_from_mapping(options))
        return self.request(cast_to, opts, stream=stream, stream_cls=stream_cls)

    def get(self, path: str, *, cast_to: type[_T], options: Mapping[str, Any] | None = None, stream: bool = False,
            stream_cls: Any = None) -> _T:
        """Send ``GET path`` with the client's auth, retries and headers; parse the answer as ``cast_to``."""
        return cast(_T, self._custom("get", path, cast_to, None, options or {}, stream, stream_cls))

    def post(self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None,
             stream: bool = False, stream_cls: Any = None) -> _T:
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
        self._client = http_client or DefaultAsyncHttpxClient(timeout=_to_timeout(self.timeout))

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
        mode, options = _response_mode(options)
        options = self._prepare_options(options)
        tracker = self._start_usage(options)
        try:
            return await self._request(cast_to, options, mode, stream, stream_cls, tracker)
        except BaseException as exc:
            _end_interrupted(tracker, exc)
            raise

    async def _request(self, cast_to: Any, options: FinalRequestOptions, mode: ResponseMode, stream: bool,
                       stream_cls: Any, tracker: UsageTracker | None) -> Any:
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
            wrapped: AsyncStreamedAPIResponse[Any] = AsyncStreamedAPIResponse(response, parse, retries_taken=retries_taken)
            wrapped._on_close = lambda: _finish_usage_unparsed(tracker, response, stream=stream,
                                                                complete=wrapped._exhausted)
            return wrapped
        if mode == "raw":
            raw: AsyncAPIResponse[Any] = AsyncAPIResponse(response, parse, retries_taken=retries_taken)
            if not stream:
                _finish_usage_unparsed(tracker, response, stream=False)
            return raw
        return parse()

    async def _custom(self, method: str, path: str, cast_to: Any, body: Any, options: Mapping[str, Any],
                      stream: bool, stream_cls: Any) -> Any:
        opts = FinalRequestOptions(method=method, url=path, json_data=body, **_options_from_mapping(options))
        return await self.request(cast_to, opts, stream=stream, stream_cls=stream_cls)

    async def get(self, path: str, *, cast_to: type[_T], options: Mapping[str, Any] | None = None,
                  stream: bool = False, stream_cls: Any = None) -> _T:
        """Send ``GET path`` with the client's auth, retries and headers; parse the answer as ``cast_to``."""
        return cast(_T, await self._custom("get", path, cast_to, None, options or {}, stream, stream_cls))

    async def post(self, path: str, *, cast_to: type[_T], body: Any = None, options: Mapping[str, Any] | None = None,
                   stream: bool = False, stream_cls: Any = None) -> _T:
        """Send ``POST path`` with a JSON ``body``."""
        return cast(_T, await self._custom("post", path, cast_to, body, options or {}, stream, stream_cls))

    async def put(self, path: str, *, cast_to: type[_T], body: Any = None,
                  options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, await self._custom("put", path, cast_to, body, options or {}, False, None))

    async def patch(self, path: str, *, cast_to: type[_T], body: Any = None,
                    options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, await self._custom("patch", path, cast_to, body, options or {}, False, None))

    async def delete(self, path: str, *, cast_to: type[_T], body: Any = None,
                     options: Mapping[str, Any] | None = None) -> _T:
        return cast(_T, await self._custom("delete", path, cast_to, body, options or {}, False, None))


def _options_from_mapping(options: Mapping[str, Any]) -> dict[str, Any]:
    """``RequestOptions`` (headers, params, timeout, max_retries, extra_json) to ``FinalRequestOptions`` fields."""
    known = {"headers", "params", "timeout", "max_retries", "extra_json"}
    unknown = set(options) - known - {"idempotency_key"}
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in options.items() if k in known}
