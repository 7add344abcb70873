"""Conversations kept on the server, written once for Django and Flask.

- :mod:`~claude_web.web.conversations.records`: :class:`Conversation`, :class:`ChatMessage` and the
  :class:`ConversationStore` protocol the adapters implement (Django models, Flask-SQLAlchemy models);
  :class:`MemoryConversationStore` for tests;
- :mod:`~claude_web.web.conversations.service`: ownership, validation, turns started as jobs, Stop, resume;
- :mod:`~claude_web.web.conversations.turn`: the worker side, one assistant turn with the tool runner;
- :mod:`~claude_web.web.conversations.history`, :mod:`~claude_web.web.conversations.context` and
  :mod:`~claude_web.web.conversations.caching`: the stored history as a valid prompt, fitted to the context
  window, with prompt-cache breakpoints.

The endpoints are :mod:`claude_web.web.handlers.conversations`; the settings are ``ASSISTANTS`` and
``CONVERSATIONS`` (:mod:`claude_web.web.assistants`).
"""

from .caching import place_breakpoints
from .context import api_counter, drop_oldest, estimate_tokens, fit_messages
from .history import api_messages, turns
from .memory import MemoryConversationStore
from .records import (
    MESSAGE_STATUSES,
    ChatMessage,
    Conversation,
    ConversationStore,
    MessageStatus,
    new_conversation_id,
)
from .service import ConversationService, export, export_conversation, title_from
from .turn import CALL_DONE, TurnRunner

__all__ = [
    "CALL_DONE",
    "MESSAGE_STATUSES",
    "ChatMessage",
    "Conversation",
    "ConversationService",
    "ConversationStore",
    "MemoryConversationStore",
    "MessageStatus",
    "TurnRunner",
    "api_counter",
    "api_messages",
    "drop_oldest",
    "estimate_tokens",
    "export",
    "export_conversation",
    "fit_messages",
    "new_conversation_id",
    "place_breakpoints",
    "title_from",
    "turns",
]
