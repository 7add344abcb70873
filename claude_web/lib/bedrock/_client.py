"""``AnthropicBedrock`` / ``AsyncAnthropicBedrock``: the Messages API on Amazon Bedrock.

>>> from claude_web import AnthropicBedrock
>>> client = AnthropicBedrock(aws_region="us-west-2")  # credentials found the way boto3 finds them
>>> client.messages.create(model="anthropic.claude-sonnet-4-5-20250929-v1:0", max_tokens=256,
...                        messages=[{"role": "user", "content": "Hello"}])

Requests go to ``POST /model/{model}/invoke`` (``/invoke-with-response-stream`` when streaming), with
``anthropic_version: "bedrock-2023-05-31"`` in the body and no ``model``/``stream``, signed with botocore's SigV4.
Streams arrive in the AWS eventstream framing and are decoded into the same typed events as the direct API.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import anyio.to_thread
import httpx

from ..._base_client import AsyncAPIClient, FinalRequestOptions, SyncAPIClient
from ..._constants import DEFAULT_MAX_RETRIES
from ..._exceptions import AnthropicError, APIStatusError
from ..._logs import logger, redact_headers, setup_logging
from ..._types import NOT_GIVEN, NotGiven, Omit
from ...usage import ModelPrice, UsageRecorder
from ._auth import AwsAuth, infer_region, require_boto3
from ._eventstream import EventStreamDecoder
from ._platform import AsyncPlatformResources, SyncPlatformResources, merge_copy_options, remap_status_error

__all__ = ["AnthropicBedrock", "AsyncAnthropicBedrock"]

DEFAULT_VERSION = "bedrock-2023-05-31"
_MESSAGES_URLS = frozenset({"/v1/messages", "/v1/messages?beta=true", "/v1/complete"})
_SECRET_HEADERS = frozenset({"x-amz-security-token"})


def prepare_bedrock_options(options: FinalRequestOptions) -> FinalRequestOptions:
    """Rewrite a Messages API call into its Bedrock form (pure; used by both clients)."""
    url = options.url
    if url.startswith("/v1/messages/batches"):
        raise AnthropicError("The Batch API is not supported in Bedrock yet")
    if url == "/v1/messages/count_tokens":
        raise AnthropicError("Token counting is not supported in Bedrock yet")
    data = options.json_data
    if not isinstance(data, dict):
        return options
    body: dict[str, Any] = dict(data)
    body.setdefault("anthropic_version", DEFAULT_VERSION)
    betas = _header(options.headers, "anthropic-beta")
    if betas:
        body.setdefault("anthropic_beta", [beta.strip() for beta in betas.split(",") if beta.strip()])
    if url in _MESSAGES_URLS and options.method.lower() == "post":
        model = urllib.parse.quote(str(body.pop("model", None)), safe=":")
        stream = body.pop("stream", False)
        url = f"/model/{model}/invoke-with-response-stream" if stream else f"/model/{model}/invoke"
    return replace(options, url=url, json_data=body)


def _header(headers: Mapping[str, str | Omit] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name and isinstance(value, str):
            return value
    return None


def _bind_decoder(stream_cls: Any) -> Any:
    """Wrap ``stream_cls`` so each stream's eventstream decoder knows its response (errors then carry it)."""

    def make(**kwargs: Any) -> Any:
        stream = stream_cls(**kwargs)
        decoder = getattr(stream, "_decoder", None)
        if isinstance(decoder, EventStreamDecoder):
            decoder.bind(kwargs["response"])
        return stream

    return make


