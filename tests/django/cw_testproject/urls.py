from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("claude/", include("claude_web_django.urls")),
    path("claude/conversations/", include("claude_web_django.conversations")),
    path("plain/", views.plain_create, name="plain_create"),
    path("aplain/", views.aplain_create, name="aplain_create"),
]
