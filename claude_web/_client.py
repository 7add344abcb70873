"""``Anthropic`` and ``AsyncAnthropic``: options, resources, ``with_options``/``copy``, custom requests.

>>> from claude_web import Anthropic
>>> client = Anthropic()  # api_key from ANTHROPIC_API_KEY, base_url from ANTHROPIC_BASE_URL
>>> client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=[{"role": "user", "content": "Hi"}])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._base_async import AsyncAPIClient
from ._base_core import CredentialHeaders
from ._base_sync import SyncAPIClient
from ._constants import API_VERSION, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES
from ._credentials import Secret
from ._exceptions import AnthropicError
from ._logs import setup_logging
from ._request_options import FinalRequestOptions
from ._resource import ResourceWithRawResponse, ResourceWithStreamingResponse
from ._types import NOT_GIVEN, NotGiven, Omit
from .resources import AsyncMessages, AsyncModels, Messages, Models
from .usage import ModelPrice, UsageRecorder

if TYPE_CHECKING:
    from .resources.beta import AsyncBeta, Beta

__all__ = ["Anthropic", "AsyncAnthropic", "MissingCredentialsError"]

_C = TypeVar("_C", bound="_AnthropicOptions")


class MissingCredentialsError(AnthropicError, TypeError):
    """No API key or auth token could be found for a request.

    A ``TypeError`` too, as ``anthropic`` raises a ``TypeError`` here: ``except TypeError`` keeps working.
    """


# ``anthropic``'s message for a request without credentials, quotes included, so code that matches it still does
_MISSING_CREDENTIALS = (
    '"Could not resolve authentication method. Expected one of api_key, auth_token, or credentials to be set. '
    'Or for one of the `X-Api-Key` or `Authorization` headers to be explicitly omitted"'
)
_CREDENTIAL_HEADER_NAMES = frozenset({"x-api-key", "authorization"})


def custom_headers_from_env(value: str | None) -> dict[str, str]:
    """``ANTHROPIC_CUSTOM_HEADERS``: one ``Name: value`` per line, both trimmed; lines without a colon are skipped.

    >>> custom_headers_from_env("X-Team: search\\nbad line\\nX-Trace:  on ")
    {'X-Team': 'search', 'X-Trace': 'on'}
    """
    parsed: dict[str, str] = {}
    for line in (value or "").split("\n"):
        name, colon, rest = line.partition(":")
        if colon:
            parsed[name.strip()] = rest.strip()
    return parsed


class _AnthropicOptions:
    """What ``Anthropic`` and ``AsyncAnthropic`` share: credentials, headers, ``copy``/``with_options``.

    The API key and the auth token are held as :class:`~claude_web._credentials.Secret` values (redacted in every
    repr) and put on each request as it is sent; ``api_key`` / ``auth_token`` read and set them as plain strings.
    """

    _api_key: Secret | None
    _auth_token: Secret | None
    _credentials_cache: CredentialHeaders | None
    _custom_headers: dict[str, str]
    _custom_query: dict[str, object]
    _usage_recorder: UsageRecorder | None
    _usage_context: dict[str, Any]
    _pricing: Mapping[str, ModelPrice] | None
    max_retries: int
    timeout: float | httpx.Timeout | None
    _base_url: httpx.URL
    _client: Any

    def _resolve(
        self,
        api_key: str | Secret | None,
        auth_token: str | Secret | None,
        base_url: str | httpx.URL | None,
        default_headers: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        """Credentials, base URL and default headers from the arguments and the environment, as ``anthropic``
        reads them: an explicit ``api_key`` or ``auth_token`` means neither credential variable is read."""
        setup_logging()
        if api_key is None and auth_token is None:
            api_key = os.environ.get("ANTHROPIC_API_KEY") or None
            auth_token = os.environ.get("ANTHROPIC_AUTH_TOKEN") or None
        self._api_key = Secret.wrap(api_key)
        self._auth_token = Secret.wrap(auth_token)
        self._credentials_cache = None
        if base_url is None:
            base_url = os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        env_headers = os.environ.get("ANTHROPIC_CUSTOM_HEADERS")
        if env_headers is not None:
            default_headers = {**custom_headers_from_env(env_headers), **(default_headers or {})}
        return {"base_url": base_url, "custom_headers": default_headers}

    @property
    def api_key(self) -> str | None:
        return None if self._api_key is None else self._api_key.reveal()

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self._api_key = Secret.wrap(value)
        self._credentials_cache = None

    @property
    def auth_token(self) -> str | None:
        return None if self._auth_token is None else self._auth_token.reveal()

    @auth_token.setter
    def auth_token(self, value: str | None) -> None:
        self._auth_token = Secret.wrap(value)
        self._credentials_cache = None

    def _credential_headers(self) -> CredentialHeaders:
        cached = self._credentials_cache
        if cached is None:
            pairs: list[tuple[str, Secret]] = []
            if self._api_key:
                pairs.append(("x-api-key", self._api_key))
            if self._auth_token:
                pairs.append(("authorization", Secret(f"Bearer {self._auth_token.reveal()}")))
            cached = self._credentials_cache = tuple(pairs)
        return cached

    @property
    def default_headers(self) -> dict[str, str | Omit]:
        base: dict[str, str | Omit] = super().default_headers  # type: ignore[misc]
        return {**base, "anthropic-version": API_VERSION, **self._custom_headers}

    def _validate_headers(self, headers: Mapping[str, str], options: FinalRequestOptions) -> None:
        if self._credential_headers():
            return
        if any(name.lower() in _CREDENTIAL_HEADER_NAMES for name in headers):
            return
        custom = options.headers or {}
        if any(name.lower() in _CREDENTIAL_HEADER_NAMES and isinstance(v, Omit) for name, v in custom.items()):
            return
        raise MissingCredentialsError(_MISSING_CREDENTIALS)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={str(self._base_url)!r} "
            f"api_key={'<redacted>' if self._api_key else None} "
            f"auth_token={'<redacted>' if self._auth_token else None} max_retries={self.max_retries}>"
        )

    def _copy_kwargs(
        self,
        *,
        api_key: str | Secret | None,
        auth_token: str | Secret | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None | NotGiven,
        http_client: Any,
        max_retries: int | NotGiven,
        default_headers: Mapping[str, str] | None,
        set_default_headers: Mapping[str, str] | None,
        default_query: Mapping[str, object] | None,
        set_default_query: Mapping[str, object] | None,
        usage_recorder: UsageRecorder | None | NotGiven,
        usage_context: Mapping[str, Any] | None,
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("The `default_headers` and `set_default_headers` arguments are mutually exclusive")
        if default_query is not None and set_default_query is not None:
            raise ValueError("The `default_query` and `set_default_query` arguments are mutually exclusive")
        headers = dict(self._custom_headers)
        if default_headers is not None:
            headers.update(default_headers)
        elif set_default_headers is not None:
            headers = dict(set_default_headers)
        query = dict(self._custom_query)
        if default_query is not None:
            query.update(default_query)
        elif set_default_query is not None:
            query = dict(set_default_query)
        return {
            "api_key": api_key or self._api_key,
            "auth_token": auth_token or self._auth_token,
            "base_url": base_url or self._base_url,
            "timeout": self.timeout if isinstance(timeout, NotGiven) else timeout,
            "http_client": http_client or self._client,
            "max_retries": self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            "default_headers": headers,
            "default_query": query,
            "usage_recorder": self._usage_recorder if isinstance(usage_recorder, NotGiven) else usage_recorder,
            "usage_context": {**self._usage_context, **(usage_context or {})},
            "pricing": self._pricing,
            **extra,
        }


class Anthropic(_AnthropicOptions, SyncAPIClient):
    """The synchronous client. One per process is plenty: it holds a connection pool.

    Beyond the ``anthropic`` options, ``usage_recorder`` receives one :class:`~claude_web.usage.UsageRecord` per
    call and ``usage_context`` is copied into each record (see :mod:`claude_web.usage`).
    """

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        auth_token: str | Secret | None = None,
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
    ) -> None:
        resolved = self._resolve(api_key, auth_token, base_url, default_headers)
        super().__init__(
            **resolved,
            timeout=timeout,
            max_retries=max_retries,
            custom_query=default_query,
            http_client=http_client,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            pricing=pricing,
        )

    @cached_property
    def messages(self) -> Messages:
        return Messages(self)

    @cached_property
    def models(self) -> Models:
        return Models(self)

    @cached_property
    def beta(self) -> Beta:
        from .resources.beta import Beta

        return Beta(self)

    @cached_property
    def with_raw_response(self) -> _ClientView:
        return _ClientView(self, ResourceWithRawResponse)

    @cached_property
    def with_streaming_response(self) -> _ClientView:
        return _ClientView(self, ResourceWithStreamingResponse)

    def copy(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
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
    ) -> Anthropic:
        """A new client with some options changed, sharing this one's connection pool (cheap)."""
        kwargs = self._copy_kwargs(
            api_key=api_key,
            auth_token=auth_token,
            base_url=base_url,
            timeout=timeout,
            http_client=http_client,
            max_retries=max_retries,
            default_headers=default_headers,
            set_default_headers=set_default_headers,
            default_query=default_query,
            set_default_query=set_default_query,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            extra=_extra_kwargs or {},
        )
        return type(self)(**kwargs)

    with_options = copy


