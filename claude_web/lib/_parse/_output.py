"""``output_format``: a Python type turned into ``output_config.format`` on the wire, and text blocks validated
back into that type.

Any type pydantic can validate works: a ``BaseModel`` subclass, a dataclass, a ``TypedDict``, ``list[int]``...
Its JSON schema goes through :func:`~claude_web.transform_schema`; validating the answer raises
``pydantic.ValidationError`` when the text is not JSON of that shape (as ``anthropic`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from ..._types import NotGiven, Omit
from ._transform import transform_schema

__all__ = ["format_adapter", "given", "parse_text_blocks", "with_output_format"]


def given(value: object) -> bool:
    """False for the "not given" markers (``NOT_GIVEN``, ``omit``)."""
    return not isinstance(value, (NotGiven, Omit))


@lru_cache(maxsize=256)
def format_adapter(output_format: Any) -> TypeAdapter[Any]:
    """The (cached) validator of ``output_format``."""
    return TypeAdapter(output_format)


def _format_param(output_format: Any) -> dict[str, Any]:
    if isinstance(output_format, Mapping):  # an already written {"type": "json_schema", "schema": ...}
        return dict(output_format)
    return {"schema": transform_schema(format_adapter(output_format).json_schema()), "type": "json_schema"}


def with_output_format(output_config: Any, output_format: Any) -> Any:
    """``output_config`` with its ``format`` set from ``output_format`` (unchanged when no format is given)."""
    if not given(output_format) or output_format is None:
        return output_config
    base = dict(output_config) if given(output_config) and output_config is not None else {}
    return {**base, "format": _format_param(output_format)}


def parse_text_blocks(content: list[Any], output_format: Any) -> None:
    """Set ``parsed_output`` on every text block of ``content``: its text validated as ``output_format``
    (``None`` when no Python type was asked for). Raises ``pydantic.ValidationError`` on a mismatch."""
    typed = given(output_format) and output_format is not None and not isinstance(output_format, Mapping)
    adapter = format_adapter(output_format) if typed else None
    for block in content:
        if block.type == "text":
            block.parsed_output = adapter.validate_json(block.text) if adapter is not None else None
