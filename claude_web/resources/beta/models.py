"""``client.beta.models``: list and retrieve, as ``BetaModelInfo``, with ``betas=[...]``.

>>> for model in client.beta.models.list(betas=["some-beta-2025-01-01"]):
...     print(model.id)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from ..._base_client import FinalRequestOptions, make_request_options
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import NOT_GIVEN, NotGiven, Omit
from ...pagination import AsyncPage, AsyncPaginator, SyncPage
from ...types.beta import BetaModelInfo
from .._message_options import beta_header

__all__ = ["AsyncBetaModels", "BetaModels"]

Headers = Mapping[str, "str | Omit"]


def _options(url: str, query: Mapping[str, object], betas: Any, extra_headers: Headers | None, **extra: Any) -> Any:
    headers: dict[str, str | Omit] = {**beta_header(betas), **(extra_headers or {})}
    return FinalRequestOptions(
        method="get",
        url=url,
        **make_request_options(query={**query, "beta": "true"}, extra_headers=headers, **extra),
    )


def _model_url(model_id: str) -> str:
    if not model_id:
        raise ValueError(f"Expected a non-empty value for `model_id` but received {model_id!r}")
    return f"/v1/models/{model_id}"


class BetaModels(SyncAPIResource):
    """``client.beta.models``."""

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
    ) -> SyncPage[BetaModelInfo]:
        """List the available models, newest first; iterating the page fetches the following pages."""
        query = {"after_id": after_id, "before_id": before_id, "limit": limit}
        options = _options(
            "/v1/models", query, betas, extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        result: SyncPage[BetaModelInfo] = self._client.request(SyncPage[BetaModelInfo], options)
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
    ) -> BetaModelInfo:
        """One model by id or alias."""
        options = _options(
            _model_url(model_id),
            {},
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaModelInfo = self._client.request(BetaModelInfo, options)
        return result


class AsyncBetaModels(AsyncAPIResource):
    """``AsyncAnthropic().beta.models``."""

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
    ) -> AsyncPaginator[BetaModelInfo]:
        """``await`` it for the first page, or ``async for`` every model."""
        query = {"after_id": after_id, "before_id": before_id, "limit": limit}
        options = _options(
            "/v1/models", query, betas, extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        return AsyncPaginator(self._client, options, AsyncPage[BetaModelInfo])

    async def retrieve(
        self,
        model_id: str,
        *,
        betas: Iterable[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaModelInfo:
        """One model by id or alias."""
        options = _options(
            _model_url(model_id),
            {},
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaModelInfo = await self._client.request(BetaModelInfo, options)
        return result
