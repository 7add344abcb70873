"""``client.messages``: create (also ``stream=True``), stream helpers, count_tokens, and ``batches``.

>>> message = client.messages.create(
...     model="claude-sonnet-4-5", max_tokens=1024, messages=[{"role": "user", "content": "Hello"}]
... )
>>> message.content[0].text
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx

from ..._base_client import FinalRequestOptions, make_request_options, strip_not_given
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._streaming import AsyncStream, Stream
from ..._types import NOT_GIVEN, NotGiven, Omit
from ...types import Message, MessageTokensCount, RawMessageStreamEvent
from ._parse import AsyncParseMixin, ParseMixin
from .batches import AsyncBatches, Batches

if TYPE_CHECKING:
    from ...lib.streaming import AsyncMessageStreamManager, MessageStreamManager

__all__ = ["AsyncMessages", "Messages"]

Headers = Mapping[str, "str | Omit"]


# what ``messages.stream(...)`` tells the API about itself, as ``anthropic`` does
STREAM_HELPER_HEADERS = {"x-stainless-helper-method": "stream", "x-stainless-stream-helper": "messages"}
USER_PROFILE_HEADER = "anthropic-user-profile-id"


def _create_options(
    body: dict[str, Any],
    *,
    stream: bool,
    extra_headers: Mapping[str, str | Omit] | None,
    extra_query: Mapping[str, object] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Any,
    operation: str,
    helper_headers: Mapping[str, str] | None = None,
) -> FinalRequestOptions:
    """The request of ``POST /v1/messages``, shared by ``create``, ``stream`` (and ``parse``): arguments left out
    (``omit``, ``NOT_GIVEN``) are dropped, iterables become lists, ``user_profile_id`` travels as the
    ``anthropic-user-profile-id`` header, and the caller's ``extra_headers`` win over all of these."""
    body = _listify(strip_not_given(body))
    if stream:
        body["stream"] = True
    return FinalRequestOptions(
        method="post",
        url="/v1/messages",
        json_data=body,
        usage_operation=operation,
        usage_model=body.get("model"),
        **make_request_options(
            extra_headers=request_headers(body, extra_headers, helper_headers),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        ),
    )


def request_headers(
    body: dict[str, Any],
    extra_headers: Mapping[str, str | Omit] | None,
    helper_headers: Mapping[str, str] | None = None,
) -> Mapping[str, str | Omit] | None:
    """The per-call headers: ``user_profile_id`` (popped from ``body``), then the helper's, then the caller's."""
    profile = body.pop("user_profile_id", None)
    if profile is None and not helper_headers:
        return extra_headers
    headers: dict[str, str | Omit] = {} if profile is None else {USER_PROFILE_HEADER: profile}
    headers.update(helper_headers or {})
    headers.update(extra_headers or {})
    return headers


def _listify(body: dict[str, Any]) -> dict[str, Any]:
    """Iterables (e.g. generators) given for list parameters become lists, so they serialise."""
    for key in ("messages", "tools", "stop_sequences", "system"):
        value = body.get(key)
        if value is not None and not isinstance(value, (list, str, dict)):
            body[key] = list(value)
    return body


def _pop_output_format(params: dict[str, Any]) -> Any:
    """Take ``output_format`` out of stream parameters, folding it into ``output_config.format``."""
    if "output_format" not in params:
        return None
    from ...lib._parse import given, with_output_format

    output_format = params.pop("output_format", None)
    if not given(output_format) or output_format is None:
        return None
    params["output_config"] = with_output_format(params.get("output_config", NOT_GIVEN), output_format)
    return output_format


def _count_options(
    body: dict[str, Any], *, extra_headers: Mapping[str, str | Omit] | None, **opts: Any
) -> FinalRequestOptions:
    body = _listify(strip_not_given(body))
    return FinalRequestOptions(
        method="post",
        url="/v1/messages/count_tokens",
        json_data=body,
        usage_operation="messages.count_tokens",
        usage_model=body.get("model"),
        **make_request_options(extra_headers=request_headers(body, extra_headers), **opts),
    )


