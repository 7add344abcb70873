"""``ModelInfo`` (``models.list`` / ``models.retrieve``) and ``MessageTokensCount`` (``messages.count_tokens``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .._models import BaseModel

__all__ = ["MessageTokensCount", "ModelInfo"]


class ModelInfo(BaseModel):
    id: str
    type: Literal["model"]
    display_name: str
    created_at: datetime
    capabilities: dict[str, Any] | None = None
    max_input_tokens: int | None = None
    max_tokens: int | None = None


class MessageTokensCount(BaseModel):
    input_tokens: int
