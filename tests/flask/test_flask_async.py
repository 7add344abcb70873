"""Async views: Flask runs each in a fresh event loop; the async client must follow the loop."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import httpx
import pytest

from claude_web import AsyncAnthropic
from claude_web.testing import text
from claude_web_flask import get_state


def _async_app(make_app: Any) -> Any:
    pytest.importorskip("asgiref")
    t = make_app(CLAUDE_WEB_USER_LOADER=lambda: "async-user")
    seen: list[tuple[Any, Any]] = []  # (loop, httpx client), kept alive so identities are not reused

    @t.app.post("/ask")
    async def ask() -> Any:
        client = t.claude.async_client
        assert isinstance(client, AsyncAnthropic)
        assert t.claude.async_client is client  # kept per request and loop
        message = await client.messages.create(
            model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
        )
        seen.append((asyncio.get_running_loop(), client._client))
        return {"text": message.content[0].text}

    @t.app.post("/ask-stream")
    async def ask_stream() -> Any:
        parts = []
        async with t.claude.async_client.messages.stream(
            model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            async for piece in stream.text_stream:
                parts.append(piece)
        return {"text": "".join(parts)}

    return t, seen


def test_two_sequential_async_requests_over_a_real_server(make_app: Any, serve: Any, fake_claude: Any) -> None:
    t, seen = _async_app(make_app)
    server = serve(t.app)
    fake_claude.queue(text("first answer"), text("second answer"), text("streamed third", chunks=3))
    with httpx.Client(timeout=10) as client:
        one = client.post(f"{server.url}/ask")
        two = client.post(f"{server.url}/ask")
        three = client.post(f"{server.url}/ask-stream")
    assert (one.status_code, two.status_code, three.status_code) == (200, 200, 200), (one.text, two.text, three.text)
    assert one.json() == {"text": "first answer"}
    assert two.json() == {"text": "second answer"}
    assert three.json() == {"text": "streamed third"}
    # each request ran in its own loop and got an HTTP pool made for that loop
    assert len(seen) == 2
    assert seen[0][0] is not seen[1][0] and seen[0][0].is_closed()
    assert seen[0][1] is not seen[1][1]
    records = t.usage.wait(3)
    assert [r.status for r in records] == ["ok", "ok", "ok"]
    assert {r.context["user_id"] for r in records} == {"async-user"}
    assert get_state(t.app).runtime.clients.loops() == 0  # closed loops were dropped


def test_async_client_outside_a_loop_is_a_clear_error(make_app: Any) -> None:
    t = make_app()
    with t.app.test_request_context("/"), pytest.raises(RuntimeError, match="async views"):
        t.claude.async_client  # noqa: B018


def test_async_views_through_the_test_client(make_app: Any, fake_claude: Any) -> None:
    t, _ = _async_app(make_app)
    fake_claude.queue(text("a"), text("b"))
    client = t.app.test_client()
    assert client.post("/ask").get_json() == {"text": "a"}
    assert client.post("/ask").get_json() == {"text": "b"}


def test_the_classic_failure_this_guards_against(make_app: Any, serve: Any, fake_claude: Any) -> None:
    """A process-wide AsyncAnthropic shared by async views breaks on the second request (its pooled connection
    belongs to the first request's closed loop): the failure the per-loop clients above avoid."""
    pytest.importorskip("asgiref")
    t = make_app()
    holder = [AsyncAnthropic(api_key="k", base_url=fake_claude.base_url, max_retries=0)]

    failures: list[str] = []

    @t.app.post("/naive")
    async def naive() -> Any:
        try:
            message = await holder[0].messages.create(
                model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        except Exception as exc:  # (not logged: a kept traceback would keep the stale socket alive)
            failures.append(f"{type(exc).__name__}: {exc}")
            return {"error": type(exc).__name__}, 500
        return {"text": message.content[0].text}

    server = serve(t.app)
    fake_claude.queue(text("one"), text("two"))
    with httpx.Client(timeout=10) as client:
        assert client.post(f"{server.url}/naive").status_code == 200
        assert client.post(f"{server.url}/naive").status_code == 500
    assert len(failures) == 1 and ("loop" in failures[0].lower() or "connection" in failures[0].lower()), failures
    # the stale connection of the first loop can no longer be closed properly: drop it quietly
    holder.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
