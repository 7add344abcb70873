"""The conversation store under Django: :class:`~claude_web_django.models.Conversation` and
:class:`~claude_web_django.models.ChatMessage` rows (or your models, named in ``CONVERSATIONS``).

Totals grow with ``F()`` expressions in one transaction per usage record, so two processes adding usage to the
same conversation never lose an update; a turn is claimed with one conditional ``UPDATE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from django.apps import apps
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from claude_web.usage import UsageRecord
from claude_web.web.conversations.records import (
    TOKEN_FIELDS,
    ChatMessage,
    Conversation,
    MessageStatus,
    conversation_changes,
)
from claude_web.web.settings import ConversationSettings

__all__ = ["DjangoConversationStore"]


def _user_pk(owner: str, user_id: str | None) -> Any:
    if user_id is not None:
        return user_id
    return owner[5:] if owner.startswith("user:") else None


class DjangoConversationStore:
    """A :class:`~claude_web.web.conversations.ConversationStore` on the Django ORM."""

    def __init__(self, settings: ConversationSettings | None = None) -> None:
        self.settings = settings or ConversationSettings()
        self._models: tuple[type[models.Model], type[models.Model]] | None = None

    @property
    def db(self) -> str:
        """The database alias (``CONVERSATIONS["DATABASE"]``)."""
        return self.settings.database

    def _conversations(self) -> Any:
        return self.models[0].objects.using(self.db)

    def _messages(self) -> Any:
        return self.models[1].objects.using(self.db)

    @property
    def models(self) -> tuple[Any, Any]:
        """``(conversation model, message model)``, looked up on first use."""
        if self._models is None:
            self._models = (
                apps.get_model(self.settings.conversation_model),
                apps.get_model(self.settings.message_model),
            )
        return self._models

    # -- rows <-> records ---------------------------------------------------------------------------------
    @staticmethod
    def _conversation(row: Any) -> Conversation:
        return Conversation(
            id=row.pk,
            owner=row.owner,
            assistant=row.assistant,
            model=row.model,
            title=row.title,
            user_id=None if row.user_id is None else str(row.user_id),
            created_at=row.created_at,
            updated_at=row.updated_at,
            message_count=row.message_count,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_creation_input_tokens=row.cache_creation_input_tokens,
            cache_read_input_tokens=row.cache_read_input_tokens,
            cost=Decimal(row.cost or 0),
            unpriced_calls=row.unpriced_calls,
            turn_job_id=row.turn_job_id or None,
            deleted=row.deleted_at is not None,
        )

    @staticmethod
    def _message(row: Any) -> ChatMessage:
        return ChatMessage(
            id=row.pk,
            conversation_id=row.conversation_id,
            role=row.role,
            content=list(row.content or []),
            status=row.status,
            job_id=row.job_id or None,
            model=row.model or None,
            stop_reason=row.stop_reason or None,
            created_at=row.created_at,
            usage_ids=list(row.usage_ids or []),
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_creation_input_tokens=row.cache_creation_input_tokens,
            cache_read_input_tokens=row.cache_read_input_tokens,
            cost=row.cost,
        )

    # -- conversations ------------------------------------------------------------------------------------
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
        fields = {"owner": owner, "user_id": _user_pk(owner, user_id), "assistant": assistant, "model": model}
        if conversation_id is not None:
            fields["pk"] = conversation_id
        with transaction.atomic(using=self.db):  # a taken id fails here, not the caller's transaction
            row = self._conversations().create(title=title, **fields)
        return self._conversation(row)

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        row = self._conversations().filter(pk=conversation_id).first()
        return None if row is None else self._conversation(row)

    def list_conversations(self, owner: str, *, offset: int, limit: int) -> list[Conversation]:
        rows = self._conversations().filter(owner=owner, deleted_at__isnull=True).order_by("-updated_at", "-pk")
        return [self._conversation(row) for row in rows[offset : offset + limit]]

    def update_conversation(
        self, conversation_id: str, *, title: str | None = None, deleted: bool | None = None
    ) -> None:
        changes = conversation_changes(timezone.now(), title=title, deleted=deleted)
        self._conversations().filter(pk=conversation_id).update(**changes)

    def claim_turn(self, conversation_id: str, job_id: str, expected: str | None) -> bool:
        claimed = (
            self._conversations().filter(pk=conversation_id, turn_job_id=expected or "").update(turn_job_id=job_id)
        )
        return bool(claimed)

    # -- messages -----------------------------------------------------------------------------------------
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
        with transaction.atomic(using=self.db):
            row = self._messages().create(
                conversation_id=conversation_id,
                role=role,
                content=[dict(b) for b in content],
                status=status,
                job_id=job_id or "",
                model=model or "",
            )
            self._conversations().filter(pk=conversation_id).update(
                message_count=F("message_count") + 1, updated_at=row.created_at
            )
        return self._message(row)

    def update_message(
        self,
        message_id: int,
        *,
        content: Sequence[Mapping[str, Any]] | None = None,
        status: MessageStatus | None = None,
        stop_reason: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = [dict(b) for b in content]
        if status is not None:
            changes["status"] = status
        if stop_reason is not None:
            changes["stop_reason"] = stop_reason[:32]
        if changes:
            self._messages().filter(pk=message_id).update(**changes)

    def messages(self, conversation_id: str) -> list[ChatMessage]:
        return [self._message(row) for row in self._messages().filter(conversation_id=conversation_id).order_by("pk")]

    def add_usage(self, conversation_id: str, message_id: int | None, record: UsageRecord) -> None:
        tokens = {name: F(name) + int(getattr(record, name)) for name in TOKEN_FIELDS}
        with transaction.atomic(using=self.db):
            changes: dict[str, Any] = dict(tokens)
            if record.cost is None:
                changes["unpriced_calls"] = F("unpriced_calls") + 1
            else:
                changes["cost"] = F("cost") + record.cost
            self._conversations().filter(pk=conversation_id).update(**changes)
            if message_id is None:
                return
            row = self._messages().select_for_update().filter(pk=message_id).first()
            if row is None:
                return
            message_changes: dict[str, Any] = {
                **tokens,
                "usage_ids": [*cast(list[str], row.usage_ids or []), record.id],
            }
            if record.cost is not None:
                field = self.models[1]._meta.get_field("cost")
                message_changes["cost"] = Coalesce(F("cost"), Value(Decimal(0), output_field=field)) + record.cost
            self._messages().filter(pk=message_id).update(**message_changes)
