"""``client.messages.batches``: create, retrieve, list, cancel, delete, and results as a JSONL iterator.

>>> batch = client.messages.batches.create(requests=[{"custom_id": "a", "params": {...}}])
>>> for entry in client.messages.batches.results(batch.id):
...     print(entry.custom_id, entry.result.type)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import httpx
import pydantic

from ..._base_client import FinalRequestOptions, make_request_options
from ..._exceptions import AnthropicError, APIResponseValidationError
from ..._request_options import is_given
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._types import NOT_GIVEN, NotGiven, Omit
from ...pagination import AsyncPage, AsyncPaginator, SyncPage
from ...types.messages import DeletedMessageBatch, MessageBatch, MessageBatchIndividualResponse

__all__ = ["AsyncBatches", "AsyncJSONLDecoder", "Batches", "JSONLDecoder"]

_T = TypeVar("_T", bound=pydantic.BaseModel)
Headers = Mapping[str, "str | Omit"]
BASE = "/v1/messages/batches"


def _opts(
    method: str,
    url: str,
    *,
    body: Any = None,
    query: Mapping[str, object] | None = None,
    operation: str | None = None,
    **extra: Any,
) -> FinalRequestOptions:
    return FinalRequestOptions(
        method=method, url=url, json_data=body, usage_operation=operation, **make_request_options(query=query, **extra)
    )


def _with_profile(user_profile_id: Any, extra_headers: Headers | None) -> Headers | None:
    """``user_profile_id`` goes as the ``anthropic-user-profile-id`` header (the caller's headers win)."""
    if not is_given(user_profile_id):
        return extra_headers
    return {"anthropic-user-profile-id": user_profile_id, **(extra_headers or {})}


def _check_id(batch_id: str) -> str:
    if not batch_id:
        raise ValueError(f"Expected a non-empty value for `message_batch_id` but received {batch_id!r}")
    return batch_id


def _results_url(batch: MessageBatch) -> str:
    if not batch.results_url:
        raise AnthropicError(
            f"No `results_url` for the given batch; Has it finished processing? {batch.processing_status}"
        )
    return batch.results_url


class _JSONLCore(Generic[_T]):
    def __init__(self, *, response: httpx.Response, line_type: type[_T]) -> None:
        self.http_response = response
        self._type = line_type

    def _parse_line(self, line: str) -> _T:
        try:
            return self._type.model_validate_json(line)
        except pydantic.ValidationError as exc:
            raise APIResponseValidationError(
                self.http_response, line, message=f"Invalid line in batch results: {exc.errors()[0]['msg']}"
            ) from exc


class JSONLDecoder(_JSONLCore[_T]):
    """Iterate one typed object per line of a JSONL response; the response is closed at the end."""

    def __iter__(self) -> Iterator[_T]:
        try:
            for line in self.http_response.iter_lines():
                if line.strip():
                    yield self._parse_line(line)
        finally:
            self.http_response.close()

    def close(self) -> None:
        self.http_response.close()


class AsyncJSONLDecoder(_JSONLCore[_T]):
    async def __aiter__(self) -> AsyncIterator[_T]:
        try:
            async for line in self.http_response.aiter_lines():
                if line.strip():
                    yield self._parse_line(line)
        finally:
            await self.http_response.aclose()

    async def close(self) -> None:
        await self.http_response.aclose()


class Batches(SyncAPIResource):
    def create(
        self,
        *,
        requests: Iterable[Any],
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        """Submit a batch of Messages requests for asynchronous processing."""
        options = _opts(
            "post",
            BASE,
            body={"requests": list(requests)},
            operation="batches.create",
            extra_headers=_with_profile(user_profile_id, extra_headers),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = self._client.request(MessageBatch, options)
        return result

    def retrieve(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        options = _opts(
            "get",
            f"{BASE}/{_check_id(message_batch_id)}",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = self._client.request(MessageBatch, options)
        return result

    def list(
        self,
        *,
        after_id: str | NotGiven = NOT_GIVEN,
        before_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> SyncPage[MessageBatch]:
        """List batches, newest first; iterate the page to walk every page."""
        options = _opts(
            "get",
            BASE,
            query={"after_id": after_id, "before_id": before_id, "limit": limit},
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: SyncPage[MessageBatch] = self._client.request(SyncPage[MessageBatch], options)
        return result

    def cancel(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        options = _opts(
            "post",
            f"{BASE}/{_check_id(message_batch_id)}/cancel",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = self._client.request(MessageBatch, options)
        return result

    def delete(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> DeletedMessageBatch:
        options = _opts(
            "delete",
            f"{BASE}/{_check_id(message_batch_id)}",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: DeletedMessageBatch = self._client.request(DeletedMessageBatch, options)
        return result

    def results(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> JSONLDecoder[MessageBatchIndividualResponse]:
        """Stream the results of an ended batch, one ``MessageBatchIndividualResponse`` per line."""
        url = _results_url(self.retrieve(message_batch_id))
        headers = {"accept": "application/binary", **(extra_headers or {})}
        options = _opts(
            "get", url, extra_headers=headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        response: httpx.Response = self._client.request(httpx.Response, options, stream=True, stream_cls=_raw_stream)
        return JSONLDecoder(response=response, line_type=MessageBatchIndividualResponse)


class AsyncBatches(AsyncAPIResource):
    async def create(
        self,
        *,
        requests: Iterable[Any],
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        """Submit a batch of Messages requests for asynchronous processing."""
        options = _opts(
            "post",
            BASE,
            body={"requests": list(requests)},
            operation="batches.create",
            extra_headers=_with_profile(user_profile_id, extra_headers),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = await self._client.request(MessageBatch, options)
        return result

    async def retrieve(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        options = _opts(
            "get",
            f"{BASE}/{_check_id(message_batch_id)}",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = await self._client.request(MessageBatch, options)
        return result

    def list(
        self,
        *,
        after_id: str | NotGiven = NOT_GIVEN,
        before_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[MessageBatch]:
        """``await`` it for the first page, or ``async for`` every batch."""
        options = _opts(
            "get",
            BASE,
            query={"after_id": after_id, "before_id": before_id, "limit": limit},
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return AsyncPaginator(self._client, options, AsyncPage[MessageBatch])

    async def cancel(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageBatch:
        options = _opts(
            "post",
            f"{BASE}/{_check_id(message_batch_id)}/cancel",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageBatch = await self._client.request(MessageBatch, options)
        return result

    async def delete(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> DeletedMessageBatch:
        options = _opts(
            "delete",
            f"{BASE}/{_check_id(message_batch_id)}",
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: DeletedMessageBatch = await self._client.request(DeletedMessageBatch, options)
        return result

    async def results(
        self,
        message_batch_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncJSONLDecoder[MessageBatchIndividualResponse]:
        """Stream the results of an ended batch: ``async for entry in await client.messages.batches.results(id)``."""
        url = _results_url(await self.retrieve(message_batch_id))
        headers = {"accept": "application/binary", **(extra_headers or {})}
        options = _opts(
            "get", url, extra_headers=headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout
        )
        response: httpx.Response = await self._client.request(
            httpx.Response, options, stream=True, stream_cls=_raw_stream
        )
        return AsyncJSONLDecoder(response=response, line_type=MessageBatchIndividualResponse)


def _raw_stream(*, cast_to: Any, response: httpx.Response, client: Any, usage: Any) -> httpx.Response:
    """``stream_cls`` for a raw open response (JSONL results are read line by line by the decoder)."""
    return response
