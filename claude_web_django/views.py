"""Ready chat views: validate a JSON chat body, check the quota, stream the answer as SSE.

``POST`` a body like ``{"messages": [{"role": "user", "content": "Hi"}], "model": "claude-haiku-4-5",
"max_tokens": 512}``. Answers:

- ``200 text/event-stream``: events ``start``, ``text``..., ``done`` (or ``error`` with a safe message);
- ``400`` ``{"error": {"type": "invalid_request", "field": ..., "message": ...}}`` for a bad body;
- ``401`` ``{"error": {"type": "authentication_required", ...}}`` when login is required (the default);
- ``429`` ``{"error": {"type": "quota_exceeded", ...}}`` with ``Retry-After``;
- ``403`` from Django's CSRF protection when the token is missing (the views are not CSRF-exempt).

>>> urlpatterns = [path("chat/", ChatStreamView.as_view()),                 # WSGI or ASGI
...                path("achat/", AsyncChatStreamView.as_view())]          # ASGI, no thread hop

Subclass to change the policy (``get_policy``), the upstream parameters (``get_params``, e.g. to add your
system prompt), the client alias or the quota key.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.views import View

from claude_web.chat import ChatPolicy, ChatRequestError
from claude_web.quotas import QuotaExceeded

from .clients import request_context
from .conf import claude_settings
from .quotas import check_quota, quota_exceeded_response
from .streaming import astream_chat, stream_chat

__all__ = ["AsyncChatStreamView", "ChatStreamView"]

log = logging.getLogger("claude_web_django.views")


def _unauthenticated() -> JsonResponse:
    return JsonResponse(
        {"error": {"type": "authentication_required", "message": "Log in to use the chat."}}, status=401
    )


class _ChatViewMixin:
    """What the sync and async views share (no I/O here)."""

    #: ``None``: ``CLAUDE_WEB["CHAT"]["LOGIN_REQUIRED"]`` (default ``True``)
    login_required: bool | None = None
    #: ``None``: ``CLAUDE_WEB["CHAT"]["CLIENT"]`` (default ``"default"``)
    client_alias: str | None = None
    #: seconds between heartbeats; ``None``: ``CLAUDE_WEB["STREAMING"]["HEARTBEAT"]``
    heartbeat: float | None = None

    def needs_login(self) -> bool:
        return claude_settings().chat.login_required if self.login_required is None else self.login_required

    def get_alias(self) -> str:
        return self.client_alias or claude_settings().chat.client

    def get_policy(self) -> ChatPolicy:
        return claude_settings().chat.policy()

    def get_params(self, request: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``messages.stream``; override to add a system prompt, tools..."""
        return params

    def get_quota_key(self, request: Any, user: Any) -> str:
        return str(request_context(request, self.get_alias(), user)["quota_key"])

    def validate(self, request: Any) -> dict[str, Any] | JsonResponse:
        try:
            return self.get_policy().validate(request.body)
        except ChatRequestError as exc:
            return JsonResponse(exc.to_dict(), status=400)


class ChatStreamView(_ChatViewMixin, View):
    """The sync chat view; under ASGI it still streams from an async iterator (see :func:`stream_chat`)."""

    http_method_names = ["post", "options"]

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        if self.needs_login() and not getattr(user, "is_authenticated", False):
            return _unauthenticated()
        params = self.validate(request)
        if isinstance(params, JsonResponse):
            return params
        try:
            check_quota(self.get_quota_key(request, user))
        except QuotaExceeded as exc:
            return quota_exceeded_response(exc)
        return stream_chat(request, self.get_params(request, params), alias=self.get_alias(), heartbeat=self.heartbeat)


class AsyncChatStreamView(_ChatViewMixin, View):
    """The async chat view for ASGI: the per-loop async client, no thread hop for the stream."""

    http_method_names = ["post", "options"]

    async def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        auser = getattr(request, "auser", None)
        user = await auser() if auser is not None else getattr(request, "user", None)
        if self.needs_login() and not getattr(user, "is_authenticated", False):
            return _unauthenticated()
        params = self.validate(request)
        if isinstance(params, JsonResponse):
            return params
        try:
            await sync_to_async(check_quota)(self.get_quota_key(request, user))
        except QuotaExceeded as exc:
            return quota_exceeded_response(exc)
        return await astream_chat(
            request, self.get_params(request, params), alias=self.get_alias(), heartbeat=self.heartbeat
        )
