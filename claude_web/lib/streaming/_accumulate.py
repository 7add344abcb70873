"""Building the message snapshot from raw stream events, in time linear in the stream's length.

Deltas are appended to per-block lists of pieces (O(1) each). A block's ``text``/``thinking`` string and a tool
block's parsed ``input`` are brought up to date only when someone looks: :meth:`MessageAccumulator.snapshot`,
a helper event's ``snapshot``, or the block's ``content_block_stop`` (where a tool input is parsed once, whole).
Re-parsing the partial tool JSON on every delta, as a naive accumulator does, makes a long tool input quadratic.
"""

from __future__ import annotations

from typing import Any

import jiter

from ...types.parsed_message import ParsedMessage, as_parsed_block

__all__ = ["TRACKS_TOOL_INPUT", "MessageAccumulator", "parse_partial_json"]

TRACKS_TOOL_INPUT = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_DELTA_USAGE_FIELDS = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
    "output_tokens_details",
)


class _Pending:
    """Unmerged deltas of one content block."""

    __slots__ = ("_json_cache", "attr", "json_pieces", "pieces")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.attr = ""  # "text" or "thinking": which string attribute ``pieces`` extends
        self.json_pieces: list[str] = []  # every partial_json piece so far, append-only
        self._json_cache: tuple[int, str] = (0, "")

    def json_text(self, upto: int | None = None) -> str:
        """The tool JSON received up to piece ``upto`` (all by default), joining each piece once."""
        count = len(self.json_pieces) if upto is None else upto
        cached_count, cached = self._json_cache
        if cached_count == count:
            return cached
        if cached_count < count:
            text = cached + "".join(self.json_pieces[cached_count:count])
        else:
            text = "".join(self.json_pieces[:count])
        self._json_cache = (count, text)
        return text


def parse_partial_json(text: str) -> object:
    """Parse (possibly incomplete) tool JSON the way the final message does."""
    if not text:
        return {}
    try:
        return jiter.from_json(text.encode(), partial_mode=True)
    except ValueError as exc:
        raise ValueError(
            "Unable to parse tool parameter JSON from model. Please retry your request or adjust your "
            f"prompt. Error: {exc}. JSON: {text}"
        ) from exc


class MessageAccumulator:
    """Feed raw events in order; read :meth:`snapshot` any time (it merges what is pending, once)."""

    __slots__ = ("_dirty", "_message", "_pending")

    def __init__(self) -> None:
        self._message: ParsedMessage[Any] | None = None
        self._pending: dict[int, _Pending] = {}
        self._dirty: set[int] = set()

    @property
    def started(self) -> bool:
        return self._message is not None

    def feed(self, event: Any) -> None:
        kind = event.type
        message = self._message
        if message is None:
            if kind == "ping":  # only seen when the stream was asked for pings (include_pings)
                return
            if kind != "message_start":
                raise RuntimeError(f'Unexpected event order, got {kind} before "message_start"')
            self._message = ParsedMessage.from_message(event.message)
            return
        if kind == "content_block_delta":
            self._delta(message, event.index, event.delta)
        elif kind == "content_block_start":
            message.content.append(as_parsed_block(event.content_block.model_copy(deep=True)))
        elif kind == "content_block_stop":
            self._merge(event.index, final=True)
        elif kind == "message_delta":
            self._message_delta(message, event)

    def _delta(self, message: ParsedMessage[Any], index: int, delta: Any) -> None:
        block: Any = message.content[index]
        kind = delta.type
        if kind == "text_delta":
            if block.type == "text":
                self._queue(index, "text").pieces.append(delta.text)
        elif kind == "input_json_delta":
            if block.type in TRACKS_TOOL_INPUT:
                self._queue(index, "").json_pieces.append(delta.partial_json)
        elif kind == "thinking_delta":
            if block.type == "thinking":
                self._queue(index, "thinking").pieces.append(delta.thinking)
        elif kind == "signature_delta":
            if block.type == "thinking":
                block.signature = delta.signature
        elif kind == "citations_delta" and block.type == "text":
            self._merge(index)
            if block.citations:
                block.citations.append(delta.citation)
            else:
                block.citations = [delta.citation]

    def _queue(self, index: int, attr: str) -> _Pending:
        pending = self._pending.get(index)
        if pending is None:
            pending = self._pending[index] = _Pending()
        if attr:
            pending.attr = attr
        self._dirty.add(index)
        return pending

    def _merge(self, index: int, *, final: bool = False) -> None:
        if index not in self._dirty or self._message is None:
            return
        self._dirty.discard(index)
        pending = self._pending[index]
        block: Any = self._message.content[index]
        if pending.pieces:
            joined = "".join(pending.pieces)
            pending.pieces.clear()
            setattr(block, pending.attr, getattr(block, pending.attr) + joined)
        if pending.json_pieces:
            buffer = pending.json_text()
            if buffer:
                block.input = parse_partial_json(buffer)
        if final:
            del self._pending[index]

    def raw_block(self, index: int) -> Any:
        """The content block at ``index`` without merging pending deltas (for its type and id)."""
        assert self._message is not None
        return self._message.content[index]

    def pending(self, index: int) -> _Pending | None:
        return self._pending.get(index)

    def block(self, index: int) -> Any:
        """The content block at ``index``, brought up to date."""
        self._merge(index)
        assert self._message is not None
        return self._message.content[index]

    def snapshot(self) -> ParsedMessage[Any]:
        """The message so far, with every pending delta merged."""
        if self._message is None:
            raise RuntimeError("No message_start event has been received yet")
        for index in list(self._dirty):
            self._merge(index)
        return self._message

    @staticmethod
    def _message_delta(message: ParsedMessage[Any], event: Any) -> None:
        delta = event.delta
        message.stop_reason = delta.stop_reason
        message.stop_sequence = delta.stop_sequence
        message.stop_details = getattr(delta, "stop_details", None)
        container = getattr(delta, "container", None)
        if container is not None:
            message.container = container
        usage = event.usage
        if usage is None:
            return
        target = message.usage
        target.output_tokens = usage.output_tokens
        for name in _DELTA_USAGE_FIELDS:
            value = getattr(usage, name, None)
            if value is not None:
                setattr(target, name, value)
