"""Scripted replies for FakeClaude: small dataclasses built by ``text()``, ``tool_use()``, ``thinking()``,
``message()``, ``error()``, ``reset()`` and ``delay()``.

Every reply serialises with ``to_json()`` and is rebuilt with :func:`reply_from_json`, so replies can be queued on
a FakeClaude running in another process through its control API.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "DelayReply",
    "ErrorReply",
    "MessageReply",
    "Reply",
    "ResetReply",
    "default_error_message",
    "default_error_type",
    "delay",
    "error",
    "message",
    "random_id",
    "reply_from_json",
    "reset",
    "text",
    "thinking",
    "tool_use",
]

_B64 = string.ascii_letters + string.digits + "+/"
_rng = random.Random()


_TO_ALNUM = bytes.maketrans(b"+/", b"Xq")


def random_id(prefix: str, length: int = 24) -> str:
    """``prefix`` followed by ``length`` random letters and digits (ids look like the real API's)."""
    raw = base64.b64encode(os.urandom((length * 3 + 3) // 4)).translate(_TO_ALNUM)
    return prefix + raw[:length].decode("ascii")


def _random_signature() -> str:
    return "".join(_rng.choices(_B64, k=92)) + "=="


_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "api_error",
    529: "overloaded_error",
}

_ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "timeout_error": "Request timed out",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


def default_error_type(status: int) -> str:
    """The API's error ``type`` for an HTTP status."""
    return _ERROR_TYPES.get(status, "api_error")


def default_error_message(error_type: str) -> str:
    """A message like the real API's for an error ``type``."""
    return _ERROR_MESSAGES.get(error_type, "Internal server error")


@dataclass
class MessageReply:
    """A successful Messages API answer (streamed when the request asks for ``"stream": true``).

    ``chunks`` holds, per content block, how many delta events to stream it in (``None``: word-ish pieces for
    text, about one delta per 8 characters of tool input JSON).
    """

    content: list[dict[str, Any]]
    chunks: list[int | None] = field(default_factory=list)
    stop_reason: str | None = "end_turn"
    usage: dict[str, Any] | None = None
    message_id: str = field(default_factory=lambda: random_id("msg_"))
    event_delay: float = 0.0
    error_after: int | None = None
    error_type: str = "overloaded_error"
    drop_after: int | None = None
    malformed_after: int | None = None
    pings: int = 1  # keep-alive pings after the first content_block_start (Claude sends them while quiet)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "message",
            "pings": self.pings,
            "content": self.content,
            "chunks": self.chunks,
            "stop_reason": self.stop_reason,
            "usage": self.usage,
            "message_id": self.message_id,
            "event_delay": self.event_delay,
            "error_after": self.error_after,
            "error_type": self.error_type,
            "drop_after": self.drop_after,
            "malformed_after": self.malformed_after,
        }


@dataclass
class ErrorReply:
    """An HTTP error response with the API's error body."""

    status: int
    type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "error",
            "status": self.status,
            "type": self.type,
            "message": self.message,
            "headers": self.headers,
        }


