"""URLs of the Django parity server (see ``parity_server.py``): claude-web's own URLconfs at ``/claude/``,
``/claude/jobs/`` and ``/claude/conversations/``, a login and the usage rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import ensure_csrf_cookie
from parity_server import django_rows


@ensure_csrf_cookie
def login_view(request: HttpRequest) -> Any:
    """GET: the CSRF cookie; POST ``username``, ``password`` (with the CSRF token): a session."""
    if request.method != "POST":
        return JsonResponse({})
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return JsonResponse({"error": "bad login"}, status=403)
    login(request, user)
    return JsonResponse({"user_id": user.pk})


def rows_view(request: HttpRequest) -> Any:
    return JsonResponse(django_rows(), safe=False)


urlpatterns = [
    path("claude/", include("claude_web_django.urls")),
    path("claude/jobs/", include("claude_web_django.jobs")),
    path("claude/conversations/", include("claude_web_django.conversations")),
    path("accounts/login/", login_view),
    path("parity/rows/", rows_view),
]
