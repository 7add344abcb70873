from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("claude/", include("claude_web_django.urls"))]
