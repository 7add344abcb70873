"""Django's ASGI application behind claude-web's capacity gate: a full process answers new chat streams with a
503 + ``Retry-After`` before Django's request machinery runs (see :mod:`claude_web.web.asgi`).

>>> # asgi.py of your project
>>> from claude_web_django.asgi import get_asgi_application
>>> application = get_asgi_application()   # gates the claude_web:chat and claude_web:achat URLs
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.asgi import get_asgi_application as django_asgi_application
from django.urls import NoReverseMatch, reverse

from claude_web.web.asgi import ASGIApp, CapacityGate
from claude_web.web.streams import StreamSlots

from .runtime import get_runtime

__all__ = ["get_asgi_application"]

STREAM_URL_NAMES = ("claude_web:chat", "claude_web:achat")

log = logging.getLogger("claude_web_django")


def _slots() -> StreamSlots:
    return get_runtime().streams


def get_asgi_application(paths: Iterable[str] | None = None) -> ASGIApp:
    """``django.core.asgi.get_asgi_application()`` wrapped in a :class:`~claude_web.web.asgi.CapacityGate`.

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
    return CapacityGate(application, _slots, list(paths))
