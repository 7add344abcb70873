"""Prompt and completion content for spans, recorded only when the user opts in (see :mod:`._state`).

Latest conventions: ``gen_ai.system_instructions``, ``gen_ai.input.messages`` and ``gen_ai.output.messages`` as
JSON strings in the shapes of the conventions' JSON schemas (messages of ``role`` + ``parts``; parts ``text``,
``tool_call``, ``tool_call_response``, ``reasoning``, or just a ``type`` for images, documents and other blocks,
whose bytes are never copied). v1.36.0 conventions: the ``gen_ai.system.message``, ``gen_ai.user.message``,
``gen_ai.assistant.message``, ``gen_ai.tool.message`` and ``gen_ai.choice`` events, recorded as span events whose
attributes carry the event body's fields (``content``, ``tool_calls``, ``id``, ``index``, ``finish_reason``,
``message``; structured values as JSON strings). No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["OutputCollector", "finish_reason", "input_attributes", "input_events", "output_parts"]

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str | None:
    """The conventions' finish reason for Anthropic's ``stop_reason`` (unknown values pass through)."""
    if stop_reason is None:
        return None
    return _FINISH_REASONS.get(stop_reason, stop_reason)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if dump is not None else str(value)


def _part(block: Any) -> dict[str, Any]:
    """One content block as a message part (bytes of images and documents are left out)."""
    if isinstance(block, str):
        return {"type": "text", "content": block}
    kind = _get(block, "type")
    if kind == "text":
        return {"type": "text", "content": _get(block, "text", "")}
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        return {
            "type": "tool_call",
            "id": _get(block, "id"),
            "name": _get(block, "name"),
            "arguments": _get(block, "input"),
        }
    if kind == "tool_result":
        content = _get(block, "content")
        if isinstance(content, list):
            content = [_part(item) for item in content]
        return {"type": "tool_call_response", "id": _get(block, "tool_use_id"), "response": content}
    if kind == "thinking":
        return {"type": "reasoning", "content": _get(block, "thinking", "")}
    return {"type": str(kind or "unknown")}


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    return [_part(block) for block in content]


def _role(message: Any) -> str:
    role = str(_get(message, "role", "user"))
    content = _get(message, "content")
    if role == "user" and isinstance(content, list) and content:
        if all(_get(block, "type") == "tool_result" for block in content):
            return "tool"
    return role


def input_attributes(body: Mapping[str, Any]) -> dict[str, str]:
    """The latest conventions' content attributes of a Messages request body."""
    out: dict[str, str] = {}
    system = body.get("system")
    if system:
        out["gen_ai.system_instructions"] = _dumps(_parts(system))
    messages = body.get("messages")
    if isinstance(messages, Iterable):
        out["gen_ai.input.messages"] = _dumps(
            [{"role": _role(m), "parts": _parts(_get(m, "content"))} for m in messages]
        )
    return out


def _text_of(content: Any) -> Any:
    if isinstance(content, str):
        return content
    texts = [_get(block, "text") for block in content or () if _get(block, "type") == "text"]
    return "".join(t for t in texts if isinstance(t, str))


def input_events(body: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The v1.36.0 conventions' input events of a Messages request body: ``(name, attributes)`` pairs."""
    events: list[tuple[str, dict[str, Any]]] = []
    system = body.get("system")
    if system:
        events.append(("gen_ai.system.message", {"content": _text_of(system)}))
    for message in body.get("messages") or ():
        content = _get(message, "content")
        role = _get(message, "role", "user")
        blocks = [] if isinstance(content, str) else list(content or ())
        if role == "assistant":
            attrs: dict[str, Any] = {"content": _text_of(content)}
            calls = [_tool_call(block) for block in blocks if _get(block, "type") == "tool_use"]
            if calls:
                attrs["tool_calls"] = _dumps(calls)
            events.append(("gen_ai.assistant.message", attrs))
            continue
        results = [block for block in blocks if _get(block, "type") == "tool_result"]
        for block in results:
            response = _get(block, "content")
            text = response if isinstance(response, str) else _dumps([_part(item) for item in response or ()])
            events.append(("gen_ai.tool.message", {"content": text, "id": _get(block, "tool_use_id")}))
        if not results or len(results) < len(blocks):
            events.append(("gen_ai.user.message", {"content": _text_of(content)}))
    return events


def _tool_call(block: Any) -> dict[str, Any]:
    return {
        "id": _get(block, "id"),
        "type": "function",
        "function": {"name": _get(block, "name"), "arguments": _get(block, "input")},
    }


def output_parts(content: Any) -> list[dict[str, Any]]:
    """The parts of a finished message's ``content`` blocks."""
    return _parts(content)


def output_attributes(parts: list[dict[str, Any]], stop_reason: str | None, latest: bool) -> Any:
    """Latest: ``{"gen_ai.output.messages": json}``. v1.36.0: the ``gen_ai.choice`` event's attributes."""
    reason = finish_reason(stop_reason) or "error"
    if latest:
        output = {"role": "assistant", "parts": parts, "finish_reason": reason}
        return {"gen_ai.output.messages": _dumps([output])}
    text = "".join(p.get("content", "") for p in parts if p.get("type") == "text")
    calls = [
        {"id": p.get("id"), "type": "function", "function": {"name": p.get("name"), "arguments": p.get("arguments")}}
        for p in parts
        if p.get("type") == "tool_call"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return {"index": 0, "finish_reason": reason, "message": _dumps(message)}


class OutputCollector:
    """Builds the answer's parts from stream events (text, thinking, tool input JSON), for content capture."""

    __slots__ = ("_blocks",)

    def __init__(self) -> None:
        self._blocks: dict[int, dict[str, Any]] = {}

    def feed(self, name: str | None, event: Any) -> None:
        if name == "content_block_delta":
            block = self._blocks.get(event.index)
            if block is None:
                block = self._blocks[event.index] = {"type": "text", "text": ""}
            delta = event.delta
            kind = delta.type
            if kind == "text_delta":
                block["text"] = block.get("text", "") + delta.text
            elif kind == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.thinking
            elif kind == "input_json_delta":
                block["json"] = block.get("json", "") + delta.partial_json
        elif name == "content_block_start":
            start = event.content_block
            block = {"type": _get(start, "type"), "id": _get(start, "id"), "name": _get(start, "name")}
            for field in ("text", "thinking"):
                value = _get(start, field)
                if isinstance(value, str):
                    block[field] = value
            self._blocks[event.index] = block

    def parts(self) -> list[dict[str, Any]]:
        out = []
        for _, block in sorted(self._blocks.items()):
            if "json" in block:
                try:
                    block = {**block, "input": json.loads(block["json"] or "{}")}
                except ValueError:
                    block = {**block, "input": block["json"]}
            out.append(_part(block))
        return out
