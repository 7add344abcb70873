from ._messages import AsyncMessageStream, AsyncMessageStreamManager, MessageStream, MessageStreamManager
from ._types import (
    CitationEvent,
    ContentBlockStopEvent,
    InputJsonEvent,
    MessageStopEvent,
    MessageStreamEvent,
    ParsedContentBlockStopEvent,
    ParsedMessageStopEvent,
    ParsedMessageStreamEvent,
    SignatureEvent,
    TextEvent,
    ThinkingEvent,
)

__all__ = [
    "AsyncMessageStream",
    "AsyncMessageStreamManager",
    "CitationEvent",
    "ContentBlockStopEvent",
    "InputJsonEvent",
    "MessageStopEvent",
    "MessageStream",
    "MessageStreamEvent",
    "MessageStreamManager",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "ParsedMessageStreamEvent",
    "SignatureEvent",
    "TextEvent",
    "ThinkingEvent",
]
