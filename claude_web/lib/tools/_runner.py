"""``client.beta.messages.tool_runner(...)``: the call -> tools -> results loop, synchronous.

>>> runner = client.beta.messages.tool_runner(
...     model="claude-sonnet-4-5", max_tokens=1024, tools=[get_weather],
...     messages=[{"role": "user", "content": "Weather in Oslo?"}],
... )
>>> for message in runner:          # one message per request; tools run between them
...     print(message.content)
>>> final = runner.until_done()

With ``stream=True`` each turn is a :class:`~claude_web.lib.streaming.BetaMessageStream` (read it, or leave it:
the runner finishes it before moving on). Tool calls of one turn run one after another here (concurrently in
the async runner).

claude-web extensions, for a web layer driving the loop: ``tool_context=`` is passed to tools that declare a
keyword-only ``context`` parameter; ``tool_timeout=`` (seconds) turns a slow tool into an ``is_error`` result
(the sync runner runs each call in a daemon thread then, and stops waiting at the deadline);
``on_tool_result=`` is called with each :class:`ToolCallResult` as it is made; ``runner.tool_results`` holds
the latest turn's results and ``runner.messages`` the conversation so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic

from ...types.parsed_message import ResponseFormatT
from ._core import RunnerCore, ToolCallResult
from ._functions import BetaAsyncFunctionTool, BetaFunctionTool
from ._support import run_with_timeout

if TYPE_CHECKING:
    from ...types.beta.parsed_beta_message import ParsedBetaMessage
    from ..streaming import BetaMessageStream, BetaMessageStreamManager

__all__ = ["BetaStreamingToolRunner", "BetaToolRunner"]


class _SyncRunnerCore(RunnerCore):
    def __init__(self, params: Mapping[str, Any], **options: Any) -> None:
        super().__init__(params, **options)
        for tool in self._tools_by_name.values():
            if isinstance(tool, BetaAsyncFunctionTool):
                raise TypeError(
                    f"tool {tool.name!r} is async: use it with AsyncAnthropic's tool_runner, or make it a plain "
                    "function with @beta_tool"
                )

    def generate_tool_call_response(self) -> dict[str, Any] | None:
        """The user message answering the last message's tool calls (``None`` without any); runs the tools
        once per message, later calls return the same answer."""
        pending = self._pending_tool_uses()
        if pending is None:
            return self._response
        return self._store_response([self._call(block) for block in pending])

    def _call(self, block: Any) -> ToolCallResult:
        found = self._lookup(block)
        if isinstance(found, ToolCallResult):
            result = found
        else:
            result = ToolCallResult(tool_use_id=block.id, name=block.name, input=block.input)
            tool: BetaFunctionTool[Any] = found  # type: ignore[assignment]
            started = time.perf_counter()
            try:
                if self.tool_timeout is None:
                    result.content = tool.call(block.input, context=self.tool_context)
                else:
                    result.content = run_with_timeout(
                        lambda: tool.call(block.input, context=self.tool_context), self.tool_timeout, tool.name
                    )
            except Exception as exc:
                self._failed(result, exc)
            result.duration = time.perf_counter() - started
        if self.on_tool_result is not None:
            self.on_tool_result(result)
        return result

    def _next_turn(self) -> bool:
        """Whether to send another request (running this turn's tools first)."""
        if not self._can_send():
            return False
        if self.iteration == 0:
            return True
        response = None if self._messages_modified else self.generate_tool_call_response()
        return self._advance(response)


class BetaToolRunner(_SyncRunnerCore, Generic[ResponseFormatT]):
    """Iterate the messages of a tool-use conversation; each request is ``beta.messages.parse``."""

    def __init__(
        self, send: Callable[[dict[str, Any]], ParsedBetaMessage[ResponseFormatT]], params: Any, **options: Any
    ):
        super().__init__(params, **options)
        self._send = send
        self._iterator = self._loop()

    def _loop(self) -> Iterator[ParsedBetaMessage[ResponseFormatT]]:
        while self._next_turn():
            self.iteration += 1
            message = self._send(self._request_params())
            self._last_message = message
            yield message

    def __iter__(self) -> Iterator[ParsedBetaMessage[ResponseFormatT]]:
        return self._iterator

    def __next__(self) -> ParsedBetaMessage[ResponseFormatT]:
        return next(self._iterator)

    def until_done(self) -> ParsedBetaMessage[ResponseFormatT]:
        """Run the loop to its end; the last message."""
        for _ in self._iterator:
            pass
        if self._last_message is None:
            raise RuntimeError("the tool runner sent no request (max_iterations=0?)")
        last: ParsedBetaMessage[ResponseFormatT] = self._last_message
        return last


class BetaStreamingToolRunner(_SyncRunnerCore, Generic[ResponseFormatT]):
    """Iterate one :class:`BetaMessageStream` per turn (``tool_runner(..., stream=True)``)."""

    def __init__(
        self,
        open_stream: Callable[[dict[str, Any]], BetaMessageStreamManager[ResponseFormatT]],
        params: Any,
        **options: Any,
    ):
        super().__init__(params, **options)
        self._open = open_stream
        self._current: BetaMessageStream[ResponseFormatT] | None = None
        self._iterator = self._loop()

    def _finish_current(self) -> None:
        """Read the current turn's stream to its end (if the caller did not) and take its message."""
        if self._current is not None:
            self._last_message = self._current.get_final_message()
            self._current = None

    def generate_tool_call_response(self) -> dict[str, Any] | None:
        self._finish_current()
        return super().generate_tool_call_response()

    def _loop(self) -> Iterator[BetaMessageStream[ResponseFormatT]]:
        while self._next_turn():
            self.iteration += 1
            manager = self._open(self._request_params())
            stream = manager.__enter__()
            self._current = stream
            try:
                yield stream
                self._finish_current()
            finally:
                self._current = None
                manager.__exit__(None, None, None)

    def __iter__(self) -> Iterator[BetaMessageStream[ResponseFormatT]]:
        return self._iterator

    def __next__(self) -> BetaMessageStream[ResponseFormatT]:
        return next(self._iterator)

    def until_done(self) -> ParsedBetaMessage[ResponseFormatT]:
        """Run the loop to its end (reading every stream); the last message."""
        for _ in self._iterator:
            pass
        if self._last_message is None:
            raise RuntimeError("the tool runner sent no request (max_iterations=0?)")
        last: ParsedBetaMessage[ResponseFormatT] = self._last_message
        return last
