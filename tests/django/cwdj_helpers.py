"""Helpers shared by the tests in tests/django (imported by name: tests/django is on sys.path)."""

from __future__ import annotations

import json
from typing import Any

MODELS = ["claude-haiku-4-5", "claude-sonnet-4-5"]


def claude_web_value(base_url: str, **sections: Any) -> dict[str, Any]:
    """A ``CLAUDE_WEB`` setting with a ``fake`` default client at ``base_url`` plus ``sections``."""
    value: dict[str, Any] = {
        "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": base_url, "max_retries": 0}}},
        "CHAT": {"MODELS": MODELS, "DEFAULT_MODEL": MODELS[0], "MAX_TOKENS": 1024},
    }
    value.update(sections)
    return value


def usage_rows(**filters: Any) -> list[Any]:
    """TokenUsage rows (after the async writer thread is done), oldest first."""
    from claude_web_django.models import TokenUsage
    from claude_web_django.receivers import wait_for_usage_writes

    assert wait_for_usage_writes(10.0)
    return list(TokenUsage.objects.filter(**filters).order_by("created_at", "id"))


def chat_body(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """Events of an SSE body as dicts ``{"event", "id", "data"}`` (comments as ``{"comment"}``)."""
    out: list[dict[str, Any]] = []
    for block in raw.decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        event: dict[str, Any] = {}
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                event.setdefault("comment", line[1:].strip())
            elif line.startswith("event: "):
                event["event"] = line[len("event: ") :]
            elif line.startswith("id: "):
                event["id"] = line[len("id: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        if data:
            event["data"] = json.loads("\n".join(data))
        out.append(event)
    return out
