from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from ._parsed import (
        AsyncParsedMessageStream,
        AsyncParsedMessageStreamManager,
        BetaAsyncMessageStream,
        BetaAsyncMessageStreamManager,
        BetaMessageStream,
        BetaMessageStreamManager,
        ParsedMessageStream,
        ParsedMessageStreamManager,
    )

__all__ = [
    "AsyncMessageStream",
    "AsyncMessageStreamManager",
    "AsyncParsedMessageStream",
    "AsyncParsedMessageStreamManager",
    "BetaAsyncMessageStream",
    "BetaAsyncMessageStreamManager",
    "BetaMessageStream",
    "BetaMessageStreamManager",
    "CitationEvent",
    "ContentBlockStopEvent",
    "InputJsonEvent",
    "MessageStopEvent",
    "MessageStream",
    "MessageStreamEvent",
    "MessageStreamManager",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "ParsedMessageStream",
    "ParsedMessageStreamEvent",
    "ParsedMessageStreamManager",
    "SignatureEvent",
    "TextEvent",
    "ThinkingEvent",
]

_PARSED = frozenset(
    {
        "AsyncParsedMessageStream",
        "AsyncParsedMessageStreamManager",
        "BetaAsyncMessageStream",
        "BetaAsyncMessageStreamManager",
        "BetaMessageStream",
        "BetaMessageStreamManager",
        "ParsedContentBlockStopEvent",
        "ParsedMessageStopEvent",
        "ParsedMessageStream",
        "ParsedMessageStreamManager",
    }
)


def __getattr__(name: str) -> object:
    if name in _PARSED:  # parsed and beta streams load on first use: a plain stream() does not pay for them
        from . import _parsed

        return getattr(_parsed, name)
    raise AttributeError(f"module 'claude_web.lib.streaming' has no attribute {name!r}")
