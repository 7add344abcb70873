"""``path("claude/", include("claude_web_django.urls"))`` gives ``claude_web:chat``, ``claude_web:achat`` and
``claude_web:usage`` (the signed-in user's usage as JSON: ``?since=7d&by=day,model``)."""

from __future__ import annotations

from django.urls import path

from .views import AsyncChatStreamView, ChatStreamView, usage_view

app_name = "claude_web"

urlpatterns = [
    path("chat/", ChatStreamView.as_view(), name="chat"),
    path("achat/", AsyncChatStreamView.as_view(), name="achat"),
    path("usage/", usage_view, name="usage"),
]