class AsyncAnthropic(_AnthropicOptions, AsyncAPIClient):
    """The asyncio client. Its connection pool belongs to the event loop it was first used on."""

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        auth_token: str | Secret | None = None,
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
    ) -> None:
        resolved = self._resolve(api_key, auth_token, base_url, default_headers)
        super().__init__(
            **resolved,
            timeout=timeout,
            max_retries=max_retries,
            custom_query=default_query,
            http_client=http_client,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            pricing=pricing,
        )

    @cached_property
    def messages(self) -> AsyncMessages:
        return AsyncMessages(self)

    @cached_property
    def models(self) -> AsyncModels:
        return AsyncModels(self)

    @cached_property
    def beta(self) -> AsyncBeta:
        from .resources.beta import AsyncBeta

        return AsyncBeta(self)

    @cached_property
    def with_raw_response(self) -> _ClientView:
        return _ClientView(self, ResourceWithRawResponse)

    @cached_property
    def with_streaming_response(self) -> _ClientView:
        return _ClientView(self, ResourceWithStreamingResponse)

    def copy(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
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
    ) -> AsyncAnthropic:
        """A new client with some options changed, sharing this one's connection pool (cheap)."""
        kwargs = self._copy_kwargs(
            api_key=api_key,
            auth_token=auth_token,
            base_url=base_url,
            timeout=timeout,
            http_client=http_client,
            max_retries=max_retries,
            default_headers=default_headers,
            set_default_headers=set_default_headers,
            default_query=default_query,
            set_default_query=set_default_query,
            usage_recorder=usage_recorder,
            usage_context=usage_context,
            extra=_extra_kwargs or {},
        )
        return type(self)(**kwargs)

    with_options = copy


class _ClientView:
    """``client.with_raw_response.messages.create(...)``: resources seen through a response-mode view."""

    def __init__(self, client: Any, view: type[ResourceWithRawResponse] | type[ResourceWithStreamingResponse]) -> None:
        self._client = client
        self._view = view

    @property
    def messages(self) -> Any:
        return self._view(self._client.messages)

    @property
    def models(self) -> Any:
        return self._view(self._client.models)

    @property
    def beta(self) -> Any:
        return self._view(self._client.beta)
