"""Helper events that ``MessageStream`` yields besides the raw events (names and fields as in ``anthropic``).

The stream yields ``ParsedMessageStopEvent`` and ``ParsedContentBlockStopEvent`` (carrying the ``ParsedMessage``
snapshot and its blocks), as ``anthropic`` 0.125.0 does; ``MessageStopEvent`` / ``ContentBlockStopEvent`` are the
same events over a plain ``Message``, kept for annotations that name them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal

import pydantic
from pydantic import Field

from ..._models import BaseModel
from ...types import (
    ContentBlock,
    Message,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    TextCitation,
)
from ...types.parsed_message import ParsedContentBlock, ParsedMessage, ResponseFormatT
from ._accumulate import parse_partial_json

__all__ = [
    "CitationEvent",
    "ContentBlockStopEvent",
    "InputJsonEvent",
    "MessageStopEvent",
    "MessageStreamEvent",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "ParsedMessageStreamEvent",
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


_INPUT_JSON_FIELDS = frozenset({"type", "partial_json", "snapshot"})


class InputJsonEvent(BaseModel):
    """A piece of a tool call's input JSON, with ``snapshot``: the input parsed from all the JSON so far.

    The stream parses ``snapshot`` only when someone reads it (reading it, ``to_dict()``, ``model_dump()``, a
    repr or a comparison), as of this event: a long tool input is not re-parsed at every delta.
    """

    type: Literal["input_json"]
    partial_json: str
    """The piece of tool-input JSON this delta carried."""
    snapshot: object = None
    """The tool input parsed from all the JSON received so far (incomplete JSON parsed leniently)."""

    _source: Any = pydantic.PrivateAttr(default=None)

    @classmethod
    def _lazy(cls, partial_json: str, pending: Any) -> InputJsonEvent:
        """An event whose snapshot is the JSON of ``pending``'s pieces as they stand now, parsed on first use."""
        event = cls._build(_fields_set=set(_INPUT_JSON_FIELDS), type="input_json", partial_json=partial_json)
        del event.__dict__["snapshot"]
        event._source = (pending, len(pending.json_pieces))
        return event

    def _materialize(self) -> None:
        state = self.__dict__
        if "snapshot" not in state:
            pending, count = self._source
            state["snapshot"] = parse_partial_json(pending.json_text(count))

    def __getattr__(self, name: str) -> Any:
        if name == "snapshot":
            self._materialize()
            return self.__dict__["snapshot"]
        return super().__getattr__(name)  # type: ignore[misc]

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        self._materialize()
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        self._materialize()
        return super().model_dump_json(**kwargs)

    def model_copy(self, **kwargs: Any) -> Any:
        self._materialize()
        return super().model_copy(**kwargs)

    def __repr_args__(self) -> Any:
        self._materialize()
        return super().__repr_args__()

    def __eq__(self, other: object) -> bool:
        self._materialize()
        if isinstance(other, InputJsonEvent):
            other._materialize()
        return super().__eq__(other)

    def __iter__(self) -> Any:
        self._materialize()
        return super().__iter__()

    def __getstate__(self) -> dict[Any, Any]:
        self._materialize()
        return super().__getstate__()


class MessageStopEvent(RawMessageStopEvent):
    type: Literal["message_stop"]
    message: Message


class ContentBlockStopEvent(RawContentBlockStopEvent):
    type: Literal["content_block_stop"]
    content_block: ContentBlock


class ParsedMessageStopEvent(RawMessageStopEvent, Generic[ResponseFormatT]):
    """The end of the message, carrying the whole ``ParsedMessage``."""

    type: Literal["message_stop"]
    message: ParsedMessage[ResponseFormatT]


class ParsedContentBlockStopEvent(RawContentBlockStopEvent, Generic[ResponseFormatT]):
    """The end of a content block, carrying the finished block."""

    type: Literal["content_block_stop"]
    if TYPE_CHECKING:
        content_block: ParsedContentBlock[ResponseFormatT]
    else:
        content_block: ParsedContentBlock


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

ParsedMessageStreamEvent = Annotated[
    TextEvent
    | CitationEvent
    | ThinkingEvent
    | SignatureEvent
    | InputJsonEvent
    | RawMessageStartEvent
    | RawMessageDeltaEvent
    | ParsedMessageStopEvent[Any]
    | RawContentBlockStartEvent
    | RawContentBlockDeltaEvent
    | ParsedContentBlockStopEvent[Any],
    Field(discriminator="type"),
]
"""What iterating a ``MessageStream`` yields (plus ``PingEvent`` after :meth:`MessageStream.include_pings`)."""
