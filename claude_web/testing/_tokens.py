"""FakeClaude's token arithmetic: a deterministic estimate of input and output tokens, and the ``usage`` object
built from them (pure functions)."""

from __future__ import annotations

import json
from typing import Any

from ._wire import dumps

__all__ = ["build_usage", "estimate_input_tokens", "output_tokens", "text_of"]


def text_of(content: Any) -> str:
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
                    parts.append(text_of(inner))
                if block.get("type") == "tool_use" and "input" in block:
                    parts.append(dumps(block["input"]))
    return " ".join(parts)


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Deterministic input token estimate: characters of all system/message text // 4 (at least 1), plus 3."""
    chars = len(text_of(body.get("system")))
    messages = body.get("messages")
    if isinstance(messages, list):
        for msg in messages:
            if isinstance(msg, dict):
                chars += len(text_of(msg.get("content")))
    return max(1, chars // 4) + 3


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Deterministic output token estimate of answer blocks: their characters // 4 (at least 1).

    >>> output_tokens([{"type": "text", "text": "Hello there!"}])
    3
    """
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
            chars += len(dumps(block))
    return max(1, chars // 4)


def build_usage(input_tokens: int, output: int, override: dict[str, Any] | None) -> dict[str, Any]:
    """The message's ``usage`` object; ``override`` (a scripted reply's) replaces fields.

    >>> build_usage(12, 3, None)["output_tokens"]
    3
    """
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
        "service_tier": "standard",
    }
    if override:
        usage.update(override)
    return usage
