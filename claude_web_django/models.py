"""The usage ledger (one :class:`TokenUsage` row per upstream call) and stored conversations.

:class:`AbstractTokenUsage` has every column; subclass it to keep usage next to your own rows::

    class TurnUsage(AbstractTokenUsage):
        conversation = models.ForeignKey(MyThread, on_delete=models.CASCADE)

    TurnUsage.from_record(record, conversation=conv).save()

:class:`Conversation` and :class:`ChatMessage` keep the conversations of :mod:`claude_web_django.conversations`.
To add your own columns, subclass :class:`AbstractConversation` and :class:`AbstractChatMessage` (the message
model needs ``conversation = models.ForeignKey(YourConversation, on_delete=models.CASCADE,
related_name="messages")``) and name them in ``CLAUDE_WEB["CONVERSATIONS"]["CONVERSATION_MODEL"]`` /
``["MESSAGE_MODEL"]`` (``"app_label.ModelName"``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claude_web.types import CacheCreation, ServerToolUsage, Usage
from claude_web.usage import UsageRecord, json_safe
from claude_web.web.conversations.records import new_conversation_id

from .fields import CostField, TokenCountField

__all__ = [
    "AbstractChatMessage",
    "AbstractConversation",
    "AbstractTokenUsage",
    "BudgetCounter",
    "BudgetMarker",
    "BudgetReservation",
    "ChatMessage",
    "Conversation",
    "MessageStatus",
    "TokenUsage",
    "UsageStatus",
]


class UsageStatus(models.TextChoices):
    OK = "ok", _("ok")
    ERROR = "error", _("error")
    ABORTED = "aborted", _("aborted")


class AbstractTokenUsage(models.Model):
    """What one upstream call cost and how it went (the columns of :class:`claude_web.usage.UsageRecord`).

    ``cost`` is the sum of ``cost_input``, ``cost_output``, ``cost_cache_write``, ``cost_cache_read`` and
    ``cost_tools`` (each rounded to 1e-8 USD); all are empty when the model has no price.
    """

    created_at = models.DateTimeField(_("created at"), db_index=True)
    record_id = models.CharField(_("record id"), max_length=32, unique=True, editable=False)
    operation = models.CharField(_("operation"), max_length=64)
    model = models.CharField(_("model"), max_length=128, blank=True, db_index=True)
    backend = models.CharField(_("backend"), max_length=32, blank=True)
    alias = models.CharField(_("client alias"), max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="%(app_label)s_%(class)s_set",
    )
    status = models.CharField(_("status"), max_length=16, choices=UsageStatus.choices, db_index=True)
    input_tokens = TokenCountField(_("input tokens"))
    output_tokens = TokenCountField(_("output tokens"))
    cache_creation_input_tokens = TokenCountField(_("cache write tokens"))
    cache_read_input_tokens = TokenCountField(_("cache read tokens"))
    cache_creation_1h_input_tokens = TokenCountField(
        _("1-hour cache write tokens"), help_text=_("The share of the cache write tokens written for 1 hour.")
    )
    web_search_requests = models.PositiveIntegerField(_("web searches"), default=0)
    web_fetch_requests = models.PositiveIntegerField(_("web fetches"), default=0)
    cost = CostField(_("cost (USD)"), null=True, blank=True, help_text=_("Empty when the model has no price."))
    cost_input = CostField(_("input cost (USD)"), null=True, blank=True)
    cost_output = CostField(_("output cost (USD)"), null=True, blank=True)
    cost_cache_write = CostField(
        _("cache write cost (USD)"), null=True, blank=True, help_text=_("5-minute and 1-hour writes.")
    )
    cost_cache_read = CostField(_("cache read cost (USD)"), null=True, blank=True)
    cost_tools = CostField(_("server tool cost (USD)"), null=True, blank=True, help_text=_("Web search."))
    estimated = models.BooleanField(
        _("estimated"), default=False, help_text=_("The token counts were not all reported by the API.")
    )
    latency_ms = models.FloatField(_("latency (ms)"), default=0.0)
    time_to_first_token_ms = models.FloatField(_("time to first token (ms)"), null=True, blank=True)
    error_type = models.CharField(_("error type"), max_length=64, blank=True)
    request_id = models.CharField(_("upstream request id"), max_length=128, blank=True)
    web_request_id = models.CharField(_("web request id"), max_length=64, blank=True, db_index=True)
    context = models.JSONField(_("context"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.operation} {self.model or '?'} {self.status} ({self.total_tokens} tokens)"

    @property
    def total_tokens(self) -> int:
        return int(
            self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
        )

    @property
    def usage(self) -> Usage:
        """The token counts as a :class:`claude_web.types.Usage`."""
        one_hour = int(self.cache_creation_1h_input_tokens)
        searches, fetches = int(self.web_search_requests), int(self.web_fetch_requests)
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens,
            cache_creation=CacheCreation(
                ephemeral_5m_input_tokens=max(int(self.cache_creation_input_tokens) - one_hour, 0),
                ephemeral_1h_input_tokens=one_hour,
            ),
            server_tool_use=(
                ServerToolUsage(web_search_requests=searches, web_fetch_requests=fetches)
                if searches or fetches
                else None
            ),
        )

    @classmethod
    def from_record(cls, record: UsageRecord, *, store_context: bool = True, **extra: Any) -> Any:
        """An unsaved row for ``record``; ``extra`` sets your own columns (e.g. ``conversation=conv``)."""
        context = record.context or {}
        values: dict[str, Any] = {
            "created_at": record.created_at,
            "record_id": record.id,
            "operation": record.operation[:64],
            "model": (record.model or "")[:128],
            "backend": str(context.get("backend") or record.backend or "")[:32],
            "alias": str(context.get("alias") or "")[:64],
            "status": record.status,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "cache_creation_input_tokens": record.cache_creation_input_tokens,
            "cache_read_input_tokens": record.cache_read_input_tokens,
            "cache_creation_1h_input_tokens": record.cache_creation_1h_input_tokens,
            "web_search_requests": record.web_search_requests,
            "web_fetch_requests": record.web_fetch_requests,
            **{name: _cost(getattr(record, name)) for name in _COSTS},
            "estimated": record.estimated,
            "latency_ms": record.latency_ms,
            "time_to_first_token_ms": record.time_to_first_token_ms,
            "error_type": (record.error_type or "")[:64],
            "request_id": (record.request_id or "")[:128],
            "web_request_id": str(context.get("request_id") or "")[:64],
            "context": json_safe(context) if store_context else {},
        }
        user_id = context.get("user_id")
        if user_id is not None and not isinstance(user_id, bool) and "user" not in extra:
            values["user_id"] = user_id
        values.update(extra)
        return cls(**values)


_COSTS = ("cost", "cost_input", "cost_output", "cost_cache_write", "cost_cache_read", "cost_tools")


def _cost(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


class TokenUsage(AbstractTokenUsage):
    """The app's own ledger, written by the ``usage_recorded`` receiver."""

    class Meta(AbstractTokenUsage.Meta):
        verbose_name = _("token usage")
        verbose_name_plural = _("token usage")
        indexes = [
            models.Index(fields=["user", "created_at"], name="claude_web_user_created_idx"),
            models.Index(fields=["model", "created_at"], name="claude_web_model_created_idx"),
        ]


