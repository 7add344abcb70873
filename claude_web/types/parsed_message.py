"""``ParsedMessage``: what ``messages.parse(..., output_format=Model)`` returns.

Each text block is a :class:`ParsedTextBlock` whose ``parsed_output`` holds the block's JSON validated as
``output_format``; ``message.parsed_output`` is the first text block's.

>>> message = client.messages.parse(model=..., max_tokens=1024, messages=[...], output_format=Person)
>>> message.parsed_output.name
"""

from __future__ import annotations

import types
import typing
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, Union

from .._models import BaseModel
from ._blocks import ContentBlock, TextBlock
from .message import Message

__all__ = [
    "ParsedContentBlock",
    "ParsedMessage",
    "ParsedTextBlock",
    "ResponseFormatT",
    "as_parsed_block",
    "first_parsed_output",
    "swap_block_type",
]

ResponseFormatT = TypeVar("ResponseFormatT")


class ParsedTextBlock(TextBlock, Generic[ResponseFormatT]):
    """A text block with ``parsed_output``: its text validated as the requested output format (or ``None``)."""

    parsed_output: ResponseFormatT | None = None

    @classmethod
    def from_block(cls, block: TextBlock) -> ParsedTextBlock[Any]:
        """``block`` as a ``ParsedTextBlock`` (its fields shared, not copied; ``parsed_output`` unset)."""
        return _retype(block, cls)


def swap_block_type(union: Any, old: type, new: type) -> Any:
    """``union`` (a content-block annotation) with the member ``old`` replaced by ``new``, metadata kept."""
    if union is old:
        return new
    origin = typing.get_origin(union)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(union)
        params = (swap_block_type(inner, old, new), *metadata)
        return typing.Annotated[params]
    if origin is Union or origin is types.UnionType:
        return Union[tuple(swap_block_type(arg, old, new) for arg in typing.get_args(union))]  # noqa: UP007
    return union


if TYPE_CHECKING:
    from ._blocks import (
        BashCodeExecutionToolResultBlock,
        CodeExecutionToolResultBlock,
        ContainerUploadBlock,
        RedactedThinkingBlock,
        ServerToolUseBlock,
        TextEditorCodeExecutionToolResultBlock,
        ThinkingBlock,
        ToolSearchToolResultBlock,
        ToolUseBlock,
        WebFetchToolResultBlock,
        WebSearchToolResultBlock,
    )

    ParsedContentBlock: TypeAlias = Union[  # noqa: UP007
        ParsedTextBlock[ResponseFormatT],
        ThinkingBlock,
        RedactedThinkingBlock,
        ToolUseBlock,
        ServerToolUseBlock,
        WebSearchToolResultBlock,
        WebFetchToolResultBlock,
        CodeExecutionToolResultBlock,
        BashCodeExecutionToolResultBlock,
        TextEditorCodeExecutionToolResultBlock,
        ToolSearchToolResultBlock,
        ContainerUploadBlock,
    ]
else:
    ParsedContentBlock = swap_block_type(ContentBlock, TextBlock, ParsedTextBlock)


def first_parsed_output(content: list[Any]) -> Any:
    """The ``parsed_output`` of the first text block in ``content`` (``None`` without one)."""
    for block in content:
        if block.type == "text":
            return getattr(block, "parsed_output", None)
    return None


class ParsedMessage(Message, Generic[ResponseFormatT]):
    """A :class:`~claude_web.types.Message` whose text blocks carry ``parsed_output``."""

    if TYPE_CHECKING:
        content: list[ParsedContentBlock[ResponseFormatT]]  # type: ignore[assignment]
    else:
        content: list[ParsedContentBlock]

    @property
    def parsed_output(self) -> ResponseFormatT | None:
        """The first text block's ``parsed_output``."""
        value: ResponseFormatT | None = first_parsed_output(self.content)
        return value

    @classmethod
    def from_message(cls, message: Message) -> ParsedMessage[Any]:
        """A deep copy of ``message`` as a ``ParsedMessage`` (text blocks become ``ParsedTextBlock``), without
        validating again: the stream helper builds its snapshots with it."""
        copy = message.model_copy(deep=True)
        copy.content = [as_parsed_block(block) for block in copy.content]
        return _retype(copy, cls)


def as_parsed_block(block: Any) -> Any:
    """A text block as a ``ParsedTextBlock`` (sharing its fields); any other block as it is."""
    if type(block) is TextBlock:
        return ParsedTextBlock.from_block(block)
    return block


_M = TypeVar("_M", bound=BaseModel)


def _retype(model: BaseModel, cls: type[_M]) -> _M:
    """``model``'s state under the subclass ``cls``, without validating again (a field ``cls`` adds is unset)."""
    retyped = cls.__new__(cls)
    state = dict(model.__dict__)
    for name, field in cls.model_fields.items():
        if name not in state:
            state[name] = field.get_default(call_default_factory=True)
    object.__setattr__(retyped, "__dict__", state)
    object.__setattr__(retyped, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    object.__setattr__(retyped, "__pydantic_extra__", model.__pydantic_extra__)
    object.__setattr__(retyped, "__pydantic_private__", model.__pydantic_private__)
    return retyped
