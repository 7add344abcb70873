"""Message Batches types (``client.messages.batches``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import Required, TypedDict

from ..._models import BaseModel
from ..message import Message

__all__ = [
    "BatchCreateParams",
    "DeletedMessageBatch",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
]


class MessageBatchRequestCounts(BaseModel):
    canceled: int
    errored: int
    expired: int
    processing: int
    succeeded: int


class MessageBatch(BaseModel):
    id: str
    type: Literal["message_batch"]
    processing_status: Literal["in_progress", "canceling", "ended"]
    request_counts: MessageBatchRequestCounts
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    archived_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    results_url: str | None = None


class DeletedMessageBatch(BaseModel):
    id: str
    type: Literal["message_batch_deleted"]


class MessageBatchSucceededResult(BaseModel):
    type: Literal["succeeded"]
    message: Message


class ErrorObject(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    type: Literal["error"]
    error: ErrorObject
    request_id: str | None = None


class MessageBatchErroredResult(BaseModel):
    type: Literal["errored"]
    error: ErrorResponse


class MessageBatchCanceledResult(BaseModel):
    type: Literal["canceled"]


class MessageBatchExpiredResult(BaseModel):
    type: Literal["expired"]


MessageBatchResult = Annotated[
    MessageBatchSucceededResult | MessageBatchErroredResult | MessageBatchCanceledResult | MessageBatchExpiredResult,
    Field(discriminator="type"),
]


class MessageBatchIndividualResponse(BaseModel):
    custom_id: str
    result: MessageBatchResult


class Request(TypedDict, total=False):
    custom_id: Required[str]
    params: Required[dict[str, Any]]


class BatchCreateParams(TypedDict, total=False):
    requests: Required[list[Request]]
