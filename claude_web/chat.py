"""Validation of a browser's chat request body, shared by the Django and Flask views.

A body looks like ``{"messages": [{"role": "user", "content": "Hi"}], "model": "...", "max_tokens": 512,
"system": "..."}``; anything wrong raises :class:`ChatRequestError` naming the field, so a view can answer
400 with ``{"error": {"type": "invalid_request", "field": ..., "message": ...}}`` before any upstream call.

>>> policy = ChatPolicy(models=("claude-haiku-4-5",), default_model="claude-haiku-4-5", max_tokens_cap=1024)
>>> params = policy.validate(b'{"messages": [{"role": "user", "content": "Hi"}]}')
>>> params["model"], params["max_tokens"]
('claude-haiku-4-5', 1024)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChatPolicy", "ChatRequestError"]

_ROLES = ("user", "assistant")
_BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking")


class ChatRequestError(ValueError):
    """A chat body the views refuse; ``field`` names the offending part (e.g. ``messages[2].role``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"type": "invalid_request", "field": self.field, "message": self.message}}


@dataclass(frozen=True)
class ChatPolicy:
    """What a chat view accepts: the model allow-list, the ``max_tokens`` cap, size limits."""

    models: Sequence[str]
    default_model: str
    max_tokens_cap: int = 1024
    max_messages: int = 200
    max_chars: int = 200_000
    allow_system: bool = True
    allow_tools: bool = False
    extra_fields: frozenset[str] = field(default_factory=frozenset)

    def validate(self, raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
        """Parse and check a body; return ``messages.create``/``stream`` keyword arguments."""
        data = _load(raw)
        allowed = {"messages", "model", "max_tokens", "system", "temperature", "metadata"} | set(self.extra_fields)
        if self.allow_tools:
            allowed |= {"tools", "tool_choice"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ChatRequestError(unknown[0], "unknown field")
        params: dict[str, Any] = {"messages": self._messages(data.get("messages"))}
        model = data.get("model", self.default_model)
        if not isinstance(model, str) or not model:
            raise ChatRequestError("model", "must be a non-empty string")
        if model not in self.models:
            raise ChatRequestError("model", f"{model!r} is not allowed here; choose one of: {', '.join(self.models)}")
        params["model"] = model
        max_tokens = data.get("max_tokens", self.max_tokens_cap)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ChatRequestError("max_tokens", "must be a positive integer")
        if max_tokens > self.max_tokens_cap:
            raise ChatRequestError("max_tokens", f"must be at most {self.max_tokens_cap}")
        params["max_tokens"] = max_tokens
        if "system" in data:
            if not self.allow_system:
                raise ChatRequestError("system", "system prompts are not accepted here")
            if not isinstance(data["system"], str):
                raise ChatRequestError("system", "must be a string")
            params["system"] = data["system"]
        if "temperature" in data:
            temperature = data["temperature"]
            if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
                raise ChatRequestError("temperature", "must be a number between 0 and 1")
            params["temperature"] = temperature
        for name in ("tools", "tool_choice", "metadata", *sorted(self.extra_fields)):
            if name in data:
                params[name] = data[name]
        return params

    def _messages(self, messages: Any) -> list[dict[str, Any]]:
        if messages is None:
            raise ChatRequestError("messages", "is required")
        if not isinstance(messages, list):
            raise ChatRequestError("messages", "must be a list")
        if not messages:
            raise ChatRequestError("messages", "must not be empty")
        if len(messages) > self.max_messages:
            raise ChatRequestError("messages", f"at most {self.max_messages} messages")
        total = 0
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise ChatRequestError(where, "must be an object with role and content")
            if message.get("role") not in _ROLES:
                raise ChatRequestError(f"{where}.role", "must be 'user' or 'assistant'")
            total += _content_size(message.get("content"), f"{where}.content")
        if messages[0].get("role") != "user":
            raise ChatRequestError("messages[0].role", "the first message must come from the user")
        if total > self.max_chars:
            raise ChatRequestError("messages", f"too long ({total} characters; at most {self.max_chars})")
        return [{"role": m["role"], "content": m["content"]} for m in messages]


def _load(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChatRequestError("body", f"is not valid JSON ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise ChatRequestError("body", "must be a JSON object")
    return data


def _content_size(content: Any, where: str) -> int:
    if isinstance(content, str):
        if not content.strip():
            raise ChatRequestError(where, "must not be empty")
        return len(content)
    if isinstance(content, list) and content:
        size = 0
        for j, block in enumerate(content):
            if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
                raise ChatRequestError(f"{where}[{j}]", "must be a content block with a known type")
            text = block.get("text")
            size += len(text) if isinstance(text, str) else 0
        return size
    raise ChatRequestError(where, "must be a non-empty string or a list of content blocks")
