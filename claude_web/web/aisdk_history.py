"""A stored conversation as ``useChat`` UI messages: what a page passes as ``useChat({ messages })`` after a reload.

Each question is a user message; each turn (everything one job wrote: assistant messages and the tool results
between them) is ONE assistant message whose id is the turn's id, the ``messageId`` its stream sends, so a resumed
stream replaces it instead of adding a second one. Its parts are what the client itself assembles from the stream:
a ``step-start`` per upstream call, ``reasoning`` and ``text`` parts, and ``tool-<name>`` parts with their input and
output (``output-available``) or error (``output-error``); reasoning parts keep the ids the stream gave them
(``reasoning-0``, ...). Messages the history leaves out of prompts (status
``error``: an answer that failed, or one replaced by ``regenerate-message``) are left out here too; a question stays
even when its answer never came.

>>> from claude_web.web.conversations.records import ChatMessage
>>> stored = [
...     ChatMessage(1, "c", "user", [{"type": "text", "text": "6 * 7?"}], job_id="t1"),
...     ChatMessage(2, "c", "assistant", [{"type": "tool_use", "id": "tu", "name": "calc", "input": {"e": "6*7"}}],
...                 job_id="t1"),
...     ChatMessage(3, "c", "user", [{"type": "tool_result", "tool_use_id": "tu", "content": "42"}], job_id="t1"),
...     ChatMessage(4, "c", "assistant", [{"type": "text", "text": "42."}], job_id="t1", stop_reason="end_turn"),
... ]
>>> [(m["id"], [p["type"] for p in m["parts"]]) for m in ui_messages(stored)]
[('message-1', ['text']), ('t1', ['step-start', 'tool-calc', 'step-start', 'text'])]
>>> ui_messages(stored)[1]["parts"][1]["output"]
'42'
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..pricing import format_cost
from .aisdk import _as_text
from .conversations.records import TOKEN_FIELDS, ChatMessage

__all__ = ["ui_messages", "user_message_id"]


def user_message_id(message_id: int) -> str:
    """The UI id of a stored question: ``message-<id>``."""
    return f"message-{message_id}"


def ui_messages(stored: Sequence[ChatMessage], *, running: str | None = None) -> list[dict[str, Any]]:
    """The UI messages of a conversation's stored messages, oldest first (see the module docs). ``running`` is the
    turn being written now, if any: its unfinished answer has no ``stop_reason`` yet, where that of an ended turn
    says ``cancelled`` (stopped, or broken off)."""
    out: list[dict[str, Any]] = []
    answer: dict[str, Any] | None = None
    totals: dict[str, Any] = {}
    tools: dict[str, dict[str, Any]] = {}
    for message in stored:
        if message.role == "user" and not message.is_tool_results:
            text = message.text
            if text:
                out.append(_user(message, text))
            answer = None
            continue
        if message.status == "error":
            continue
        if answer is None or answer["id"] != (message.job_id or f"answer-{message.id}"):
            answer = {"id": message.job_id or f"answer-{message.id}", "role": "assistant", "parts": []}
            totals = {"usage": dict.fromkeys(TOKEN_FIELDS, 0), "cost": Decimal(0)}
            tools = {}
            out.append(answer)
        if message.role == "assistant":
            _assistant_parts(answer["parts"], message, tools)
            _add_totals(totals, message)
            unfinished = None if message.job_id and message.job_id == running else "cancelled"
            answer["metadata"] = {
                "stop_reason": message.stop_reason if message.status == "complete" else unfinished,
                "usage": dict(totals["usage"]),
                "cost": None if totals["cost"] is None else format_cost(totals["cost"]),
            }
        else:
            _tool_results(message, tools)
    return out


def _user(message: ChatMessage, text: str) -> dict[str, Any]:
    return {
        "id": user_message_id(message.id),
        "role": "user",
        "parts": [{"type": "text", "text": text}],
    }


def _assistant_parts(parts: list[dict[str, Any]], message: ChatMessage, tools: dict[str, dict[str, Any]]) -> None:
    parts.append({"type": "step-start"})
    for block in message.content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            parts.append({"type": "text", "text": str(block["text"]), "state": "done"})
        elif kind == "thinking" and block.get("thinking"):
            number = sum(1 for part in parts if part["type"] == "reasoning")
            parts.append(
                {"type": "reasoning", "id": f"reasoning-{number}", "text": str(block["thinking"]), "state": "done"}
            )
        elif kind == "tool_use" and isinstance(block.get("id"), str):
            part = {
                "type": f"tool-{block.get('name')}",
                "toolCallId": block["id"],
                "state": "input-available",
                "input": block.get("input"),
            }
            tools[block["id"]] = part
            parts.append(part)


def _tool_results(message: ChatMessage, tools: dict[str, dict[str, Any]]) -> None:
    for block in message.content:
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        part = tools.get(str(block.get("tool_use_id")))
        if part is None:
            continue
        content = block.get("content")
        if block.get("is_error"):
            part["state"] = "output-error"
            part["errorText"] = _as_text(content)
        else:
            part["state"] = "output-available"
            part["output"] = content


def _add_totals(totals: dict[str, Any], message: ChatMessage) -> None:
    for name in TOKEN_FIELDS:
        totals["usage"][name] += int(getattr(message, name) or 0)
    if totals["cost"] is not None:
        totals["cost"] = None if message.cost is None and message.usage_ids else totals["cost"] + (message.cost or 0)