class Messages(ParseMixin, SyncAPIResource):
    @property
    def batches(self) -> Batches:
        return Batches(self._client)

    @overload
    def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message: ...

    @overload
    def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[True],
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Stream[RawMessageStreamEvent]: ...

    @overload
    def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: bool,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message | Stream[RawMessageStreamEvent]: ...

    def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: bool | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message | Stream[RawMessageStreamEvent]:
        """Send a Messages API request; with ``stream=True`` get a :class:`~claude_web.Stream` of events."""
        streaming = stream is True
        if not streaming:
            timeout = self._client._nonstreaming_guard(max_tokens, model, timeout)
        body = {
            "max_tokens": max_tokens,
            "messages": messages,
            "model": model,
            "cache_control": cache_control,
            "container": container,
            "inference_geo": inference_geo,
            "metadata": metadata,
            "output_config": output_config,
            "service_tier": service_tier,
            "stop_sequences": stop_sequences,
            "system": system,
            "temperature": temperature,
            "thinking": thinking,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_k": top_k,
            "top_p": top_p,
            "user_profile_id": user_profile_id,
        }
        if stream is False:
            body["stream"] = False
        options = _create_options(
            body,
            stream=streaming,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            operation="messages.stream" if streaming else "messages.create",
        )
        result: Message | Stream[RawMessageStreamEvent] = self._client.request(
            Message if not streaming else RawMessageStreamEvent,
            options,
            stream=streaming,
            stream_cls=Stream[RawMessageStreamEvent],
        )
        return result

    def stream(self, **params: Any) -> MessageStreamManager:
        """Stream with helpers: ``with client.messages.stream(...) as s: for text in s.text_stream: ...``.

        With ``output_format=Model`` the final message is a ``ParsedMessage`` (``.parsed_output``).
        """
        from ...lib.streaming import MessageStreamManager

        output_format = _pop_output_format(params)
        extra = {k: params.pop(k) for k in ("extra_headers", "extra_query", "extra_body", "timeout") if k in params}
        options = _create_options(
            dict(params),
            stream=True,
            extra_headers=extra.get("extra_headers"),
            extra_query=extra.get("extra_query"),
            extra_body=extra.get("extra_body"),
            timeout=extra.get("timeout", NOT_GIVEN),
            operation="messages.stream",
            helper_headers=STREAM_HELPER_HEADERS,
        )

        def make() -> Stream[RawMessageStreamEvent]:
            result: Stream[RawMessageStreamEvent] = self._client.request(
                RawMessageStreamEvent, options, stream=True, stream_cls=Stream[RawMessageStreamEvent]
            )
            return result

        if output_format is not None:
            from ...lib.streaming import ParsedMessageStreamManager

            return ParsedMessageStreamManager(make, output_format)
        return MessageStreamManager(make)

    def count_tokens(
        self,
        *,
        messages: Iterable[Any],
        model: str,
        cache_control: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        output_format: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageTokensCount:
        """Count the input tokens of a request without sending it to the model."""
        options = _count_options(
            {
                "messages": messages,
                "model": model,
                "cache_control": cache_control,
                "output_config": output_config,
                "output_format": output_format,
                "system": system,
                "thinking": thinking,
                "tool_choice": tool_choice,
                "tools": tools,
                "user_profile_id": user_profile_id,
            },
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageTokensCount = self._client.request(MessageTokensCount, options)
        return result


class AsyncMessages(AsyncParseMixin, AsyncAPIResource):
    @property
    def batches(self) -> AsyncBatches:
        return AsyncBatches(self._client)

    @overload
    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message: ...

    @overload
    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[True],
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncStream[RawMessageStreamEvent]: ...

    @overload
    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: bool,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message | AsyncStream[RawMessageStreamEvent]: ...

    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: bool | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message | AsyncStream[RawMessageStreamEvent]:
        """Send a Messages API request; with ``stream=True`` get an :class:`~claude_web.AsyncStream`."""
        streaming = stream is True
        if not streaming:
            timeout = self._client._nonstreaming_guard(max_tokens, model, timeout)
        body = {
            "max_tokens": max_tokens,
            "messages": messages,
            "model": model,
            "cache_control": cache_control,
            "container": container,
            "inference_geo": inference_geo,
            "metadata": metadata,
            "output_config": output_config,
            "service_tier": service_tier,
            "stop_sequences": stop_sequences,
            "system": system,
            "temperature": temperature,
            "thinking": thinking,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_k": top_k,
            "top_p": top_p,
            "user_profile_id": user_profile_id,
        }
        if stream is False:
            body["stream"] = False
        options = _create_options(
            body,
            stream=streaming,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            operation="messages.stream" if streaming else "messages.create",
        )
        result: Message | AsyncStream[RawMessageStreamEvent] = await self._client.request(
            Message if not streaming else RawMessageStreamEvent,
            options,
            stream=streaming,
            stream_cls=AsyncStream[RawMessageStreamEvent],
        )
        return result

    def stream(self, **params: Any) -> AsyncMessageStreamManager:
        """``async with client.messages.stream(...) as s: async for text in s.text_stream: ...``.

        With ``output_format=Model`` the final message is a ``ParsedMessage`` (``.parsed_output``).
        """
        from ...lib.streaming import AsyncMessageStreamManager

        output_format = _pop_output_format(params)
        extra = {k: params.pop(k) for k in ("extra_headers", "extra_query", "extra_body", "timeout") if k in params}
        options = _create_options(
            dict(params),
            stream=True,
            extra_headers=extra.get("extra_headers"),
            extra_query=extra.get("extra_query"),
            extra_body=extra.get("extra_body"),
            timeout=extra.get("timeout", NOT_GIVEN),
            operation="messages.stream",
            helper_headers=STREAM_HELPER_HEADERS,
        )

        async def make() -> AsyncStream[RawMessageStreamEvent]:
            result: AsyncStream[RawMessageStreamEvent] = await self._client.request(
                RawMessageStreamEvent, options, stream=True, stream_cls=AsyncStream[RawMessageStreamEvent]
            )
            return result

        if output_format is not None:
            from ...lib.streaming import AsyncParsedMessageStreamManager

            return AsyncParsedMessageStreamManager(make, output_format)
        return AsyncMessageStreamManager(make)

    async def count_tokens(
        self,
        *,
        messages: Iterable[Any],
        model: str,
        cache_control: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        output_format: Any = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageTokensCount:
        """Count the input tokens of a request without sending it to the model."""
        options = _count_options(
            {
                "messages": messages,
                "model": model,
                "cache_control": cache_control,
                "output_config": output_config,
                "output_format": output_format,
                "system": system,
                "thinking": thinking,
                "tool_choice": tool_choice,
                "tools": tools,
                "user_profile_id": user_profile_id,
            },
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: MessageTokensCount = await self._client.request(MessageTokensCount, options)
        return result
