"""``AsyncAnthropic().beta.messages``: create, stream, parse, count_tokens and the tool runner, with ``betas=[...]``.

>>> message = await client.beta.messages.create(
...     model="claude-sonnet-4-5", max_tokens=1024, betas=["context-management-2025-06-27"],
...     messages=[{"role": "user", "content": "Hello"}],
... )

Requests go to ``/v1/messages?beta=true`` with ``betas`` as the ``anthropic-beta`` header; results are the
``Beta*`` types of :mod:`claude_web.types.beta` (``parse``, ``stream`` and the tool runner give
``ParsedBetaMessage``). Keyword parameters beyond the required ones are listed in
:class:`~claude_web.resources.beta._params.CreateParams`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx
from typing_extensions import Unpack

from ..._resource import AsyncAPIResource
from ..._streaming import AsyncStream
from ..._types import NOT_GIVEN, NotGiven
from ...lib._parse import parse_text_blocks
from ...types import RawMessageStreamEvent
from ...types.beta import BetaMessage, BetaMessageTokensCount
from ...types.beta.parsed_beta_message import ParsedBetaMessage
from ...types.parsed_message import ResponseFormatT
from ._params import CountTokensParams, CreateParams, RunnerParams, check_params
from ._shared import (
    PARSE_HELPER,
    RUNNER_HELPER,
    Betas,
    Extras,
    Headers,
    count_options,
    fold_output_format,
    parse_options,
    runner_extras,
    runner_options,
    stream_options,
)

if TYPE_CHECKING:
    from ...lib.streaming import BetaAsyncMessageStreamManager
    from ...lib.tools import BetaAsyncStreamingToolRunner, BetaAsyncToolRunner, ToolCallResult

__all__ = ["AsyncBetaMessages"]


class AsyncBetaMessages(AsyncAPIResource):
    """``AsyncAnthropic().beta.messages``."""

    @overload
    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[CreateParams],
    ) -> BetaMessage: ...

    @overload
    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: Literal[True],
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[CreateParams],
    ) -> AsyncStream[RawMessageStreamEvent]: ...

    async def create(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        stream: bool | NotGiven = NOT_GIVEN,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> BetaMessage | AsyncStream[RawMessageStreamEvent]:
        """Send a beta Messages request; with ``stream=True`` get an :class:`~claude_web.AsyncStream` of events."""
        check_params("create", params)
        streaming = stream is True
        if not streaming:
            timeout = self._client._nonstreaming_guard(max_tokens, model, timeout)
        body = {"max_tokens": max_tokens, "messages": messages, "model": model, **params}
        if stream is False:
            body["stream"] = False
        fold_output_format(body)
        extras = Extras(betas, extra_headers, extra_query, extra_body, timeout)
        operation = "beta.messages.stream" if streaming else "beta.messages.create"
        options = extras.options(body, operation=operation, stream=streaming)
        result: BetaMessage | AsyncStream[RawMessageStreamEvent] = await self._client.request(
            RawMessageStreamEvent if streaming else BetaMessage,
            options,
            stream=streaming,
            stream_cls=AsyncStream[RawMessageStreamEvent],
        )
        return result

    async def parse(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        output_format: type[ResponseFormatT] | None | NotGiven = NOT_GIVEN,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[CreateParams],
    ) -> ParsedBetaMessage[ResponseFormatT]:
        """Like :meth:`create`, validating the answer's text as ``output_format`` (``.parsed_output``)."""
        check_params("parse", params)
        extras = Extras(betas, extra_headers, extra_query, extra_body, timeout)
        body = {"max_tokens": max_tokens, "messages": messages, "model": model, **params}
        result: ParsedBetaMessage[ResponseFormatT] = await self._parse(body, output_format, extras, PARSE_HELPER)
        return result

    async def _parse(self, body: dict[str, Any], output_format: Any, extras: Extras, helper: str) -> Any:
        timeout = self._client._nonstreaming_guard(body["max_tokens"], body["model"], extras.timeout)
        options = parse_options(body, output_format, extras, helper, timeout)
        message: ParsedBetaMessage[Any] = await self._client.request(ParsedBetaMessage, options)
        parse_text_blocks(message.content, output_format)
        return message

    def stream(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        output_format: type[ResponseFormatT] | Mapping[str, Any] | None | NotGiven = NOT_GIVEN,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[CreateParams],
    ) -> BetaAsyncMessageStreamManager[ResponseFormatT]:
        """``async with client.beta.messages.stream(...) as stream``; the final message is a ``ParsedBetaMessage``."""
        check_params("stream", params)
        extras = Extras(betas, extra_headers, extra_query, extra_body, timeout)
        body = {"max_tokens": max_tokens, "messages": messages, "model": model, **params}
        manager: BetaAsyncMessageStreamManager[ResponseFormatT] = self._stream(
            {**body, "output_format": output_format}, extras, None
        )
        return manager

    def _stream(self, body: dict[str, Any], extras: Extras, helper: str | None) -> Any:
        from ...lib.streaming import BetaAsyncMessageStreamManager

        options, output_format = stream_options(body, extras, helper)

        async def make() -> AsyncStream[RawMessageStreamEvent]:
            result: AsyncStream[RawMessageStreamEvent] = await self._client.request(
                RawMessageStreamEvent, options, stream=True, stream_cls=AsyncStream[RawMessageStreamEvent]
            )
            return result

        return BetaAsyncMessageStreamManager(make, output_format)

    async def count_tokens(
        self,
        *,
        messages: Iterable[Any],
        model: str,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[CountTokensParams],
    ) -> BetaMessageTokensCount:
        """Count the input tokens of a request without sending it to the model."""
        check_params("count_tokens", params, "count_tokens")
        extras = Extras(betas, extra_headers, extra_query, extra_body, timeout)
        options = count_options({"messages": messages, "model": model, **params}, extras)
        result: BetaMessageTokensCount = await self._client.request(BetaMessageTokensCount, options)
        return result

    @overload
    def tool_runner(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        tools: Iterable[Any],
        stream: Literal[False] = False,
        max_iterations: int | NotGiven = NOT_GIVEN,
        output_format: type[ResponseFormatT] | None | NotGiven = NOT_GIVEN,
        compaction_control: Any = NOT_GIVEN,
        tool_context: Any = None,
        tool_timeout: float | None = None,
        on_tool_result: Callable[[ToolCallResult], object] | None = None,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[RunnerParams],
    ) -> BetaAsyncToolRunner[ResponseFormatT]: ...

    @overload
    def tool_runner(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        tools: Iterable[Any],
        stream: Literal[True],
        max_iterations: int | NotGiven = NOT_GIVEN,
        output_format: type[ResponseFormatT] | None | NotGiven = NOT_GIVEN,
        compaction_control: Any = NOT_GIVEN,
        tool_context: Any = None,
        tool_timeout: float | None = None,
        on_tool_result: Callable[[ToolCallResult], object] | None = None,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Unpack[RunnerParams],
    ) -> BetaAsyncStreamingToolRunner[ResponseFormatT]: ...

    def tool_runner(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        tools: Iterable[Any],
        stream: bool = False,
        max_iterations: int | NotGiven = NOT_GIVEN,
        output_format: Any = NOT_GIVEN,
        compaction_control: Any = NOT_GIVEN,
        tool_context: Any = None,
        tool_timeout: float | None = None,
        on_tool_result: Callable[[ToolCallResult], object] | None = None,
        betas: Betas = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> BetaAsyncToolRunner[ResponseFormatT] | BetaAsyncStreamingToolRunner[ResponseFormatT]:
        """Run the call -> tools -> results loop; iterate it for each turn's message (or stream).

        claude-web extensions: ``tool_context`` (passed to tools declaring a keyword-only ``context``),
        ``tool_timeout`` (seconds per tool call), ``on_tool_result`` (called with each :class:`ToolCallResult`).
        """
        from ...lib.tools import BetaAsyncStreamingToolRunner, BetaAsyncToolRunner

        check_params("tool_runner", params)
        extras = runner_extras(betas, extra_headers, extra_query, extra_body, timeout)
        body = {"max_tokens": max_tokens, "messages": messages, "model": model, **params}
        options = runner_options(tools, max_iterations, compaction_control, tool_context, tool_timeout, on_tool_result)
        if stream:
            return BetaAsyncStreamingToolRunner(
                lambda p: self._stream({**p, "output_format": output_format}, extras, RUNNER_HELPER), body, **options
            )
        return BetaAsyncToolRunner(
            lambda p: self._parse(p, output_format, extras, f"{PARSE_HELPER}, {RUNNER_HELPER}"), body, **options
        )
