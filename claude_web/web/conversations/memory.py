"""A conversation store in this process's memory: for tests, demos and a single-process app that may forget.

>>> store = MemoryConversationStore()
>>> conv = store.create_conversation(owner="user:1", user_id="1", assistant="default", model="m", title="")
>>> store.add_message(conv.id, role="user", content=[{"type": "text", "text": "Hi"}]).role
'user'
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ...usage import UsageRecord
from .records import TOKEN_FIELDS, ChatMessage, Conversation, MessageStatus, new_conversation_id, now

__all__ = ["MemoryConversationStore"]


class MemoryConversationStore:
    """Conversations in dicts behind one lock; every read returns a copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[int, ChatMessage] = {}
        self._ids = itertools.count(1)

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
        conv = Conversation(
            id=conversation_id or new_conversation_id(),
            owner=owner,
            user_id=user_id,
            assistant=assistant,
            model=model,
            title=title,
        )
        with self._lock:
            if conv.id in self._conversations:
                raise KeyError(f"conversation id {conv.id!r} is taken")
            self._conversations[conv.id] = conv
            return replace(conv)

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            conv = self._conversations.get(conversation_id)
            return None if conv is None else replace(conv)

    def list_conversations(self, owner: str, *, offset: int, limit: int) -> list[Conversation]:
        with self._lock:
            mine = [c for c in self._conversations.values() if c.owner == owner and not c.deleted]
            mine.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
            return [replace(c) for c in mine[offset : offset + limit]]

    def update_conversation(
        self, conversation_id: str, *, title: str | None = None, deleted: bool | None = None
    ) -> None:
        with self._lock:
            conv = self._conversations.get(conversation_id)
            if conv is None:
                return
            if title is not None:
                conv.title = title
            if deleted is not None:
                conv.deleted = deleted
            conv.updated_at = now()

    def claim_turn(self, conversation_id: str, job_id: str, expected: str | None) -> bool:
        with self._lock:
            conv = self._conversations.get(conversation_id)
            if conv is None or conv.turn_job_id != expected:
                return False
            conv.turn_job_id = job_id
            return True

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
        with self._lock:
            message = ChatMessage(
                id=next(self._ids),
                conversation_id=conversation_id,
                role=role,
                content=copy.deepcopy([dict(b) for b in content]),
                status=status,
                job_id=job_id,
                model=model,
            )
            self._messages[message.id] = message
            conv = self._conversations.get(conversation_id)
            if conv is not None:
                conv.message_count += 1
                conv.updated_at = message.created_at
            return copy.deepcopy(message)

    def update_message(
        self,
        message_id: int,
        *,
        content: Sequence[Mapping[str, Any]] | None = None,
        status: MessageStatus | None = None,
        stop_reason: str | None = None,
    ) -> None:
        with self._lock:
            message = self._messages.get(message_id)
            if message is None:
                return
            if content is not None:
                message.content = copy.deepcopy([dict(b) for b in content])
            if status is not None:
                message.status = status
            if stop_reason is not None:
                message.stop_reason = stop_reason

    def messages(self, conversation_id: str) -> list[ChatMessage]:
        with self._lock:
            found = [m for m in self._messages.values() if m.conversation_id == conversation_id]
            return copy.deepcopy(sorted(found, key=lambda m: m.id))

    def add_usage(self, conversation_id: str, message_id: int | None, record: UsageRecord) -> None:
        with self._lock:
            targets: list[Any] = [self._conversations.get(conversation_id)]
            message = self._messages.get(message_id) if message_id is not None else None
            targets.append(message)
            for target in targets:
                if target is None:
                    continue
                for name in TOKEN_FIELDS:
                    setattr(target, name, getattr(target, name) + int(getattr(record, name)))
            conv = targets[0]
            if conv is not None:
                if record.cost is None:
                    conv.unpriced_calls += 1
                else:
                    conv.cost += record.cost
            if message is not None:
                message.usage_ids.append(record.id)
                if record.cost is not None:
                    message.cost = (message.cost or Decimal(0)) + record.cost
