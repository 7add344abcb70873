"""Conversations in a real browser: history that survives a reload, Stop that leaves a partial message and an
aborted usage row, rename and delete from the sidebar, 404 for another user's conversation, and the usage admin
read at 1280 px."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from e2e_helpers import DemoServer, log_in, screenshot

from claude_web.testing import RemoteFakeClaude, text

pytestmark = pytest.mark.needs_browser

SETTLED = "() => ['done', 'error', 'stopped'].includes(document.getElementById('status').dataset.state)"
CONVERSATION_URL = re.compile(r"/chat/([A-Za-z0-9_-]{16})/$")


def _ask(page: Any, question: str) -> None:
    page.fill("#prompt", question)
    page.click("#send")
    page.wait_for_function(SETTLED)
    assert page.locator("#status").get_attribute("data-state") == "done"


def _answers(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#conversation .bubble.assistant").all_text_contents()]


def _questions(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#conversation .bubble.user").all_text_contents()]


def test_three_turns_survive_a_reload_and_continue(page: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    answers = ["Oslo is the capital of Norway.", "About 700,000 people live there.", "It sits at a fjord."]
    fake.queue(*(text(a) for a in answers), text("Yes, the Oslofjord."))
    for question in ("What is the capital of Norway?", "How many people live there?", "Where is it?"):
        _ask(page, question)
    page.wait_for_url(CONVERSATION_URL)
    conversation_url = page.url
    assert _answers(page) == answers
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#conversation .bubble.assistant').length === 3")
    assert page.url == conversation_url
    assert _questions(page) == ["What is the capital of Norway?", "How many people live there?", "Where is it?"]
    assert _answers(page) == answers
    assert page.locator("#chat-title").inner_text() == "What is the capital of Norway?"
    current = page.locator("#conversation-list li.current")
    assert current.count() == 1 and "What is the capital of Norway?" in current.inner_text()
    _ask(page, "Which fjord?")
    assert _answers(page)[-1] == "Yes, the Oslofjord."
    sent = fake.last_request.json
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant"] * 3 + ["user"]
    assert sent["messages"][5]["content"][0]["text"] == answers[2]
    assert "demo's assistant" in str(sent["system"])
    assert re.search(r"8 messages · [\d,]+ tokens · \$0\.\d{4}", page.locator("#conversation-totals").inner_text())
    screenshot(page, "conversation-reloaded")


def test_reload_mid_answer_follows_the_answer_again(page: Any, fake: RemoteFakeClaude) -> None:
    full = " ".join(f"Part {i:02d} of a slow answer." for i in range(1, 31))
    fake.queue(text(full, chunks=60, event_delay=0.06))
    page.fill("#prompt", "Take your time")
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#conversation .bubble.assistant')?.textContent.length > 40")
    page.wait_for_url(CONVERSATION_URL)
    page.reload()
    page.wait_for_function(SETTLED, timeout=30_000)
    assert _answers(page) == [full]  # the stream was followed again from its first event: no gap, no duplicate
    assert _questions(page) == ["Take your time"]
    assert len(fake.requests) == 1


def test_stop_keeps_a_partial_message_and_records_an_aborted_call(
    page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    full = " ".join(f"Sentence {i:02d} of a long story." for i in range(1, 61))
    fake.queue(text(full, chunks=120, event_delay=0.08))
    page.fill("#prompt", "Tell me a long story")
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#conversation .bubble.assistant')?.textContent.length > 30")
    page.click("#stop")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'stopped'")
    assert fake.wait_for_stream_abort(10)
    kept = _answers(page)[0]
    assert 0 < len(kept) < len(full) and full.startswith(kept)
    page.reload()
    stopped = page.locator("#conversation .bubble.assistant.stopped")
    stopped.wait_for()
    assert stopped.count() == 1
    stored = str(stopped.text_content())
    assert full.startswith(stored) and len(stored) >= len(kept)  # the server kept at least what the page showed
    deadline = time.monotonic() + 15
    while True:
        page.goto(demo_server.url("/usage/"))
        if page.locator("#ledger tr.row-aborted").count() > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert page.locator("#ledger tr.row-aborted").count() == 1
    screenshot(page, "conversation-stopped")


def test_rename_and_delete_from_the_page(page: Any, fake: RemoteFakeClaude) -> None:
    _ask(page, "A conversation to rename")
    page.wait_for_url(CONVERSATION_URL)
    page.once("dialog", lambda dialog: dialog.accept("Renamed in the browser"))
    page.click("#rename")
    page.wait_for_function("() => document.getElementById('chat-title').textContent === 'Renamed in the browser'")
    page.locator("#conversation-list li.current", has_text="Renamed in the browser").wait_for()
    page.reload()
    page.wait_for_function("() => document.getElementById('chat-title').textContent === 'Renamed in the browser'")
    deleted_url = page.url
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_url(re.compile(r"/chat/$"))
    assert page.locator("#conversation-list", has_text="Renamed in the browser").count() == 0
    assert page.goto(deleted_url).status == 404


def test_another_users_conversation_is_a_404(
    context: Any, browser: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    demo_server.manage("demo_user", "--username", "eve", "--password", "eve-pass-123")
    owner = context.new_page()
    log_in(owner, demo_server)
    _ask(owner, "My private question")
    owner.wait_for_url(CONVERSATION_URL)
    private = owner.url
    cid = CONVERSATION_URL.search(private).group(1)  # type: ignore[union-attr]
    other = browser.new_context()
    try:
        intruder = other.new_page()
        log_in(intruder, demo_server, "eve", "eve-pass-123")
        assert intruder.goto(private).status == 404
        api = intruder.request.get(demo_server.url(f"/conversations/{cid}/"))
        assert api.status == 404 and api.json()["error"]["type"] == "not_found"
        listing = intruder.request.get(demo_server.url("/conversations/")).json()
        assert listing["conversations"] == []
        screenshot(intruder, "conversation-404")
    finally:
        other.close()


def test_usage_admin_fits_1280_px(browser: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        demo_server.manage("demo_user", "--username", "ledger", "--password", "ledger-pass-123", "--staff")
        page = context.new_page()
        log_in(page, demo_server, "ledger", "ledger-pass-123")
        fake.fail_next(3, 529)  # a row with the longest error type
        page.fill("#prompt", "An overloaded one")
        page.click("#send")
        page.wait_for_function(SETTLED)
        big = {"input_tokens": 125_713, "output_tokens": 4_096, "cache_read_input_tokens": 1_203_456,
               "cache_creation_input_tokens": 45_678}  # fmt: skip
        fake.queue(text("A costly answer.", usage=big))  # the last call of this user: it spends the daily quota
        _ask(page, "Something for the ledger")
        page.goto(demo_server.url("/admin/claude_web/tokenusage/"))
        page.locator("#result_list tbody tr").first.wait_for()
        screenshot(page, "admin-usage-1280")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 1280 px"
        hidden = page.evaluate(
            "() => { const r = document.querySelector('.results'); return r.scrollWidth - r.clientWidth; }"
        )
        assert hidden <= 0, f"the usage list hides {hidden}px of its columns at 1280 px"
        last = page.locator("#result_list thead th").last.bounding_box()
        assert last is not None and last["x"] + last["width"] <= 1280
        cell = page.locator("#result_list tbody tr").first.locator("td.field-model_name span")
        box = cell.bounding_box()
        line = page.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight) || 16", cell.element_handle())
        assert box is not None and box["height"] < 2 * line, "the model name wraps"
        listed = page.locator("#result_list").inner_text()
        assert "overloaded" in listed and "cache 1.2M · 45.7k new" in listed and "125,713 · 4,096" in listed
        row_text = page.locator("#result_list tbody tr").last.inner_text()
        assert re.search(r"\d+ ms|\d+\.\d\d s", row_text), row_text
        assert re.search(r"\$0\.\d{4}|\$0\b|< \$0\.0001", row_text), row_text
        totals = page.locator("#claude-usage-totals").inner_text()
        assert not re.search(r"(?<![.\d])\d{4,}", totals), totals  # thousands are separated
        screenshot(page, "admin-usage-1280")
        page.goto(demo_server.url("/admin/claude_web/conversation/"))
        page.locator("#result_list tbody tr").first.wait_for()
        page.locator("#result_list tbody tr a").first.click()
        page.locator(".cw-transcript").wait_for()
        assert "Something for the ledger" in page.locator(".cw-transcript").inner_text()
        screenshot(page, "admin-conversation")
    finally:
        context.close()
