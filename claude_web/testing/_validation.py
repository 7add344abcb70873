"""Validation of Messages request bodies, with the API's messages naming the field (``prefix`` for batch items)."""

from __future__ import annotations

from typing import Any

from ._cache import CacheError, check_cache_control
from ._http import APIError

__all__ = ["require_model_and_messages", "validate_create"]


def require_model_and_messages(payload: dict[str, Any], prefix: str = "") -> None:
    if "model" not in payload:
        raise APIError(400, f"{prefix}model: Field required")
    if not isinstance(payload["model"], str) or not payload["model"]:
        raise APIError(400, f"{prefix}model: Input should be a valid string")
    if "messages" not in payload:
        raise APIError(400, f"{prefix}messages: Field required")
    messages = payload["messages"]
    if not isinstance(messages, list):
        raise APIError(400, f"{prefix}messages: Input should be a valid list")
    if not messages:
        raise APIError(400, f"{prefix}messages: at least one message is required")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise APIError(400, f"{prefix}messages.{i}: Input should be a valid dictionary")
        if msg.get("role") not in ("user", "assistant"):
            raise APIError(400, f"{prefix}messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            raise APIError(400, f"{prefix}messages.{i}.content: Field required")


def validate_create(payload: dict[str, Any], prefix: str = "") -> None:
    require_model_and_messages(payload, prefix)
    if "max_tokens" not in payload:
        raise APIError(400, f"{prefix}max_tokens: Field required")
    max_tokens = payload["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise APIError(400, f"{prefix}max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise APIError(400, f"{prefix}max_tokens: Input should be greater than or equal to 1")
    if "stream" in payload and not isinstance(payload["stream"], bool):
        raise APIError(400, f"{prefix}stream: Input should be a valid boolean")
    try:
        check_cache_control(payload)
    except CacheError as exc:
        raise APIError(400, f"{prefix}{exc}") from None
