"""What the sync and async tool runners share: the loop's state and every rule that does no I/O.

The rules (as in ``anthropic`` 0.125.0): a turn whose message has ``tool_use`` blocks is answered with one user
message holding a ``tool_result`` per block, in order; a tool that raises (or whose input does not validate)
answers ``{"content": repr(exc), "is_error": true}``; an unknown tool answers ``"Error: Tool 'x' not found"``;
the loop stops at a message without ``tool_use`` blocks or after ``max_iterations`` requests. Messages added
with ``append_messages()`` replace the automatic assistant + tool-results pair of that turn.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..._models import BaseModel
from ..._types import NotGiven, Omit
from ._functions import BaseFunctionTool
from ._support import ToolTimeoutError

__all__ = ["ToolCallResult", "ToolTimeoutError", "assistant_message", "tool_uses"]

log = logging.getLogger("claude_web.tools")


@dataclass
class ToolCallResult:
    """One tool call the runner made, and what it answered (claude-web extension).

    ``content`` and ``is_error`` are what the ``tool_result`` block carries; ``error`` is the exception the tool
    raised (``None`` on success); ``duration`` is in seconds.
    """

    tool_use_id: str
    name: str
    input: Any
    content: Any = None
    is_error: bool = False
    error: BaseException | None = None
    duration: float = 0.0

    def to_param(self) -> dict[str, Any]:
        """The ``tool_result`` content block sent back to the model."""
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": self.tool_use_id, "content": self.content}
        if self.is_error:
            block["is_error"] = True
        return block


def tool_uses(message: Any) -> list[Any]:
    """The ``tool_use`` blocks of a message, in order."""
    return [block for block in message.content if block.type == "tool_use"]


def _block_param(block: Any) -> Any:
    if isinstance(block, BaseModel):
        return block.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"parsed_output"})
    return block


def assistant_message(message: Any) -> dict[str, Any]:
    """A response message as the assistant turn of the next request."""
    return {"role": message.role, "content": [_block_param(block) for block in message.content]}


class RunnerCore:
    """The loop's state: request parameters, the tools by name, the last message and its tool results."""

    def __init__(
        self,
        params: Mapping[str, Any],
        *,
        tools: Iterable[Any],
        max_iterations: int | NotGiven | Omit,
        tool_context: Any,
        tool_timeout: float | None,
        on_tool_result: Callable[[ToolCallResult], Any] | None,
    ) -> None:
        tool_list = list(tools)
        self._tools_by_name: dict[str, BaseFunctionTool[Any]] = {
            tool.name: tool for tool in tool_list if isinstance(tool, BaseFunctionTool)
        }
        self._params: dict[str, Any] = {**params, "messages": list(params["messages"]), "tools": tool_list}
        self._max_iterations = max_iterations if isinstance(max_iterations, int) else None
        self.tool_context = tool_context
        self.tool_timeout = tool_timeout
        self.on_tool_result = on_tool_result
        self.iteration = 0
        """How many requests the runner has sent."""
        self.tool_results: list[ToolCallResult] = []
        """The tool calls answering the most recent message (claude-web extension)."""
        self._last_message: Any = None
        self._answered: Any = None  # the message the cached tool response belongs to
        self._response: dict[str, Any] | None = None
        self._messages_modified = False

    @property
    def messages(self) -> list[Any]:
        """The conversation the next request sends (the latest message is added when the loop moves on)."""
        messages: list[Any] = self._params["messages"]
        return messages

    def set_messages_params(self, params: Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]) -> None:
        """Replace the request parameters of the following turns (or pass a function of the current ones)."""
        new = params(dict(self._params)) if callable(params) else params
        self._params = dict(new)

    def append_messages(self, *messages: Any) -> None:
        """Add messages to the conversation; this turn's automatic assistant + tool-results pair is then skipped."""
        for message in messages:
            self._params["messages"].append(assistant_message(message) if isinstance(message, BaseModel) else message)
        self._messages_modified = True

    def _can_send(self) -> bool:
        return self._max_iterations is None or self.iteration < self._max_iterations

    def _request_params(self) -> dict[str, Any]:
        params = dict(self._params)
        if params.get("tools") is not None:
            params["tools"] = [
                tool.to_dict() if isinstance(tool, BaseFunctionTool) else tool for tool in params["tools"]
            ]
        return params

    def _pending_tool_uses(self) -> list[Any] | None:
        """The tool_use blocks still to answer, or ``None`` when the cached response is current."""
        if self._last_message is None or self._answered is self._last_message:
            return None
        return tool_uses(self._last_message)

    def _store_response(self, results: list[ToolCallResult]) -> dict[str, Any] | None:
        self._answered = self._last_message
        self.tool_results = results
        self._response = {"role": "user", "content": [r.to_param() for r in results]} if results else None
        return self._response

    def _advance(self, response: dict[str, Any] | None) -> bool:
        """Prepare the next turn's messages; ``False`` when the loop is over."""
        if self._messages_modified:
            self._messages_modified = False
            return True
        if response is None:
            return False
        self._params["messages"].extend([assistant_message(self._last_message), response])
        return True

    def _lookup(self, block: Any) -> BaseFunctionTool[Any] | ToolCallResult:
        tool = self._tools_by_name.get(block.name)
        if tool is None:
            warnings.warn(
                f"The model called tool {block.name!r}, which is not among the runner's function tools "
                f"{sorted(self._tools_by_name)}: answer such calls yourself with append_messages(), or pass the "
                "tool as a @beta_tool function.",
                UserWarning,
                stacklevel=2,
            )
            return ToolCallResult(
                tool_use_id=block.id, name=block.name, input=block.input,
                content=f"Error: Tool '{block.name}' not found", is_error=True,
            )  # fmt: skip
        return tool

    @staticmethod
    def _failed(result: ToolCallResult, exc: BaseException) -> ToolCallResult:
        log.exception("Error occurred while calling tool: %s", result.name, exc_info=exc)
        result.content = repr(exc)
        result.is_error = True
        result.error = exc
        return result
