"""ASGI lifespan for Django: close the event loop's Claude clients at server shutdown.

Django's ASGI handler does not speak the ``lifespan`` protocol; wrap it so servers that do (uvicorn, hypercorn,
daphne) close the async clients cleanly when they stop::

    # asgi.py
    from django.core.asgi import get_asgi_application
    from claude_web_django.asgi import with_lifespan

    application = with_lifespan(get_asgi_application())

(Without it the clients are still closed when the server's event loop shuts down.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["with_lifespan"]

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
                from .runtime import get_runtime

                try:
                    await get_runtime().clients.aclose()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return app
