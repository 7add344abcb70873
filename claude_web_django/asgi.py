"""Django's ASGI application for claude-web: the capacity gate, and the lifespan that closes clients at shutdown.

>>> # asgi.py of your project
>>> from claude_web_django.asgi import get_asgi_application
>>> application = get_asgi_application()   # gates claude_web:chat / achat, closes the clients at shutdown

- :func:`get_asgi_application` wraps Django's in a :class:`~claude_web.web.asgi.CapacityGate`: a full process
  answers new chat streams with a 503 + ``Retry-After`` before Django's request machinery runs (no thread, no
  middleware), and in :func:`with_lifespan`.
- :func:`with_lifespan` alone adds ``lifespan`` handling to any ASGI application: Django's handler does not speak
  that protocol, so servers that do (uvicorn, hypercorn, daphne) get a clean close of the event loop's async
  clients when they stop (without it the clients are still closed when the loop shuts down).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from django.core.asgi import get_asgi_application as django_asgi_application
from django.urls import NoReverseMatch, reverse

from claude_web.web.asgi import CapacityGate
from claude_web.web.streams import StreamSlots

from .runtime import get_runtime

__all__ = ["get_asgi_application", "with_lifespan"]

STREAM_URL_NAMES = ("claude_web:chat", "claude_web:achat")

log = logging.getLogger("claude_web_django")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def with_lifespan(application: ASGIApp) -> ASGIApp:
    """``application`` plus ``lifespan`` handling: at shutdown the running loop's async clients are closed."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await application(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await get_runtime().clients.aclose()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def _slots() -> StreamSlots:
    return get_runtime().streams


def get_asgi_application(paths: Iterable[str] | None = None) -> ASGIApp:
    """``django.core.asgi.get_asgi_application()`` in a :class:`~claude_web.web.asgi.CapacityGate` and
    :func:`with_lifespan`.

    ``paths`` are the stream endpoints to gate; by default the URLs of ``claude_web:chat`` and ``claude_web:achat``
    (those your URLconf includes). Add your own streaming views' paths when they use ``astream_chat``.
    """
    application = django_asgi_application()
    if paths is None:
        found = []
        for name in STREAM_URL_NAMES:
            try:
                found.append(reverse(name))
            except NoReverseMatch:
                continue
        paths = found
        if not found:
            log.warning(
                "the capacity gate found none of %s in the URLconf (include claude_web_django.urls, or pass "
                "paths=[...]): it refuses nothing",
                ", ".join(STREAM_URL_NAMES),
            )
    gate: ASGIApp = CapacityGate(application, _slots, list(paths))
    return with_lifespan(gate)
