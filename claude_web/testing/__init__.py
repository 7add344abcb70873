"""FakeClaude: an offline fake of the Anthropic Messages API for tests and demos.

::

    from claude_web.testing import FakeClaude, text, error

    with FakeClaude() as fake:
        fake.queue(text("Hi!"), error(529, headers={"retry-after-ms": "10"}))
        client = Anthropic(api_key="test", base_url=fake.base_url)
        ...
        assert fake.last_request.json["model"] == "claude-sonnet-4-5"

It runs on a real loopback socket (threaded HTTP/1.1 with keep-alive) or in-process as an httpx transport
(``fake.transport()`` / ``fake.async_transport()``). Only the standard library and httpx are used here.
"""

from __future__ import annotations

from ._app import FakeApp
from ._fake import FakeClaude, RemoteFakeClaude
from ._http import FakeResponse, RecordedRequest
from ._replies import (
    DelayReply,
    ErrorReply,
    MessageReply,
    Reply,
    ResetReply,
    delay,
    error,
    message,
    reply_from_json,
    reset,
    text,
    thinking,
    tool_use,
)
from ._transports import AsyncFakeTransport, FakeTransport

__all__ = [
    "AsyncFakeTransport",
    "FakeBedrock",
    "FakeVertex",
    "DelayReply",
    "ErrorReply",
    "FakeApp",
    "FakeClaude",
    "FakeResponse",
    "FakeTransport",
    "MessageReply",
    "RecordedRequest",
    "RemoteFakeClaude",
    "Reply",
    "ResetReply",
    "delay",
    "error",
    "message",
    "reply_from_json",
    "reset",
    "text",
    "thinking",
    "tool_use",
]


def __getattr__(name: str) -> object:
    # the Bedrock/Vertex fakes load the eventstream code only when asked for
    if name in ("FakeBedrock", "FakeVertex"):
        from . import _cloud

        return getattr(_cloud, name)
    raise AttributeError(f"module 'claude_web.testing' has no attribute {name!r}")