@dataclass
class ResetReply:
    """Close the connection abruptly without any response."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": "reset"}


@dataclass
class DelayReply:
    """Wait ``seconds``, then answer with ``then`` (or the normal answer when ``then`` is None)."""

    seconds: float
    then: Reply | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": "delay", "seconds": self.seconds, "then": None if self.then is None else self.then.to_json()}


Reply: TypeAlias = MessageReply | ErrorReply | ResetReply | DelayReply


def _check_faults(
    event_delay: float, error_after: int | None, drop_after: int | None, malformed_after: int | None
) -> None:
    if event_delay < 0:
        raise ValueError("event_delay must be >= 0")
    for name, value in (("error_after", error_after), ("drop_after", drop_after), ("malformed_after", malformed_after)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0")


def _check_chunks(chunks: int | None) -> None:
    if chunks is not None and chunks < 1:
        raise ValueError("chunks must be >= 1")


def text(
    content: str,
    *,
    chunks: int | None = None,
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
    event_delay: float = 0.0,
    error_after: int | None = None,
    error_type: str = "overloaded_error",
    drop_after: int | None = None,
    malformed_after: int | None = None,
    pings: int = 1,
) -> MessageReply:
    """A text answer; streamed as ``chunks`` text_delta events (default: pieces of 1-4 words), with ``pings``
    keep-alive pings (each after ``event_delay`` too) before the first delta, as Claude sends while it thinks."""
    _check_chunks(chunks)
    _check_faults(event_delay, error_after, drop_after, malformed_after)
    if pings < 0:
        raise ValueError("pings must be >= 0")
    return MessageReply(
        content=[{"type": "text", "text": content}],
        chunks=[chunks],
        stop_reason=stop_reason,
        usage=usage,
        event_delay=event_delay,
        error_after=error_after,
        error_type=error_type,
        drop_after=drop_after,
        malformed_after=malformed_after,
        pings=pings,
    )


def tool_use(
    name: str,
    input: dict[str, Any],
    *,
    text: str | None = None,
    chunks: int | None = None,
    id: str | None = None,
    stop_reason: str = "tool_use",
    usage: dict[str, Any] | None = None,
    event_delay: float = 0.0,
    error_after: int | None = None,
    error_type: str = "overloaded_error",
    drop_after: int | None = None,
    malformed_after: int | None = None,
) -> MessageReply:
    """A tool call (optionally after a text block); the input JSON streams as ``chunks`` input_json_delta events."""
    _check_chunks(chunks)
    _check_faults(event_delay, error_after, drop_after, malformed_after)
    content: list[dict[str, Any]] = []
    per_block: list[int | None] = []
    if text is not None:
        content.append({"type": "text", "text": text})
        per_block.append(None)
    content.append({"type": "tool_use", "id": id or random_id("toolu_"), "name": name, "input": input})
    per_block.append(chunks)
    return MessageReply(
        content=content,
        chunks=per_block,
        stop_reason=stop_reason,
        usage=usage,
        event_delay=event_delay,
        error_after=error_after,
        error_type=error_type,
        drop_after=drop_after,
        malformed_after=malformed_after,
    )


def thinking(
    thinking: str,
    text: str,
    *,
    signature: str | None = None,
    chunks: int | None = None,
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
    event_delay: float = 0.0,
    error_after: int | None = None,
    error_type: str = "overloaded_error",
    drop_after: int | None = None,
    malformed_after: int | None = None,
) -> MessageReply:
    """A thinking block (``chunks`` thinking_delta events, then one signature_delta) followed by a text block."""
    _check_chunks(chunks)
    _check_faults(event_delay, error_after, drop_after, malformed_after)
    return MessageReply(
        content=[
            {"type": "thinking", "thinking": thinking, "signature": signature or _random_signature()},
            {"type": "text", "text": text},
        ],
        chunks=[chunks, None],
        stop_reason=stop_reason,
        usage=usage,
        event_delay=event_delay,
        error_after=error_after,
        error_type=error_type,
        drop_after=drop_after,
        malformed_after=malformed_after,
    )


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str | None = "end_turn",
    usage: dict[str, Any] | None = None,
    chunks: int | None = None,
    event_delay: float = 0.0,
    error_after: int | None = None,
    error_type: str = "overloaded_error",
    drop_after: int | None = None,
    malformed_after: int | None = None,
) -> MessageReply:
    """Raw content blocks, sent as given (unknown block types too)."""
    _check_chunks(chunks)
    _check_faults(event_delay, error_after, drop_after, malformed_after)
    return MessageReply(
        content=[dict(block) for block in content],
        chunks=[chunks] * len(content),
        stop_reason=stop_reason,
        usage=usage,
        event_delay=event_delay,
        error_after=error_after,
        error_type=error_type,
        drop_after=drop_after,
        malformed_after=malformed_after,
    )


def error(
    status: int,
    *,
    type: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> ErrorReply:
    """An HTTP error response; ``type`` and ``message`` default from the status like the real API."""
    if not 100 <= status <= 999:
        raise ValueError(f"not an HTTP status: {status}")
    error_type = type or default_error_type(status)
    return ErrorReply(
        status=status,
        type=error_type,
        message=message or default_error_message(error_type),
        headers=dict(headers or {}),
    )


def reset() -> ResetReply:
    """The server closes the connection without sending a response."""
    return ResetReply()


def delay(seconds: float, then: Reply | None = None) -> DelayReply:
    """Sleep ``seconds`` before answering with ``then`` (default: the normal answer)."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return DelayReply(seconds=seconds, then=then)


def reply_from_json(data: dict[str, Any] | str) -> Reply:
    """Rebuild a reply from its ``to_json()`` form (a dict, or that dict as a JSON string)."""
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise ValueError("a reply must be a JSON object")
    kind = data.get("kind")
    if kind == "message":
        content = data.get("content")
        if not isinstance(content, list):
            raise ValueError("a message reply needs a 'content' list")
        chunks = data.get("chunks") or [None] * len(content)
        return MessageReply(
            content=content,
            chunks=list(chunks),
            stop_reason=data.get("stop_reason", "end_turn"),
            usage=data.get("usage"),
            message_id=data.get("message_id") or random_id("msg_"),
            event_delay=float(data.get("event_delay") or 0.0),
            error_after=data.get("error_after"),
            error_type=data.get("error_type") or "overloaded_error",
            drop_after=data.get("drop_after"),
            malformed_after=data.get("malformed_after"),
            pings=int(data.get("pings", 1)),
        )
    if kind == "error":
        return error(
            int(data["status"]), type=data.get("type"), message=data.get("message"), headers=data.get("headers")
        )
    if kind == "reset":
        return ResetReply()
    if kind == "delay":
        then = data.get("then")
        return DelayReply(seconds=float(data["seconds"]), then=None if then is None else reply_from_json(then))
    raise ValueError(f"unknown reply kind: {kind!r}")
