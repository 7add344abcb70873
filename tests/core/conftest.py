"""Fixtures for differential tests of the surface added on top of ``create``: the same scenario through
``anthropic`` 0.125.0 and ``claude_web`` against one FakeClaude, giving each library's results and wire requests.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import pytest

import claude_web
from claude_web.testing import FakeClaude

KEY = "sk-ant-surface-SECRET"
HEADERS = (
    "anthropic-version",
    "anthropic-beta",
    "content-type",
    "accept",
    "x-api-key",
    "x-stainless-helper",
    "x-stainless-helper-method",
    "x-custom",
)


def wire(request: Any) -> dict[str, Any]:
    """What a library put on the wire for one request (the headers both libraries are expected to agree on)."""
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "json": request.json,
        "headers": {name: request.headers.get(name) for name in HEADERS},
    }


def dump(value: Any) -> Any:
    """Results as plain data: models by ``to_dict()``, containers element by element, ids masked."""
    if hasattr(value, "to_dict"):
        with warnings.catch_warnings():  # anthropic's parsed models warn while serialising
            warnings.simplefilter("ignore")
            value = value.to_dict()
    if isinstance(value, dict):
        return {k: ("<id>" if k in ("id", "request_id") and isinstance(v, str) else dump(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    return value


Scenario = Callable[[Any, Any], Any]


@pytest.fixture
def run_both(fake_claude: FakeClaude) -> Callable[..., tuple[list[Any], list[list[dict[str, Any]]]]]:
    """``run_both(scenario, replies)``: ``scenario(lib, client)`` once per library (anthropic first), each time
    after queueing ``replies()``; returns ``(results, wires)``. Exceptions become ``("error", class name)``."""

    def run(
        scenario: Scenario, replies: Callable[[], list[Any]] | None = None, **client_kwargs: Any
    ) -> tuple[list[Any], list[list[dict[str, Any]]]]:
        results: list[Any] = []
        wires: list[list[dict[str, Any]]] = []
        for lib in (anthropic, claude_web):
            fake_claude.clear()
            if replies is not None:
                fake_claude.queue(*replies())
            client = lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, **{"max_retries": 0, **client_kwargs})
            try:
                results.append(dump(scenario(lib, client)))
            except Exception as exc:
                results.append(("error", type(exc).__name__))
            wires.append([wire(r) for r in fake_claude.requests])
        return results, wires

    return run


@pytest.fixture
def run_both_async(fake_claude: FakeClaude) -> Callable[..., Awaitable[tuple[list[Any], list[list[dict[str, Any]]]]]]:
    """The async twin of ``run_both``: ``await scenario(lib, async_client)``."""

    async def run(
        scenario: Callable[[Any, Any], Awaitable[Any]], replies: Callable[[], list[Any]] | None = None
    ) -> tuple[list[Any], list[list[dict[str, Any]]]]:
        results: list[Any] = []
        wires: list[list[dict[str, Any]]] = []
        for lib in (anthropic, claude_web):
            fake_claude.clear()
            if replies is not None:
                fake_claude.queue(*replies())
            client = lib.AsyncAnthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)
            try:
                results.append(dump(await scenario(lib, client)))
            except Exception as exc:
                results.append(("error", type(exc).__name__))
            finally:
                await client.close()
            await asyncio.sleep(0)
            wires.append([wire(r) for r in fake_claude.requests])
        return results, wires

    return run
