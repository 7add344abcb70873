"""``ParsedMessage``: a ``Message`` whose text blocks may carry a ``parsed_output`` (structured outputs).

``messages.stream(...)`` builds its snapshot and final message as a ``ParsedMessage`` (text blocks as
``ParsedTextBlock``), with the class names ``anthropic`` 0.125.0 uses; without an ``output_format`` every
``parsed_output`` is ``None`` and the message behaves exactly as a ``Message``.

>>> from claude_web.types import Message
>>> plain = Message.model_validate({"id": "m", "type": "message", "role": "assistant", "model": "x",
...     "content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 1, "output_tokens": 1}})
>>> parsed = ParsedMessage.from_message(plain)
>>> type(parsed.content[0]).__name__, parsed.parsed_output, parsed.to_dict() == plain.to_dict()
('ParsedTextBlock', None, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, cast

from pydantic import Field
from typing_extensions import Self, TypeVar

from .._models import BaseModel
from ._blocks import (
    BashCodeExecutionToolResultBlock,
    CodeExecutionToolResultBlock,
    ContainerUploadBlock,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    TextEditorCodeExecutionToolResultBlock,
    ThinkingBlock,
    ToolSearchToolResultBlock,
    ToolUseBlock,
    UnknownContentBlock,
    WebFetchToolResultBlock,
    WebSearchToolResultBlock,
)
from .message import Message

__all__ = ["ParsedContentBlock", "ParsedMessage", "ParsedTextBlock", "ResponseFormatT"]

ResponseFormatT = TypeVar("ResponseFormatT", default=None)


class ParsedTextBlock(TextBlock, Generic[ResponseFormatT]):
    """A text block, plus what structured outputs parsed from its text (``None`` without an output format)."""

    parsed_output: ResponseFormatT | None = None

    @classmethod
    def from_block(cls, block: TextBlock) -> Self:
        """``block`` as a ``ParsedTextBlock`` (its fields shared, not copied; ``parsed_output`` unset)."""
        return _retype(block, cls)


_KnownParsedBlock = Annotated[
    ParsedTextBlock
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
if TYPE_CHECKING:
    ParsedContentBlock = _KnownParsedBlock
else:
    ParsedContentBlock = Annotated[_KnownParsedBlock | UnknownContentBlock, Field(union_mode="left_to_right")]


class ParsedMessage(Message, Generic[ResponseFormatT]):
    """A ``Message`` with ``ParsedTextBlock`` text blocks and the first parsed output as ``parsed_output``."""

    content: list[ParsedContentBlock]  # type: ignore[assignment]

    @property
    def parsed_output(self) -> ResponseFormatT | None:
        for block in self.content:
            if block.type == "text" and block.parsed_output is not None:
                return cast("ResponseFormatT | None", block.parsed_output)
        return None

    @classmethod
    def from_message(cls, message: Message) -> Self:
        """A deep copy of ``message`` as a ``ParsedMessage`` (text blocks become ``ParsedTextBlock``)."""
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
