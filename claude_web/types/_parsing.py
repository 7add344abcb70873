"""Fast parsing of one stream event's JSON ``data`` straight into its typed model (in pydantic-core)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from ._events import (
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
)

__all__ = ["event_validators", "parse_stream_event_json"]

_BY_NAME: dict[str, Any] = {
    "message_start": RawMessageStartEvent,
    "message_delta": RawMessageDeltaEvent,
    "message_stop": RawMessageStopEvent,
    "content_block_start": RawContentBlockStartEvent,
    "content_block_delta": RawContentBlockDeltaEvent,
    "content_block_stop": RawContentBlockStopEvent,
}
_any_event: TypeAdapter[Any] | None = None
_validators: dict[str, Callable[[str | bytes], Any]] = {}


def _validator(name: str) -> Callable[[str | bytes], Any] | None:
    model = _BY_NAME.get(name)
    if model is None:
        return None
    model.model_rebuild(force=True)  # the models defer building their schema until first use
    validate: Callable[[str | bytes], Any] = model.__pydantic_validator__.validate_json
    _validators[name] = validate
    return validate


def parse_stream_event_json(data: str | bytes, name: str | None = None) -> Any:
    """The typed event for ``data``. With the SSE event ``name`` known, its model is used directly.

    Raises ``pydantic.ValidationError`` (a ``ValueError``) for malformed JSON or a wrongly shaped event.
    """
    if name is not None:
        validate = _validators.get(name) or _validator(name)
        if validate is not None:
            return validate(data)
    global _any_event
    if _any_event is None:
        _any_event = TypeAdapter(RawMessageStreamEvent)
    return _any_event.validate_json(data)


def event_validators() -> dict[str, Callable[[str | bytes], Any]]:
    """SSE event name -> the JSON validator of its model, for the six Messages events (built once, shared)."""
    if len(_validators) < len(_BY_NAME):
        for name in _BY_NAME:
            if name not in _validators:
                _validator(name)
    return _validators
