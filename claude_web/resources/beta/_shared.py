"""What the sync and async ``client.beta.messages`` share: the per-call extras and the request builders."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ..._base_client import FinalRequestOptions
from ..._exceptions import AnthropicError
from ..._types import NOT_GIVEN, NotGiven, Omit
from ...lib._parse import given, with_output_format
from .._message_options import beta_header, message_options

__all__ = [
    "PARSE_HELPER",
    "RUNNER_HELPER",
    "Betas",
    "Extras",
    "Headers",
    "count_options",
    "fold_output_format",
    "parse_options",
    "runner_extras",
    "runner_options",
    "stream_options",
]

Headers = Mapping[str, "str | Omit"]
Betas = Iterable[str] | NotGiven | Omit
STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-12-15"
TOKEN_COUNTING_BETA = "token-counting-2024-11-01"
PARSE_HELPER = "beta.messages.parse"
RUNNER_HELPER = "BetaToolRunner"


class Extras:
    """The per-call options every method takes, kept together on their way to the request."""

    __slots__ = ("betas", "extra_body", "extra_headers", "extra_query", "timeout")

    def __init__(
        self,
        betas: Betas,
        extra_headers: Headers | None,
        extra_query: Mapping[str, object] | None,
        extra_body: Mapping[str, object] | None,
        timeout: Any,
    ) -> None:
        self.betas = betas
        self.extra_headers = extra_headers
        self.extra_query = extra_query
        self.extra_body = extra_body
        self.timeout = timeout

    def options(self, body: Mapping[str, Any], **call: Any) -> FinalRequestOptions:
        return message_options(
            body,
            beta=True,
            betas=self.betas,
            extra_headers=self.extra_headers,
            extra_query=self.extra_query,
            extra_body=self.extra_body,
            timeout=call.pop("timeout", self.timeout),
            **call,
        )


def fold_output_format(body: dict[str, Any], output_format: Any = NOT_GIVEN) -> Any:
    """Move ``output_format`` (argument or body key) into ``output_config.format``; the format, or ``None``.

    In the beta namespace ``output_format`` is deprecated in favour of ``output_config.format`` (as in
    ``anthropic``): it warns, and giving both is an error.
    """
    body_format = body.pop("output_format", NOT_GIVEN)
    if not given(output_format):
        output_format = body_format
    if not given(output_format) or output_format is None:
        return None
    config = body.get("output_config", NOT_GIVEN)
    if given(config) and isinstance(config, Mapping) and config.get("format") is not None:
        raise AnthropicError(
            "Both output_format and output_config.format were provided. Please use only output_config.format "
            "(output_format is deprecated)."
        )
    warnings.warn(
        "The 'output_format' parameter is deprecated. Please use 'output_config.format' instead.",
        DeprecationWarning,
        stacklevel=4,
    )
    body["output_config"] = with_output_format(config, output_format)
    return output_format


def parse_options(
    body: dict[str, Any], output_format: Any, extras: Extras, helper: str, timeout: Any
) -> FinalRequestOptions:
    fold_output_format(body, output_format)
    return extras.options(
        body,
        operation="beta.messages.parse",
        helper=helper,
        required_betas=(STRUCTURED_OUTPUTS_BETA,),
        timeout=timeout,
    )


def stream_options(body: dict[str, Any], extras: Extras, helper: str | None) -> tuple[FinalRequestOptions, Any]:
    output_format = fold_output_format(body)
    options = extras.options(body, operation="beta.messages.stream", stream=True, helper=helper, helper_method="stream")
    return options, output_format


def count_options(body: dict[str, Any], extras: Extras) -> FinalRequestOptions:
    fold_output_format(body)
    return extras.options(
        body,
        operation="beta.messages.count_tokens",
        url="/v1/messages/count_tokens",
        required_betas=(TOKEN_COUNTING_BETA,),
    )


def runner_extras(
    betas: Betas,
    extra_headers: Headers | None,
    extra_query: Mapping[str, object] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Any,
) -> Extras:
    """The runner's per-call extras: its ``betas`` go out as they are, without the helpers' own betas (as in
    ``anthropic``, where the runner sends them as the ``anthropic-beta`` header)."""
    headers: dict[str, str | Omit] = {**beta_header(betas), **(extra_headers or {})}
    return Extras(NOT_GIVEN, headers, extra_query, extra_body, timeout)


def runner_options(
    tools: Iterable[Any],
    max_iterations: int | NotGiven | Omit,
    compaction_control: Any,
    tool_context: Any,
    tool_timeout: float | None,
    on_tool_result: Any,
) -> dict[str, Any]:
    if given(compaction_control) and compaction_control is not None:
        raise NotImplementedError("compaction_control is not supported by claude-web's tool runner")
    return {
        "tools": tools,
        "max_iterations": max_iterations,
        "tool_context": tool_context,
        "tool_timeout": tool_timeout,
        "on_tool_result": on_tool_result,
    }
