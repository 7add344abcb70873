"""Request parameter shapes (``TypedDict``s), named as in ``anthropic.types``; plain dicts satisfy them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, TypeAlias

from typing_extensions import Required, TypedDict

__all__ = [
    "Base64ImageSourceParam",
    "CacheControlEphemeralParam",
    "CitationsConfigParam",
    "ContentBlockParam",
    "DocumentBlockParam",
    "ImageBlockParam",
    "MessageParam",
    "MetadataParam",
    "ModelParam",
    "RedactedThinkingBlockParam",
    "TextBlockParam",
    "TextCitationParam",
    "ThinkingBlockParam",
    "ThinkingConfigAdaptiveParam",
    "ThinkingConfigDisabledParam",
    "ThinkingConfigEnabledParam",
    "ThinkingConfigParam",
    "ToolChoiceAnyParam",
    "ToolChoiceAutoParam",
    "ToolChoiceNoneParam",
    "ToolChoiceParam",
    "ToolChoiceToolParam",
    "ToolParam",
    "ToolResultBlockParam",
    "ToolUnionParam",
    "ToolUseBlockParam",
    "URLImageSourceParam",
]

ModelParam: TypeAlias = str


class CacheControlEphemeralParam(TypedDict, total=False):
    type: Required[Literal["ephemeral"]]
    ttl: Literal["5m", "1h"]


TextCitationParam: TypeAlias = dict[str, Any]


class TextBlockParam(TypedDict, total=False):
    type: Required[Literal["text"]]
    text: Required[str]
    cache_control: CacheControlEphemeralParam | None
    citations: Iterable[TextCitationParam] | None


class Base64ImageSourceParam(TypedDict, total=False):
    type: Required[Literal["base64"]]
    media_type: Required[Literal["image/jpeg", "image/png", "image/gif", "image/webp"]]
    data: Required[str]


class URLImageSourceParam(TypedDict, total=False):
    type: Required[Literal["url"]]
    url: Required[str]


class ImageBlockParam(TypedDict, total=False):
    type: Required[Literal["image"]]
    source: Required[Base64ImageSourceParam | URLImageSourceParam | dict[str, Any]]
    cache_control: CacheControlEphemeralParam | None


class CitationsConfigParam(TypedDict, total=False):
    enabled: bool


class DocumentBlockParam(TypedDict, total=False):
    type: Required[Literal["document"]]
    source: Required[dict[str, Any]]
    title: str | None
    context: str | None
    citations: CitationsConfigParam | None
    cache_control: CacheControlEphemeralParam | None


class ThinkingBlockParam(TypedDict, total=False):
    type: Required[Literal["thinking"]]
    thinking: Required[str]
    signature: Required[str]


class RedactedThinkingBlockParam(TypedDict, total=False):
    type: Required[Literal["redacted_thinking"]]
    data: Required[str]


class ToolUseBlockParam(TypedDict, total=False):
    type: Required[Literal["tool_use"]]
    id: Required[str]
    name: Required[str]
    input: Required[dict[str, object]]
    cache_control: CacheControlEphemeralParam | None


class ToolResultBlockParam(TypedDict, total=False):
    type: Required[Literal["tool_result"]]
    tool_use_id: Required[str]
    content: str | Iterable[TextBlockParam | ImageBlockParam | DocumentBlockParam | dict[str, Any]]
    is_error: bool
    cache_control: CacheControlEphemeralParam | None


ContentBlockParam: TypeAlias = (
    TextBlockParam
    | ImageBlockParam
    | DocumentBlockParam
    | ThinkingBlockParam
    | RedactedThinkingBlockParam
    | ToolUseBlockParam
    | ToolResultBlockParam
)


class MessageParam(TypedDict, total=False):
    role: Required[Literal["user", "assistant"]]
    content: Required[str | Iterable[ContentBlockParam | Any]]


class MetadataParam(TypedDict, total=False):
    user_id: str | None


class ThinkingConfigEnabledParam(TypedDict, total=False):
    type: Required[Literal["enabled"]]
    budget_tokens: Required[int]


class ThinkingConfigDisabledParam(TypedDict, total=False):
    type: Required[Literal["disabled"]]


class ThinkingConfigAdaptiveParam(TypedDict, total=False):
    type: Required[Literal["adaptive"]]


ThinkingConfigParam: TypeAlias = ThinkingConfigEnabledParam | ThinkingConfigDisabledParam | ThinkingConfigAdaptiveParam


class ToolParam(TypedDict, total=False):
    name: Required[str]
    input_schema: Required[dict[str, object]]
    description: str
    type: Literal["custom"] | None
    cache_control: CacheControlEphemeralParam | None
    strict: bool


ToolUnionParam: TypeAlias = ToolParam | dict[str, Any]


class ToolChoiceAutoParam(TypedDict, total=False):
    type: Required[Literal["auto"]]
    disable_parallel_tool_use: bool


class ToolChoiceAnyParam(TypedDict, total=False):
    type: Required[Literal["any"]]
    disable_parallel_tool_use: bool


class ToolChoiceToolParam(TypedDict, total=False):
    type: Required[Literal["tool"]]
    name: Required[str]
    disable_parallel_tool_use: bool


class ToolChoiceNoneParam(TypedDict, total=False):
    type: Required[Literal["none"]]


ToolChoiceParam: TypeAlias = ToolChoiceAutoParam | ToolChoiceAnyParam | ToolChoiceToolParam | ToolChoiceNoneParam
