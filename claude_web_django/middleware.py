"""``request.claude`` and ``request.aclaude``: per-request clients, built lazily on first use.

>>> MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
...               "claude_web_django.middleware.ClaudeMiddleware"]
>>> def view(request):
...     message = request.claude.messages.create(model=..., max_tokens=256, messages=[...])

Both are cheap views (``with_options``) of the process clients for ``CLAUDE_WEB["CHAT"]["CLIENT"]``: they share
its connection pool and put the user, the request id and the alias into every usage record. ``request.aclaude``
must be first used inside the event loop (an async view); it records the user if it was already loaded (e.g. by
``await request.auser()``), otherwise use ``await claude_web_django.aclient_for(request)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils.functional import SimpleLazyObject

from .clients import client_for, get_async_client, request_context
from .conf import claude_settings

__all__ = ["ClaudeMiddleware", "attach_clients"]


def attach_clients(request: Any, alias: str | None = None) -> None:
    """Set the lazy ``request.claude`` and ``request.aclaude`` (what the middleware does)."""
    name = alias or claude_settings().chat.client

    def make_async() -> Any:
        return get_async_client(name).with_options(usage_context=request_context(request, name))

    request.claude = SimpleLazyObject(lambda: client_for(request, name))
    request.aclaude = SimpleLazyObject(make_async)


class ClaudeMiddleware:
    """Adds ``request.claude`` / ``request.aclaude``; works in sync and async middleware chains."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self.__acall__(request)
        attach_clients(request)
        return self.get_response(request)

    async def __acall__(self, request: Any) -> Any:
        attach_clients(request)
        response: Awaitable[Any] = self.get_response(request)
        return await response
