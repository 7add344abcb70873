"""``Message``: the response of ``messages.create`` and the final message of a stream."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from .._models import BaseModel
from ._blocks import ContentBlock
from .usage import Usage

__all__ = ["Container", "ContainerSkill", "Message", "Model", "RefusalStopDetails", "StopReason"]

StopReason = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"
]
Model = (
    Literal[
        "claude-opus-4-5",
        "claude-opus-4-5-20251101",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5",
        "claude-haiku-4-5-20251001",
    ]
    | str
)


class ContainerSkill(BaseModel):
    skill_id: str
    type: str
    version: str


class Container(BaseModel):
    id: str
    expires_at: datetime
    skills: list[ContainerSkill] | None = None


class RefusalStopDetails(BaseModel):
    type: Literal["refusal"]
    category: str | None = None
    explanation: str | None = None


class Message(BaseModel):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: Model
    content: list[ContentBlock]
    stop_reason: StopReason | str | None = None
    stop_sequence: str | None = None
    stop_details: RefusalStopDetails | None = None
    container: Container | None = None
    usage: Usage
