"""The demo's AI SDK page in a real browser: React with ``useChat`` (``@ai-sdk/react``, the bundle committed under
``chat/static/chat/aisdk_chat.js``) on claude-web's AI SDK endpoints. A message streams its answer with the
calculator's call and result inline; a reload mid-answer resumes it (``useChat({ resume: true })``) with no gap and
no duplicate; Stop closes the upstream call and leaves an aborted usage row."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from e2e_helpers import DemoServer, log_in, screenshot

from claude_web.testing import RemoteFakeClaude, text, tool_use

pytestmark = pytest.mark.needs_browser

SETTLED = "() => ['done', 'error', 'stopped'].includes(document.getElementById('status')?.dataset.state)"
CHAT_URL = re.compile(r"/ai-sdk/([A-Za-z0-9_-]{16})/$")


def _open(page: Any, server: DemoServer) -> None:
    page.goto(server.url("/ai-sdk/"))
    page.wait_for_function("() => document.getElementById('status')?.dataset.state === 'ready'")


def _send(page: Any, question: str) -> None:
    page.fill("#prompt", question)
    page.click("#send")


def _answers(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#conversation .bubble.assistant .text").all_text_contents()]


def test_a_message_streams_its_answer_with_a_tool_call(
    page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    fake.queue(
        tool_use("calculator", {"expression": "6 * 7"}, text="Let me calculate that."),
        text("6 × 7 is 42.", chunks=3),
    )
    _open(page, demo_server)
    assert page.locator("nav a[aria-current=page]").inner_text() == "AI SDK"
    _send(page, "What is 6 * 7?")
    page.wait_for_function(SETTLED)
    assert page.locator("#status").get_attribute("data-state") == "done"
    page.wait_for_url(CHAT_URL)
    assert page.locator("#conversation .bubble.user").all_text_contents() == ["What is 6 * 7?"]
    assert _answers(page) == ["Let me calculate that.", "6 × 7 is 42."]
    call = page.locator("#conversation .tool-call[data-tool=calculator]")
    assert call.count() == 1 and "state-output-available" in str(call.get_attribute("class"))
    assert call.locator(".tool-input").inner_text() == '{"expression":"6 * 7"}'
    assert call.locator(".tool-output").inner_text() == "42"
    assert re.fullmatch(
        r"[\d,]+ tokens · \$0\.\d{4}", page.locator("#conversation .bubble.assistant .meta").inner_text()
    )
    # the tool really ran on the server: the second upstream call carried its result
    result = fake.last_request.json["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["content"] == "42"
    screenshot(page, "aisdk-tool-call")
    page.reload()  # the stored conversation comes back as the same UI messages
    page.wait_for_function(SETTLED)
    assert _answers(page) == ["Let me calculate that.", "6 × 7 is 42."]
    assert page.locator("#conversation .tool-call .tool-output").inner_text() == "42"


def test_a_reload_mid_answer_resumes_it(page: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    full = " ".join(f"Part {i:02d} of a slow answer." for i in range(1, 31))
    fake.queue(text(full, chunks=60, event_delay=0.06))
    _open(page, demo_server)
    _send(page, "Take your time")
    page.wait_for_function(
        "() => document.querySelector('#conversation .bubble.assistant .text')?.textContent.length > 40"
    )
    page.wait_for_url(CHAT_URL)
    page.reload()
    page.wait_for_function(
        "() => document.getElementById('status')?.dataset.state === 'streaming'", timeout=15_000
    )  # following the answer again
    page.wait_for_function(SETTLED, timeout=30_000)
    assert page.locator("#status").get_attribute("data-state") == "done"
    assert _answers(page) == [full]  # replayed from its first event: no gap, no duplicate
    assert page.locator("#conversation .bubble.assistant").count() == 1
    assert page.locator("#conversation .bubble.user").all_text_contents() == ["Take your time"]
    assert len(fake.requests) == 1


def test_stop_closes_the_upstream_call(context: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    # a user of its own: the usage page then lists this test's rows only, whatever ran before in the session
    page = _user_page(context, demo_server, "aisdk-stop")
    full = " ".join(f"Sentence {i:02d} of a long story." for i in range(1, 61))
    fake.queue(text(full, chunks=120, event_delay=0.08))
    _open(page, demo_server)
    _send(page, "Tell me a long story")
    page.wait_for_function(
        "() => document.querySelector('#conversation .bubble.assistant .text')?.textContent.length > 30"
    )
    page.click("#stop")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'stopped'")
    assert fake.wait_for_stream_abort(10)
    kept = _answers(page)[0]
    assert 0 < len(kept) < len(full) and full.startswith(kept)
    assert page.locator("#conversation .bubble.assistant.stopped").count() == 1
    screenshot(page, "aisdk-stopped")
    deadline = time.monotonic() + 15
    while True:
        page.goto(demo_server.url("/usage/"))
        if page.locator("#ledger tr.row-aborted").count() > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert page.locator("#ledger tr.row-aborted").count() == 1
    assert page.locator("#ledger tbody tr").count() == 1


def test_the_page_is_linked_and_another_users_chat_is_404(
    context: Any, page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    fake.queue(text("Mine."))
    _open(page, demo_server)
    _send(page, "Hello")
    page.wait_for_function(SETTLED)
    page.wait_for_url(CHAT_URL)
    mine = page.url
    other = context.browser.new_context()
    try:
        tab = _user_page(other, demo_server, "aisdk-other")
        assert tab.goto(mine).status == 404
    finally:
        other.close()


def _user_page(context: Any, server: DemoServer, username: str) -> Any:
    """A page of ``context`` logged in as ``username`` (created with the password ``<username>-pass`` if new)."""
    server.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        f"U.objects.filter(username={username!r}).exists() or U.objects.create_user({username!r}, "
        f"password={username + '-pass'!r})",
    )
    tab = context.new_page()
    log_in(tab, server, username, f"{username}-pass", path="/ai-sdk/")
    return tab
