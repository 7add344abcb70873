"""FakeClaude's token arithmetic: a deterministic estimate of input and output tokens, and the ``usage`` object
built from them (pure functions)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._wire import dumps

__all__ = [
    "CappedOutput",
    "PromptUnit",
    "build_usage",
    "cap_output",
    "estimate_input_tokens",
    "output_tokens",
    "prompt_units",
    "text_of",
    "tokens_of",
]


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


@dataclass(frozen=True)
class PromptUnit:
    """One block of a request's prompt, in the order the API reads (and caches) it: tools, system, messages.

    ``key`` identifies the block's content for the cache (its ``cache_control`` left out, so moving a breakpoint
    does not change what a prefix is); ``chars`` is what the token estimate counts; ``where`` names it in errors.
    """

    where: str
    key: Any
    chars: int
    cache_control: Any = None


def _plain(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def _unit(where: str, label: list[Any], block: Any) -> PromptUnit:
    if isinstance(block, dict):
        return PromptUnit(where, [*label, _plain(block)], len(text_of([block])), block.get("cache_control"))
    return PromptUnit(where, [*label, block], len(block) if isinstance(block, str) else 0)


def prompt_units(body: dict[str, Any]) -> list[PromptUnit]:
    """The prompt of a Messages request as blocks in cache order (a string system prompt or message content is one
    block). A tool counts the characters of its JSON definition; a content block those of its text.

    >>> [u.where for u in prompt_units({"system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]})]
    ['system', 'messages.0.content']
    """
    units: list[PromptUnit] = []
    tools = body.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            if isinstance(tool, dict):
                plain = _plain(tool)
                units.append(PromptUnit(f"tools.{i}", ["tool", plain], len(dumps(plain)), tool.get("cache_control")))
    system = body.get("system")
    if isinstance(system, str) and system:
        units.append(_unit("system", ["system"], system))
    elif isinstance(system, list):
        units.extend(_unit(f"system.{i}", ["system"], block) for i, block in enumerate(system))
    messages = body.get("messages")
    if isinstance(messages, list):
        for m, msg in enumerate(messages):
            if not isinstance(msg, dict):
                continue
            label = ["message", m, msg.get("role")]
            content = msg.get("content")
            if isinstance(content, list):
                units.extend(_unit(f"messages.{m}.content.{i}", label, block) for i, block in enumerate(content))
            elif content is not None:
                units.append(_unit(f"messages.{m}.content", label, content))
    return units


def tokens_of(chars: int) -> int:
    """The estimate's tokens for a prefix of ``chars`` characters (the prompt's overhead aside)."""
    return chars // 4


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Deterministic input token estimate: characters of the tool definitions and of all system/message text // 4
    (at least 1), plus 3.

    >>> estimate_input_tokens({"system": "s" * 40, "messages": [{"role": "user", "content": "x" * 80}]})
    33
    """
    return max(1, tokens_of(sum(unit.chars for unit in prompt_units(body)))) + 3


def _written_chars(block: dict[str, Any]) -> int:
    """Characters of a block the model writes itself: text, thinking, a (server) tool call's input. Blocks put in
    by the API (server tool results, unknown kinds) are not output and count 0."""
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", "")))
    if kind == "thinking":
        return len(str(block.get("thinking", "")))
    if kind == "redacted_thinking":
        return len(str(block.get("data", "")))
    if kind in ("tool_use", "server_tool_use"):
        return len(json.dumps(block.get("input", {})))
    return 0


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Deterministic output token estimate of answer blocks: the characters the model wrote // 4 (at least 1).

    >>> output_tokens([{"type": "text", "text": "Hello there!"}])
    3
    """
    return max(1, sum(_written_chars(block) for block in content) // 4)


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


@dataclass(frozen=True)
class CappedOutput:
    """An answer after :func:`cap_output`: its blocks, its output tokens, whether it was cut, and for a tool call cut
    mid-input the raw JSON text the model had written (``{block index: text}``), which a stream sends as is."""

    content: list[dict[str, Any]]
    tokens: int
    cut: bool
    partial_json: dict[int, str] = field(default_factory=dict)


def _complete_members(value: Any, written: int) -> dict[str, Any]:
    """The members of a tool input whose JSON text lies wholly within its first ``written`` characters: what the
    API can parse from a tool call that was cut off."""
    if not isinstance(value, dict):
        return {}
    items = list(value.items())
    for count in range(len(items), 0, -1):
        candidate = dict(items[:count])
        if len(json.dumps(candidate)) - 1 <= written:  # all but the closing brace was written
            return candidate
    return {}


def cap_output(content: list[dict[str, Any]], max_tokens: int) -> CappedOutput:
    """Cut an answer so it is exactly ``max_tokens`` long by :func:`output_tokens`, as the API stops generating there.

    Blocks count in order (thinking first, as the model writes it). A text or thinking block is cut mid-text; the
    blocks after the cut are dropped. A tool call cut mid-input keeps, as its ``input``, only the members it wrote
    completely (an incomplete call, to be retried with a larger ``max_tokens``), and streams the JSON text exactly as
    far as it got. Blocks the model does not write (server tool results, unknown kinds) count nothing and are
    passed on whole up to the cut. An answer within the limit is returned unchanged.

    >>> capped = cap_output([{"type": "text", "text": "One two three four five six"}], 2)
    >>> capped.content, capped.tokens, capped.cut
    ([{'type': 'text', 'text': 'One two '}], 2, True)
    """
    tokens = output_tokens(content)
    if tokens <= max_tokens:
        return CappedOutput(content, tokens, False)
    budget = max_tokens * 4  # characters, by the estimate output_tokens uses
    kept: list[dict[str, Any]] = []
    partial: dict[int, str] = {}
    for block in content:
        if budget <= 0:
            break
        size = _written_chars(block)
        if size == 0:  # put in by the API, not written by the model: passed on as it is
            kept.append(block)
            continue
        kind = block.get("type")
        if size > budget:
            if kind in ("text", "thinking"):
                block = {**block, kind: str(block.get(kind, ""))[:budget]}
            elif kind in ("tool_use", "server_tool_use"):
                partial[len(kept)] = json.dumps(block.get("input", {}))[:budget]
                block = {**block, "input": _complete_members(block.get("input"), budget)}
            else:  # redacted thinking is opaque: it cannot be cut
                break
        budget -= size
        kept.append(block)
    return CappedOutput(kept, max_tokens, True, partial)
