"""Every stream protocol by name: ours (``events``) and the AI SDK's UI message stream (``ai-sdk``).

>>> stream_protocol("ai-sdk", message_id="turn-1").headers()
{'x-vercel-ai-ui-message-stream': 'v1'}
>>> stream_protocol(None).name
'events'
"""

from __future__ import annotations

from typing import Any

from .aisdk import UIMessageStreamProtocol
from .sse_frames import StreamProtocol

__all__ = ["PROTOCOLS", "StreamProtocol", "stream_protocol"]

PROTOCOLS = ("events", "ai-sdk")
"""The protocol names endpoints accept (``?protocol=...``, view and blueprint options)."""


def stream_protocol(
    protocol: str | StreamProtocol | None = None,
    *,
    message_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> StreamProtocol:
    """A new protocol instance for one response: ``None``/``"events"`` (ours) or ``"ai-sdk"``; an instance is
    returned as it is. ``message_id`` and ``metadata`` go to the AI SDK's ``start`` chunk (ours ignores them).
    ``ValueError`` for another name.

    >>> stream_protocol("ai-sdk", message_id="turn-1").headers()
    {'x-vercel-ai-ui-message-stream': 'v1'}
    """
    if isinstance(protocol, StreamProtocol):
        return protocol
    if protocol is None or protocol == "events":
        return StreamProtocol()
    if protocol == "ai-sdk":
        return UIMessageStreamProtocol(message_id=message_id, metadata=metadata)
    raise ValueError(f"unknown stream protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
