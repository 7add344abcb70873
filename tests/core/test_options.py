"""Client options: defaults as anthropic's, the long-request guard, custom httpx clients, async loop hygiene."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx
import pytest

import claude_web
from claude_web.testing import FakeClaude, text

USER = [{"role": "user", "content": "hi"}]


def test_default_timeout_and_retries_match_anthropic() -> None:
    ours = claude_web.Anthropic(api_key="k")
    theirs = anthropic.Anthropic(api_key="k")
    assert ours.max_retries == theirs.max_retries == 2
    assert claude_web.DEFAULT_TIMEOUT == anthropic.DEFAULT_TIMEOUT
    assert claude_web.DEFAULT_TIMEOUT.connect == 5.0 and claude_web.DEFAULT_TIMEOUT.read == 600
    assert str(ours.base_url) == str(theirs.base_url) == "https://api.anthropic.com"


@pytest.mark.parametrize("max_tokens", [8192, 32_000, 64_000, 128_000])
def test_nonstreaming_guard_agrees_with_anthropic(max_tokens: int) -> None:
    outcomes = []
    for lib in (claude_web, anthropic):
        transport = httpx.MockTransport(
            lambda r: httpx.Response(500, json={"type": "error", "error": {"type": "api_error", "message": "stop"}})
        )
        client = lib.Anthropic(api_key="k", max_retries=0, http_client=httpx.Client(transport=transport))
        try:
            client.messages.create(model="claude-opus-4-5", max_tokens=max_tokens, messages=USER)
        except ValueError as exc:
            outcomes.append(("ValueError", "stream" in str(exc).lower()))
        except lib.APIStatusError:
            outcomes.append(("sent", True))
    assert outcomes[0] == outcomes[1]


def test_explicit_timeout_lifts_the_guard(fake_claude: FakeClaude) -> None:
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, timeout=30)
    message = client.messages.create(model="claude-opus-4-5", max_tokens=128_000, messages=USER)
    assert message.type == "message"


def test_default_httpx_client_keeps_our_defaults(fake_claude: FakeClaude) -> None:
    http = claude_web.DefaultHttpxClient(headers={"x-from-http-client": "1"})
    assert http.timeout == claude_web.DEFAULT_TIMEOUT
    assert http.follow_redirects is True
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, http_client=http)
    client.messages.create(model="m", max_tokens=5, messages=USER)
    assert fake_claude.last_request.headers["x-from-http-client"] == "1"
    client.close()
    assert http.is_closed


def test_custom_transport_through_fake_transport() -> None:
    fake = FakeClaude()  # never started: requests go through its in-process transport
    fake.queue(text("over a transport"))
    client = claude_web.Anthropic(
        api_key="k", base_url="http://fake.invalid", http_client=httpx.Client(transport=fake.transport())
    )
    message = client.messages.create(model="m", max_tokens=5, messages=USER)
    assert message.content[0].type == "text" and message.content[0].text == "over a transport"
    assert fake.last_request.path == "/v1/messages"


def test_async_client_per_loop(fake_claude: FakeClaude) -> None:
    """One AsyncAnthropic per event loop: each asyncio.run gets a working client, none sees a closed loop."""

    async def call() -> str:
        async with claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url) as client:
            message = await client.messages.create(model="m", max_tokens=5, messages=USER)
            return message.id

    ids = [asyncio.run(call()) for _ in range(3)]
    assert len(set(ids)) == 3


def test_with_options_keeps_key_out_of_repr() -> None:
    client: Any = claude_web.Anthropic(api_key="sk-ant-VERY-SECRET")
    view = client.with_options(timeout=5, usage_context={"user": "u"})
    for obj in (client, view):
        assert "VERY-SECRET" not in repr(obj) and "VERY-SECRET" not in str(obj)
    assert view.api_key == "sk-ant-VERY-SECRET" and view.timeout == 5
