"""Raw server-sent events of a streamed message (``messages.create(..., stream=True)``).

Unknown event, delta or block types parse into permissive fallback models instead of raising.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from .._models import BaseModel
from ._blocks import ContentBlock, TextCitation
from .message import Container, Message, RefusalStopDetails, StopReason
from .usage import MessageDeltaUsage

__all__ = [
    "CitationsDelta",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "Delta",
    "InputJSONDelta",
    "MessageDeltaEvent",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessageStreamEvent",
    "PingEvent",
    "RawContentBlockDelta",
    "RawContentBlockDeltaEvent",
    "RawContentBlockStartEvent",
    "RawContentBlockStopEvent",
    "RawMessageDeltaEvent",
    "RawMessageStartEvent",
    "RawMessageStopEvent",
    "RawMessageStreamEvent",
    "SignatureDelta",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
]


class TextDelta(BaseModel):
    type: Literal["text_delta"]
    text: str


class InputJSONDelta(BaseModel):
    type: Literal["input_json_delta"]
    partial_json: str


class ThinkingDelta(BaseModel):
    type: Literal["thinking_delta"]
    thinking: str


class SignatureDelta(BaseModel):
    type: Literal["signature_delta"]
    signature: str


class CitationsDelta(BaseModel):
    type: Literal["citations_delta"]
    citation: TextCitation


class UnknownDelta(BaseModel):
    """A delta type this version does not model; the accumulator ignores it."""

    type: str


_KnownDelta = Annotated[
    TextDelta | InputJSONDelta | CitationsDelta | ThinkingDelta | SignatureDelta, Field(discriminator="type")
]
if TYPE_CHECKING:  # statically the known types only, so ``if delta.type == "text_delta":`` narrows as usual
    RawContentBlockDelta = _KnownDelta
else:
    RawContentBlockDelta = Annotated[_KnownDelta | UnknownDelta, Field(union_mode="left_to_right")]


class PingEvent(BaseModel):
    """A keep-alive ``ping``. Streams skip it, as ``anthropic`` does, unless a web view asks for it to pace its
    heartbeats (:func:`claude_web.web_stream.surface_pings`)."""

    type: Literal["ping"]


class RawMessageStartEvent(BaseModel):
    type: Literal["message_start"]
    message: Message


class Delta(BaseModel):
    stop_reason: StopReason | str | None = None
    stop_sequence: str | None = None
    stop_details: RefusalStopDetails | None = None
    container: Container | None = None


class RawMessageDeltaEvent(BaseModel):
    type: Literal["message_delta"]
    delta: Delta
    usage: MessageDeltaUsage


class RawMessageStopEvent(BaseModel):
    type: Literal["message_stop"]


class RawContentBlockStartEvent(BaseModel):
    type: Literal["content_block_start"]
    index: int
    content_block: ContentBlock


class RawContentBlockDeltaEvent(BaseModel):
    type: Literal["content_block_delta"]
    index: int
    delta: RawContentBlockDelta


class RawContentBlockStopEvent(BaseModel):
    type: Literal["content_block_stop"]
    index: int


RawMessageStreamEvent = Annotated[
    RawMessageStartEvent
    | RawMessageDeltaEvent
    | RawMessageStopEvent
    | RawContentBlockStartEvent
    | RawContentBlockDeltaEvent
    | RawContentBlockStopEvent,
    Field(discriminator="type"),
]

# the older names ``anthropic`` still exports
MessageStartEvent = RawMessageStartEvent
MessageDeltaEvent = RawMessageDeltaEvent
MessageStopEvent = RawMessageStopEvent
ContentBlockStartEvent = RawContentBlockStartEvent
ContentBlockDeltaEvent = RawContentBlockDeltaEvent
ContentBlockStopEvent = RawContentBlockStopEvent
MessageStreamEvent = RawMessageStreamEvent
