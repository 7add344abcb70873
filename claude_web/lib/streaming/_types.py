"""Helper events that ``MessageStream`` yields besides the raw events (names and fields as in ``anthropic``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..._models import BaseModel
from ...types import (
    ContentBlock,
    Message,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    TextCitation,
)

__all__ = [
    "CitationEvent",
    "ContentBlockStopEvent",
    "InputJsonEvent",
    "MessageStopEvent",
    "MessageStreamEvent",
    "SignatureEvent",
    "TextEvent",
    "ThinkingEvent",
]


class TextEvent(BaseModel):
    type: Literal["text"]
    text: str
    """The text of this delta."""
    snapshot: str
    """The whole text of the block so far."""


class CitationEvent(BaseModel):
    type: Literal["citation"]
    citation: TextCitation
    snapshot: list[TextCitation]
    """Every citation of the block so far."""


class ThinkingEvent(BaseModel):
    type: Literal["thinking"]
    thinking: str
    snapshot: str


class SignatureEvent(BaseModel):
    type: Literal["signature"]
    signature: str


class InputJsonEvent(BaseModel):
    type: Literal["input_json"]
    partial_json: str
    """The piece of tool-input JSON this delta carried."""
    snapshot: object = None
    """The tool input parsed from all the JSON received so far (incomplete JSON parsed leniently)."""


class MessageStopEvent(BaseModel):
    type: Literal["message_stop"]
    message: Message


class ContentBlockStopEvent(BaseModel):
    type: Literal["content_block_stop"]
    index: int
    content_block: ContentBlock


MessageStreamEvent = Annotated[
    TextEvent
    | CitationEvent
    | ThinkingEvent
    | SignatureEvent
    | InputJsonEvent
    | RawMessageStartEvent
    | RawMessageDeltaEvent
    | MessageStopEvent
    | RawContentBlockStartEvent
    | RawContentBlockDeltaEvent
    | ContentBlockStopEvent,
    Field(discriminator="type"),
]
