"""``client.models``: list (auto-paginating) and retrieve.

>>> for model in client.models.list():
...     print(model.id, model.display_name)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from .._base_client import FinalRequestOptions, make_request_options
from .._request_options import is_given
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven, Omit
from ..pagination import AsyncPage, AsyncPaginator, SyncPage
from ..types import ModelInfo

__all__ = ["AsyncModels", "Models"]

Headers = Mapping[str, "str | Omit"]


def _beta_headers(betas: Any, extra_headers: Headers | None) -> dict[str, str | Omit]:
    headers: dict[str, str | Omit] = {}
    if is_given(betas):
        headers["anthropic-beta"] = ",".join(str(b) for b in betas)
    headers.update(extra_headers or {})
    return headers


def _list_options(
    after_id: Any, before_id: Any, limit: Any, betas: Any, extra_headers: Headers | None, **extra: Any
) -> FinalRequestOptions:
    return FinalRequestOptions(
        method="get",
        url="/v1/models",
        **make_request_options(
            query={"after_id": after_id, "before_id": before_id, "limit": limit},
            extra_headers=_beta_headers(betas, extra_headers),
            **extra,
        ),
    )


def _retrieve_options(model_id: str, betas: Any, extra_headers: Headers | None, **extra: Any) -> FinalRequestOptions:
    if not model_id:
        raise ValueError(f"Expected a non-empty value for `model_id` but received {model_id!r}")
    return FinalRequestOptions(
        method="get",
        url=f"/v1/models/{model_id}",
        **make_request_options(extra_headers=_beta_headers(betas, extra_headers), **extra),
    )


class Models(SyncAPIResource):
    def list(
        self,
        *,
        after_id: str | NotGiven = NOT_GIVEN,
        before_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        betas: Iterable[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> SyncPage[ModelInfo]:
        """List the available models, newest first; iterating the page fetches the following pages."""
        options = _list_options(
            after_id,
            before_id,
            limit,
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: SyncPage[ModelInfo] = self._client.request(SyncPage[ModelInfo], options)
        return result

    def retrieve(
        self,
        model_id: str,
        *,
        betas: Iterable[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> ModelInfo:
        """One model by id or alias."""
        options = _retrieve_options(
            model_id, betas, extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        result: ModelInfo = self._client.request(ModelInfo, options)
        return result


class AsyncModels(AsyncAPIResource):
    def list(
        self,
        *,
        after_id: str | NotGiven = NOT_GIVEN,
        before_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        betas: Iterable[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[ModelInfo]:
        """``await`` it for the first page, or ``async for`` every model."""
        options = _list_options(
            after_id,
            before_id,
            limit,
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return AsyncPaginator(self._client, options, AsyncPage[ModelInfo])

    async def retrieve(
        self,
        model_id: str,
        *,
        betas: Iterable[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> ModelInfo:
        options = _retrieve_options(
            model_id, betas, extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        result: ModelInfo = await self._client.request(ModelInfo, options)
        return result
