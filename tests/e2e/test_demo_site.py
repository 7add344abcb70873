"""The demo site in a real browser: login, streamed chat, Stop, the resumable long task, tool use, usage chart,
and readable messages for upstream errors, quota exhaustion and validation errors."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from e2e_helpers import DemoServer, log_in, sample_lengths, screenshot

from claude_web.testing import RemoteFakeClaude, text

pytestmark = pytest.mark.needs_browser

LAST_ANSWER_LENGTH = """() => {
  const all = document.querySelectorAll('#conversation .bubble.assistant');
  return all.length ? all[all.length - 1].textContent.length : 0;
}"""
CHAT_SETTLED = "() => ['done', 'error', 'stopped'].includes(document.getElementById('status').dataset.state)"


def _last_answer(page: Any) -> str:
    return str(page.locator("#conversation .bubble.assistant").last.text_content())


def _increasing_steps(lengths: list[int]) -> list[int]:
    distinct: list[int] = []
    for value in lengths:
        if value > 0 and (not distinct or value > distinct[-1]):
            distinct.append(value)
    return distinct


def _numbered_text(count: int) -> str:
    return " ".join(f"Sentence {i:02d} of the scripted answer." for i in range(1, count + 1))


def test_login_page_and_mode_banner(context: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    page = context.new_page()
    page.goto(demo_server.url("/chat/"))
    assert "/accounts/login/" in page.url  # the chat needs a login
    screenshot(page, "login")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "wrong password")
    page.click("#login-button")
    assert "did not match" in page.locator(".error").text_content()
    log_in(page, demo_server)
    mode = page.locator("#claude-mode")
    assert mode.get_attribute("data-mode") == "fake"
    assert "FakeClaude" in mode.text_content()
    assert demo_server.fake_url in mode.text_content()


def test_chat_answer_grows_in_visible_steps(page: Any, fake: RemoteFakeClaude) -> None:
    page.fill("#prompt", "How are answers streamed?")
    page.click("#send")
    lengths = sample_lengths(page, LAST_ANSWER_LENGTH, CHAT_SETTLED)
    assert page.locator("#status").get_attribute("data-state") == "done"
    final = _last_answer(page)
    steps = _increasing_steps(lengths)
    assert len(steps) >= 3, f"the answer did not grow in steps: {lengths}"
    assert steps[0] < len(final) and steps[-1] == len(final)
    assert final.startswith('Here is a thought about "How are answers streamed?"')
    assert len(fake.requests) == 1 and fake.requests[0].json["stream"] is True
    screenshot(page, "chat")


def test_stop_ends_the_stream_and_records_an_aborted_call(
    page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    fake.queue(text(_numbered_text(40), chunks=80, event_delay=0.1))
    page.fill("#prompt", "Tell me a long story")
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#conversation .bubble.assistant')?.textContent.length > 20")
    page.click("#stop")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'stopped'")
    assert fake.wait_for_stream_abort(10), "the server did not close the upstream stream"
    stopped_at = len(_last_answer(page))
    time.sleep(1.0)
    assert len(_last_answer(page)) == stopped_at, "text kept arriving after Stop"
    assert 0 < stopped_at < len(_numbered_text(40))
    assert page.locator("#send").is_enabled() and page.locator("#stop").is_disabled()
    screenshot(page, "chat-stopped")

    deadline = time.monotonic() + 15
    while True:
        page.goto(demo_server.url("/usage/"))
        if page.locator("#ledger tr.row-aborted").count() > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    aborted = page.locator("#ledger tr.row-aborted")
    assert aborted.count() >= 1, page.locator("#ledger").inner_text()
    assert "messages.stream" in aborted.first.inner_text()
    screenshot(page, "usage-aborted")


def test_long_task_resumes_after_reload_without_duplication(
    page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    full = _numbered_text(30)
    fake.queue(text(full, chunks=60, event_delay=0.07))
    event_urls: list[str] = []
    page.on("request", lambda request: event_urls.append(request.url) if "/events/" in request.url else None)
    page.goto(demo_server.url("/long-task/"))
    page.fill("#job-prompt", "Write a report about relays")
    page.click("#job-start")
    page.wait_for_function("() => document.getElementById('job-output').textContent.length > 150")
    before = page.locator("#job-output").text_content()
    assert page.locator("#job-status").get_attribute("data-state") == "running"
    assert re.search(r"[?&]job=[A-Za-z0-9_-]{16,}", page.url), page.url
    job_url = page.url

    page.reload()
    assert page.url == job_url
    resumed = page.locator("#job-output").text_content()
    assert resumed.startswith(before[:150])  # the text received before the reload is back at once
    page.wait_for_function("() => document.getElementById('job-status').dataset.state === 'done'", timeout=30_000)
    final = page.locator("#job-output").text_content()
    assert final == full, "the resumed answer is not exactly the full text"
    assert final.count("Sentence 01 ") == 1 and final.count("Sentence 30 ") == 1
    assert len(before) < len(full), "the reload did not happen mid-answer"
    assert any("last_event_id=" in url for url in event_urls[1:]), f"no resume from an event id: {event_urls}"
    assert len(fake.requests) == 1, "the job ran upstream more than once"
    screenshot(page, "long-task")


def test_tool_use_demo_shows_the_call_and_the_result(
    page: Any, demo_server: DemoServer, fake: RemoteFakeClaude
) -> None:
    page.goto(demo_server.url("/tools/"))
    assert page.locator("#prompt").input_value() == "What is (1234 + 4321) * 3 / 5?"
    page.click("#send")
    page.wait_for_function(CHAT_SETTLED)
    assert page.locator("#status").get_attribute("data-state") == "done"
    call = page.locator("#conversation .tool-call")
    result = page.locator("#conversation .tool-result")
    assert call.count() == 1 and result.count() == 1
    assert "calculator" in call.inner_text() and "(1234 + 4321) * 3 / 5" in call.inner_text()
    assert result.locator(".detail").inner_text() == "3333"
    assert "3333" in _last_answer(page)
    requests = [r.json for r in fake.requests]
    assert len(requests) == 2 and all(r["tools"][0]["name"] == "calculator" for r in requests)
    tool_result = requests[1]["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["content"] == "3333"
    assert "calculator tool" in str(requests[0]["system"])  # the server's prompt, never the page's
    page.wait_for_url(re.compile(r"/chat/[A-Za-z0-9_-]{16}/$"))
    page.reload()  # the call and its result are part of the stored conversation
    page.locator("#conversation .tool-result").wait_for()
    assert page.locator("#conversation .tool-call").count() == 1
    assert page.locator("#conversation .tool-result .detail").inner_text() == "3333"
    screenshot(page, "tools")


def test_a_tool_error_reads_as_a_sentence(page: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    page.goto(demo_server.url("/tools/"))
    page.fill("#prompt", "What is 1 / 0?")
    page.click("#send")
    page.wait_for_function(CHAT_SETTLED)
    failed = page.locator("#conversation .tool-result.failed")
    assert failed.count() == 1
    assert failed.inner_text() == "Tool error: The calculator could not evaluate '1 / 0': division by zero."
    assert "Traceback" not in page.content() and "CalculatorError" not in page.content()
    assert "could not evaluate" in _last_answer(page)
    screenshot(page, "tools-error")


def test_usage_page_renders_the_chart(page: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    page.fill("#prompt", "Something to count")
    page.click("#send")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'done'")
    page.goto(demo_server.url("/usage/"))
    chart = page.locator("#usage-chart svg.usage-chart")
    assert chart.count() == 1
    bars = chart.locator("rect.bar")
    assert bars.count() >= 1
    tokens = [int(bars.nth(i).get_attribute("data-tokens")) for i in range(bars.count())]
    assert all(t > 0 for t in tokens)
    box = bars.first.bounding_box()
    assert box is not None and box["height"] >= 1 and box["width"] >= 1  # drawn, not just present
    assert page.locator("#ledger tr.row-ok").count() >= 1
    screenshot(page, "usage")
    page.click("nav >> text=Admin")  # the demo user is staff: claude-web's admin ledger is one click away
    page.wait_for_url("**/admin/claude_web/tokenusage/")
    page.locator("#result_list tbody tr").first.wait_for()
    assert page.locator("#result_list tbody tr").count() >= 1
    screenshot(page, "admin-ledger")


def test_upstream_error_is_readable(page: Any, fake: RemoteFakeClaude) -> None:
    fake.fail_next(3, 529)  # the first call and both retries of the client are overloaded
    page.fill("#prompt", "Are you there?")
    page.click("#send")
    error = page.locator("#chat-error")
    error.wait_for(state="visible")
    message = error.inner_text()
    assert "Claude is overloaded right now" in message
    assert "Traceback" not in message and "overloaded_error" not in message
    assert page.locator("#status").get_attribute("data-state") == "error"
    assert len(fake.requests) == 3
    screenshot(page, "error-upstream")


def test_quota_exhaustion_is_readable(context: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> None:
    demo_server.manage("demo_user", "--username", "quota-user", "--password", "quota-pass-123")
    page = context.new_page()
    log_in(page, demo_server, "quota-user", "quota-pass-123")
    fake.queue(text("A very expensive answer.", usage={"output_tokens": 250_000}))  # over the 200k tokens/day
    page.fill("#prompt", "Spend my whole daily quota")
    page.click("#send")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'done'")
    error = page.locator("#chat-error")
    sent_upstream = len(fake.requests)
    for _ in range(20):  # the usage record is counted right after the stream ends
        sent_upstream = len(fake.requests)
        page.fill("#prompt", "One more question")
        page.click("#send")
        page.wait_for_function(CHAT_SETTLED)
        if error.is_visible():
            break
        time.sleep(0.25)
    message = error.inner_text()
    assert message.startswith(
        "Quota exceeded: You have reached your daily token limit. Try again tomorrow at 00:00 UTC"
    )
    assert "Traceback" not in message
    assert page.locator("#status").get_attribute("data-state") == "error"
    assert len(fake.requests) == sent_upstream  # refused before any upstream call
    screenshot(page, "error-quota")


def test_validation_error_is_readable(page: Any, fake: RemoteFakeClaude) -> None:
    page.fill("#prompt", "   ")
    page.click("#send")
    error = page.locator("#chat-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "Your message is empty."
    page.fill("#prompt", "x" * 4001)
    page.click("#send")
    page.wait_for_function("() => document.getElementById('chat-error').textContent.includes('too long')")
    assert error.inner_text() == "Your message is too long (4,001 characters; the limit is 4,000)."
    assert page.locator("#conversation .bubble").count() == 0  # nothing was sent
    assert fake.requests == []  # refused before any upstream call
    screenshot(page, "error-validation")
