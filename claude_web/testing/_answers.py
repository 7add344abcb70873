"""What FakeClaude says when nothing is scripted: believable default answers, tool calls and structured output
(pure functions)."""

from __future__ import annotations

import functools
import re
import zlib
from typing import Any

from ._replies import MessageReply, random_id
from ._schema import example_value, requested_schema
from ._tokens import text_of
from ._wire import dumps

__all__ = ["default_answer", "default_reply"]


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for msg in reversed(messages):
            if isinstance(msg, dict) and msg.get("role") == "user":
                found = text_of(msg.get("content")).strip()
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
    """The unscripted answer: JSON that validates against the request's structured output schema when it has one;
    else a summary of tool results when the request carries them, a tool call when a tool fits the prompt, otherwise
    believable text quoting the prompt."""
    schema = requested_schema(body)
    if schema is not None:
        return MessageReply(content=[{"type": "text", "text": dumps(example_value(schema))}], chunks=[None])
    results = _tool_results(body)
    if results:
        said = "; ".join(text_of(r.get("content")) or "(empty)" for r in results)
        answer = f"The tool returned {said}. " + _SENTENCES[5]
        return MessageReply(content=[{"type": "text", "text": answer}], chunks=[None])
    call = _tool_call(body)
    if call is not None:
        intro = {"type": "text", "text": "Let me use a tool for that."}
        use = {"type": "tool_use", "id": random_id("toolu_"), "name": call["name"], "input": call["input"]}
        return MessageReply(content=[intro, use], chunks=[None, None], stop_reason="tool_use")
    return MessageReply(content=[{"type": "text", "text": default_answer(body)}], chunks=[None])
