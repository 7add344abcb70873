"""``AnthropicVertex`` / ``AsyncAnthropicVertex``: the Messages API on Google Cloud Vertex AI.

>>> from claude_web import AnthropicVertex
>>> client = AnthropicVertex(region="us-east5", project_id="my-project")  # token from google-auth
>>> client.messages.create(model="claude-sonnet-4-5@20250929", max_tokens=256,
...                        messages=[{"role": "user", "content": "Hello"}])

Requests go to ``.../projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict``
(``:streamRawPredict`` when streaming) with ``anthropic_version: "vertex-2023-10-16"`` in the body and no
``model``; token counting goes to ``.../models/count-tokens:rawPredict`` with the model left in the body.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import anyio.to_thread
import httpx

from ..._base_client import AsyncAPIClient, FinalRequestOptions, SyncAPIClient
from ..._constants import DEFAULT_MAX_RETRIES
from ..._exceptions import AnthropicError, APIStatusError
from ..._logs import setup_logging
from ..._types import NOT_GIVEN, NotGiven
from ...usage import ModelPrice, UsageRecorder
from ..bedrock._platform import AsyncPlatformResources, SyncPlatformResources, merge_copy_options, remap_status_error
from ._auth import GoogleAuth, require_google_auth

__all__ = ["AnthropicVertex", "AsyncAnthropicVertex", "VertexConfigError"]

DEFAULT_VERSION = "vertex-2023-10-16"
_MESSAGES_URLS = frozenset({"/v1/messages", "/v1/messages?beta=true"})
_COUNT_URLS = frozenset({"/v1/messages/count_tokens", "/v1/messages/count_tokens?beta=true"})


class VertexConfigError(AnthropicError, RuntimeError):
    """A Vertex setting needed to send the request is missing (e.g. the project id)."""


def vertex_base_url(region: str) -> str:
    """The Vertex AI endpoint for ``region`` (``global`` and the ``us``/``eu`` multi-regions have their own)."""
    if region == "global":
        return "https://aiplatform.googleapis.com/v1"
    if region in ("us", "eu"):
        return f"https://aiplatform.{region}.rep.googleapis.com/v1"
    return f"https://{region}-aiplatform.googleapis.com/v1"


def prepare_vertex_options(
    options: FinalRequestOptions, *, project_id: str | None, region: str, why_no_project: str | None = None
) -> FinalRequestOptions:
    """Rewrite a Messages API call into its Vertex form (pure; used by both clients)."""
    url = options.url
    if url.startswith("/v1/messages/batches"):
        raise AnthropicError("The Batch API is not supported in the Vertex client yet")
    data = options.json_data
    body: Any = data
    if isinstance(data, dict):
        body = dict(data)
        body.setdefault("anthropic_version", DEFAULT_VERSION)
    post = options.method.lower() == "post"
    if post and url in _MESSAGES_URLS:
        project = _require_project(project_id, why_no_project)
        if not isinstance(body, dict):
            raise AnthropicError("Expected a JSON object body for POST /v1/messages")
        model = body.pop("model", None)
        specifier = "streamRawPredict" if body.get("stream", False) else "rawPredict"
        url = f"/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{specifier}"
    elif post and url in _COUNT_URLS:
        project = _require_project(project_id, why_no_project)
        url = f"/projects/{project}/locations/{region}/publishers/anthropic/models/count-tokens:rawPredict"
    return replace(options, url=url, json_data=body)


def _require_project(project_id: str | None, why: str | None) -> str:
    if project_id:
        return project_id
    detail = f" (Application Default Credentials named none: {why})" if why else ""
    raise VertexConfigError(
        "No project_id was given: pass project_id= to the client or set the ANTHROPIC_VERTEX_PROJECT_ID "
        f"environment variable{detail}."
    )


class _VertexOptions:
    """What both Vertex clients share: region, project, token handling and request rewriting."""

    _platform_backend = "vertex"
    _custom_headers: dict[str, str]
    _custom_query: dict[str, object]
    _base_url: httpx.URL
    region: str
    _project_id: str | None
    _auth: GoogleAuth

    def _resolve(
        self,
        *,
        region: str | NotGiven,
        project_id: str | NotGiven,
        access_token: str | None,
        credentials: Any,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None | NotGiven,
        auth: GoogleAuth | None,
    ) -> dict[str, Any]:
        setup_logging()
        if isinstance(region, NotGiven):
            region = os.environ.get("CLOUD_ML_REGION") or NOT_GIVEN
        if isinstance(region, NotGiven) or not region:
            raise ValueError(
                "No region was given: pass region= to the client or set the CLOUD_ML_REGION environment variable."
            )
        self.region = region
        if isinstance(project_id, NotGiven):
            project_id = os.environ.get("ANTHROPIC_VERTEX_PROJECT_ID") or NOT_GIVEN
        self._project_id = None if isinstance(project_id, NotGiven) else project_id
        if access_token is None:
            require_google_auth()
        if (
            auth is not None
            and auth.access_token == access_token
            and (credentials is None or credentials is auth.credentials)
        ):
            self._auth = auth
        else:
            self._auth = GoogleAuth(access_token=access_token, credentials=credentials)
        if base_url is None:
            base_url = os.environ.get("ANTHROPIC_VERTEX_BASE_URL") or vertex_base_url(region)
        return {"base_url": base_url, "timeout": timeout}

    @property
    def project_id(self) -> str | None:
        """From ``project_id=``, ``ANTHROPIC_VERTEX_PROJECT_ID``, or the Application Default Credentials."""
        return self._project_id or self._auth.default_project

    @property
    def access_token(self) -> str | None:
        return self._auth.access_token

    @property
    def credentials(self) -> Any:
        return self._auth.credentials

    def _copy_auth_kwargs(
        self,
        *,
        region: str | NotGiven,
        project_id: str | NotGiven,
        access_token: str | None,
        credentials: Any,
        base_url: str | httpx.URL | None,
    ) -> dict[str, Any]:
        return {
            "region": self.region if isinstance(region, NotGiven) else region,
            "project_id": project_id if not isinstance(project_id, NotGiven) else (self._project_id or NOT_GIVEN),
            "access_token": access_token or self.access_token,
            "credentials": credentials or self.credentials,
            "base_url": base_url or self._base_url,
            "_auth": self._auth,
        }

    def _wants_default_project(self) -> bool:
        return self.project_id is None and self._auth.can_find_project()

    def _prepare_options(self, options: FinalRequestOptions) -> FinalRequestOptions:
        return prepare_vertex_options(
            options, project_id=self.project_id, region=self.region, why_no_project=self._auth.default_error
        )

    def _prepare_request(self, request: httpx.Request) -> None:
        if request.headers.get("authorization"):
            return
        request.headers["Authorization"] = f"Bearer {self._auth.token(request)}"

    def _make_status_error(self, response: httpx.Response) -> APIStatusError:
        error: APIStatusError = super()._make_status_error(response)  # type: ignore[misc]
        return remap_status_error(error, deadline=True)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={str(self._base_url)!r} region={self.region!r} "
            f"project_id={self.project_id!r}>"
        )


class AnthropicVertex(_VertexOptions, SyncPlatformResources, SyncAPIClient):
    """The synchronous Vertex AI client; the rest of the API is the same as :class:`~claude_web.Anthropic`.

    ``region`` (or ``CLOUD_ML_REGION``) is required; ``project_id`` (or ``ANTHROPIC_VERTEX_PROJECT_ID``, or the
    project of the Application Default Credentials) is needed when sending. The token is ``access_token``, or
    comes from ``credentials`` / ``google.auth.default()`` and is refreshed when expired; failures raise
    :class:`~claude_web.lib.vertex.VertexCredentialsError` (an ``AuthenticationError``).
    """

    def __init__(
        self,
        *,
        region: str | NotGiven = NOT_GIVEN,
        project_id: str | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
        credentials: Any = None,
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
        _auth: GoogleAuth | None = None,
    ) -> None:
        resolved = self._resolve(
            region=region,
            project_id=project_id,
            access_token=access_token,
            credentials=credentials,
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
        if self._wants_default_project():
            self._auth.load_default()
        return super().request(cast_to, options, stream=stream, stream_cls=stream_cls)

    def copy(
        self,
        *,
        region: str | NotGiven = NOT_GIVEN,
        project_id: str | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
        credentials: Any = None,
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
    ) -> AnthropicVertex:
        """A new client with some options changed, sharing this one's connection pool and credentials."""
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
                region=region,
                project_id=project_id,
                access_token=access_token,
                credentials=credentials,
                base_url=base_url,
            )
        )
        return type(self)(**kwargs, **(_extra_kwargs or {}))

    with_options = copy


