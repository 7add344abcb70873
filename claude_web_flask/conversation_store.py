"""Conversations under Flask: Flask-SQLAlchemy models on the app's ``db``, and the store that uses them.

:func:`conversation_models` defines two models on your ``db.Model`` (tables ``<prefix>conversation`` and
``<prefix>message``, prefix ``CLAUDE_WEB_CONVERSATIONS_TABLE_PREFIX``, default ``claude_web_``), so
``db.create_all()``, Alembic and your own queries see them::

    from claude_web_flask.conversation_store import conversation_models
    Conversation, ChatMessage = conversation_models(db)
    Conversation.query.filter_by(owner=f"user:{current_user.id}").count()

:class:`SQLAlchemyConversationStore` reads and writes them with SQLAlchemy Core on the engine, each call in its
own short transaction, outside the request's ``db.session`` (a worker thread, a Celery task and a streaming
response have no request context). With ``CLAUDE_WEB_CONVERSATIONS_CREATE_TABLES`` on (the default) it creates
the tables on first use.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from claude_web.usage import UsageRecord
from claude_web.web.conversations.records import (
    TOKEN_FIELDS,
    ChatMessage,
    Conversation,
    MessageStatus,
    conversation_changes,
    new_conversation_id,
    now,
)

__all__ = ["SQLAlchemyConversationStore", "conversation_models"]

_made: weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, Any]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _token(label: str) -> sa.Column[int]:
    return sa.Column(label, sa.BigInteger, nullable=False, default=0, server_default=sa.text("0"))


def conversation_models(db: Any, prefix: str = "claude_web_") -> tuple[Any, Any]:
    """``(Conversation, ChatMessage)`` models on ``db`` (a ``flask_sqlalchemy.SQLAlchemy``), made once per
    ``db`` and prefix."""
    with _lock:
        per_db = _made.setdefault(db, {})
        if prefix in per_db:
            return per_db[prefix]
        suffix = "" if prefix == "claude_web_" else "_" + prefix.strip("_")
        conversation_attrs: dict[str, Any] = {
            "__tablename__": f"{prefix}conversation",
            "id": sa.Column(sa.String(32), primary_key=True, default=new_conversation_id),
            "owner": sa.Column(sa.String(128), nullable=False, index=True),
            "user_id": sa.Column(sa.String(255), nullable=True, index=True),
            "title": sa.Column(sa.String(200), nullable=False, default=""),
            "assistant": sa.Column(sa.String(64), nullable=False),
            "model": sa.Column(sa.String(128), nullable=False),
            "created_at": sa.Column(sa.DateTime(timezone=True), nullable=False, default=now),
            "updated_at": sa.Column(sa.DateTime(timezone=True), nullable=False, default=now, index=True),
            "message_count": sa.Column(sa.Integer, nullable=False, default=0),
            **{name: _token(name) for name in TOKEN_FIELDS},
            "cost": sa.Column(sa.Numeric(20, 8), nullable=False, default=Decimal(0)),
            "unpriced_calls": sa.Column(sa.Integer, nullable=False, default=0),
            "turn_job_id": sa.Column(sa.String(64), nullable=False, default=""),
            "deleted_at": sa.Column(sa.DateTime(timezone=True), nullable=True),
        }
        conversation = type(f"ClaudeWebConversation{suffix}", (db.Model,), conversation_attrs)
        message_attrs: dict[str, Any] = {
            "__tablename__": f"{prefix}message",
            "id": sa.Column(sa.Integer, primary_key=True, autoincrement=True),
            "conversation_id": sa.Column(
                sa.String(32), sa.ForeignKey(f"{prefix}conversation.id", ondelete="CASCADE"), nullable=False, index=True
            ),
            "role": sa.Column(sa.String(16), nullable=False),
            "content": sa.Column(sa.JSON, nullable=False, default=list),
            "status": sa.Column(sa.String(16), nullable=False, default="complete"),
            "job_id": sa.Column(sa.String(64), nullable=False, default="", index=True),
            "model": sa.Column(sa.String(128), nullable=False, default=""),
            "stop_reason": sa.Column(sa.String(32), nullable=False, default=""),
            "created_at": sa.Column(sa.DateTime(timezone=True), nullable=False, default=now),
            "usage_ids": sa.Column(sa.JSON, nullable=False, default=list),
            **{name: _token(name) for name in TOKEN_FIELDS},
            "cost": sa.Column(sa.Numeric(20, 8), nullable=True),
        }
        message = type(f"ClaudeWebChatMessage{suffix}", (db.Model,), message_attrs)
        per_db[prefix] = (conversation, message)
        return conversation, message


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)  # SQLite gives naive datetimes back
    return value


class SQLAlchemyConversationStore:
    """A :class:`~claude_web.web.conversations.ConversationStore` on two tables and an engine."""

    def __init__(self, engine: sa.engine.Engine, conversations: sa.Table, messages: sa.Table, *, create: bool) -> None:
        self.engine = engine
        self.conversations = conversations
        self.messages_table = messages
        self._create = create
        self._created = False
        self._lock = threading.Lock()

    def _ready(self) -> None:
        if self._created or not self._create:
            return
        with self._lock:
            if not self._created:
                self.conversations.metadata.create_all(
                    self.engine, tables=[self.conversations, self.messages_table], checkfirst=True
                )
                self._created = True

    @staticmethod
    def _conversation(row: Any) -> Conversation:
        m = row._mapping
        return Conversation(
            id=m["id"],
            owner=m["owner"],
            assistant=m["assistant"],
            model=m["model"],
            title=m["title"] or "",
            user_id=m["user_id"],
            created_at=_aware(m["created_at"]) or now(),
            updated_at=_aware(m["updated_at"]) or now(),
            message_count=m["message_count"],
            **{name: int(m[name]) for name in TOKEN_FIELDS},
            cost=Decimal(m["cost"] or 0),
            unpriced_calls=m["unpriced_calls"],
            turn_job_id=m["turn_job_id"] or None,
            deleted=m["deleted_at"] is not None,
        )

    @staticmethod
    def _message(row: Any) -> ChatMessage:
        m = row._mapping
        return ChatMessage(
            id=m["id"],
            conversation_id=m["conversation_id"],
            role=m["role"],
            content=list(m["content"] or []),
            status=m["status"],
            job_id=m["job_id"] or None,
            model=m["model"] or None,
            stop_reason=m["stop_reason"] or None,
            created_at=_aware(m["created_at"]) or now(),
            usage_ids=list(m["usage_ids"] or []),
            **{name: int(m[name]) for name in TOKEN_FIELDS},
            cost=None if m["cost"] is None else Decimal(m["cost"]),
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
        self._ready()
        c = self.conversations.c
        conversation_id = conversation_id or new_conversation_id()
        stamp = now()
        with self.engine.begin() as conn:
            conn.execute(
                self.conversations.insert().values(
                    id=conversation_id, owner=owner, user_id=user_id, assistant=assistant, model=model, title=title,
                    created_at=stamp, updated_at=stamp,
                )
            )  # fmt: skip
            row = conn.execute(sa.select(self.conversations).where(c.id == conversation_id)).one()
        return self._conversation(row)

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        self._ready()
        c = self.conversations.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.conversations).where(c.id == conversation_id)).first()
        return None if row is None else self._conversation(row)

    def list_conversations(self, owner: str, *, offset: int, limit: int) -> list[Conversation]:
        self._ready()
        c = self.conversations.c
        query = (
            sa.select(self.conversations)
            .where(c.owner == owner, c.deleted_at.is_(None))
            .order_by(c.updated_at.desc(), c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [self._conversation(row) for row in conn.execute(query)]

    def update_conversation(
        self, conversation_id: str, *, title: str | None = None, deleted: bool | None = None
    ) -> None:
        self._ready()
        changes = conversation_changes(now(), title=title, deleted=deleted)
        with self.engine.begin() as conn:
            conn.execute(
                self.conversations.update().where(self.conversations.c.id == conversation_id).values(**changes)
            )

    def claim_turn(self, conversation_id: str, job_id: str, expected: str | None) -> bool:
        self._ready()
        c = self.conversations.c
        statement = (
            self.conversations.update()
            .where(c.id == conversation_id, c.turn_job_id == (expected or ""))
            .values(turn_job_id=job_id)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(statement).rowcount)

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
        self._ready()
        table, c = self.messages_table, self.conversations.c
        stamp = now()
        with self.engine.begin() as conn:
            result = conn.execute(
                table.insert().values(
                    conversation_id=conversation_id, role=role, content=[dict(b) for b in content], status=status,
                    job_id=job_id or "", model=model or "", stop_reason="", created_at=stamp, usage_ids=[],
                )
            )  # fmt: skip
            message_id = result.inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                self.conversations.update()
                .where(c.id == conversation_id)
                .values(message_count=c.message_count + 1, updated_at=stamp)
            )
            row = conn.execute(sa.select(table).where(table.c.id == message_id)).one()
        return self._message(row)

    def update_message(
        self,
        message_id: int,
        *,
        content: Sequence[Mapping[str, Any]] | None = None,
        status: MessageStatus | None = None,
        stop_reason: str | None = None,
    ) -> None:
        self._ready()
        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = [dict(b) for b in content]
        if status is not None:
            changes["status"] = status
        if stop_reason is not None:
            changes["stop_reason"] = stop_reason[:32]
        if not changes:
            return
        table = self.messages_table
        with self.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == message_id).values(**changes))

    def messages(self, conversation_id: str) -> list[ChatMessage]:
        self._ready()
        table = self.messages_table
        query = sa.select(table).where(table.c.conversation_id == conversation_id).order_by(table.c.id)
        with self.engine.connect() as conn:
            return [self._message(row) for row in conn.execute(query)]

    def add_usage(self, conversation_id: str, message_id: int | None, record: UsageRecord) -> None:
        self._ready()
        c, table = self.conversations.c, self.messages_table
        with self.engine.begin() as conn:
            changes: dict[str, Any] = {name: c[name] + int(getattr(record, name)) for name in TOKEN_FIELDS}
            if record.cost is None:
                changes["unpriced_calls"] = c.unpriced_calls + 1
            else:
                changes["cost"] = c.cost + record.cost
            conn.execute(self.conversations.update().where(c.id == conversation_id).values(**changes))
            if message_id is None:
                return
            row = conn.execute(
                sa.select(table.c.usage_ids, table.c.cost).where(table.c.id == message_id).with_for_update()
            ).first()
            if row is None:
                return
            m = table.c
            message_changes: dict[str, Any] = {name: m[name] + int(getattr(record, name)) for name in TOKEN_FIELDS}
            message_changes["usage_ids"] = [*(row.usage_ids or []), record.id]
            if record.cost is not None:
                message_changes["cost"] = sa.func.coalesce(m.cost, 0) + record.cost
            conn.execute(table.update().where(m.id == message_id).values(**message_changes))
