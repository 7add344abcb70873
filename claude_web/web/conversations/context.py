"""Keeping a conversation inside the model's context window: count its tokens, drop the oldest turns.

Before every upstream call the prompt (tools, system prompt, messages) is counted; when it is over the budget,
``CONTEXT_SHARE`` x ``CONTEXT_WINDOW`` minus the answer's ``max_tokens``, the strategy decides what to send.

Counting: ``TOKEN_COUNTER = "estimate"`` (the default, no call) takes 3.5 characters a token, rounded up, plus a
little per message and a flat amount per image (1,600) or PDF page guess (3,000): it errs on the side of
dropping early. ``"count_tokens"`` asks the API (``messages.count_tokens``, one call per check; on failure the
estimate is used and the failure logged).

The built-in strategy, ``"drop_oldest"``, drops whole turns from the start (a turn: a question and every answer,
tool call and tool result up to the next question, so a ``tool_use`` never loses its ``tool_result``) until the
prompt fits, and always keeps the newest turn. The stored conversation is never changed; only the request is
shorter. Your own strategy is a function with the same signature, named by its dotted path in ``STRATEGY``::

    def keep_last_ten(params: dict, budget: int, count: Callable[[dict], int]) -> list[dict]:
        return params["messages"][-10:]       # must return a valid ``messages`` list

>>> params = {"messages": [{"role": "user", "content": [{"type": "text", "text": "x" * 700}]},
...                        {"role": "assistant", "content": [{"type": "text", "text": "y" * 700}]},
...                        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}
>>> [m["role"] for m in drop_oldest(params, 100, estimate_tokens)]
['user']
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..clients import import_string
from ..settings import ConfigError
from .history import turns

__all__ = ["Counter", "Strategy", "api_counter", "drop_oldest", "estimate_tokens", "fit_messages", "strategy_for"]

log = logging.getLogger("claude_web.conversations")

Counter = Callable[[Mapping[str, Any]], int]
Strategy = Callable[[dict[str, Any], int, Counter], list[dict[str, Any]]]

CHARS_PER_TOKEN = 3.5
IMAGE_TOKENS = 1_600
DOCUMENT_TOKENS = 3_000
PER_MESSAGE = 4


def _block_chars(block: Any) -> tuple[int, int]:
    """(characters, flat tokens) of one content block."""
    if isinstance(block, str):
        return len(block), 0
    if not isinstance(block, Mapping):
        return 0, 0
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", ""))), 0
    if kind == "thinking":
        return len(str(block.get("thinking", ""))), 0
    if kind == "image":
        return 0, IMAGE_TOKENS
    if kind == "document":
        source = block.get("source")
        if isinstance(source, Mapping) and source.get("type") == "text":
            return len(str(source.get("data", ""))), 0
        return 0, DOCUMENT_TOKENS
    if kind == "tool_use":
        return len(json.dumps(block.get("input", {}), ensure_ascii=False)) + len(str(block.get("name", ""))), 0
    if kind == "tool_result":
        inner = block.get("content", "")
        if isinstance(inner, list):
            chars, flat = 0, 0
            for item in inner:
                c, f = _block_chars(item)
                chars, flat = chars + c, flat + f
            return chars, flat
        return len(str(inner)), 0
    return len(json.dumps(dict(block), ensure_ascii=False, default=str)), 0


def _message_chars(message: Mapping[str, Any]) -> tuple[int, int]:
    content = message.get("content")
    if isinstance(content, str):
        return len(content), PER_MESSAGE
    chars, flat = 0, PER_MESSAGE
    for block in content if isinstance(content, list) else ():
        c, f = _block_chars(block)
        chars, flat = chars + c, flat + f
    return chars, flat


def _tokens(chars: int, flat: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN) + flat


def estimate_tokens(params: Mapping[str, Any]) -> int:
    """An estimate of the prompt tokens of request ``params`` (see the module's rules)."""
    chars, flat = 0, 3
    tools = params.get("tools") or ()
    for item in tools:
        definition = item.to_dict() if hasattr(item, "to_dict") else item
        chars += len(json.dumps(definition, ensure_ascii=False, default=str))
    system = params.get("system")
    if isinstance(system, str):
        chars += len(system)
    elif isinstance(system, list):
        for block in system:
            chars += _block_chars(block)[0]
    for message in params.get("messages") or ():
        c, f = _message_chars(message)
        chars, flat = chars + c, flat + f
    return _tokens(chars, flat)


def api_counter(client: Any) -> Counter:
    """A counter that asks the API (``client.messages.count_tokens``); the estimate when that call fails."""

    def count(params: Mapping[str, Any]) -> int:
        request = {k: params[k] for k in ("model", "messages", "system", "tools", "tool_choice") if params.get(k)}
        if request.get("tools"):
            request["tools"] = [t.to_dict() if hasattr(t, "to_dict") else t for t in request["tools"]]
        try:
            return int(client.messages.count_tokens(**request).input_tokens)
        except Exception as exc:
            log.warning("count_tokens failed (%s); estimating the prompt's tokens instead", type(exc).__name__)
            return estimate_tokens(params)

    return count


def drop_oldest(params: dict[str, Any], budget: int, count: Counter) -> list[dict[str, Any]]:
    """The messages to send: whole turns dropped from the start until ``count`` says the prompt fits ``budget``
    (the newest turn always stays). With an exact counter, the first cut is chosen from estimates scaled to the
    counted total, then checked by counting again."""
    messages: list[dict[str, Any]] = list(params["messages"])
    total = count(params)
    if total <= budget:
        return messages
    groups = turns(messages)
    estimated = estimate_tokens(params)
    scale = total / estimated if estimated else 1.0
    sizes = [_tokens(*map(sum, zip(*(_message_chars(m) for m in group), strict=True))) * scale for group in groups]
    start, over = 0, float(total - budget)
    while start < len(groups) - 1 and over > 0:
        over -= sizes[start]
        start += 1
    while True:
        kept = [m for group in groups[start:] for m in group]
        if start >= len(groups) - 1 or count({**params, "messages": kept}) <= budget:
            return kept
        start += 1


def strategy_for(name: str) -> Strategy:
    """The strategy ``STRATEGY`` names (a built-in, or a dotted path)."""
    if name == "drop_oldest":
        return drop_oldest
    try:
        found: Strategy = import_string(name)
    except ImportError as exc:
        raise ConfigError(
            f"CONVERSATIONS['STRATEGY'] is {name!r}, which cannot be imported ({exc}). Write 'drop_oldest' or the "
            "dotted path of a function(params, budget, count) -> messages"
        ) from exc
    return found


def fit_messages(
    params: dict[str, Any], budget: int, count: Counter, strategy: Strategy = drop_oldest
) -> list[dict[str, Any]]:
    """The messages of ``params`` that fit ``budget`` prompt tokens, by ``strategy``; a strategy that returns
    something unusable is logged and the messages go out unchanged."""
    try:
        fitted = strategy(params, budget, count)
    except Exception:
        log.exception("the conversation's context strategy failed; sending the whole history")
        return list(params["messages"])
    if not fitted or not isinstance(fitted, list) or fitted[0].get("role") != "user":
        log.error("the context strategy returned no usable messages; sending the whole history")
        return list(params["messages"])
    return fitted
