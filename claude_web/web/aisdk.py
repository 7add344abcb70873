"""The Vercel AI SDK's UI message stream protocol (v1): our browser events in, its chunks out; no I/O.

A React/Next.js ``useChat`` frontend (npm package ``ai`` >= 5) reads the response to its ``POST`` as Server-Sent
Events whose ``data:`` is one JSON *chunk* each, ended by ``data: [DONE]``, and the response must carry
``x-vercel-ai-ui-message-stream: v1`` (:data:`UI_MESSAGE_STREAM_HEADERS`). :class:`UIMessageStreamTranslator` turns
the events of :mod:`claude_web.web.events` (and of a job stream) into those chunks; :func:`encode_chunk` and
:data:`DONE_FRAME` are the bytes. The request side (``useChat``'s body) is in :mod:`claude_web.web.aisdk_request`
and re-exported here.

>>> t = UIMessageStreamTranslator()
>>> t.feed("start", {"id": "msg_1", "model": "claude-haiku-4-5"})
[{'type': 'start', 'messageId': 'msg_1', 'messageMetadata': {'model': 'claude-haiku-4-5'}}, {'type': 'start-step'}]
>>> t.feed("text", {"text": "Hi"})
[{'type': 'text-start', 'id': 'text-0'}, {'type': 'text-delta', 'id': 'text-0', 'delta': 'Hi'}]
>>> [chunk["type"] for chunk in t.feed("done", {"stop_reason": "end_turn", "usage": {"output_tokens": 1}})]
['text-end', 'message-metadata']
>>> [chunk["type"] for chunk in t.finish()]
['finish-step', 'finish']
>>> encode_chunk({"type": "finish"}) + DONE_FRAME
b'data: {"type":"finish"}\\n\\ndata: [DONE]\\n\\n'

How each event maps (chunk shapes as the ``uiMessageChunkSchema`` of ``ai`` 5.0.277, 6.0.325 and 7.0.173 define them):

- the first event opens the message: ``start`` (``messageId``: the ``message_id`` given, else the first upstream
  message id; ``messageMetadata``: the ``metadata`` given plus ``model``);
- ``start`` (one per upstream call): ``start-step``; a later one first closes the step (``finish-step``);
- ``text`` / ``thinking``: ``text-delta`` / ``reasoning-delta``, opening a part (``text-start`` / ``reasoning-start``
  with ids ``text-N`` / ``reasoning-N``) when none is open; any other event closes an open part (``-end``);
- ``tool_input_start {id, name}`` / ``tool_input_delta {id, partial_json}`` (optional, for streamed tool input):
  ``tool-input-start`` / ``tool-input-delta``; ``tool_use {id, name, input}``: ``tool-input-available``;
- ``tool_result {tool_use_id, content, is_error}``: ``tool-output-available`` (``output``: the content as sent) or,
  with ``is_error``, ``tool-output-error`` (``errorText``: the content as text); a result for a tool call the
  stream never announced is dropped (the client would fail on it);
- ``done {stop_reason, usage, cost}`` ends one upstream call: ``message-metadata`` with the running totals (usage
  token counts and ``cost`` summed over the calls; ``cost`` is a decimal string, ``None`` when any call's price is
  unknown); the step stays open so the tool results that follow belong to it;
- ``error {type, message}``: ``error`` (``errorText``: the safe message), then ``finish-step`` and ``finish``
  (``finishReason: "error"``); nothing more is translated (:meth:`~UIMessageStreamTranslator.fail` does the same);
- ``cancelled {reason}``: ``finish-step``, ``abort`` (what the SDK itself sends when a run is aborted), then
  ``finish`` whose metadata says ``stop_reason: "cancelled"`` with the usage so far (a cancelled call is billed);
- ``reset {attempt}`` (a retried job attempt restarts the answer): a ``data-reset`` part ``{"attempt": N}``,
  which a frontend that retries jobs uses to show only the parts after the last one. With ``reset_step=True``
  (for frontends on ``ai`` >= 7) a ``reset-step`` chunk comes first, and the client itself drops the parts of the
  step in progress; it is off by default because ``ai`` 5 and 6 reject that chunk type and end the whole stream
  in error. No chunk can take back the earlier steps of a multi-step attempt, so the marker is sent either way;
- ``heartbeat`` and unknown events: nothing.

:meth:`~UIMessageStreamTranslator.finish` closes a normal stream: open parts, ``finish-step``, then ``finish`` with
``finishReason`` from the last ``stop_reason`` (``end_turn``/``stop_sequence`` -> ``stop``, ``max_tokens`` ->
``length``, ``tool_use`` -> ``tool-calls``, ``refusal`` -> ``content-filter``, else ``other``: values every ``ai``
version accepts) and ``messageMetadata`` ``{"stop_reason", "usage", "cost"}``; ``useChat`` merges it into
``message.metadata``. Send :data:`DONE_FRAME` after the last chunk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .aisdk_request import (
    TRIGGERS,
    ChatRequestError,
    UIChatRequest,
    UIFilePart,
    parse_chat_request,
    ui_messages_to_api,
)
from .sse_frames import Item, SSEStreamEncoder, StreamProtocol, encode_comment, encode_event

__all__ = [
    "DONE_FRAME",
    "TRIGGERS",
    "UI_MESSAGE_STREAM_HEADER",
    "UI_MESSAGE_STREAM_HEADERS",
    "UI_MESSAGE_STREAM_VERSION",
    "ChatRequestError",
    "Chunk",
    "UIChatRequest",
    "UIFilePart",
    "UIMessageStreamProtocol",
    "UIMessageStreamTranslator",
    "encode_chunk",
    "parse_chat_request",
    "ui_message_stream",
    "ui_messages_to_api",
]

log = logging.getLogger("claude_web.web.aisdk")

Chunk = dict[str, Any]
"""One UI message stream chunk: a JSON object with a ``type``."""

UI_MESSAGE_STREAM_HEADER = "x-vercel-ai-ui-message-stream"
"""The response header that marks a UI message stream."""
UI_MESSAGE_STREAM_VERSION = "v1"
UI_MESSAGE_STREAM_HEADERS: dict[str, str] = {UI_MESSAGE_STREAM_HEADER: UI_MESSAGE_STREAM_VERSION}
"""Send these with the usual SSE headers (``claude_web.web.sse.SSE_HEADERS``)."""

DONE_FRAME = b"data: [DONE]\n\n"
"""The frame that ends a UI message stream, after the ``finish`` chunk."""

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}
_CUT_OFF = "The tool call was cut off before its input was complete."


def encode_chunk(chunk: Mapping[str, Any], *, id: str | int | None = None) -> bytes:
    """One chunk as an SSE frame: ``data: {compact json}`` and a blank line (``id:`` first when given).

    The AI SDK reads only ``data:``; an ``id`` is for our own ``Last-Event-ID`` bookkeeping, and no ``event:``
    name is sent. JSON never holds a raw line break, so every chunk is one ``data:`` line.

    >>> encode_chunk({"type": "text-delta", "id": "text-0", "delta": "é"}, id=7)
    b'id: 7\\ndata: {"type":"text-delta","id":"text-0","delta":"\\xc3\\xa9"}\\n\\n'
    """
    return encode_event(dict(chunk), id=id)


class UIMessageStreamTranslator:
    """Our event sequence in, UI message stream chunks out: stateful (open parts, ids, steps, totals), no I/O.

    Feed every event of one answer in order with :meth:`feed`; end with :meth:`finish` (normal end),
    :meth:`fail` (an exception in the server) or :meth:`abort` (cancelled). Every chunk list it returns keeps the
    stream valid for the ``ai`` client whatever the events were: one ``start`` first, parts opened before their
    deltas and closed before the step ends, exactly one ``finish`` last. After the end, everything returns ``[]``.

    ``message_id`` becomes the UI message id (default: the first upstream message id); ``metadata`` goes into the
    ``start`` chunk's ``messageMetadata``; ``reset_step=True`` sends ``reset-step`` on a ``reset`` event, which
    only ``ai`` >= 7 accepts (see the module docs); ``dynamic_tools=True`` marks tool chunks ``dynamic``, so the
    client makes ``dynamic-tool`` parts instead of ``tool-<name>`` parts (for frontends without typed tools).

    >>> t = UIMessageStreamTranslator("m-1", metadata={"conversation": 7})
    >>> t.feed("tool_use", {"id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}})[-1]
    {'type': 'tool-input-available', 'toolCallId': 'toolu_1', 'toolName': 'weather', 'input': {'city': 'Oslo'}}
    >>> t.feed("tool_result", {"tool_use_id": "toolu_1", "content": {"c": 4}, "is_error": False})
    [{'type': 'tool-output-available', 'toolCallId': 'toolu_1', 'output': {'c': 4}}]
    >>> [chunk["type"] for chunk in t.abort("user")]
    ['finish-step', 'abort', 'finish']
    """

    def __init__(
        self,
        message_id: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        reset_step: bool = False,
        dynamic_tools: bool = False,
    ) -> None:
        self._message_id = message_id
        self._metadata = dict(metadata or {})
        self._reset_step = reset_step
        self._dynamic = dynamic_tools
        self._started = False
        self._finished = False
        self._step_open = False
        self._step_empty = False
        self._text_id: str | None = None
        self._reasoning_id: str | None = None
        self._texts = 0
        self._reasonings = 0
        self._partial_tools: dict[str, str] = {}  # tool-input-start sent, input not yet available: id -> name
        self._tools: set[str] = set()  # tool calls the client has a part for
        self._usage: dict[str, Any] | None = None
        self._cost: Decimal | None = Decimal(0)
        self._calls = 0
        self._stop_reason: str | None = None
        self._handlers: dict[str, Callable[[Mapping[str, Any]], list[Chunk]]] = {
            "start": self._on_start,
            "text": self._on_text,
            "thinking": self._on_thinking,
            "tool_input_start": self._on_tool_input_start,
            "tool_input_delta": self._on_tool_input_delta,
            "tool_use": self._on_tool_use,
            "tool_result": self._on_tool_result,
            "done": self._on_done,
            "error": lambda payload: self.fail(str(payload.get("message") or "The answer failed.")),
            "cancelled": lambda payload: self.abort(_optional_str(payload.get("reason"))),
            "reset": self._on_reset,
        }

    def __repr__(self) -> str:
        state = "finished" if self._finished else "streaming" if self._started else "new"
        return f"<UIMessageStreamTranslator {state} message_id={self._message_id!r}>"

    @property
    def finished(self) -> bool:
        """True once the ``finish`` chunk was produced; later calls return ``[]``."""
        return self._finished

    @property
    def message_id(self) -> str | None:
        """The UI message id sent in the ``start`` chunk (``None`` before it, or if the client picks one)."""
        return self._message_id

    def feed(self, event: str, payload: Mapping[str, Any]) -> list[Chunk]:
        """The chunks for one of our events (possibly none)."""
        if self._finished:
            return []
        handler = self._handlers.get(event)
        return handler(payload) if handler is not None else []

    def finish(self) -> list[Chunk]:
        """The closing chunks of a normal end: open parts closed, ``finish-step``, ``finish``. Idempotent."""
        if self._finished:
            return []
        finish_reason = _FINISH_REASONS.get(self._stop_reason or "", "other")
        return self._close_message(self._stop_reason, finish_reason, [])

    def fail(self, message: str) -> list[Chunk]:
        """End with an ``error`` chunk (``message`` must be browser-safe), then ``finish`` (``finishReason: "error"``)."""
        if self._finished:
            return []
        return self._close_message(self._stop_reason, "error", [{"type": "error", "errorText": message}])

    def abort(self, reason: str | None = None) -> list[Chunk]:
        """End a cancelled answer: ``abort`` (with ``reason`` if given), then ``finish`` with the usage so far."""
        if self._finished:
            return []
        chunk: Chunk = {"type": "abort"}
        if reason:
            chunk["reason"] = reason
        return self._close_message("cancelled", "other", [], after_step=[chunk])

    # -- events --------------------------------------------------------------------------------------------------

    def _on_start(self, payload: Mapping[str, Any]) -> list[Chunk]:
        out = self._open_message(payload)
        if self._step_open and not self._step_empty:
            out += self._close_parts()
            out += self._end_step()
        if not self._step_open:
            out.append({"type": "start-step"})
            self._step_open = True
            self._step_empty = True
        return out

    def _on_text(self, payload: Mapping[str, Any]) -> list[Chunk]:
        text = payload.get("text")
        if not isinstance(text, str) or not text:
            return []
        out = self._content()
        if self._reasoning_id is not None:
            out.append({"type": "reasoning-end", "id": self._reasoning_id})
            self._reasoning_id = None
        if self._text_id is None:
            self._text_id = f"text-{self._texts}"
            self._texts += 1
            out.append({"type": "text-start", "id": self._text_id})
        out.append({"type": "text-delta", "id": self._text_id, "delta": text})
        return out

    def _on_thinking(self, payload: Mapping[str, Any]) -> list[Chunk]:
        thinking = payload.get("thinking")
        if not isinstance(thinking, str) or not thinking:
            return []
        out = self._content()
        if self._text_id is not None:
            out.append({"type": "text-end", "id": self._text_id})
            self._text_id = None
        if self._reasoning_id is None:
            self._reasoning_id = f"reasoning-{self._reasonings}"
            self._reasonings += 1
            out.append({"type": "reasoning-start", "id": self._reasoning_id})
        out.append({"type": "reasoning-delta", "id": self._reasoning_id, "delta": thinking})
        return out

    def _on_tool_input_start(self, payload: Mapping[str, Any]) -> list[Chunk]:
        tool_id, name = payload.get("id"), payload.get("name")
        if not isinstance(tool_id, str) or not isinstance(name, str) or tool_id in self._tools:
            return []
        if tool_id in self._partial_tools:
            return []
        out = self._content() + self._close_parts()
        self._partial_tools[tool_id] = name
        out.append(self._tool_chunk({"type": "tool-input-start", "toolCallId": tool_id, "toolName": name}))
        return out

    def _on_tool_input_delta(self, payload: Mapping[str, Any]) -> list[Chunk]:
        tool_id, delta = payload.get("id"), payload.get("partial_json")
        if tool_id not in self._partial_tools or not isinstance(delta, str) or not delta:
            return []
        return [{"type": "tool-input-delta", "toolCallId": tool_id, "inputTextDelta": delta}]

    def _on_tool_use(self, payload: Mapping[str, Any]) -> list[Chunk]:
        tool_id, name = payload.get("id"), payload.get("name")
        if not isinstance(tool_id, str) or not isinstance(name, str):
            return []
        out = self._content() + self._close_parts()
        self._partial_tools.pop(tool_id, None)
        self._tools.add(tool_id)
        chunk = {"type": "tool-input-available", "toolCallId": tool_id, "toolName": name, "input": payload.get("input")}
        out.append(self._tool_chunk(chunk))
        return out

    def _on_tool_result(self, payload: Mapping[str, Any]) -> list[Chunk]:
        tool_id = payload.get("tool_use_id")
        if tool_id not in self._tools:
            log.debug("dropping a tool_result for a tool call the stream never announced: %r", tool_id)
            return []
        out = self._close_parts()
        content = payload.get("content")
        if payload.get("is_error"):
            chunk = {"type": "tool-output-error", "toolCallId": tool_id, "errorText": _as_text(content)}
        else:
            chunk = {"type": "tool-output-available", "toolCallId": tool_id, "output": content}
        out.append(self._tool_chunk(chunk))
        return out

    def _on_done(self, payload: Mapping[str, Any]) -> list[Chunk]:
        out = self._open_message({}) + self._close_parts()
        self._calls += 1
        stop_reason = payload.get("stop_reason")
        self._stop_reason = stop_reason if isinstance(stop_reason, str) else None
        usage = payload.get("usage")
        if isinstance(usage, Mapping):
            self._usage = _add_usage(self._usage, usage)
        self._cost = _add_cost(self._cost, payload.get("cost"))
        out.append({"type": "message-metadata", "messageMetadata": self._totals(self._stop_reason)})
        return out

    def _on_reset(self, payload: Mapping[str, Any]) -> list[Chunk]:
        out = self._open_message({}) + self._close_parts() + self._close_partial_tools()
        if self._step_open:
            if self._reset_step:
                out.append({"type": "reset-step"})
            self._step_empty = True
        attempt = payload.get("attempt")
        out.append({"type": "data-reset", "data": {"attempt": attempt if isinstance(attempt, int) else None}})
        self._tools.clear()
        self._usage, self._cost, self._calls, self._stop_reason = None, Decimal(0), 0, None
        return out

    # -- helpers -------------------------------------------------------------------------------------------------

    def _open_message(self, start: Mapping[str, Any]) -> list[Chunk]:
        if self._started:
            return []
        self._started = True
        if self._message_id is None and isinstance(start.get("id"), str):
            self._message_id = start["id"]
        metadata = dict(self._metadata)
        if isinstance(start.get("model"), str):
            metadata["model"] = start["model"]
        chunk: Chunk = {"type": "start"}
        if self._message_id is not None:
            chunk["messageId"] = self._message_id
        if metadata:
            chunk["messageMetadata"] = metadata
        return [chunk]

    def _content(self) -> list[Chunk]:
        """Whatever must precede a part: the message ``start`` and an open step."""
        out = self._open_message({})
        if not self._step_open:
            out.append({"type": "start-step"})
            self._step_open = True
        self._step_empty = False
        return out

    def _close_parts(self) -> list[Chunk]:
        out: list[Chunk] = []
        if self._text_id is not None:
            out.append({"type": "text-end", "id": self._text_id})
            self._text_id = None
        if self._reasoning_id is not None:
            out.append({"type": "reasoning-end", "id": self._reasoning_id})
            self._reasoning_id = None
        return out

    def _close_partial_tools(self) -> list[Chunk]:
        out = [
            self._tool_chunk(
                {"type": "tool-input-error", "toolCallId": i, "toolName": n, "input": None, "errorText": _CUT_OFF}
            )
            for i, n in self._partial_tools.items()
        ]
        self._partial_tools.clear()
        return out

    def _end_step(self) -> list[Chunk]:
        if not self._step_open:
            return []
        self._step_open = False
        return [{"type": "finish-step"}]

    def _close_message(
        self,
        stop_reason: str | None,
        finish_reason: str,
        before_step: Sequence[Chunk],
        after_step: Sequence[Chunk] = (),
    ) -> list[Chunk]:
        out = self._open_message({}) + self._close_parts() + self._close_partial_tools() + list(before_step)
        out += self._end_step() + list(after_step)
        out.append({"type": "finish", "finishReason": finish_reason, "messageMetadata": self._totals(stop_reason)})
        self._finished = True
        return out

    def _totals(self, stop_reason: str | None) -> dict[str, Any]:
        cost = None if self._cost is None or self._calls == 0 else format(self._cost, "f")
        return {"stop_reason": stop_reason, "usage": self._usage, "cost": cost}

    def _tool_chunk(self, chunk: Chunk) -> Chunk:
        if self._dynamic:
            chunk["dynamic"] = True
        return chunk


class UIMessageStreamProtocol(StreamProtocol):
    """The UI message stream as a protocol of the one SSE writer (``write_events(..., protocol="ai-sdk")``).

    Each event's chunks go out as ``data:`` frames (the last one carries the event's id), heartbeats as comments;
    a normal end adds the closing chunks and :data:`DONE_FRAME`; a source that raises ends with an ``error``
    chunk (a safe message; the exception is logged), ``finish`` and ``[DONE]``, so the client sees an error, not a
    broken connection. ``replay`` is ``True``: ``useChat`` (``ai`` >= 7) treats a resumed stream as a replay of
    the whole message, so a resume starts at the first event whatever ``Last-Event-ID`` says (a stream begun
    in the middle could not open its parts in order either).

    >>> from claude_web.web.sse import write_events
    >>> body = b"".join(write_events([("start", {"id": "m", "model": "x"}), ("text", {"text": "Hi"})],
    ...                             protocol=UIMessageStreamProtocol(message_id="turn-1")))
    >>> body.count(b'"type":"text-delta"'), body.endswith(DONE_FRAME)
    (1, True)
    """

    name = "ai-sdk"
    replay = True

    def __init__(
        self,
        translator: UIMessageStreamTranslator | None = None,
        *,
        message_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.translator = translator or UIMessageStreamTranslator(message_id, metadata=metadata)

    def __repr__(self) -> str:
        return f"<UIMessageStreamProtocol {self.translator!r}>"

    def headers(self) -> dict[str, str]:
        return dict(UI_MESSAGE_STREAM_HEADERS)

    def frames(self, encoder: SSEStreamEncoder, item: Item) -> list[bytes]:
        if isinstance(item, tuple):
            name, data, own_id = item[0], item[1], None
        else:
            name, data, own_id = item.event, item.data, item.id
        if not name or name == "heartbeat":
            return [encoder.heartbeat()] if encoder.heartbeat_due() else []
        chunks = self.translator.feed(name, data if isinstance(data, Mapping) else {})
        if not chunks:
            return []
        out = [encode_chunk(chunk) for chunk in chunks[:-1]]
        out.append(encoder.event(None, chunks[-1], id=own_id))
        return out

    def end(self) -> list[bytes]:
        return [encode_chunk(chunk) for chunk in self.translator.finish()] + [DONE_FRAME]

    def failed(self, exc: Exception) -> list[bytes]:
        log.error("the event source of a UI message stream failed", exc_info=exc)
        chunks = self.translator.fail("The answer failed on the server. Please try again.")
        return [encode_chunk(chunk) for chunk in chunks] + [DONE_FRAME]


def ui_message_stream(
    events: Iterable[tuple[str, Mapping[str, Any]]],
    translator: UIMessageStreamTranslator | None = None,
) -> Iterator[bytes]:
    """The whole response body for an event sequence: chunk frames, a comment per ``heartbeat`` event, the
    closing chunks and :data:`DONE_FRAME`. Closes ``events`` (if it can be closed) when closed early.

    >>> body = b"".join(ui_message_stream([("start", {"id": "m", "model": "x"}), ("text", {"text": "Hi"})]))
    >>> body.count(b"\\n\\n"), body.endswith(b"data: [DONE]\\n\\n")
    (8, True)
    """
    translator = translator if translator is not None else UIMessageStreamTranslator()
    iterator = iter(events)
    try:
        for name, payload in iterator:
            if name == "heartbeat":
                yield encode_comment("heartbeat")
                continue
            for chunk in translator.feed(name, payload):
                yield encode_chunk(chunk)
        for chunk in translator.finish():
            yield encode_chunk(chunk)
        yield DONE_FRAME
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _as_text(content: Any) -> str:
    """A tool result's content as an error text: strings as-is, text blocks joined, anything else as JSON."""
    if isinstance(content, str):
        return content
    if (
        isinstance(content, list)
        and content
        and all(isinstance(b, Mapping) and b.get("type") == "text" for b in content)
    ):
        return "\n".join(str(block.get("text", "")) for block in content)
    return json.dumps(content, ensure_ascii=False, default=str)


def _add_usage(total: Mapping[str, Any] | None, usage: Mapping[str, Any]) -> dict[str, Any]:
    """Key-wise sum of two usage dicts: numbers add, nested dicts recurse, other values (``service_tier``) keep
    the latest non-null one."""
    out = dict(total or {})
    for key, value in usage.items():
        before = out.get(key)
        if isinstance(value, Mapping):
            out[key] = _add_usage(before if isinstance(before, Mapping) else None, value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            previous = before if isinstance(before, (int, float)) and not isinstance(before, bool) else 0
            out[key] = previous + value
        elif value is not None or key not in out:
            out[key] = value
    return out


def _add_cost(total: Decimal | None, cost: Any) -> Decimal | None:
    """The running cost; ``None`` from the first call whose cost is unknown (missing, null or not a number)."""
    if total is None or cost is None or isinstance(cost, bool):
        return None
    try:
        value = cost if isinstance(cost, Decimal) else Decimal(str(cost))
    except InvalidOperation:
        log.warning("ignoring a cost that is not a decimal number: %r", cost)
        return None
    return total + value if value.is_finite() else None
