"""Where a conversation request puts its prompt-cache breakpoints, so each call reads the history from the cache.

The API caches the prompt prefix (tools, then system, then messages) up to a block marked with
``cache_control``; a later request reads the longest cached prefix that ends at one of its own breakpoints (or
a few blocks before one). A conversation only ever grows at the end, so four breakpoints (the most the API
takes) are placed:

1. the last tool definition (the tools rarely change);
2. the system prompt (with the tools: the same for every conversation with this assistant);
3. the end of the previous request's messages (its last block was written to the cache then: this one reads
   it, however many blocks the answer and tool results in between have);
4. the end of this request's messages (written now, read by the next call: the next tool round or the next
   turn).

Blocks are copied, never changed in place, so stored history stays free of ``cache_control``. Thinking blocks
cannot carry a breakpoint; the last other block of a message does.

>>> params = {"system": "Be brief.", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}
>>> placed = place_breakpoints(params)
>>> placed["system"][0]["cache_control"], placed["messages"][0]["content"][0]["cache_control"]
({'type': 'ephemeral'}, {'type': 'ephemeral'})
"""

from __future__ import annotations

from typing import Any

__all__ = ["place_breakpoints"]

_NO_BREAKPOINT = ("thinking", "redacted_thinking")


def _control(ttl: str) -> dict[str, str]:
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def _mark_message(message: dict[str, Any], control: dict[str, str]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return message
    blocks = list(content)
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index]
        if isinstance(block, dict) and block.get("type") not in _NO_BREAKPOINT:
            blocks[index] = {**block, "cache_control": dict(control)}
            return {**message, "content": blocks}
    return message


def place_breakpoints(params: dict[str, Any], *, ttl: str = "5m") -> dict[str, Any]:
    """A copy of request ``params`` with the conversation's cache breakpoints (see the module)."""
    control = _control(ttl)
    out = dict(params)
    tools = params.get("tools")
    if tools:
        listed = [t.to_dict() if hasattr(t, "to_dict") else dict(t) for t in tools]
        listed[-1] = {**listed[-1], "cache_control": dict(control)}
        out["tools"] = listed
    system = params.get("system")
    if isinstance(system, str) and system:
        out["system"] = [{"type": "text", "text": system, "cache_control": dict(control)}]
    elif isinstance(system, list) and system:
        blocks = list(system)
        blocks[-1] = {**blocks[-1], "cache_control": dict(control)}
        out["system"] = blocks
    messages = list(params.get("messages") or ())
    for index in {len(messages) - 1, len(messages) - 3}:
        if index >= 0:
            messages[index] = _mark_message(messages[index], control)
    out["messages"] = messages
    return out
