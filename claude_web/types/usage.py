"""Token accounting: ``Usage`` on a message, ``MessageDeltaUsage`` on a ``message_delta`` stream event.

A count the API did not send stays ``None`` (as in ``anthropic``): 0 would claim it was sent and zero.
"""

from __future__ import annotations

from typing import Literal

from .._models import BaseModel

__all__ = ["CacheCreation", "MessageDeltaUsage", "OutputTokensDetails", "ServerToolUsage", "Usage"]


class CacheCreation(BaseModel):
    ephemeral_1h_input_tokens: int | None = None
    ephemeral_5m_input_tokens: int | None = None


class ServerToolUsage(BaseModel):
    web_fetch_requests: int | None = None
    web_search_requests: int | None = None


class OutputTokensDetails(BaseModel):
    thinking_tokens: int | None = None


class Usage(BaseModel):
    """Billed tokens of one call; cache writes and reads are counted apart from ``input_tokens``."""

    input_tokens: int
    output_tokens: int
    cache_creation: CacheCreation | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    inference_geo: str | None = None
    output_tokens_details: OutputTokensDetails | None = None
    server_tool_use: ServerToolUsage | None = None
    service_tier: Literal["standard", "priority", "batch"] | None = None


class MessageDeltaUsage(BaseModel):
    """Cumulative usage as of a ``message_delta`` event (``output_tokens`` always, the rest when known)."""

    output_tokens: int
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: OutputTokensDetails | None = None
    server_tool_use: ServerToolUsage | None = None
