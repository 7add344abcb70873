"""What FakeClaude says: believable default answers and tool calls, token estimates, and a reply turned into the
Messages API's SSE event sequence with its faults applied (pure functions, no state, no I/O).

A stream is an iterator of *actions*: ``bytes`` to send, :class:`Sleep` to wait, or :data:`DROP` to abort the
connection; the socket server and the httpx transports carry them out.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeAlias

from ._replies import MessageReply, default_error_message, random_id

_COMPACT = (",", ":")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


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


# -- request inspection ----------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """All text in a message ``content`` (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                value = block.get("text")
                if isinstance(value, str):
                    parts.append(value)
                inner = block.get("content")
                if inner is not None and block.get("type") == "tool_result":
                    parts.append(_text_of(inner))
                if block.get("type") == "tool_use" and "input" in block:
                    parts.append(_dumps(block["input"]))
    return " ".join(parts)


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Deterministic input token estimate: characters of all system/message text // 4 (at least 1), plus 3."""
    chars = len(_text_of(body.get("system")))
    messages = body.get("messages")
    if isinstance(messages, list):
        for msg in messages:
            if isinstance(msg, dict):
                chars += len(_text_of(msg.get("content")))
    return max(1, chars // 4) + 3


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for msg in reversed(messages):
            if isinstance(msg, dict) and msg.get("role") == "user":
                found = _text_of(msg.get("content")).strip()
                if found:
                    return found
    return ""


_SENTENCES = [
    "The short answer is that it depends on the details, but the main idea is simple.",
    "A good first step is to write down what you already know and what you want to find out.",
    "Most people find that a small, concrete example makes the rest much easier to follow.",
    "There are usually two or three reasonable approaches, each with its own trade-offs.",
    "It helps to start with the simplest version and refine it once it works.",
    "If you share a little more context, I can give a more specific answer.",
]


def default_answer(body: dict[str, Any]) -> str:
    """A believable, deterministic answer (2-4 sentences) that quotes the start of the last user message."""
    return _answer_for(_last_user_text(body))


@functools.lru_cache(maxsize=256)
def _answer_for(asked: str) -> str:
    asked = " ".join(asked.split())
    if not asked:
        return "Hello! " + _SENTENCES[5]
    snippet = asked[:40] + ("..." if len(asked) > 40 else "")
    seed = zlib.crc32(asked.encode("utf-8"))
    picked = [_SENTENCES[(seed // 7 + i) % 5] for i in range(1 + seed % 3)]
    return " ".join([f'Here is a thought about "{snippet}":', *picked, _SENTENCES[5]])


_EXPRESSION = re.compile(r"[-+]?\(*\s*\d+(?:\.\d+)?(?:\s*[-+*/%]\s*\(*\s*\d+(?:\.\d+)?\s*\)*)+")
_PLACE = re.compile(r"\b(?:in|for|at)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)")


def _tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool_result`` blocks of the last message, if it is a user turn answering tool calls."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return []
    content = messages[-1].get("content")
    if messages[-1].get("role") != "user" or not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def _tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """A plausible tool call for the request: an arithmetic expression for a tool taking ``expression``, a
    capitalised place for a tool taking ``city``/``location``; ``None`` when no tool fits."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return None
    asked = _last_user_text(body)
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            continue
        schema = tool.get("input_schema")
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        if not isinstance(props, dict):
            continue
        expression = _EXPRESSION.search(asked)
        if "expression" in props and expression:
            return {"name": tool["name"], "input": {"expression": expression.group(0).strip()}}
        place = _PLACE.search(asked)
        for key in ("city", "location"):
            if key in props and place:
                return {"name": tool["name"], "input": {key: place.group(1)}}
    return None


def default_reply(body: dict[str, Any]) -> MessageReply:
    """The unscripted answer: a tool call when a tool fits the prompt, a summary of tool results when the
    request carries them, otherwise believable text quoting the prompt."""
    results = _tool_results(body)
    if results:
        said = "; ".join(_text_of(r.get("content")) or "(empty)" for r in results)
        answer = f"The tool returned {said}. " + _SENTENCES[5]
        return MessageReply(content=[{"type": "text", "text": answer}], chunks=[None])
    call = _tool_call(body)
    if call is not None:
        intro = {"type": "text", "text": "Let me use a tool for that."}
        use = {"type": "tool_use", "id": random_id("toolu_"), "name": call["name"], "input": call["input"]}
        return MessageReply(content=[intro, use], chunks=[None, None], stop_reason="tool_use")
    return MessageReply(content=[{"type": "text", "text": default_answer(body)}], chunks=[None])


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


def _output_tokens(content: list[dict[str, Any]]) -> int:
    chars = 0
    for block in content:
        kind = block.get("type")
        if kind == "text":
            chars += len(str(block.get("text", "")))
        elif kind == "tool_use":
            chars += len(json.dumps(block.get("input", {})))
        elif kind == "thinking":
            chars += len(str(block.get("thinking", "")))
        else:
            chars += len(_dumps(block))
    return max(1, chars // 4)


def _usage(input_tokens: int, output_tokens: int, override: dict[str, Any] | None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    if override:
        usage.update(override)
    return usage


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
_MALFORMED = b"event: content_block_delta\ndata: {not json\n\n"


def _block_events(index: int, block: dict[str, Any], chunks: int | None) -> Iterator[bytes]:
    """content_block_start, the deltas and content_block_stop of one block (the ping is added by the caller)."""
    kind = block.get("type")
    prefix = f'{{"type":"content_block_delta","index":{index},"delta":'
    if kind == "text":
        start = {k: v for k, v in block.items() if k != "text"}
        start["text"] = ""
        yield _sse(
            "content_block_start", _dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        value = str(block.get("text", ""))
        pieces = split_wordish(value) if chunks is None else split_even(value, chunks)
        for piece in pieces:
            yield _sse("content_block_delta", prefix + '{"type":"text_delta","text":' + _dumps(piece) + "}}")
    elif kind == "tool_use":
        start = {k: v for k, v in block.items() if k != "input"}
        start["input"] = {}
        yield _sse(
            "content_block_start", _dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        raw = json.dumps(block.get("input", {}))
        count = chunks if chunks is not None else max(1, len(raw) // 8)
        for piece in split_even(raw, count):
            yield _sse(
                "content_block_delta", prefix + '{"type":"input_json_delta","partial_json":' + _dumps(piece) + "}}"
            )
    elif kind == "thinking":
        start = {k: v for k, v in block.items() if k not in ("thinking", "signature")}
        start["thinking"] = ""
        start["signature"] = ""
        yield _sse(
            "content_block_start", _dumps({"type": "content_block_start", "index": index, "content_block": start})
        )
        value = str(block.get("thinking", ""))
        pieces = split_wordish(value) if chunks is None else split_even(value, chunks)
        for piece in pieces:
            yield _sse("content_block_delta", prefix + '{"type":"thinking_delta","thinking":' + _dumps(piece) + "}}")
        signature = block.get("signature")
        if signature:
            yield _sse(
                "content_block_delta", prefix + '{"type":"signature_delta","signature":' + _dumps(signature) + "}}"
            )
    else:
        yield _sse(
            "content_block_start", _dumps({"type": "content_block_start", "index": index, "content_block": block})
        )
    yield _sse("content_block_stop", f'{{"type":"content_block_stop","index":{index}}}')


def _stream_events(message: dict[str, Any], chunks: list[int | None], pings: int = 1) -> Iterator[bytes]:
    content: list[dict[str, Any]] = message["content"]
    start_message = dict(message)
    start_message["content"] = []
    start_message["stop_reason"] = None
    start_message["stop_sequence"] = None
    start_usage = dict(message["usage"])
    start_usage["output_tokens"] = 1
    start_message["usage"] = start_usage
    yield _sse("message_start", _dumps({"type": "message_start", "message": start_message}))
    for index, block in enumerate(content):
        first = True
        for event in _block_events(index, block, chunks[index] if index < len(chunks) else None):
            yield event
            if first and index == 0:
                for _ in range(pings):
                    yield _PING
            first = False
    yield _sse(
        "message_delta",
        _dumps(
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            }
        ),
    )
    yield _sse("message_stop", '{"type":"message_stop"}')


def _with_faults(events: Iterator[bytes], reply: MessageReply) -> Iterator[Action]:
    """Apply ``event_delay`` and the error/drop/malformed faults (counted over all events, ping included)."""
    pause = Sleep(reply.event_delay) if reply.event_delay > 0 else None
    error_event = _sse(
        "error",
        _dumps(
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
