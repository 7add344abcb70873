"""The admin of stored conversations: owner, messages, tokens and cost in the list; a read-only transcript (every
message with its status, tool calls and results, tokens and cost, and links to its usage rows) on the page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from claude_web.web.formatting import format_money, format_tokens

from .models import ChatMessage, Conversation

__all__ = ["ConversationAdmin", "render_transcript"]

if TYPE_CHECKING:
    _ConversationAdminBase = admin.ModelAdmin[Conversation]
else:
    _ConversationAdminBase = admin.ModelAdmin


def _block_html(block: dict[str, Any]) -> SafeString:
    kind = block.get("type")
    if kind == "text":
        return format_html('<div class="cw-text">{}</div>', block.get("text", ""))
    if kind == "tool_use":
        payload = json.dumps(block.get("input"), ensure_ascii=False, indent=1)
        return format_html("<div>Tool call <code>{}</code><pre>{}</pre></div>", block.get("name"), payload)
    if kind == "tool_result":
        content = block.get("content")
        shown = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, indent=1)
        label = "Tool error" if block.get("is_error") else "Tool result"
        return format_html("<div>{} <pre>{}</pre></div>", label, shown)
    if kind == "thinking":
        return format_html('<div class="cw-muted"><em>Thinking:</em> {}</div>', block.get("thinking", ""))
    return format_html('<div class="cw-muted">[{}]</div>', kind)


def render_transcript(messages: list[Any], usage_url: str | None = None) -> SafeString:
    """The messages of a conversation as read-only HTML (everything escaped)."""
    if not messages:
        return format_html('<p class="cw-muted">{}</p>', "No messages yet.")
    parts = []
    for message in messages:
        role = "tool results" if message.role == "user" and _only_results(message.content) else message.role
        meta = [message.status]
        if message.role == "assistant":
            meta.append(f"{format_tokens(message.input_tokens)} in · {format_tokens(message.output_tokens)} out")
            meta.append(format_money(message.cost))
        usage = ""
        if usage_url and message.usage_ids:
            ids = ",".join(message.usage_ids)
            usage = format_html(' · <a href="{}?record_id__in={}">usage rows</a>', usage_url, ids)
        blocks = format_html_join("", "{}", ((_block_html(b),) for b in message.content if isinstance(b, dict)))
        parts.append(
            format_html(
                '<div class="cw-message cw-{} cw-{}" id="message-{}"><span class="cw-role">{}</span>'
                '<span class="cw-meta">#{} · {}{}</span>{}</div>',
                message.role,
                message.status,
                message.pk,
                role,
                message.pk,
                " · ".join(meta),
                usage,
                blocks,
            )
        )
    return format_html('<div class="cw-transcript">{}</div>', format_html_join("", "{}", ((p,) for p in parts)))


def _only_results(content: Any) -> bool:
    return bool(content) and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


@admin.register(Conversation)
class ConversationAdmin(_ConversationAdminBase):
    list_display = ("title_or_id", "user", "owner", "assistant", "messages", "tokens", "money", "updated_at", "deleted")
    list_filter = (
        "assistant",
        "model",
        ("deleted_at", admin.EmptyFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    )
    search_fields = ("id", "title", "owner")
    list_select_related = ("user",)
    date_hierarchy = "updated_at"
    ordering = ("-updated_at",)
    fields = (
        "id", "title", "owner", "user", "assistant", "model", "created_at", "updated_at", "deleted_at",
        "message_count", "totals", "transcript",
    )  # fmt: skip
    readonly_fields = fields

    class Media:
        css = {"all": ("claude_web/admin.css",)}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="conversation", ordering="title")
    def title_or_id(self, obj: Conversation) -> str:
        return obj.title or f"({obj.pk})"

    @admin.display(description="messages", ordering="message_count")
    def messages(self, obj: Conversation) -> str:
        return format_tokens(obj.message_count)

    @admin.display(description="tokens", ordering=F("input_tokens") + F("output_tokens"))
    def tokens(self, obj: Conversation) -> str:
        return format_html('<span class="cw-nowrap">{}</span>', format_tokens(obj.total_tokens))

    @admin.display(description="cost", ordering="cost")
    def money(self, obj: Conversation) -> str:
        shown = format_money(obj.cost) + (" + unpriced" if obj.unpriced_calls else "")
        return format_html('<span class="cw-nowrap" title="{} USD">{}</span>', obj.cost, shown)

    @admin.display(description="deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj: Conversation) -> bool:
        return obj.deleted_at is not None

    @admin.display(description="totals")
    def totals(self, obj: Conversation) -> str:
        return format_html(
            "{} in · {} out · cache {} read · {} written · {}",
            format_tokens(obj.input_tokens),
            format_tokens(obj.output_tokens),
            format_tokens(obj.cache_read_input_tokens),
            format_tokens(obj.cache_creation_input_tokens),
            format_money(obj.cost),
        )

    @admin.display(description="transcript")
    def transcript(self, obj: Conversation) -> SafeString:
        messages = list(ChatMessage.objects.filter(conversation=obj).order_by("pk"))
        try:
            usage_url = reverse(f"{self.admin_site.name}:claude_web_tokenusage_changelist")
        except Exception:
            usage_url = None
        return render_transcript(messages, usage_url)
