"""The optional parameters of ``client.beta.messages`` methods, typed once as ``TypedDict``s (``**params``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from typing_extensions import TypedDict

from ...types import MetadataParam, ThinkingConfigParam, ToolChoiceParam
from ...types.beta import BetaCacheControlEphemeralParam, BetaOutputConfigParam

__all__ = ["CountTokensParams", "CreateParams", "RunnerParams", "check_params"]


class RunnerParams(TypedDict, total=False):
    """Optional body parameters of ``tool_runner`` (which takes ``tools`` as a named argument)."""

    cache_control: BetaCacheControlEphemeralParam | None
    container: str | Mapping[str, Any] | None
    context_management: Mapping[str, Any] | None
    diagnostics: Mapping[str, Any] | None
    fallback_credit_token: Mapping[str, Any] | None
    fallbacks: Iterable[Mapping[str, Any]] | None
    inference_geo: str | None
    mcp_servers: Iterable[Mapping[str, Any]]
    metadata: MetadataParam
    output_config: BetaOutputConfigParam
    service_tier: Literal["auto", "standard_only"]
    speed: Literal["standard", "fast"] | None
    stop_sequences: Iterable[str]
    system: str | Iterable[Mapping[str, Any]]
    temperature: float
    thinking: ThinkingConfigParam
    tool_choice: ToolChoiceParam
    top_k: int
    top_p: float
    user_profile_id: str


class CreateParams(RunnerParams, total=False):
    """Optional body parameters of ``create`` / ``parse`` / ``stream``."""

    tools: Iterable[Any]


class CountTokensParams(TypedDict, total=False):
    """Optional body parameters of ``count_tokens``."""

    cache_control: BetaCacheControlEphemeralParam | None
    context_management: Mapping[str, Any] | None
    mcp_servers: Iterable[Mapping[str, Any]]
    output_config: BetaOutputConfigParam
    output_format: Any
    speed: Literal["standard", "fast"] | None
    system: str | Iterable[Mapping[str, Any]]
    thinking: ThinkingConfigParam
    tool_choice: ToolChoiceParam
    tools: Iterable[Any]
    user_profile_id: str


_KNOWN = {
    "create": frozenset(RunnerParams.__annotations__) | {"tools", "output_format"},
    "count_tokens": frozenset(CountTokensParams.__annotations__),
}


def check_params(method: str, params: Mapping[str, Any], kind: str = "create") -> None:
    """``TypeError`` for a keyword the method does not take, as a Python signature would raise."""
    for name in params:
        if name not in _KNOWN[kind]:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
