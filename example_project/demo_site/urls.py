from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat", permanent=False)),
    path("", include("chat.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("claude/", include("claude_web_django.urls")),
    path("jobs/", include("claude_web_django.jobs")),
    path("conversations/", include("claude_web_django.conversations")),
    path("admin/", admin.site.urls),
]
