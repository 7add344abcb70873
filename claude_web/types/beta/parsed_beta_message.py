"""``ParsedBetaMessage``: what ``client.beta.messages.parse`` (and the tool runner) return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeAlias

from ..parsed_message import ParsedContentBlock, ParsedTextBlock, ResponseFormatT, first_parsed_output
from ._message import BetaMessage

__all__ = ["ParsedBetaContentBlock", "ParsedBetaMessage", "ParsedBetaTextBlock"]

ParsedBetaTextBlock = ParsedTextBlock
if TYPE_CHECKING:
    ParsedBetaContentBlock: TypeAlias = ParsedContentBlock[ResponseFormatT]
else:
    ParsedBetaContentBlock = ParsedContentBlock


class ParsedBetaMessage(BetaMessage, Generic[ResponseFormatT]):
    """A :class:`BetaMessage` whose text blocks carry ``parsed_output``."""

    if TYPE_CHECKING:
        content: list[ParsedContentBlock[ResponseFormatT]]  # type: ignore[assignment]
    else:
        content: list[ParsedContentBlock]

    @property
    def parsed_output(self) -> ResponseFormatT | None:
        """The first text block's ``parsed_output``."""
        value: ResponseFormatT | None = first_parsed_output(self.content)
        return value