class _BedrockOptions:
    """What both Bedrock clients share: credentials, region, request rewriting, signing and stream decoding."""

    _platform_backend = "bedrock"
    _custom_headers: dict[str, str]
    _custom_query: dict[str, object]
    _base_url: httpx.URL
    api_key: str | None
    aws_access_key: str | None
    aws_secret_key: str | None
    aws_session_token: str | None
    aws_profile: str | None
    aws_region: str
    _auth: AwsAuth | None

    def _resolve(
        self,
        *,
        aws_secret_key: str | None,
        aws_access_key: str | None,
        aws_region: str | None,
        aws_profile: str | None,
        aws_session_token: str | None,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None | NotGiven,
        auth: AwsAuth | None,
    ) -> dict[str, Any]:
        setup_logging()
        if api_key is None:
            api_key = os.environ.get("AWS_BEARER_TOKEN_BEDROCK") or None
        has_aws_credentials = any(
            value is not None for value in (aws_access_key, aws_secret_key, aws_session_token, aws_profile)
        )
        if api_key is not None and has_aws_credentials:
            raise ValueError(
                "Cannot specify both `api_key` and AWS credentials (`aws_access_key`, `aws_secret_key`, "
                "`aws_session_token`, `aws_profile`)"
            )
        self.api_key = api_key
        self.aws_access_key = aws_access_key
        self.aws_secret_key = aws_secret_key
        self.aws_session_token = aws_session_token
        self.aws_profile = aws_profile
        self.aws_region = aws_region or infer_region()
        self._auth = None
        if api_key is None:
            require_boto3()
            wanted: dict[str, Any] = {
                "access_key": aws_access_key,
                "secret_key": aws_secret_key,
                "session_token": aws_session_token,
                "profile": aws_profile,
                "region": self.aws_region,
            }
            self._auth = auth if auth is not None and auth.same_as(**wanted) else AwsAuth(**wanted)
        if base_url is None:
            base_url = os.environ.get("ANTHROPIC_BEDROCK_BASE_URL") or None
        if base_url is None:
            base_url = f"https://bedrock-runtime.{self.aws_region}.amazonaws.com"
        return {"base_url": base_url, "timeout": timeout}

    def _copy_auth_kwargs(
        self,
        *,
        aws_secret_key: str | None,
        aws_access_key: str | None,
        aws_region: str | None,
        aws_profile: str | None,
        aws_session_token: str | None,
        api_key: str | None,
        base_url: str | httpx.URL | None,
    ) -> dict[str, Any]:
        return {
            "aws_secret_key": aws_secret_key or self.aws_secret_key,
            "aws_access_key": aws_access_key or self.aws_access_key,
            "aws_region": aws_region or self.aws_region,
            "aws_profile": aws_profile or self.aws_profile,
            "aws_session_token": aws_session_token or self.aws_session_token,
            "api_key": api_key or self.api_key,
            "base_url": base_url or self._base_url,
            "_auth": self._auth,
        }

    def _prepare_options(self, options: FinalRequestOptions) -> FinalRequestOptions:
        return prepare_bedrock_options(options)

    def _prepare_request(self, request: httpx.Request) -> None:
        if self.api_key is not None:
            request.headers["Authorization"] = f"Bearer {self.api_key}"
            return
        assert self._auth is not None
        self._auth.sign(request)

    def _make_sse_decoder(self) -> EventStreamDecoder:
        return EventStreamDecoder()

    def _make_status_error(self, response: httpx.Response) -> APIStatusError:
        error: APIStatusError = super()._make_status_error(response)  # type: ignore[misc]
        return remap_status_error(error, deadline=False)

    def _log_request(self, request: httpx.Request, options: FinalRequestOptions, attempt: int) -> None:
        if logger.isEnabledFor(10):
            headers = {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in request.headers.items()}
            logger.debug(
                "Request %s %s (attempt %d) headers=%s json=%s",
                request.method,
                request.url,
                attempt + 1,
                redact_headers(headers),
                options.json_data,
            )

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={str(self._base_url)!r} region={self.aws_region!r} "
            f"api_key={'<redacted>' if self.api_key else None}>"
        )


