"""Moved to :mod:`claude_web.web.events` (the one event translator); these names stay importable from here."""

from .web.events import (
    BrowserEvent,
    abrowser_events,
    browser_events,
    done_payload,
    include_pings,
    safe_error,
    translate,
)

surface_pings = include_pings

__all__ = [
    "BrowserEvent",
    "abrowser_events",
    "browser_events",
    "done_payload",
    "safe_error",
    "surface_pings",
    "translate",
]
