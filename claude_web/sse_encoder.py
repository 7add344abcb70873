"""Moved to :mod:`claude_web.web.sse` (the one SSE writer); these names stay importable from here."""

from .web.sse import SSE_HEADERS, SSEStreamEncoder, encode_comment, encode_event

__all__ = ["SSE_HEADERS", "SSEStreamEncoder", "encode_comment", "encode_event"]
