"""Streams whose final message is a :class:`~claude_web.types.ParsedMessage` (``messages.stream(...,
output_format=Model)``) or a ``ParsedBetaMessage`` (every ``client.beta.messages.stream``).

Each text block is validated as the output format when its ``content_block_stop`` arrives, so a text that does
not validate raises ``pydantic.ValidationError`` from the iteration (or ``text_stream``, or
``get_final_message()``) at that point, as in ``anthropic``.

>>> with client.messages.stream(model=..., max_tokens=1024, messages=[...], output_format=Person) as stream:
...     person = stream.get_final_message().parsed_output
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, cast

from ..._models import BaseModel
from ..._streaming import AsyncStream, Stream
from ...types import RawMessageStreamEvent
from ...types.beta.parsed_beta_message import ParsedBetaMessage
from ...types.parsed_message import ParsedMessage, ParsedTextBlock, ResponseFormatT
from .._parse import format_adapter, given
from ._accumulate import MessageAccumulator
from ._messages import AsyncMessageStream, AsyncMessageStreamManager, MessageStream, MessageStreamManager
from ._types import ContentBlockStopEvent, MessageStopEvent, ParsedContentBlockStopEvent, ParsedMessageStopEvent

__all__ = [
    "AsyncParsedMessageStream",
    "BetaAsyncMessageStream",
    "BetaAsyncMessageStreamManager",
    "BetaMessageStream",
    "BetaMessageStreamManager",
    "AsyncParsedMessageStreamManager",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "ParsedMessageStream",
    "ParsedMessageStreamManager",
]


class ParsingAccumulator(MessageAccumulator):
    """An accumulator whose message is ``message_cls`` and whose text blocks are parsed as they finish."""

    __slots__ = ("_adapter", "_message_cls")

    def __init__(self, message_cls: type[BaseModel], output_format: Any) -> None:
        super().__init__()
        self._message_cls = message_cls
        typed = given(output_format) and output_format is not None and not isinstance(output_format, Mapping)
        self._adapter = format_adapter(output_format) if typed else None

    def feed(self, event: Any) -> None:
        starting = self._message is None
        super().feed(event)
        message = self._message
        if message is None:
            return
        kind = event.type
        if starting and kind == "message_start":
            self._message = self._message_cls.model_validate(message.to_dict())  # type: ignore[assignment]
        elif kind == "content_block_stop" and self._adapter is not None:
            block = message.content[event.index]
            if block.type == "text":
                parsed: ParsedTextBlock[Any] = ParsedTextBlock.model_validate(block.to_dict())
                parsed.parsed_output = self._adapter.validate_json(parsed.text)
                message.content[event.index] = parsed


def _parsed_event(event: Any) -> Any:
    """The helper stop events under their parsed names (same fields)."""
    cls = type(event)
    if cls is ContentBlockStopEvent:
        return ParsedContentBlockStopEvent.model_construct(**event.__dict__)
    if cls is MessageStopEvent:
        return ParsedMessageStopEvent.model_construct(**event.__dict__)
    return event


class ParsedMessageStream(MessageStream, Generic[ResponseFormatT]):
    """A :class:`MessageStream` whose final message is a ``ParsedMessage`` (``get_final_message().parsed_output``)."""

    def __init__(
        self,
        raw_stream: Stream[RawMessageStreamEvent],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedMessage,
    ) -> None:
        super().__init__(raw_stream)
        self._acc = ParsingAccumulator(message_cls, output_format)  # before the first event is read

    def __iter__(self) -> Iterator[Any]:
        for event in super().__iter__():
            yield _parsed_event(event)

    def get_final_message(self) -> ParsedMessage[ResponseFormatT]:
        return cast("ParsedMessage[ResponseFormatT]", super().get_final_message())

    def __enter__(self) -> ParsedMessageStream[ResponseFormatT]:
        return self


class AsyncParsedMessageStream(AsyncMessageStream, Generic[ResponseFormatT]):
    """The async twin of :class:`ParsedMessageStream`."""

    def __init__(
        self,
        raw_stream: AsyncStream[RawMessageStreamEvent],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedMessage,
    ) -> None:
        super().__init__(raw_stream)
        self._acc = ParsingAccumulator(message_cls, output_format)

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for event in super().__aiter__():
            yield _parsed_event(event)

    async def get_final_message(self) -> ParsedMessage[ResponseFormatT]:
        return cast("ParsedMessage[ResponseFormatT]", await super().get_final_message())

    async def __aenter__(self) -> AsyncParsedMessageStream[ResponseFormatT]:
        return self


class ParsedMessageStreamManager(MessageStreamManager, Generic[ResponseFormatT]):
    """``with client.messages.stream(..., output_format=Model) as stream``: the request is sent on enter."""

    _stream_cls: type[ParsedMessageStream[Any]] = ParsedMessageStream

    def __init__(
        self,
        make: Callable[[], Stream[RawMessageStreamEvent]],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedMessage,
    ) -> None:
        super().__init__(make)
        self._format = output_format
        self._message_cls = message_cls

    def __enter__(self) -> ParsedMessageStream[ResponseFormatT]:
        stream: ParsedMessageStream[ResponseFormatT] = self._stream_cls(self._make(), self._format, self._message_cls)
        self._stream = stream
        return stream


class AsyncParsedMessageStreamManager(AsyncMessageStreamManager, Generic[ResponseFormatT]):
    """``async with client.messages.stream(..., output_format=Model) as stream``."""

    _stream_cls: type[AsyncParsedMessageStream[Any]] = AsyncParsedMessageStream

    def __init__(
        self,
        make: Callable[[], Awaitable[AsyncStream[RawMessageStreamEvent]]],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedMessage,
    ) -> None:
        super().__init__(make)
        self._format = output_format
        self._message_cls = message_cls

    async def __aenter__(self) -> AsyncParsedMessageStream[ResponseFormatT]:
        raw = await self._make()
        stream: AsyncParsedMessageStream[ResponseFormatT] = self._stream_cls(raw, self._format, self._message_cls)
        self._stream = stream
        return stream


class BetaMessageStream(ParsedMessageStream[ResponseFormatT]):
    """The stream of ``client.beta.messages.stream(...)``: its final message is a ``ParsedBetaMessage``."""

    def __init__(
        self,
        raw_stream: Stream[RawMessageStreamEvent],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedBetaMessage,
    ) -> None:
        super().__init__(raw_stream, output_format, message_cls)

    def get_final_message(self) -> ParsedBetaMessage[ResponseFormatT]:  # type: ignore[override]
        return cast("ParsedBetaMessage[ResponseFormatT]", super().get_final_message())

    def __enter__(self) -> BetaMessageStream[ResponseFormatT]:
        return self


class BetaAsyncMessageStream(AsyncParsedMessageStream[ResponseFormatT]):
    """The async twin of :class:`BetaMessageStream`."""

    def __init__(
        self,
        raw_stream: AsyncStream[RawMessageStreamEvent],
        output_format: Any = None,
        message_cls: type[BaseModel] = ParsedBetaMessage,
    ) -> None:
        super().__init__(raw_stream, output_format, message_cls)

    async def get_final_message(self) -> ParsedBetaMessage[ResponseFormatT]:  # type: ignore[override]
        return cast("ParsedBetaMessage[ResponseFormatT]", await super().get_final_message())

    async def __aenter__(self) -> BetaAsyncMessageStream[ResponseFormatT]:
        return self


class BetaMessageStreamManager(ParsedMessageStreamManager[ResponseFormatT]):
    """``with client.beta.messages.stream(...) as stream``."""

    _stream_cls = BetaMessageStream

    def __init__(self, make: Callable[[], Stream[RawMessageStreamEvent]], output_format: Any = None) -> None:
        super().__init__(make, output_format, ParsedBetaMessage)

    def __enter__(self) -> BetaMessageStream[ResponseFormatT]:
        return cast("BetaMessageStream[ResponseFormatT]", super().__enter__())


class BetaAsyncMessageStreamManager(AsyncParsedMessageStreamManager[ResponseFormatT]):
    """``async with client.beta.messages.stream(...) as stream``."""

    _stream_cls = BetaAsyncMessageStream

    def __init__(
        self, make: Callable[[], Awaitable[AsyncStream[RawMessageStreamEvent]]], output_format: Any = None
    ) -> None:
        super().__init__(make, output_format, ParsedBetaMessage)

    async def __aenter__(self) -> BetaAsyncMessageStream[ResponseFormatT]:
        return cast("BetaAsyncMessageStream[ResponseFormatT]", await super().__aenter__())
