"""A message turned into the Messages API's SSE event sequence, with a scripted reply's faults applied (pure
functions, no state, no I/O).

A stream is an iterator of *actions*: ``bytes`` to send, :class:`Sleep` to wait, or :data:`DROP` to abort the
connection; the socket server and the httpx transports carry them out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from ._replies import MessageReply, default_error_message
from ._wire import dumps

__all__ = ["DROP", "Action", "Sleep", "split_even", "split_wordish", "stream_events", "with_faults"]


@dataclass(frozen=True)
class Sleep:
    """Stream action: wait this long before the next action."""

    seconds: float


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()
"""Stream action: abort the connection now (no end of stream)."""

Action: TypeAlias = bytes | Sleep | _Drop

_WORDISH = re.compile(r"\S+\s*|\s+")
_GROUPS = (2, 3, 1, 4, 3, 2)


def split_wordish(value: str) -> list[str]:
    """Split text into pieces of 1-4 words (deterministic); joining them gives ``value`` back."""
    tokens = _WORDISH.findall(value)
    pieces: list[str] = []
    i = g = 0
    while i < len(tokens):
        size = _GROUPS[g % len(_GROUPS)]
        pieces.append("".join(tokens[i : i + size]))
        i += size
        g += 1
    return pieces


def split_even(value: str, count: int) -> list[str]:
    """Split into ``count`` nearly equal pieces of at least one character (fewer if ``value`` is shorter)."""
    if not value:
        return []
    count = max(1, min(count, len(value)))
    size, extra = divmod(len(value), count)
    pieces: list[str] = []
    pos = 0
    for i in range(count):
        step = size + (1 if i < extra else 0)
        pieces.append(value[pos : pos + step])
        pos += step
    return pieces


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
_MALFORMED = b"event: content_block_delta\ndata: {not json\n\n"


def _block_events(index: int, block: dict[str, Any], chunks: int | None, raw_json: str | None) -> Iterator[bytes]:
    """content_block_start, the deltas and content_block_stop of one block (the ping is added by the caller);
    ``raw_json`` replaces a tool call's input JSON text (a call cut off mid-input)."""
    kind = block.get("type")
    prefix = f'{{"type":"content_block_delta","index":{index},"delta":'
    if kind == "text":
        start = {k: v for k, v in block.items() if k != "text"}
        start["text"] = ""
        yield _sse(
            "content_block_start", dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        value = str(block.get("text", ""))
        pieces = split_wordish(value) if chunks is None else split_even(value, chunks)
        for piece in pieces:
            yield _sse("content_block_delta", prefix + '{"type":"text_delta","text":' + dumps(piece) + "}}")
    elif kind == "tool_use":
        start = {k: v for k, v in block.items() if k != "input"}
        start["input"] = {}
        yield _sse(
            "content_block_start", dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        raw = json.dumps(block.get("input", {})) if raw_json is None else raw_json
        count = chunks if chunks is not None else max(1, len(raw) // 8)
        for piece in split_even(raw, count):
            yield _sse(
                "content_block_delta", prefix + '{"type":"input_json_delta","partial_json":' + dumps(piece) + "}}"
            )
    elif kind == "thinking":
        start = {k: v for k, v in block.items() if k not in ("thinking", "signature")}
        start["thinking"] = ""
        start["signature"] = ""
        yield _sse(
            "content_block_start", dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        value = str(block.get("thinking", ""))
        pieces = split_wordish(value) if chunks is None else split_even(value, chunks)
        for piece in pieces:
            yield _sse("content_block_delta", prefix + '{"type":"thinking_delta","thinking":' + dumps(piece) + "}}")
        signature = block.get("signature")
        if signature:
            yield _sse(
                "content_block_delta", prefix + '{"type":"signature_delta","signature":' + dumps(signature) + "}}"
            )
    else:
        yield _sse(
            "content_block_start", dumps({"type": "content_block_start", "index": index, "content_block": block})
        )
    yield _sse("content_block_stop", f'{{"type":"content_block_stop","index":{index}}}')


def stream_events(
    message: dict[str, Any],
    chunks: list[int | None],
    pings: int = 1,
    partial_json: dict[int, str] | None = None,
) -> Iterator[bytes]:
    """The SSE events of ``message``: ``chunks`` deltas per block (None: the default split), ``pings`` after the
    first content_block_start, and ``partial_json`` (block index: text) for tool input cut off by max_tokens."""
    content: list[dict[str, Any]] = message["content"]
    start_message = dict(message)
    start_message["content"] = []
    start_message["stop_reason"] = None
    start_message["stop_sequence"] = None
    start_usage = dict(message["usage"])
    start_usage["output_tokens"] = 1
    start_message["usage"] = start_usage
    yield _sse("message_start", dumps({"type": "message_start", "message": start_message}))
    for index, block in enumerate(content):
        first = True
        raw_json = partial_json.get(index) if partial_json else None
        for event in _block_events(index, block, chunks[index] if index < len(chunks) else None, raw_json):
            yield event
            if first and index == 0:
                for _ in range(pings):
                    yield _PING
            first = False
    yield _sse(
        "message_delta",
        dumps(
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            }
        ),
    )
    yield _sse("message_stop", '{"type":"message_stop"}')


def with_faults(events: Iterator[bytes], reply: MessageReply) -> Iterator[Action]:
    """Apply ``event_delay`` and the error/drop/malformed faults (counted over all events, ping included)."""
    pause = Sleep(reply.event_delay) if reply.event_delay > 0 else None
    error_event = _sse(
        "error",
        dumps(
            {"type": "error", "error": {"type": reply.error_type, "message": default_error_message(reply.error_type)}}
        ),
    )
    sent = 0

    def faults() -> Iterator[Action]:
        if reply.malformed_after == sent:
            if pause:
                yield pause
            yield _MALFORMED

    for event in events:
        if reply.error_after == sent:
            if pause:
                yield pause
            yield error_event
            return
        if reply.drop_after == sent:
            yield DROP
            return
        yield from faults()
        if pause:
            yield pause
        yield event
        sent += 1
    if reply.error_after == sent:
        if pause:
            yield pause
        yield error_event
    elif reply.drop_after == sent:
        yield DROP
    else:
        yield from faults()
