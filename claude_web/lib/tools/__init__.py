"""Tools from typed Python functions, and the tool runner (drop-in for ``anthropic``'s ``beta_tool`` /
``client.beta.messages.tool_runner``), with claude-web's extensions for web apps: ``tool_context``,
``tool_timeout``, ``on_tool_result`` and :class:`ToolCallResult`."""

from ._async_runner import BetaAsyncStreamingToolRunner, BetaAsyncToolRunner
from ._core import ToolCallResult, ToolTimeoutError
from ._functions import BaseFunctionTool, BetaAsyncFunctionTool, BetaFunctionTool, beta_async_tool, beta_tool
from ._runner import BetaStreamingToolRunner, BetaToolRunner

__all__ = [
    "BaseFunctionTool",
    "BetaAsyncFunctionTool",
    "BetaAsyncStreamingToolRunner",
    "BetaAsyncToolRunner",
    "BetaFunctionTool",
    "BetaStreamingToolRunner",
    "BetaToolRunner",
    "ToolCallResult",
    "ToolTimeoutError",
    "beta_async_tool",
    "beta_tool",
]
