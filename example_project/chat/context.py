"""Template context: which Claude the site talks to (shown in every page's header)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def claude_mode(request: HttpRequest) -> dict[str, Any]:
    fake = getattr(settings, "CLAUDE_MODE", "fake") == "fake"
    return {
        "claude_mode": "fake" if fake else "anthropic",
        "claude_mode_label": (
            f"Offline: FakeClaude at {settings.CLAUDE_WEB_FAKE_URL}" if fake else "Live: the real Anthropic API"
        ),
        "demo_models": getattr(settings, "DEMO_MODELS", []),
    }
