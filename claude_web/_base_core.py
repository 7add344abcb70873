"""``BaseClient``: the I/O-free half of every client, written once for the sync and the async send loop.

Options (base URL, timeout, retries, default headers and query), building a request (headers, URL, body),
credentials held as :class:`~claude_web._credentials.Secret` values and put on the outgoing request at the last
moment, what a failed attempt means (the rules live in :mod:`claude_web.retries`), turning a finished response
into a result or an error, and the call's usage record. The loops themselves are in :mod:`._base_sync` and
:mod:`._base_async`; what a call is made of is in :mod:`._request_options`; results in :mod:`._results`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from . import _exceptions, retries
from ._constants import DEFAULT_TIMEOUT, MODEL_NONSTREAMING_TOKENS
from ._credentials import Secret
from ._logs import logger, redact_headers
from ._request_options import FinalRequestOptions, ResponseMode, encode_json_body, nonstreaming_timeout, to_timeout
from ._response import BINARY_RESPONSES
from ._results import finish_usage_error, finish_usage_ok, finish_usage_unparsed, parse_response, status_error
from ._types import NotGiven, Omit
from ._version import __version__
from .otel._calls import start_call
from .otel._state import current as otel_state
from .usage import DEFAULT_PRICING, ModelPrice, UsageRecord, UsageRecorder, UsageTracker

__all__ = ["BaseClient", "CredentialHeaders", "RequestParts"]

CredentialHeaders = Sequence[tuple[str, Secret]]
"""``(header name, secret value)`` pairs a client puts on each outgoing request, e.g. ``("x-api-key", Secret(k))``."""

# httpx's own default (5 s for everything): an ``http_client`` still carrying it was not configured for time
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)


class RequestParts:
    """One call's request, built once before the first attempt: the ``build_request`` arguments (no credentials
    in them) and the credential headers still to be put on each attempt."""

    __slots__ = ("args", "credentials")

    def __init__(self, args: dict[str, Any], credentials: CredentialHeaders) -> None:
        self.args = args
        self.credentials = credentials


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
        self._server = _server(self._base_url)  # the span's server.address / server.port
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
    def _resolve_timeout(
        timeout: float | httpx.Timeout | None | NotGiven, http_client: httpx.Client | httpx.AsyncClient | None
    ) -> float | httpx.Timeout | None:
        """No ``timeout=``: the one configured on a given ``http_client`` (when it is not httpx's untouched
        default), else ours (10 minutes, connect 5 s)."""
        if not isinstance(timeout, NotGiven):
            return timeout
        if http_client is not None and http_client.timeout != _HTTPX_DEFAULT_TIMEOUT:
            return http_client.timeout
        return DEFAULT_TIMEOUT

    @staticmethod
    def _enforce_trailing_slash(url: httpx.URL) -> httpx.URL:
        return url if url.raw_path.endswith(b"/") else url.copy_with(raw_path=url.raw_path + b"/")

    @property
    def base_url(self) -> httpx.URL:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str | httpx.URL) -> None:
        self._base_url = self._enforce_trailing_slash(httpx.URL(str(url)))
        self._server = _server(self._base_url)
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
        """The credential headers in plain text (built on demand; the client itself keeps them as secrets)."""
        return {name: secret.reveal() for name, secret in self._credential_headers()}

    def _credential_headers(self) -> CredentialHeaders:
        """The credentials to put on every request (subclasses that have some override this)."""
        return ()

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

    def _validate_headers(self, headers: Mapping[str, str], options: FinalRequestOptions) -> None:
        """Raise if no credentials will be present (subclasses know which ones they need)."""

    def _base_headers(self) -> dict[str, str]:
        cached = self._headers_cache
        if cached is None:
            cached = {k: v for k, v in self.default_headers.items() if isinstance(v, str)}
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
        self._validate_headers(headers, options)
        return headers

    def _build_body(self, options: FinalRequestOptions) -> bytes | None:
        if options.content is not None:
            return options.content
        data = options.json_data
        if options.extra_json:
            data = {**(data or {}), **options.extra_json}
        if data is None:
            return None
        return encode_json_body(data)

    def _effective_timeout(self, options: FinalRequestOptions) -> httpx.Timeout:
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        return to_timeout(timeout)

    def _max_retries_for(self, options: FinalRequestOptions) -> int:
        return self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries

    def _build_request_parts(self, options: FinalRequestOptions) -> RequestParts:
        params = options.params
        if self._custom_query:
            params = {**self._custom_query, **(params or {})}
        headers = self._build_headers(options)
        if "content-type" in headers and (options.files is not None or options.method.lower() == "get"):
            # as anthropic does: a GET carries no body, so no content-type; a multipart body gets httpx's own
            headers = {k: v for k, v in headers.items() if k != "content-type"}
        url = self._prepare_url(options.url)
        if params and url.query:  # keep the query written in the path (``/v1/files?beta=true``), as anthropic does
            params = {**dict(url.params), **params}
            url = url.copy_with(query=None)
        args: dict[str, Any] = {
            "method": options.method,
            "url": url,
            "headers": headers,
            "params": params or None,
            "timeout": self._effective_timeout(options),
            "extensions": options.extensions or None,
        }
        if options.files is not None:
            args["files"] = options.files
            args["data"] = self._form_fields(options)
        else:
            args["content"] = self._build_body(options)
        return RequestParts(args, self._credentials_for(headers, options))

    @staticmethod
    def _form_fields(options: FinalRequestOptions) -> dict[str, Any] | None:
        """The JSON body of a multipart call (``extra_body`` included) as form fields."""
        data = {**(options.json_data or {}), **(options.extra_json or {})}
        return {k: v if isinstance(v, (str, bytes)) else json.dumps(v) for k, v in data.items()} or None

    def _credentials_for(self, headers: Mapping[str, str], options: FinalRequestOptions) -> CredentialHeaders:
        """The credential headers this call sends: all of them, less any the call or the client's default headers
        set themselves or removed with ``Omit``."""
        credentials = self._credential_headers()
        if not credentials:
            return credentials
        custom = options.headers
        taken = {name.lower() for name in headers}
        if custom:
            taken.update(name.lower() for name, value in custom.items() if isinstance(value, Omit))
        if not taken.intersection(name for name, _ in credentials):
            return credentials
        return tuple((name, secret) for name, secret in credentials if name not in taken)

    @staticmethod
    def _attach_credentials(request: httpx.Request, credentials: CredentialHeaders) -> None:
        """Put the credentials on the outgoing request: the last step before it is sent, so no dict of ours holds
        them in plain text (an ``httpx.Request``'s repr shows no headers)."""
        for name, secret in credentials:
            request.headers[name] = secret.reveal()

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

    # -- a failed attempt ------------------------------------------------------------------------------------
    @staticmethod
    def _should_retry(response: httpx.Response) -> bool:
        return retries.should_retry_status(response.status_code, response.headers)

    def _retry_delay(self, retries_taken: int, headers: httpx.Headers | None) -> float:
        """Seconds to wait before retry number ``retries_taken + 1``."""
        return retries.retry_delay(retries_taken, headers)

    @staticmethod
    def _send_failure(exc: Exception, request: httpx.Request) -> _exceptions.AnthropicError:
        """What an exception out of ``send`` means to the caller: a timeout, our own error as it is, or (anything
        else: a refused connection, a closed client, a failing transport) a connection error."""
        if isinstance(exc, httpx.TimeoutException):
            return _exceptions.APITimeoutError(request=request)
        if isinstance(exc, _exceptions.AnthropicError):
            return exc
        return _exceptions.APIConnectionError(request=request)

    @staticmethod
    def _failure_headers(error: BaseException) -> httpx.Headers | None:
        response = getattr(error, "response", None)
        return response.headers if isinstance(response, httpx.Response) else None

    # -- errors and parsing ----------------------------------------------------------------------------------
    def _make_status_error(self, response: httpx.Response) -> _exceptions.APIStatusError:
        return status_error(response)

    def _parse(self, cast_to: Any, response: httpx.Response, options: FinalRequestOptions) -> Any:
        """Turn a fully read response into ``cast_to`` (a model, ``str``, ``httpx.Response``, ``object``...)."""
        return parse_response(self, cast_to, response, options)

    _raw_response_cls: Any
    _streamed_response_cls: Any

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
        """A successful answer as the caller asked for it: parsed, a stream, or a raw / streamed wrapper."""
        if isinstance(cast_to, type) and issubclass(cast_to, BINARY_RESPONSES):
            # a binary body (a file download) is handed over as its wrapper in every mode, as in ``anthropic``
            wrapper = cast_to.streamed if mode == "stream" else cast_to
            return wrapper(response, lambda: response.content, retries_taken=retries_taken)

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
            wrapped = self._streamed_response_cls(response, parse, retries_taken=retries_taken)
            wrapped._on_close = lambda: finish_usage_unparsed(
                tracker, response, stream=stream, complete=wrapped._exhausted
            )
            return wrapped
        if mode == "raw":
            raw = self._raw_response_cls(response, parse, retries_taken=retries_taken)
            if not stream:  # the body is here: the call's usage record need not wait for parse()
                finish_usage_unparsed(tracker, response, stream=False)
            return raw
        return parse()

    # -- usage -----------------------------------------------------------------------------------------------
    def _start_usage(self, options: FinalRequestOptions) -> UsageTracker | None:
        """The call's usage record (and, while OpenTelemetry is live, its span): ``None`` when neither is wanted."""
        if options.usage_operation is None:
            return None
        telemetry = otel_state()  # None unless a tracer or meter provider is configured (see claude_web.otel)
        recorder = self._usage_recorder
        if recorder is None:
            if telemetry is None:
                return None
            recorder = _discard
        tracker = UsageTracker(
            recorder,
            operation=options.usage_operation,
            model=options.usage_model,
            backend=self._platform_backend,
            context=self._usage_context,
            pricing=self._pricing,
        )
        if telemetry is not None:
            tracker.attach(start_call(telemetry, tracker.record, options.json_data, self._server))
        return tracker

    _finish_usage_ok = staticmethod(finish_usage_ok)
    _finish_usage_error = staticmethod(finish_usage_error)

    # -- the non-streaming guard ------------------------------------------------------------------------------
    def _nonstreaming_guard(self, max_tokens: int, model: str, timeout: Any) -> Any:
        """The timeout to use for a non-streaming ``create`` (raises ``ValueError`` when it should stream)."""
        if isinstance(timeout, NotGiven) and self.timeout == DEFAULT_TIMEOUT:
            return nonstreaming_timeout(max_tokens, MODEL_NONSTREAMING_TOKENS.get(model))
        return timeout


def _discard(record: UsageRecord) -> None:
    """The recorder of a client without one whose calls are traced: the span is all there is."""


def _server(url: httpx.URL) -> tuple[str, int | None]:
    """``(host, port)`` of a base URL, the port implied by the scheme when the URL has none."""
    return url.host, url.port or {"https": 443, "http": 80}.get(url.scheme)
