"""Content blocks of a response message, and the citations a text block may carry.

Every union here ends in a permissive fallback model, so a block, citation or caller type that a newer API
introduces parses (keeping all its fields) instead of failing the whole response. Known types are picked by
their ``type`` tag in pydantic-core, without a Python callback per block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from .._models import BaseModel
from ._server_tools import (
    BashCodeExecutionToolResultContent,
    CodeExecutionToolResultBlockContent,
    TextEditorCodeExecutionToolResultContent,
    ToolSearchToolResultContent,
    WebFetchToolResultContent,
    WebSearchToolResultBlockContent,
)

__all__ = [
    "BashCodeExecutionToolResultBlock",
    "CitationCharLocation",
    "CitationContentBlockLocation",
    "CitationPageLocation",
    "CitationsSearchResultLocation",
    "CitationsWebSearchResultLocation",
    "CodeExecutionToolResultBlock",
    "ContainerUploadBlock",
    "ContentBlock",
    "DirectCaller",
    "RedactedThinkingBlock",
    "ServerToolCaller",
    "ServerToolCaller20260120",
    "ServerToolUseBlock",
    "TextBlock",
    "TextCitation",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "UnknownCitation",
    "UnknownContentBlock",
    "WebFetchToolResultBlock",
    "WebSearchToolResultBlock",
]


class _Located(BaseModel):
    cited_text: str
    document_index: int
    document_title: str | None = None
    file_id: str | None = None


class CitationCharLocation(_Located):
    type: Literal["char_location"]
    start_char_index: int
    end_char_index: int


class CitationPageLocation(_Located):
    type: Literal["page_location"]
    start_page_number: int
    end_page_number: int


class CitationContentBlockLocation(_Located):
    type: Literal["content_block_location"]
    start_block_index: int
    end_block_index: int


class CitationsWebSearchResultLocation(BaseModel):
    type: Literal["web_search_result_location"]
    cited_text: str
    encrypted_index: str
    url: str
    title: str | None = None


class CitationsSearchResultLocation(BaseModel):
    type: Literal["search_result_location"]
    cited_text: str
    search_result_index: int
    source: str
    start_block_index: int
    end_block_index: int
    title: str | None = None


class UnknownCitation(BaseModel):
    """A citation type this version does not model; every field is kept."""

    type: str


_KnownCitation = Annotated[
    CitationCharLocation
    | CitationPageLocation
    | CitationContentBlockLocation
    | CitationsWebSearchResultLocation
    | CitationsSearchResultLocation,
    Field(discriminator="type"),
]
if TYPE_CHECKING:  # statically the known types only, so ``if c.type == "char_location":`` narrows as usual
    TextCitation = _KnownCitation
else:
    TextCitation = Annotated[_KnownCitation | UnknownCitation, Field(union_mode="left_to_right")]


class DirectCaller(BaseModel):
    type: Literal["direct"]


class ServerToolCaller20260120(BaseModel):
    """A tool call made from inside code execution (tool version ``code_execution_20260120``)."""

    type: Literal["code_execution_20260120"]
    tool_id: str


class ServerToolCaller(BaseModel):
    """A tool call made from inside a server tool (``code_execution_20250825``, or a newer version)."""

    type: str
    tool_id: str | None = None


Caller = Annotated[DirectCaller | ServerToolCaller20260120 | ServerToolCaller, Field(union_mode="left_to_right")]


class TextBlock(BaseModel):
    type: Literal["text"]
    text: str
    citations: list[TextCitation] | None = None


class ThinkingBlock(BaseModel):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(BaseModel):
    type: Literal["redacted_thinking"]
    data: str


class ToolUseBlock(BaseModel):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, object]
    caller: Caller | None = None
    toolset_name: str | None = None


class ServerToolUseBlock(BaseModel):
    type: Literal["server_tool_use"]
    id: str
    name: str
    input: dict[str, object]
    caller: Caller | None = None


class WebSearchToolResultBlock(BaseModel):
    type: Literal["web_search_tool_result"]
    tool_use_id: str
    content: WebSearchToolResultBlockContent
    caller: Caller | None = None


class WebFetchToolResultBlock(BaseModel):
    type: Literal["web_fetch_tool_result"]
    tool_use_id: str
    content: WebFetchToolResultContent
    caller: Caller | None = None


class CodeExecutionToolResultBlock(BaseModel):
    type: Literal["code_execution_tool_result"]
    tool_use_id: str
    content: CodeExecutionToolResultBlockContent


class BashCodeExecutionToolResultBlock(BaseModel):
    type: Literal["bash_code_execution_tool_result"]
    tool_use_id: str
    content: BashCodeExecutionToolResultContent


class TextEditorCodeExecutionToolResultBlock(BaseModel):
    type: Literal["text_editor_code_execution_tool_result"]
    tool_use_id: str
    content: TextEditorCodeExecutionToolResultContent


class ToolSearchToolResultBlock(BaseModel):
    type: Literal["tool_search_tool_result"]
    tool_use_id: str
    content: ToolSearchToolResultContent


class ContainerUploadBlock(BaseModel):
    type: Literal["container_upload"]
    file_id: str


class UnknownContentBlock(BaseModel):
    """A content block type this version does not model; every field is kept (``to_dict()`` round-trips)."""

    type: str


_KnownBlock = Annotated[
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | WebFetchToolResultBlock
    | CodeExecutionToolResultBlock
    | BashCodeExecutionToolResultBlock
    | TextEditorCodeExecutionToolResultBlock
    | ToolSearchToolResultBlock
    | ContainerUploadBlock,
    Field(discriminator="type"),
]
if TYPE_CHECKING:  # statically the known types only, so ``if block.type == "text":`` narrows as usual
    ContentBlock = _KnownBlock
else:
    ContentBlock = Annotated[_KnownBlock | UnknownContentBlock, Field(union_mode="left_to_right")]
