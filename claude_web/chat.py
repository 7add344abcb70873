"""Moved to :mod:`claude_web.web.chat`; these names stay importable from here."""

from .web.chat import ChatPolicy, ChatRequestError

__all__ = ["ChatPolicy", "ChatRequestError"]
