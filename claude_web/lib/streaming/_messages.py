"""``client.messages.stream(...)``: ``MessageStream`` with ``text_stream``, helper events and the final message.

>>> with client.messages.stream(model=..., max_tokens=1024, messages=[...]) as stream:
...     for text in stream.text_stream:
...         print(text, end="", flush=True)
...     message = stream.get_final_message()

``text_stream`` reads raw events straight through the accumulator (no helper event objects are built), so it
costs little more than ``stream=True`` iteration; iterating the stream itself yields the raw events plus the
helper events (``text``, ``input_json``, ``citation``, ``thinking``, ``signature``) in ``anthropic``'s order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx

from ..._streaming import AsyncStream, Stream
from ...types import RawMessageStreamEvent
from ...types.parsed_message import ParsedMessage
from ._accumulate import TRACKS_TOOL_INPUT, MessageAccumulator
from ._types import (
    CitationEvent,
    InputJsonEvent,
    ParsedContentBlockStopEvent,
    ParsedMessageStopEvent,
    ParsedMessageStreamEvent,
    SignatureEvent,
    TextEvent,
    ThinkingEvent,
)

__all__ = ["AsyncMessageStream", "AsyncMessageStreamManager", "MessageStream", "MessageStreamManager"]


def _helper_events(event: Any, acc: MessageAccumulator) -> list[ParsedMessageStreamEvent]:
    """The helper events ``anthropic`` fires for one raw event (after it was accumulated)."""
    kind = event.type
    if kind == "content_block_delta":
        delta = event.delta
        dkind = delta.type
        out: list[Any] = [event]
        if dkind == "text_delta":
            block = acc.block(event.index)
            if block.type == "text":
                out.append(TextEvent._build(type="text", text=delta.text, snapshot=block.text))
        elif dkind == "input_json_delta":
            pending = acc.pending(event.index)
            if pending is not None and acc.raw_block(event.index).type in TRACKS_TOOL_INPUT:
                out.append(InputJsonEvent._lazy(delta.partial_json, pending))
        elif dkind == "citations_delta":
            block = acc.block(event.index)
            if block.type == "text":
                out.append(
                    CitationEvent._build(type="citation", citation=delta.citation, snapshot=block.citations or [])
                )
        elif dkind == "thinking_delta":
            block = acc.block(event.index)
            if block.type == "thinking":
                out.append(ThinkingEvent._build(type="thinking", thinking=delta.thinking, snapshot=block.thinking))
        elif dkind == "signature_delta":
            block = acc.block(event.index)
            if block.type == "thinking":
                out.append(SignatureEvent._build(type="signature", signature=block.signature))
        return out
    if kind == "content_block_stop":
        return [
            ParsedContentBlockStopEvent._build(
                type="content_block_stop", index=event.index, content_block=acc.block(event.index)
            )
        ]
    if kind == "message_stop":
        return [ParsedMessageStopEvent._build(type="message_stop", message=acc.snapshot())]
    return [event]


class _MessageStreamCore:
    _raw: Stream[RawMessageStreamEvent] | AsyncStream[RawMessageStreamEvent]
    _acc: MessageAccumulator

    @property
    def response(self) -> httpx.Response:
        return self._raw.response

    @property
    def request_id(self) -> str | None:
        return self._raw.request_id

    @property
    def current_message_snapshot(self) -> ParsedMessage[Any]:
        """The message accumulated so far (also after an error: whatever arrived is kept)."""
        return self._acc.snapshot()

    def _final_text(self, message: ParsedMessage[Any]) -> str:
        texts = [block.text for block in message.content if block.type == "text"]
        if not texts:
            raise RuntimeError(
                f".get_final_text() can only be called when the API returns a `text` content block.\n"
                f"The API returned {','.join(b.type for b in message.content)} content block type(s) that you can "
                "access by calling get_final_message().content"
            )
        return "".join(texts)


class MessageStream(_MessageStreamCore):
    """A running stream with helpers; use it inside ``with client.messages.stream(...) as stream``."""

    _raw: Stream[RawMessageStreamEvent]

    def __init__(self, raw_stream: Stream[RawMessageStreamEvent]) -> None:
        self._raw = raw_stream
        self._acc = MessageAccumulator()
        self._events = self._accumulate()
        self.text_stream: Iterator[str] = self._texts()

    def _accumulate(self) -> Iterator[Any]:
        feed = self._acc.feed
        for event in self._raw:
            feed(event)
            yield event

    def _texts(self) -> Iterator[str]:
        for event in self._events:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text

    def include_pings(self) -> MessageStream:
        """Also yield Claude's keep-alive ``ping`` events (``PingEvent``, ``type == "ping"``) when iterating; returns
        the stream. Call it before iterating. By default pings are skipped, as in ``anthropic``.

        A web view that blocks on the upstream read uses the pings Claude sends while it is quiet as its moment to
        send the browser a heartbeat: ``for event in stream.include_pings(): ...``.
        """
        self._raw.include_pings()
        return self

    def __iter__(self) -> Iterator[ParsedMessageStreamEvent]:
        acc = self._acc
        for event in self._events:
            yield from _helper_events(event, acc)

    def __next__(self) -> ParsedMessageStreamEvent:
        raise TypeError("iterate the stream with `for event in stream`")

    def until_done(self) -> None:
        """Read the stream to its end."""
        for _ in self._events:
            pass

    def get_final_message(self) -> ParsedMessage[Any]:
        """Wait for the end of the stream and return the whole message (usage merged from start and delta)."""
        self.until_done()
        return self._acc.snapshot()

    def get_final_text(self) -> str:
        """The text blocks of the final message, joined."""
        return self._final_text(self.get_final_message())

    def close(self) -> None:
        """Stop now and release the HTTP connection (no more tokens are paid for)."""
        self._raw.close()

    def interrupt(self) -> None:
        """Stop from another thread while one is blocked reading (see :meth:`claude_web.Stream.interrupt`)."""
        self._raw.interrupt()

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MessageStreamManager:
    """What ``messages.stream(...)`` returns: the request is sent when the ``with`` block is entered."""

    def __init__(self, make: Callable[[], Stream[RawMessageStreamEvent]]) -> None:
        self._make = make
        self._stream: MessageStream | None = None

    def __enter__(self) -> MessageStream:
        self._stream = MessageStream(self._make())
        return self._stream

    def __exit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            self._stream.close()


class AsyncMessageStream(_MessageStreamCore):
    """The async twin of :class:`MessageStream`."""

    _raw: AsyncStream[RawMessageStreamEvent]

    def __init__(self, raw_stream: AsyncStream[RawMessageStreamEvent]) -> None:
        self._raw = raw_stream
        self._acc = MessageAccumulator()
        self._events = self._accumulate()
        self.text_stream: AsyncIterator[str] = self._texts()

    async def _accumulate(self) -> AsyncIterator[Any]:
        feed = self._acc.feed
        async for event in self._raw:
            feed(event)
            yield event

    async def _texts(self) -> AsyncIterator[str]:
        async for event in self._events:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text

    def include_pings(self) -> AsyncMessageStream:
        """Also yield Claude's keep-alive ``ping`` events when iterating (see :meth:`MessageStream.include_pings`)."""
        self._raw.include_pings()
        return self

    async def __aiter__(self) -> AsyncIterator[ParsedMessageStreamEvent]:
        acc = self._acc
        async for event in self._events:
            for helper in _helper_events(event, acc):
                yield helper

    async def until_done(self) -> None:
        async for _ in self._events:
            pass

    async def get_final_message(self) -> ParsedMessage[Any]:
        await self.until_done()
        return self._acc.snapshot()

    async def get_final_text(self) -> str:
        return self._final_text(await self.get_final_message())

    async def close(self) -> None:
        await self._raw.close()

    async def __aenter__(self) -> AsyncMessageStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class AsyncMessageStreamManager:
    """``async with client.messages.stream(...) as stream``; the request is sent on enter."""

    def __init__(self, make: Callable[[], Awaitable[AsyncStream[RawMessageStreamEvent]]]) -> None:
        self._make = make
        self._stream: AsyncMessageStream | None = None

    async def __aenter__(self) -> AsyncMessageStream:
        self._stream = AsyncMessageStream(await self._make())
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.close()
