"""The models FakeClaude lists on ``GET /v1/models`` (newest first), and how a model id or alias finds its entry."""

from __future__ import annotations

from typing import Any

from ._http import APIError

__all__ = ["MODELS", "find_model"]

_MODELS: list[tuple[str, str, str]] = [
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
    ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
    ("claude-3-5-sonnet-20241022", "Claude Sonnet 3.5 (New)", "2024-10-22T00:00:00Z"),
    ("claude-3-5-sonnet-20240620", "Claude Sonnet 3.5 (Old)", "2024-06-20T00:00:00Z"),
    ("claude-3-haiku-20240307", "Claude Haiku 3", "2024-03-07T00:00:00Z"),
    ("claude-3-opus-20240229", "Claude Opus 3", "2024-02-29T00:00:00Z"),
    ("claude-3-sonnet-20240229", "Claude Sonnet 3", "2024-02-29T00:00:00Z"),
    ("claude-2.1", "Claude 2.1", "2023-11-21T00:00:00Z"),
    ("claude-instant-1.2", "Claude Instant 1.2", "2023-08-09T00:00:00Z"),
    ("claude-2.0", "Claude 2.0", "2023-07-11T00:00:00Z"),
    ("claude-instant-1.1-100k", "Claude Instant 1.1 (100k)", "2023-06-01T00:00:00Z"),
    ("claude-instant-1.1", "Claude Instant 1.1", "2023-06-01T00:00:00Z"),
    ("claude-1.3-100k", "Claude 1.3 (100k)", "2023-05-11T00:00:00Z"),
    ("claude-1.3", "Claude 1.3", "2023-04-18T00:00:00Z"),
    ("claude-instant-1.0", "Claude Instant 1.0", "2023-03-14T00:00:00Z"),
    ("claude-1.2", "Claude 1.2", "2023-03-14T00:00:00Z"),
    ("claude-1.0", "Claude 1.0", "2023-03-14T00:00:00Z"),
    ("claude-v1-100k", "Claude v1 (100k)", "2023-03-01T00:00:00Z"),
    ("claude-instant-v1", "Claude Instant v1", "2023-03-01T00:00:00Z"),
]
MODELS: list[dict[str, Any]] = [
    {"type": "model", "id": model_id, "display_name": name, "created_at": created}
    for model_id, name, created in _MODELS
]


def find_model(model_id: str) -> dict[str, Any]:
    """The model entry for an id, or for an alias (``claude-sonnet-4-5``) its newest snapshot; 404 otherwise."""
    for model in MODELS:
        if model["id"] == model_id:
            return model
    for model in MODELS:
        if model["id"].startswith(model_id + "-20"):
            return model
    raise APIError(404, f"model: {model_id}")
