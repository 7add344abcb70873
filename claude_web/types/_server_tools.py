"""What server tools (web search, web fetch, code execution, the text editor, tool search) put inside their result
blocks, typed as ``anthropic`` 0.125.0 types it: ``WebSearchToolResultBlock.content`` is a list of
``WebSearchResultBlock`` or a ``WebSearchToolResultError``, and so on.

Error codes are plain strings (the API adds new ones); a content value that fits none of the known shapes is
kept as the API sent it instead of failing the whole message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from .._models import BaseModel

__all__ = [
    "Base64PDFSource",
    "BashCodeExecutionOutputBlock",
    "BashCodeExecutionResultBlock",
    "BashCodeExecutionToolResultContent",
    "BashCodeExecutionToolResultError",
    "CitationsConfig",
    "CodeExecutionOutputBlock",
    "CodeExecutionResultBlock",
    "CodeExecutionToolResultBlockContent",
    "CodeExecutionToolResultError",
    "DocumentBlock",
    "EncryptedCodeExecutionResultBlock",
    "PlainTextSource",
    "TextEditorCodeExecutionCreateResultBlock",
    "TextEditorCodeExecutionStrReplaceResultBlock",
    "TextEditorCodeExecutionToolResultContent",
    "TextEditorCodeExecutionToolResultError",
    "TextEditorCodeExecutionViewResultBlock",
    "ToolReferenceBlock",
    "ToolSearchToolResultContent",
    "ToolSearchToolResultError",
    "ToolSearchToolSearchResultBlock",
    "WebFetchBlock",
    "WebFetchToolResultContent",
    "WebFetchToolResultErrorBlock",
    "WebSearchResultBlock",
    "WebSearchToolResultBlockContent",
    "WebSearchToolResultError",
]


def _or_as_sent(known: Any) -> Any:
    """``known`` at run time with a last resort that keeps an unknown shape as it came (no validation error)."""
    return Annotated[known | Any, Field(union_mode="left_to_right")]


# -- web search ----------------------------------------------------------------------------------------------
class WebSearchResultBlock(BaseModel):
    type: Literal["web_search_result"]
    url: str
    title: str
    encrypted_content: str
    page_age: str | None = None


class WebSearchToolResultError(BaseModel):
    type: Literal["web_search_tool_result_error"]
    error_code: str
    """e.g. ``invalid_tool_input``, ``unavailable``, ``max_uses_exceeded``, ``too_many_requests``,
    ``query_too_long``, ``request_too_large``."""


# -- web fetch -----------------------------------------------------------------------------------------------
class Base64PDFSource(BaseModel):
    type: Literal["base64"]
    media_type: Literal["application/pdf"]
    data: str


class PlainTextSource(BaseModel):
    type: Literal["text"]
    media_type: Literal["text/plain"]
    data: str


class CitationsConfig(BaseModel):
    enabled: bool


class DocumentBlock(BaseModel):
    type: Literal["document"]
    source: Annotated[Base64PDFSource | PlainTextSource, Field(discriminator="type")]
    title: str | None = None
    citations: CitationsConfig | None = None


class WebFetchBlock(BaseModel):
    type: Literal["web_fetch_result"]
    url: str
    content: DocumentBlock
    retrieved_at: str | None = None


class WebFetchToolResultErrorBlock(BaseModel):
    type: Literal["web_fetch_tool_result_error"]
    error_code: str


# -- code execution ------------------------------------------------------------------------------------------
class CodeExecutionOutputBlock(BaseModel):
    type: Literal["code_execution_output"]
    file_id: str


class CodeExecutionResultBlock(BaseModel):
    type: Literal["code_execution_result"]
    content: list[CodeExecutionOutputBlock]
    return_code: int
    stderr: str
    stdout: str


class EncryptedCodeExecutionResultBlock(BaseModel):
    type: Literal["encrypted_code_execution_result"]
    content: list[CodeExecutionOutputBlock]
    encrypted_stdout: str
    return_code: int
    stderr: str


class CodeExecutionToolResultError(BaseModel):
    type: Literal["code_execution_tool_result_error"]
    error_code: str


class BashCodeExecutionOutputBlock(BaseModel):
    type: Literal["bash_code_execution_output"]
    file_id: str


class BashCodeExecutionResultBlock(BaseModel):
    type: Literal["bash_code_execution_result"]
    content: list[BashCodeExecutionOutputBlock]
    return_code: int
    stderr: str
    stdout: str


class BashCodeExecutionToolResultError(BaseModel):
    type: Literal["bash_code_execution_tool_result_error"]
    error_code: str


# -- the text editor -----------------------------------------------------------------------------------------
class TextEditorCodeExecutionViewResultBlock(BaseModel):
    type: Literal["text_editor_code_execution_view_result"]
    content: str
    file_type: str
    """``text``, ``image`` or ``pdf``."""
    num_lines: int | None = None
    start_line: int | None = None
    total_lines: int | None = None


class TextEditorCodeExecutionCreateResultBlock(BaseModel):
    type: Literal["text_editor_code_execution_create_result"]
    is_file_update: bool


class TextEditorCodeExecutionStrReplaceResultBlock(BaseModel):
    type: Literal["text_editor_code_execution_str_replace_result"]
    lines: list[str] | None = None
    new_lines: int | None = None
    new_start: int | None = None
    old_lines: int | None = None
    old_start: int | None = None


class TextEditorCodeExecutionToolResultError(BaseModel):
    type: Literal["text_editor_code_execution_tool_result_error"]
    error_code: str
    error_message: str | None = None


# -- tool search ---------------------------------------------------------------------------------------------
class ToolReferenceBlock(BaseModel):
    type: Literal["tool_reference"]
    tool_name: str


class ToolSearchToolSearchResultBlock(BaseModel):
    type: Literal["tool_search_tool_search_result"]
    tool_references: list[ToolReferenceBlock]


class ToolSearchToolResultError(BaseModel):
    type: Literal["tool_search_tool_result_error"]
    error_code: str
    error_message: str | None = None


# -- what each result block's ``content`` is ------------------------------------------------------------------
_CodeExecution = Annotated[
    CodeExecutionToolResultError | CodeExecutionResultBlock | EncryptedCodeExecutionResultBlock,
    Field(discriminator="type"),
]
_BashCodeExecution = Annotated[
    BashCodeExecutionToolResultError | BashCodeExecutionResultBlock, Field(discriminator="type")
]
_TextEditor = Annotated[
    TextEditorCodeExecutionToolResultError
    | TextEditorCodeExecutionViewResultBlock
    | TextEditorCodeExecutionCreateResultBlock
    | TextEditorCodeExecutionStrReplaceResultBlock,
    Field(discriminator="type"),
]
_ToolSearch = Annotated[ToolSearchToolResultError | ToolSearchToolSearchResultBlock, Field(discriminator="type")]
_WebFetch = Annotated[WebFetchToolResultErrorBlock | WebFetchBlock, Field(discriminator="type")]

if TYPE_CHECKING:  # statically the known shapes, so ``if content.type == ...`` narrows as usual
    WebSearchToolResultBlockContent = WebSearchToolResultError | list[WebSearchResultBlock]
    WebFetchToolResultContent = _WebFetch
    CodeExecutionToolResultBlockContent = _CodeExecution
    BashCodeExecutionToolResultContent = _BashCodeExecution
    TextEditorCodeExecutionToolResultContent = _TextEditor
    ToolSearchToolResultContent = _ToolSearch
else:
    WebSearchToolResultBlockContent = _or_as_sent(WebSearchToolResultError | list[WebSearchResultBlock])
    WebFetchToolResultContent = _or_as_sent(_WebFetch)
    CodeExecutionToolResultBlockContent = _or_as_sent(_CodeExecution)
    BashCodeExecutionToolResultContent = _or_as_sent(_BashCodeExecution)
    TextEditorCodeExecutionToolResultContent = _or_as_sent(_TextEditor)
    ToolSearchToolResultContent = _or_as_sent(_ToolSearch)
