"""From stored messages to the ``messages`` of the next request: always a prompt the API accepts.

The rules, in order:

1. messages with status ``error`` are left out (a question whose answer never came, an answer that failed);
2. a ``partial`` assistant message (stopped, or broken off) keeps what the user saw: its text; its thinking
   (unsigned) and unfinished tool calls go;
3. a ``tool_use`` block stays only when the next message answers it with a ``tool_result``, and a
   ``tool_result`` only when the message before called it, so the pairs the API requires are never split;
4. empty text blocks and then empty messages go; two messages in a row from the same role are joined;
5. the prompt starts with a user message.

Content blocks are passed on exactly as stored, so the same history gives byte-identical requests turn after
turn (what prompt caching needs).

>>> from claude_web.web.conversations.records import ChatMessage
>>> stored = [ChatMessage(1, "c", "user", [{"type": "text", "text": "Hi"}]),
...           ChatMessage(2, "c", "assistant", [{"type": "text", "text": "Hel"}], status="partial"),
...           ChatMessage(3, "c", "user", [{"type": "text", "text": "Go on"}])]
>>> [m["role"] for m in api_messages(stored)]
['user', 'assistant', 'user']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .records import ChatMessage

__all__ = ["api_messages", "turns"]

_PARTIAL_KEEPS = ("text",)


def _ids(blocks: Iterable[dict[str, Any]], kind: str, key: str) -> set[str]:
    return {str(b.get(key)) for b in blocks if isinstance(b, dict) and b.get("type") == kind}


def api_messages(stored: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """The request ``messages`` for ``stored`` (see the module's rules)."""
    kept: list[tuple[str, list[dict[str, Any]]]] = []
    for message in stored:
        if message.status == "error" or message.role not in ("user", "assistant"):
            continue
        blocks = [b for b in message.content if isinstance(b, dict)]
        if message.status == "partial" and message.role == "assistant":
            blocks = [b for b in blocks if b.get("type") in _PARTIAL_KEEPS]
        kept.append((message.role, blocks))
    # tool_use <-> tool_result pairs: each must have its partner in the neighbouring message
    for index, (role, blocks) in enumerate(kept):
        if role == "assistant":
            after = kept[index + 1][1] if index + 1 < len(kept) and kept[index + 1][0] == "user" else []
            answered = _ids(after, "tool_result", "tool_use_id")
            kept[index] = (role, [b for b in blocks if b.get("type") != "tool_use" or str(b.get("id")) in answered])
    for index, (role, blocks) in enumerate(kept):
        if role == "user":
            before = kept[index - 1][1] if index > 0 and kept[index - 1][0] == "assistant" else []
            called = _ids(before, "tool_use", "id")
            kept[index] = (
                role,
                [b for b in blocks if b.get("type") != "tool_result" or str(b.get("tool_use_id")) in called],
            )
    out: list[dict[str, Any]] = []
    for role, blocks in kept:
        blocks = [b for b in blocks if not (b.get("type") == "text" and not str(b.get("text", "")).strip())]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": [*out[-1]["content"], *blocks]}
            continue
        out.append({"role": role, "content": list(blocks)})
    while out and out[0]["role"] != "user":
        out.pop(0)
    return out


def _asks(message: dict[str, Any]) -> bool:
    """A user message without tool results: where a turn starts (a message that answers tool calls belongs to
    the turn that made them, even when a question was joined to it)."""
    content = message.get("content")
    if message.get("role") != "user":
        return False
    if not isinstance(content, list):
        return True
    return not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def turns(messages: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``messages`` cut into turns: a question and everything up to the next question (tool calls and their
    results stay inside their turn, so dropping whole turns never splits a pair).

    >>> [len(t) for t in turns([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
    ...                         {"role": "user", "content": "c"}])]
    [2, 1]
    """
    out: list[list[dict[str, Any]]] = []
    for message in messages:
        if not out or _asks(message):
            out.append([message])
        else:
            out[-1].append(message)
    return out
