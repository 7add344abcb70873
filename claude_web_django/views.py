"""Ready chat views over the web layer's chat handler (:func:`claude_web.web.handlers.chat_stream`).

``POST`` a JSON body like ``{"messages": [{"role": "user", "content": "Hi"}], "model": "claude-haiku-4-5",
"max_tokens": 512}`` with ``Content-Type: application/json``. Answers:

- ``200 text/event-stream``: events ``start``, ``text``..., ``done`` (or ``error`` with a safe message); with
  ``protocol = "ai-sdk"`` (or ``?protocol=ai-sdk``) the AI SDK's UI message stream, and the body is ``useChat``'s;
- ``400`` ``{"error": {"type": "invalid_request", "field": ..., "message": ...}}`` for a bad body (also one
  larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``);
- ``401`` ``{"error": {"type": "authentication_required", ...}}`` when login is required (the default);
- ``415`` for a body that is not ``application/json``;
- ``429`` ``{"error": {"type": "quota_exceeded", ...}}`` with ``Retry-After``;
- ``503`` with ``Retry-After`` beyond ``STREAMING["MAX_STREAMS"]`` concurrent streams;
- ``403`` from Django's CSRF protection when the token is missing (the views are not CSRF-exempt).

>>> urlpatterns = [path("chat/", ChatStreamView.as_view()),                 # WSGI or ASGI
...                path("achat/", AsyncChatStreamView.as_view())]          # ASGI, no thread hop for the stream

Subclass to change the policy (``get_policy``), the upstream parameters (``get_params``, e.g. to add your
system prompt), the client alias or the quota key.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpResponseBase
from django.views import View
from django.views.decorators.http import require_GET

from claude_web.web.chat import ChatPolicy
from claude_web.web.handlers import ChatOptions, capacity_refusal, chat_stream, usage_report
from claude_web.web.http import WebRequest

from .conf import claude_settings
from .http import aweb_request, django_response, is_asgi, web_request
from .runtime import get_runtime
from .usage_rows import usage_rows

__all__ = ["AsyncChatStreamView", "ChatStreamView", "usage_view"]


class _ChatViewMixin:
    """What the sync and async views share: the options of the chat handler."""

    #: ``None``: ``CLAUDE_WEB["CHAT"]["LOGIN_REQUIRED"]`` (default ``True``)
    login_required: bool | None = None
    #: ``None``: ``CLAUDE_WEB["CHAT"]["CLIENT"]`` (default ``"default"``)
    client_alias: str | None = None
    #: seconds between heartbeats; ``None``: ``CLAUDE_WEB["STREAMING"]["HEARTBEAT"]``
    heartbeat: float | None = None
    #: the stream protocol: ``None``/``"events"`` (ours) or ``"ai-sdk"`` (``as_view(protocol="ai-sdk")``)
    protocol: str | None = None

    def get_alias(self) -> str:
        return self.client_alias or claude_settings().chat.client

    def get_policy(self) -> ChatPolicy:
        policy: ChatPolicy = get_runtime().chat_policy
        return policy

    def get_params(self, request: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``messages.stream``; override to add a system prompt, tools..."""
        return params

    def get_quota_key(self, request: Any, neutral: WebRequest) -> str:
        return neutral.quota_key

    def chat_options(self, request: Any) -> ChatOptions:
        return ChatOptions(
            alias=self.get_alias(),
            policy=self.get_policy(),
            login_required=self.login_required,
            prepare=lambda neutral, params: self.get_params(request, params),
            quota_key=lambda neutral: self.get_quota_key(request, neutral),
            heartbeat=self.heartbeat,
            protocol=self.protocol,
        )


class ChatStreamView(_ChatViewMixin, View):
    """The sync chat view; under ASGI it still streams from an async iterator on the serving loop."""

    http_method_names = ["post", "options"]

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = chat_stream(
            get_runtime(), web_request(request), self.chat_options(request), asynchronous=is_asgi(request)
        )
        return django_response(response)


class AsyncChatStreamView(_ChatViewMixin, View):
    """The async chat view for ASGI: checks in one thread hop, the stream on the loop's own client."""

    http_method_names = ["post", "options"]

    async def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        runtime = get_runtime()
        refused = capacity_refusal(runtime)  # a full process answers on the loop, before any thread hop
        if refused is not None:
            return django_response(refused)
        neutral = await aweb_request(request)
        response = await sync_to_async(chat_stream)(runtime, neutral, self.chat_options(request), asynchronous=True)
        return django_response(response)


@require_GET
def usage_view(request: Any) -> HttpResponseBase:
    """``GET ?since=7d&until=...&by=day,model``: the signed-in user's usage totals (see
    :func:`claude_web.web.handlers.usage_report`)."""
    return django_response(usage_report(get_runtime(), web_request(request, read_body=False), usage_rows))
