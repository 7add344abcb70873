"""An ASGI gate that answers a full process's new streams before the framework sees the request.

A refusal from the view is cheap, but under ASGI the framework's own request machinery comes first: Django gives
every request a thread of its own and hops to it for its signals, which under load costs far more than the 503
itself (bench/django_stream.py measured seconds per refusal with 2,000 streams open). The gate checks the stream
slots on the event loop, at the ASGI level, and answers the same 503 + ``Retry-After`` JSON the view would.

>>> application = CapacityGate(django_application, lambda: runtime.streams, paths={"/claude/achat/"})
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from .streams import StreamSlots

__all__ = ["CapacityGate"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
"""Any ASGI 3 application (frameworks type their scope and messages each their own way)."""


class CapacityGate:
    """Wraps an ASGI ``app``: a ``POST`` to one of ``paths`` while ``slots`` (or ``slots()``) is full gets the
    503 at once; everything else goes to ``app`` untouched."""

    def __init__(self, app: ASGIApp, slots: StreamSlots | Callable[[], StreamSlots], paths: Collection[str]) -> None:
        self.app = app
        self._slots = slots
        self.paths = frozenset(paths)

    def __repr__(self) -> str:
        return f"<CapacityGate paths={sorted(self.paths)}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path") in self.paths:
            slots = self._slots if isinstance(self._slots, StreamSlots) else self._slots()
            if slots.full:
                await _refuse(slots, send)
                return
        await self.app(scope, receive, send)


async def _refuse(slots: StreamSlots, send: Send) -> None:
    response = slots.refusal().response()
    body = json.dumps(response.json, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