class AsyncAnthropicVertex(_VertexOptions, AsyncPlatformResources, AsyncAPIClient):
    """The asyncio Vertex AI client (see :class:`AnthropicVertex`). Loading and refreshing google-auth
    credentials runs in a worker thread, so the event loop is never blocked by it."""

    def __init__(
        self,
        *,
        region: str | NotGiven = NOT_GIVEN,
        project_id: str | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
        credentials: Any = None,
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
        _auth: GoogleAuth | None = None,
    ) -> None:
        resolved = self._resolve(
            region=region,
            project_id=project_id,
            access_token=access_token,
            credentials=credentials,
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
        if request.headers.get("authorization"):
            return
        if self._auth.needs_io():
            token = await anyio.to_thread.run_sync(self._auth.token, request)
        else:
            token = self._auth.token(request)
        request.headers["Authorization"] = f"Bearer {token}"

    async def request(
        self, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        if self._wants_default_project():
            await anyio.to_thread.run_sync(self._auth.load_default)
        return await super().request(cast_to, options, stream=stream, stream_cls=stream_cls)

    def copy(
        self,
        *,
        region: str | NotGiven = NOT_GIVEN,
        project_id: str | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
        credentials: Any = None,
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
    ) -> AsyncAnthropicVertex:
        """A new client with some options changed, sharing this one's connection pool and credentials."""
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
                region=region,
                project_id=project_id,
                access_token=access_token,
                credentials=credentials,
                base_url=base_url,
            )
        )
        return type(self)(**kwargs, **(_extra_kwargs or {}))

    with_options = copy
