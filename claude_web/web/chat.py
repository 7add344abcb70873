"""Validation of a browser's chat request body: the one set of chat rules for views, jobs and conversations.

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

from .errors import RequestError

__all__ = ["MAX_DEPTH", "ChatPolicy", "ChatRequestError", "check_json_value", "load_json_object"]

ChatRequestError = RequestError
"""The error of a refused chat body (the one request-error class of the web layer)."""

MAX_DEPTH = 32
"""How deeply a request's JSON may nest (objects and lists); deeper bodies are refused, never parsed into a crash."""

_ROLES = ("user", "assistant")
_BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking")
_ASSISTANT_ONLY = ("tool_use", "thinking", "redacted_thinking")
_METADATA_KEYS = ("user_id",)
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def load_json_object(raw: bytes | str | dict[str, Any], *, where: str = "body") -> dict[str, Any]:
    """Parse a JSON object body; refuses invalid JSON, other types, deep nesting and unpaired surrogates."""
    if isinstance(raw, dict):
        data = raw
    else:
        try:
            data = json.loads(raw)
        except RecursionError:
            raise RequestError(where, f"is nested too deeply (at most {MAX_DEPTH} levels)") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestError(where, f"is not valid JSON ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise RequestError(where, "must be a JSON object")
    check_json_value(data, "" if where == "body" else where)
    return data


def check_json_value(value: Any, where: str = "") -> None:
    """Walk a parsed JSON value without recursion: at most :data:`MAX_DEPTH` levels, strings that are valid
    Unicode (a lone UTF-16 surrogate such as ``"\\ud800"`` cannot be sent on). Errors name the path."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise RequestError(path or "body", f"is nested too deeply (at most {MAX_DEPTH} levels)")
            for key, child in item.items():
                _check_text(key, path or "body")
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                raise RequestError(path or "body", f"is nested too deeply (at most {MAX_DEPTH} levels)")
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, path or "body")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(where, "contains an invalid character (an unpaired UTF-16 surrogate)") from None


@dataclass(frozen=True)
class ChatPolicy:
    """What a chat endpoint accepts: the model allow-list, the ``max_tokens`` cap, size limits per block kind.

    By default the browser may send neither a system prompt (``allow_system``) nor earlier assistant turns
    (``allow_assistant_turns``): it could otherwise replace the site's instructions or forge what Claude said.
    Keep history on the server instead (:mod:`claude_web.web.conversations`).
    """

    models: Sequence[str]
    default_model: str
    max_tokens_cap: int = 1024
    max_messages: int = 200
    max_chars: int = 200_000
    allow_system: bool = False
    allow_assistant_turns: bool = False
    allow_tools: bool = False
    max_image_bytes: int = 5 * 1024 * 1024
    max_document_bytes: int = 10 * 1024 * 1024
    extra_fields: frozenset[str] = field(default_factory=frozenset)

    def validate(self, raw: bytes | str | dict[str, Any], *, where: str = "") -> dict[str, Any]:
        """Parse and check a body; return ``messages.create``/``stream`` keyword arguments.

        ``where`` prefixes field names (``params.`` for a job's parameters).
        """
        try:
            return self._validate(raw)
        except RequestError as exc:
            if not where:
                raise
            raise RequestError(f"{where}{exc.field}", exc.message) from None

    def _validate(self, raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
        data = load_json_object(raw)
        allowed = {"messages", "model", "max_tokens", "system", "temperature", "metadata"} | set(self.extra_fields)
        if self.allow_tools:
            allowed |= {"tools", "tool_choice"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise RequestError(unknown[0], "unknown field")
        params: dict[str, Any] = {"messages": self._messages(data.get("messages"))}
        model = data.get("model", self.default_model)
        if not isinstance(model, str) or not model:
            raise RequestError("model", "must be a non-empty string")
        if model not in self.models:
            raise RequestError("model", f"{model!r} is not allowed here; choose one of: {', '.join(self.models)}")
        params["model"] = model
        max_tokens = data.get("max_tokens", self.max_tokens_cap)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise RequestError("max_tokens", "must be a positive integer")
        if max_tokens > self.max_tokens_cap:
            raise RequestError("max_tokens", f"must be at most {self.max_tokens_cap}")
        params["max_tokens"] = max_tokens
        if "system" in data:
            if not self.allow_system:
                raise RequestError("system", "system prompts are not accepted here (the server sets the instructions)")
            if not isinstance(data["system"], str):
                raise RequestError("system", "must be a string")
            params["system"] = data["system"]
        if "temperature" in data:
            temperature = data["temperature"]
            if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
                raise RequestError("temperature", "must be a number between 0 and 1")
            params["temperature"] = temperature
        if "metadata" in data:
            params["metadata"] = _metadata(data["metadata"])
        for name in ("tools", "tool_choice", *sorted(self.extra_fields)):
            if name in data:
                params[name] = data[name]
        return params

    def _messages(self, messages: Any) -> list[dict[str, Any]]:
        if messages is None:
            raise RequestError("messages", "is required")
        if not isinstance(messages, list):
            raise RequestError("messages", "must be a list")
        if not messages:
            raise RequestError("messages", "must not be empty")
        if len(messages) > self.max_messages:
            raise RequestError("messages", f"at most {self.max_messages} messages")
        total = 0
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise RequestError(where, "must be an object with role and content")
            role = message.get("role")
            if role not in _ROLES:
                raise RequestError(f"{where}.role", "must be 'user' or 'assistant'")
            if role == "assistant" and not self.allow_assistant_turns:
                raise RequestError(
                    f"{where}.role",
                    "assistant turns are not accepted here: the server keeps the conversation, send only your "
                    "new message",
                )
            unknown = sorted(set(message) - {"role", "content"})
            if unknown:
                raise RequestError(f"{where}.{unknown[0]}", "unknown field")
            total += self._content(message.get("content"), f"{where}.content", role)
        if messages[0].get("role") != "user":
            raise RequestError("messages[0].role", "the first message must come from the user")
        if total > self.max_chars:
            raise RequestError("messages", f"too long ({total:,} characters; at most {self.max_chars:,})")
        return [{"role": m["role"], "content": m["content"]} for m in messages]

    def _content(self, content: Any, where: str, role: str) -> int:
        """Check one message's content; returns its size in characters (text of every kind of block)."""
        if isinstance(content, str):
            if not content.strip():
                raise RequestError(where, "must not be empty")
            return len(content)
        if not isinstance(content, list) or not content:
            raise RequestError(where, "must be a non-empty string or a list of content blocks")
        size = 0
        for j, block in enumerate(content):
            at = f"{where}[{j}]"
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in _BLOCK_TYPES:
                raise RequestError(at, "must be a content block with a known type")
            if kind in _ASSISTANT_ONLY and role != "assistant":
                raise RequestError(f"{at}.type", f"{kind!r} blocks only come from the assistant")
            if kind == "tool_result" and role != "user":
                raise RequestError(f"{at}.type", "'tool_result' blocks only come from the user")
            size += self._block(block, at)
        return size

    def _block(self, block: dict[str, Any], at: str) -> int:
        kind = block["type"]
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise RequestError(f"{at}.text", "is required (a string)" if text is None else "must be a string")
            if not text.strip():
                raise RequestError(f"{at}.text", "must not be empty")
            return len(text)
        if kind in ("image", "document"):
            return self._source(block, at, kind)
        if kind == "thinking":
            thinking = block.get("thinking")
            if not isinstance(thinking, str):
                raise RequestError(f"{at}.thinking", "must be a string")
            return len(thinking)
        # tool_use input, tool_result content, redacted thinking: their JSON counts as characters
        return len(json.dumps(block, ensure_ascii=False))

    def _source(self, block: dict[str, Any], at: str, kind: str) -> int:
        source = block.get("source")
        if not isinstance(source, dict):
            raise RequestError(f"{at}.source", "is required (an object)")
        stype = source.get("type")
        if stype == "base64":
            data = source.get("data")
            if not isinstance(data, str) or not data:
                raise RequestError(f"{at}.source.data", "must be a non-empty base64 string")
            media = source.get("media_type")
            if kind == "image" and media not in _IMAGE_TYPES:
                raise RequestError(f"{at}.source.media_type", f"must be one of {', '.join(_IMAGE_TYPES)}")
            if kind == "document" and media != "application/pdf":
                raise RequestError(f"{at}.source.media_type", "must be 'application/pdf'")
            size = len(data) * 3 // 4
            cap = self.max_image_bytes if kind == "image" else self.max_document_bytes
            if size > cap:
                raise RequestError(f"{at}.source.data", f"is too large ({size:,} bytes; at most {cap:,})")
            return 0
        if stype == "text" and kind == "document":
            text = source.get("data")
            if not isinstance(text, str) or not text.strip():
                raise RequestError(f"{at}.source.data", "must be a non-empty string")
            if len(text.encode("utf-8")) > self.max_document_bytes:
                raise RequestError(f"{at}.source.data", f"is too large (at most {self.max_document_bytes:,} bytes)")
            return len(text)
        if stype in ("url", "file"):
            key = "url" if stype == "url" else "file_id"
            if not isinstance(source.get(key), str) or not source[key]:
                raise RequestError(f"{at}.source.{key}", "must be a non-empty string")
            return 0
        raise RequestError(
            f"{at}.source.type", "must be 'base64', 'url' or 'file'" + (", or 'text'" * (kind == "document"))
        )


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestError("metadata", "must be an object")
    unknown = sorted(set(value) - set(_METADATA_KEYS))
    if unknown:
        raise RequestError(f"metadata.{unknown[0]}", "is not accepted (metadata takes only user_id)")
    user_id = value.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or len(user_id) > 256):
        raise RequestError("metadata.user_id", "must be a string of at most 256 characters")
    return dict(value)
