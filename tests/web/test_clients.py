"""The one client registry: sync clients per process, async clients per loop, closed with their loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from claude_web.testing import text
from claude_web.usage import UsageRecord
from claude_web.web.clients import ClientRegistry
from claude_web.web.settings import ClientSettings, ConfigError, settings_from_env

HI = {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def _registry(fake_claude: Any, records: list[UsageRecord] | None = None) -> ClientRegistry:
    cfg = ClientSettings("default", "fake", {"base_url": fake_claude.base_url, "max_retries": 0})
    return ClientRegistry({"default": cfg}, recorder=None if records is None else records.append)


def test_one_sync_client_per_process_and_alias(fake_claude: Any) -> None:
    registry = _registry(fake_claude)
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(registry.get("default"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1
    with pytest.raises(KeyError, match="no Claude client 'other'"):
        registry.get("other")


def test_async_clients_are_per_loop_and_closed_with_their_loop(fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    registry = _registry(fake_claude, records)
    fake_claude.queue(text("one"), text("two"))
    made: list[Any] = []

    async def once() -> str:
        client = registry.get_async("default")
        assert registry.get_async("default") is client  # one per loop
        message = await client.messages.create(**HI)
        made.append(client)
        return str(message.content[0].text)  # type: ignore[union-attr]

    assert asyncio.run(once()) == "one"
    assert asyncio.run(once()) == "two"
    assert made[0] is not made[1]
    # the loop's shutdown_asyncgens() closed each loop's clients before the loop itself closed
    assert all(client._client.is_closed for client in made)
    assert registry.loops() == 0
    assert [r.context["backend"] for r in records] == ["fake", "fake"]
    assert [r.context["alias"] for r in records] == ["default", "default"]


def test_aclose_closes_the_running_loops_clients(fake_claude: Any) -> None:
    registry = _registry(fake_claude)

    async def main() -> Any:
        client = registry.get_async("default")
        await registry.aclose()
        return client

    client = asyncio.run(main())
    assert client._client.is_closed


def test_async_client_outside_a_loop_is_a_clear_error(fake_claude: Any) -> None:
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        _registry(fake_claude).get_async("default")


def test_workers_read_the_same_schema_from_the_environment() -> None:
    env = {
        "CLAUDE_WEB_CLIENTS": '{"default": {"BACKEND": "anthropic", "API_KEY_ENV": "MY_KEY"},'
        ' "local": {"BACKEND": "claude_web:Anthropic", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}}',
        "MY_KEY": "sk-ant-from-env",
        "CLAUDE_WEB_CHAT_MAX_TOKENS": "256",
        "CLAUDE_WEB_REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    settings = settings_from_env(env)
    assert settings.chat.max_tokens == 256 and settings.jobs.get("REDIS_URL") == "redis://127.0.0.1:6379/15"
    registry = ClientRegistry(settings.clients, environ=env)
    assert registry.get("default").api_key == "sk-ant-from-env"
    assert "sk-ant-from-env" not in repr(settings.clients["default"]) + repr(registry)
    assert str(registry.get("local").base_url).rstrip("/") == "http://127.0.0.1:9"  # a dotted module:Class backend
    with pytest.raises(ConfigError, match="CLAUDE_WEB_CHAT_MAX_TOKENS"):
        settings_from_env({"CLAUDE_WEB_CHAT_MAX_TOKENS": "lots"})