class MessageStatus(models.TextChoices):
    COMPLETE = "complete", _("complete")
    PARTIAL = "partial", _("partial")
    ERROR = "error", _("error")


class AbstractConversation(models.Model):
    """A conversation kept on the server: owner, title, assistant (the reference to its server-side system prompt
    and tools), model, and running totals of tokens and cost (added from the usage records of its calls)."""

    id = models.CharField(_("id"), primary_key=True, max_length=32, default=new_conversation_id, editable=False)
    owner = models.CharField(
        _("owner"),
        max_length=128,
        db_index=True,
        help_text=_("user:42 for a signed-in user, session:... for a visitor."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="%(app_label)s_%(class)s_set",
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    assistant = models.CharField(_("assistant"), max_length=64)
    model = models.CharField(_("model"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    input_tokens = TokenCountField(_("input tokens"))
    output_tokens = TokenCountField(_("output tokens"))
    cache_creation_input_tokens = TokenCountField(_("cache write tokens"))
    cache_read_input_tokens = TokenCountField(_("cache read tokens"))
    cost = CostField(_("cost (USD)"), default=Decimal(0), help_text=_("The sum of its priced calls."))
    unpriced_calls = models.PositiveIntegerField(
        _("unpriced calls"), default=0, help_text=_("Calls to a model without a price (not in the cost).")
    )
    turn_job_id = models.CharField(_("latest turn"), max_length=64, blank=True, default="", editable=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-updated_at",)

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"

    @property
    def total_tokens(self) -> int:
        return int(
            self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
        )


class AbstractChatMessage(models.Model):
    """One message of a conversation: role, the content blocks as sent to or received from the API, a status,
    and the usage records (``TokenUsage.record_id``) of the calls that produced it."""

    role = models.CharField(_("role"), max_length=16)
    content = models.JSONField(_("content"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.COMPLETE)
    job_id = models.CharField(_("turn"), max_length=64, blank=True, default="", db_index=True)
    model = models.CharField(_("model"), max_length=128, blank=True)
    stop_reason = models.CharField(_("stop reason"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    usage_ids = models.JSONField(_("usage records"), default=list, blank=True)
    input_tokens = TokenCountField(_("input tokens"))
    output_tokens = TokenCountField(_("output tokens"))
    cache_creation_input_tokens = TokenCountField(_("cache write tokens"))
    cache_read_input_tokens = TokenCountField(_("cache read tokens"))
    cost = CostField(_("cost (USD)"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.role} #{self.pk} ({self.status})"


class Conversation(AbstractConversation):
    """The app's own conversations (see :mod:`claude_web_django.conversations`)."""

    class Meta(AbstractConversation.Meta):
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["owner", "updated_at"], name="claude_web_conv_owner_idx")]


class ChatMessage(AbstractChatMessage):
    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="messages"
    )

    class Meta(AbstractChatMessage.Meta):
        verbose_name = _("message")
        verbose_name_plural = _("messages")


# ---------------------------------------------------------------------------------------------------------------
# budgets kept in the database (QUOTAS STORE "database", or a cache that is not Redis): the tables of
# claude_web.web.budgets.SqlBudgetStore, which reads and writes them with plain SQL and row locks


class BudgetCounter(models.Model):
    """One budget counter (settled use and the holds of calls in flight) or one requests-per-minute window."""

    name = models.CharField(_("name"), max_length=191, primary_key=True)
    used = models.BigIntegerField(_("used"), default=0)
    held = models.BigIntegerField(_("held"), default=0)
    stamps = models.TextField(_("request times"), blank=True, default="")
    expires_at = models.FloatField(_("expires at (epoch seconds)"))

    class Meta:
        db_table = "claude_web_budget_counter"
        verbose_name = _("budget counter")


class BudgetReservation(models.Model):
    """What a call in flight holds on each counter, until it settles or ``expires_at`` passes (then it is swept)."""

    id = models.CharField(_("id"), max_length=64, primary_key=True)
    holds = models.TextField(_("holds"))
    expires_at = models.FloatField(_("expires at (epoch seconds)"), db_index=True)

    class Meta:
        db_table = "claude_web_budget_reservation"
        verbose_name = _("budget reservation")


class BudgetMarker(models.Model):
    """A fact remembered for a while: a settled usage record, a finished reservation, an alert sent."""

    name = models.CharField(_("name"), max_length=191, primary_key=True)
    expires_at = models.FloatField(_("expires at (epoch seconds)"), db_index=True)

    class Meta:
        db_table = "claude_web_budget_marker"
        verbose_name = _("budget marker")
