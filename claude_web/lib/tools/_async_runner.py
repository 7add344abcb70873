"""``AsyncAnthropic().beta.messages.tool_runner(...)``: the tool loop on asyncio (or trio, through anyio).

>>> runner = client.beta.messages.tool_runner(model=..., max_tokens=1024, tools=[lookup], messages=[...])
>>> async for message in runner:
...     print(message.content)
>>> final = await runner.until_done()

The tool calls of one turn run concurrently (results keep the order of the ``tool_use`` blocks). Tools made
with ``@beta_async_tool`` are awaited; plain ``@beta_tool`` functions run in a worker thread. ``tool_timeout=``
cancels an async tool at the deadline (a thread is left to finish on its own) and answers ``is_error``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Generic

import anyio
import anyio.abc
import anyio.to_thread

from ...types.parsed_message import ResponseFormatT
from ._core import RunnerCore, ToolCallResult, ToolTimeoutError
from ._functions import BetaAsyncFunctionTool

if TYPE_CHECKING:
    from ...types.beta.parsed_beta_message import ParsedBetaMessage
    from ..streaming import BetaAsyncMessageStream, BetaAsyncMessageStreamManager

__all__ = ["BetaAsyncStreamingToolRunner", "BetaAsyncToolRunner"]

_HAS_ABANDON = "abandon_on_cancel" in inspect.signature(anyio.to_thread.run_sync).parameters  # anyio >= 4.1


class _AsyncRunnerCore(RunnerCore):
    async def generate_tool_call_response(self) -> dict[str, Any] | None:
        """The user message answering the last message's tool calls (``None`` without any); runs the tools
        (concurrently) once per message, later calls return the same answer."""
        pending = self._pending_tool_uses()
        if pending is None:
            return self._response
        results: list[ToolCallResult | None] = [None] * len(pending)
        failures: list[Exception] = []  # from on_tool_result: re-raised as is, not inside an exception group

        async def run(index: int, block: Any, group: anyio.abc.TaskGroup) -> None:
            try:
                results[index] = await self._call(block)
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for index, block in enumerate(pending):
                group.start_soon(run, index, block, group)
        if failures:
            raise failures[0]
        return self._store_response([result for result in results if result is not None])

    async def _invoke(self, tool: Any, block: Any) -> Any:
        if isinstance(tool, BetaAsyncFunctionTool):
            return await tool.call(block.input, context=self.tool_context)
        call = partial(tool.call, block.input, context=self.tool_context)
        if _HAS_ABANDON:
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        return await anyio.to_thread.run_sync(call, cancellable=True)

    async def _call(self, block: Any) -> ToolCallResult:
        found = self._lookup(block)
        if isinstance(found, ToolCallResult):
            result = found
        else:
            result = ToolCallResult(tool_use_id=block.id, name=block.name, input=block.input)
            started = time.perf_counter()
            try:
                if self.tool_timeout is None:
                    result.content = await self._invoke(found, block)
                else:
                    with anyio.move_on_after(self.tool_timeout) as scope:
                        result.content = await self._invoke(found, block)
                    if scope.cancelled_caught:
                        raise ToolTimeoutError(f"Tool {found.name!r} did not finish within {self.tool_timeout} seconds")
            except Exception as exc:
                self._failed(result, exc)
            result.duration = time.perf_counter() - started
        if self.on_tool_result is not None:
            outcome = self.on_tool_result(result)
            if inspect.isawaitable(outcome):
                await outcome
        return result

    async def _next_turn(self) -> bool:
        if not self._can_send():
            return False
        if self.iteration == 0:
            return True
        response = None if self._messages_modified else await self.generate_tool_call_response()
        return self._advance(response)


class BetaAsyncToolRunner(_AsyncRunnerCore, Generic[ResponseFormatT]):
    """``async for message in runner``; each request is ``beta.messages.parse``."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], Awaitable[ParsedBetaMessage[ResponseFormatT]]],
        params: Mapping[str, Any],
        **options: Any,
    ) -> None:
        super().__init__(params, **options)
        self._send = send
        self._iterator = self._loop()

    async def _loop(self) -> AsyncIterator[ParsedBetaMessage[ResponseFormatT]]:
        while await self._next_turn():
            self.iteration += 1
            message = await self._send(self._request_params())
            self._last_message = message
            yield message

    def __aiter__(self) -> AsyncIterator[ParsedBetaMessage[ResponseFormatT]]:
        return self._iterator

    async def __anext__(self) -> ParsedBetaMessage[ResponseFormatT]:
        return await self._iterator.__anext__()

    async def until_done(self) -> ParsedBetaMessage[ResponseFormatT]:
        """Run the loop to its end; the last message."""
        async for _ in self._iterator:
            pass
        if self._last_message is None:
            raise RuntimeError("the tool runner sent no request (max_iterations=0?)")
        last: ParsedBetaMessage[ResponseFormatT] = self._last_message
        return last


class BetaAsyncStreamingToolRunner(_AsyncRunnerCore, Generic[ResponseFormatT]):
    """``async for stream in runner``: one :class:`BetaAsyncMessageStream` per turn."""

    def __init__(
        self,
        open_stream: Callable[[dict[str, Any]], BetaAsyncMessageStreamManager[ResponseFormatT]],
        params: Mapping[str, Any],
        **options: Any,
    ) -> None:
        super().__init__(params, **options)
        self._open = open_stream
        self._current: BetaAsyncMessageStream[ResponseFormatT] | None = None
        self._iterator = self._loop()

    async def _finish_current(self) -> None:
        if self._current is not None:
            self._last_message = await self._current.get_final_message()
            self._current = None

    async def generate_tool_call_response(self) -> dict[str, Any] | None:
        await self._finish_current()
        return await super().generate_tool_call_response()

    async def _loop(self) -> AsyncIterator[BetaAsyncMessageStream[ResponseFormatT]]:
        while await self._next_turn():
            self.iteration += 1
            manager = self._open(self._request_params())
            stream = await manager.__aenter__()
            self._current = stream
            try:
                yield stream
                await self._finish_current()
            finally:
                self._current = None
                await manager.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[BetaAsyncMessageStream[ResponseFormatT]]:
        return self._iterator

    async def __anext__(self) -> BetaAsyncMessageStream[ResponseFormatT]:
        return await self._iterator.__anext__()

    async def until_done(self) -> ParsedBetaMessage[ResponseFormatT]:
        """Run the loop to its end (reading every stream); the last message."""
        async for _ in self._iterator:
            pass
        if self._last_message is None:
            raise RuntimeError("the tool runner sent no request (max_iterations=0?)")
        last: ParsedBetaMessage[ResponseFormatT] = self._last_message
        return last
