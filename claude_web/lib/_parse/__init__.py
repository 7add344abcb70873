"""Structured outputs: ``transform_schema`` and the ``output_format`` plumbing of ``messages.parse``."""

from ._output import format_adapter, given, parse_text_blocks, with_output_format
from ._transform import SUPPORTED_STRING_FORMATS, transform_schema

__all__ = [
    "SUPPORTED_STRING_FORMATS",
    "format_adapter",
    "given",
    "parse_text_blocks",
    "transform_schema",
    "with_output_format",
]