class AnthropicBedrock(_BedrockOptions, SyncPlatformResources, SyncAPIClient):
    """The synchronous Bedrock client; the rest of the API is the same as :class:`~claude_web.Anthropic`.

    Credentials: ``aws_access_key``/``aws_secret_key``/``aws_session_token``, ``aws_profile``, or whatever boto3
    finds (env vars, config files, SSO, instance roles); or a Bedrock API key (``api_key`` /
    ``AWS_BEARER_TOKEN_BEDROCK``) sent as a bearer token. A failure to get credentials raises
    :class:`~claude_web.lib.bedrock.BedrockCredentialsError` (an ``AuthenticationError``) before anything is sent.
    Message batches and token counting are not available on Bedrock: they raise ``AnthropicError``.
    """

    def __init__(
        self,
        aws_secret_key: str | None = None,
        aws_access_key: str | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: httpx.Client | None = None,
        usage_recorder: UsageRecorder | None = None,
        usage_context: Mapping[str, Any] | None = None,
        pricing: Mapping[str, ModelPrice] | None = None,
        _strict_response_validation: bool = False,
        _auth: AwsAuth | None = None,
    ) -> None:
        resolved = self._resolve(
            aws_secret_key=aws_secret_key,
            aws_access_key=aws_access_key,
            aws_region=aws_region,
            aws_profile=aws_profile,
            aws_session_token=aws_session_token,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            auth=_auth,
        )
        super().__init__(
            **resolved,
            max_retries=max_retries,
            custom_headers=default_headers,
            custom_query=default_query,
            http_client=http_client,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            pricing=pricing,
        )

    def request(
        self, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        if stream and stream_cls is not None:
            stream_cls = _bind_decoder(stream_cls)
        return super().request(cast_to, options, stream=stream, stream_cls=stream_cls)

    def copy(
        self,
        *,
        aws_secret_key: str | None = None,
        aws_access_key: str | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | None = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        usage_recorder: UsageRecorder | None | NotGiven = NOT_GIVEN,
        usage_context: Mapping[str, Any] | None = None,
        _extra_kwargs: Mapping[str, Any] | None = None,
    ) -> AnthropicBedrock:
        """A new client with some options changed, sharing this one's connection pool and AWS session."""
        kwargs = merge_copy_options(
            self,
            timeout=timeout,
            http_client=http_client,
            max_retries=max_retries,
            default_headers=default_headers,
            set_default_headers=set_default_headers,
            default_query=default_query,
            set_default_query=set_default_query,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
        )
        kwargs.update(
            self._copy_auth_kwargs(
                aws_secret_key=aws_secret_key,
                aws_access_key=aws_access_key,
                aws_region=aws_region,
                aws_profile=aws_profile,
                aws_session_token=aws_session_token,
                api_key=api_key,
                base_url=base_url,
            )
        )
        return type(self)(**kwargs, **(_extra_kwargs or {}))

    with_options = copy


class AsyncAnthropicBedrock(_BedrockOptions, AsyncPlatformResources, AsyncAPIClient):
    """The asyncio Bedrock client (see :class:`AnthropicBedrock`). Credential lookups and signing run in a worker
    thread, so a slow credential provider (SSO, instance metadata) never blocks the event loop."""

    def __init__(
        self,
        aws_secret_key: str | None = None,
        aws_access_key: str | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: httpx.AsyncClient | None = None,
        usage_recorder: UsageRecorder | None = None,
        usage_context: Mapping[str, Any] | None = None,
        pricing: Mapping[str, ModelPrice] | None = None,
        _strict_response_validation: bool = False,
        _auth: AwsAuth | None = None,
    ) -> None:
        resolved = self._resolve(
            aws_secret_key=aws_secret_key,
            aws_access_key=aws_access_key,
            aws_region=aws_region,
            aws_profile=aws_profile,
            aws_session_token=aws_session_token,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            auth=_auth,
        )
        super().__init__(
            **resolved,
            max_retries=max_retries,
            custom_headers=default_headers,
            custom_query=default_query,
            http_client=http_client,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            pricing=pricing,
        )

    async def _aprepare_request(self, request: httpx.Request) -> None:
        if self.api_key is not None:
            self._prepare_request(request)
            return
        await anyio.to_thread.run_sync(self._prepare_request, request)

    async def request(
        self, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        if stream and stream_cls is not None:
            stream_cls = _bind_decoder(stream_cls)
        return await super().request(cast_to, options, stream=stream, stream_cls=stream_cls)

    def copy(
        self,
        *,
        aws_secret_key: str | None = None,
        aws_access_key: str | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        usage_recorder: UsageRecorder | None | NotGiven = NOT_GIVEN,
        usage_context: Mapping[str, Any] | None = None,
        _extra_kwargs: Mapping[str, Any] | None = None,
    ) -> AsyncAnthropicBedrock:
        """A new client with some options changed, sharing this one's connection pool and AWS session."""
        kwargs = merge_copy_options(
            self,
            timeout=timeout,
            http_client=http_client,
            max_retries=max_retries,
            default_headers=default_headers,
            set_default_headers=set_default_headers,
            default_query=default_query,
            set_default_query=set_default_query,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
        )
        kwargs.update(
            self._copy_auth_kwargs(
                aws_secret_key=aws_secret_key,
                aws_access_key=aws_access_key,
                aws_region=aws_region,
                aws_profile=aws_profile,
                aws_session_token=aws_session_token,
                api_key=api_key,
                base_url=base_url,
            )
        )
        return type(self)(**kwargs, **(_extra_kwargs or {}))

    with_options = copy
