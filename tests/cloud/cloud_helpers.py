"""Constants and constructor arguments shared by the cloud tests (imported as a plain module)."""

from __future__ import annotations

from typing import Any

from claude_web.testing._cloud import FakeBedrock, FakeVertex

MODEL_BEDROCK = "anthropic.claude-sonnet-4-5-20250929-v1:0"
MODEL_VERTEX = "claude-sonnet-4-5@20250929"
USER = [{"role": "user", "content": "Hello there"}]


def bedrock_kwargs(server: FakeBedrock, **overrides: Any) -> dict[str, Any]:
    """Constructor arguments that work for both claude_web's and anthropic's AnthropicBedrock."""
    return {
        "aws_access_key": server.access_key,
        "aws_secret_key": server.secret_key,
        "aws_region": server.region,
        "base_url": server.base_url,
        "max_retries": 0,
        **overrides,
    }


def vertex_kwargs(server: FakeVertex, **overrides: Any) -> dict[str, Any]:
    return {
        "region": "us-east5",
        "project_id": "test-project",
        "access_token": "vertex-token",
        "base_url": server.base_url,
        "max_retries": 0,
        **overrides,
    }
