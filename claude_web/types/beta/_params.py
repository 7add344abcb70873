"""Request parameter shapes of ``client.beta`` (``TypedDict``s; plain dicts satisfy them)."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from typing_extensions import Required, TypedDict

from .. import _params as plain

__all__ = [
    "AnthropicBetaParam",
    "BetaBase64ImageSourceParam",
    "BetaCacheControlEphemeralParam",
    "BetaCitationsConfigParam",
    "BetaContentBlockParam",
    "BetaImageBlockParam",
    "BetaJSONOutputFormatParam",
    "BetaMessageParam",
    "BetaMetadataParam",
    "BetaOutputConfigParam",
    "BetaRedactedThinkingBlockParam",
    "BetaRequestDocumentBlockParam",
    "BetaTextBlockParam",
    "BetaTextCitationParam",
    "BetaThinkingBlockParam",
    "BetaThinkingConfigAdaptiveParam",
    "BetaThinkingConfigDisabledParam",
    "BetaThinkingConfigEnabledParam",
    "BetaThinkingConfigParam",
    "BetaToolChoiceAnyParam",
    "BetaToolChoiceAutoParam",
    "BetaToolChoiceNoneParam",
    "BetaToolChoiceParam",
    "BetaToolChoiceToolParam",
    "BetaToolParam",
    "BetaToolResultBlockParam",
    "BetaToolUnionParam",
    "BetaToolUseBlockParam",
    "BetaURLImageSourceParam",
]

AnthropicBetaParam: TypeAlias = str
"""A beta feature name for ``betas=[...]`` (e.g. ``"context-management-2025-06-27"``)."""

BetaMessageParam = plain.MessageParam
BetaContentBlockParam: TypeAlias = plain.ContentBlockParam
BetaTextBlockParam = plain.TextBlockParam
BetaTextCitationParam: TypeAlias = plain.TextCitationParam
BetaImageBlockParam = plain.ImageBlockParam
BetaBase64ImageSourceParam = plain.Base64ImageSourceParam
BetaURLImageSourceParam = plain.URLImageSourceParam
BetaRequestDocumentBlockParam = plain.DocumentBlockParam
BetaCitationsConfigParam = plain.CitationsConfigParam
BetaThinkingBlockParam = plain.ThinkingBlockParam
BetaRedactedThinkingBlockParam = plain.RedactedThinkingBlockParam
BetaToolUseBlockParam = plain.ToolUseBlockParam
BetaToolResultBlockParam = plain.ToolResultBlockParam
BetaCacheControlEphemeralParam = plain.CacheControlEphemeralParam
BetaMetadataParam = plain.MetadataParam
BetaThinkingConfigParam: TypeAlias = plain.ThinkingConfigParam
BetaThinkingConfigEnabledParam = plain.ThinkingConfigEnabledParam
BetaThinkingConfigDisabledParam = plain.ThinkingConfigDisabledParam
BetaThinkingConfigAdaptiveParam = plain.ThinkingConfigAdaptiveParam
BetaToolChoiceParam: TypeAlias = plain.ToolChoiceParam
BetaToolChoiceAutoParam = plain.ToolChoiceAutoParam
BetaToolChoiceAnyParam = plain.ToolChoiceAnyParam
BetaToolChoiceToolParam = plain.ToolChoiceToolParam
BetaToolChoiceNoneParam = plain.ToolChoiceNoneParam


class BetaToolParam(plain.ToolParam, total=False):
    """A client tool definition, with the beta-only options."""

    allowed_callers: list[str]
    defer_loading: bool
    eager_input_streaming: bool
    input_examples: list[dict[str, object]]


BetaToolUnionParam: TypeAlias = BetaToolParam | dict[str, Any]


class BetaJSONOutputFormatParam(TypedDict, total=False):
    type: Required[Literal["json_schema"]]
    schema: Required[dict[str, object]]


class BetaOutputConfigParam(TypedDict, total=False):
    effort: Literal["low", "medium", "high", "max"] | str | None
    format: BetaJSONOutputFormatParam | None
