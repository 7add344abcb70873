"""Helpers shared by the FakeClaude tests: request headers, a base body, and a hand-written SSE parser (so the
tests do not depend on the decoder they help to test)."""

from __future__ import annotations

import json
from typing import Any

HEADERS = {"x-api-key": "sk-test-key", "anthropic-version": "2023-06-01"}
MODEL = "claude-sonnet-4-5"


def body(content: Any = "Why is the sky blue during the day?", **extra: Any) -> dict[str, Any]:
    """A Messages request with one user turn."""
    return {"model": MODEL, "max_tokens": 1000, "messages": [{"role": "user", "content": content}], **extra}


def sse_events(raw: str) -> list[tuple[str, Any]]:
    """(event name, parsed JSON data) pairs of an SSE body."""
    events: list[tuple[str, Any]] = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((name, json.loads("\n".join(data))))
    return events


def streamed_message(raw: str) -> dict[str, Any]:
    """The message a stream adds up to, assembled by hand: blocks with their text, thinking or input JSON text
    (``partial_json``, kept as text), stop reason and final usage."""
    message: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    for name, data in sse_events(raw):
        if name == "message_start":
            message = data["message"]
        elif name == "content_block_start":
            block = dict(data["content_block"])
            if block["type"] == "tool_use":
                block["partial_json"] = ""
            blocks.append(block)
        elif name == "content_block_delta":
            delta, block = data["delta"], blocks[data["index"]]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "input_json_delta":
                block["partial_json"] += delta["partial_json"]
        elif name == "message_delta":
            message["stop_reason"] = data["delta"]["stop_reason"]
            message["usage"] = {**message["usage"], **data["usage"]}
    message["content"] = blocks
    return message
