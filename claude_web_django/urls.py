"""``path("claude/", include("claude_web_django.urls"))`` gives ``claude_web:chat`` and ``claude_web:achat``."""

from __future__ import annotations

from django.urls import path

from .views import AsyncChatStreamView, ChatStreamView

app_name = "claude_web"

urlpatterns = [
    path("chat/", ChatStreamView.as_view(), name="chat"),
    path("achat/", AsyncChatStreamView.as_view(), name="achat"),
]
