"""What a conversation store keeps, and the storage interface the Django and Flask adapters implement.

A :class:`Conversation` has an owner (``user:42`` / ``session:...``, as jobs), a title, the assistant it talks to
(the reference to its server-side system prompt and tools), a model, and running totals of tokens and cost.
Its :class:`ChatMessage` rows, in id order, hold a role, the content blocks exactly as sent to or received from
the API, a status (``complete``; ``partial`` when stopped or broken; ``error``), and the usage record ids of the
upstream calls that produced them.

Stores are plain and synchronous; they run in web processes and in job workers. Ownership is the service's
business (:mod:`~claude_web.web.conversations.service`), not the store's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, Protocol

from ..._ids import random_id
from ...pricing import format_cost
from ...usage import UsageRecord

__all__ = [
    "MESSAGE_STATUSES",
    "TOKEN_FIELDS",
    "ChatMessage",
    "Conversation",
    "ConversationStore",
    "MessageStatus",
    "conversation_changes",
    "new_conversation_id",
    "usage_increments",
]

MessageStatus = Literal["complete", "partial", "error"]
MESSAGE_STATUSES: tuple[MessageStatus, ...] = ("complete", "partial", "error")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def new_conversation_id() -> str:
    """A new conversation id: 16 URL-safe random characters (unguessable; other owners get 404 anyway)."""
    return random_id(12)


def now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Conversation:
    """One conversation as the service sees it (whatever the adapter stores it in)."""

    id: str
    owner: str
    assistant: str
    model: str
    title: str = ""
    user_id: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    message_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced_calls: int = 0
    turn_job_id: str | None = None
    deleted: bool = False

    @property
    def total_tokens(self) -> int:
        return sum(getattr(self, name) for name in TOKEN_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the endpoints answer with (never the owner key, never the system prompt)."""
        return {
            "id": self.id,
            "title": self.title,
            "assistant": self.assistant,
            "model": self.model,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "message_count": self.message_count,
            "usage": {name: getattr(self, name) for name in TOKEN_FIELDS},
            "cost": format_cost(self.cost) if not self.unpriced_calls else None,
        }


@dataclass
class ChatMessage:
    """One stored message: ``role`` ``user`` (a question, or the results of tool calls) or ``assistant``."""

    id: int
    conversation_id: str
    role: str
    content: list[dict[str, Any]]
    status: MessageStatus = "complete"
    job_id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    created_at: datetime = field(default_factory=now)
    usage_ids: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost: Decimal | None = None

    @property
    def is_tool_results(self) -> bool:
        """A user message that only answers tool calls (the tool loop wrote it, not the user)."""
        return (
            self.role == "user"
            and bool(self.content)
            and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in self.content)
        )

    @property
    def text(self) -> str:
        """The message's text blocks joined (for titles, exports and admin transcripts)."""
        return "".join(str(b.get("text", "")) for b in self.content if isinstance(b, dict) and b.get("type") == "text")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "status": self.status,
            "turn": self.job_id,
            "model": self.model,
            "stop_reason": self.stop_reason,
            "created_at": _iso(self.created_at),
            "usage": {name: getattr(self, name) for name in TOKEN_FIELDS},
            "cost": format_cost(self.cost),
        }


def conversation_changes(stamp: datetime, *, title: str | None, deleted: bool | None) -> dict[str, Any]:
    """The columns a rename or a (soft) delete sets, for a SQL store: ``updated_at`` always, ``title`` and
    ``deleted_at`` (``stamp`` or ``None``) when given."""
    changes: dict[str, Any] = {"updated_at": stamp}
    if title is not None:
        changes["title"] = title
    if deleted is not None:
        changes["deleted_at"] = stamp if deleted else None
    return changes


def usage_increments(record: UsageRecord) -> dict[str, Any]:
    """What one usage record adds to a conversation's (and a message's) totals."""
    return {
        **{name: int(getattr(record, name)) for name in TOKEN_FIELDS},
        "cost": record.cost,
    }


class ConversationStore(Protocol):
    """The storage a conversation service needs; Django (models) and Flask (Flask-SQLAlchemy) implement it, and
    :class:`~claude_web.web.conversations.memory.MemoryConversationStore` does for tests.

    Every method is safe to call from several threads and processes at once. ``claim_turn`` is the one
    compare-and-set: it moves ``turn_job_id`` from ``expected`` to ``job_id`` and says whether it did.
    """

    def create_conversation(
        self,
        *,
        owner: str,
        user_id: str | None,
        assistant: str,
        model: str,
        title: str,
        conversation_id: str | None = None,
    ) -> Conversation:
        """A new conversation, with the id given (an AI SDK chat id) or a new one; an error (the store's own)
        when the id is taken."""
        ...

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        """The conversation (deleted ones too), or ``None`` when there is no such id."""
        ...

    def list_conversations(self, owner: str, *, offset: int, limit: int) -> list[Conversation]:
        """``owner``'s conversations that are not deleted, most recently updated first."""
        ...

    def update_conversation(
        self, conversation_id: str, *, title: str | None = None, deleted: bool | None = None
    ) -> None:
        """Rename or (soft-)delete; ``None`` leaves a field as it is."""
        ...

    def claim_turn(self, conversation_id: str, job_id: str, expected: str | None) -> bool: ...

    def add_message(
        self,
        conversation_id: str,
        *,
        role: str,
        content: Sequence[Mapping[str, Any]],
        status: MessageStatus = "complete",
        job_id: str | None = None,
        model: str | None = None,
    ) -> ChatMessage:
        """Append a message (its id orders it after every earlier one) and touch the conversation."""
        ...

    def update_message(
        self,
        message_id: int,
        *,
        content: Sequence[Mapping[str, Any]] | None = None,
        status: MessageStatus | None = None,
        stop_reason: str | None = None,
    ) -> None: ...

    def messages(self, conversation_id: str) -> list[ChatMessage]:
        """Every message of the conversation, oldest first."""
        ...

    def add_usage(self, conversation_id: str, message_id: int | None, record: UsageRecord) -> None:
        """Add one usage record to the conversation's totals and (when given) the message's, atomically, and link
        the record's id to the message."""
        ...
