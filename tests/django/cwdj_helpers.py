"""Helpers shared by the tests in tests/django (imported by name: tests/django is on sys.path)."""

from __future__ import annotations

import json
from decimal import Decimal
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


# 1000 in x $3, 200 out x $15, 1000 five-minute writes x $3.75 + 2000 one-hour writes x $6, 4000 reads x $0.30,
# 2 web searches x $0.01 (claude-sonnet-4-5 list prices), worked out by hand
PRICED_USAGE = {
    "input_tokens": 1000,
    "output_tokens": 200,
    "cache_creation_input_tokens": 3000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "cache_read_input_tokens": 4000,
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
}
PRICED_PARTS = {
    "cost_input": Decimal("0.003"),
    "cost_output": Decimal("0.003"),
    "cost_cache_write": Decimal("0.01575"),
    "cost_cache_read": Decimal("0.0012"),
    "cost_tools": Decimal("0.02"),
    "cost": Decimal("0.04295"),
}


def check_priced_row(row: Any) -> None:
    """``row`` (a ``TokenUsage``) stores the parts of :data:`PRICED_USAGE` and they add up to its total."""
    assert {name: getattr(row, name) for name in PRICED_PARTS} == PRICED_PARTS
    assert all(isinstance(getattr(row, name), Decimal) for name in PRICED_PARTS)
    assert row.cost_input + row.cost_output + row.cost_cache_write + row.cost_cache_read + row.cost_tools == row.cost
    assert (row.cache_creation_input_tokens, row.cache_creation_1h_input_tokens) == (3000, 2000)
    assert (row.web_search_requests, row.web_fetch_requests, row.estimated) == (2, 1, False)
    assert row.usage.cache_creation is not None and row.usage.cache_creation.ephemeral_1h_input_tokens == 2000
