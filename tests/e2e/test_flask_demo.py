"""The Flask demo (``example_project/flask_app.py``) in a browser: a stored conversation with a streamed answer,
Stop, a readable validation error, the history after a reload, and the calculator tool."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import EXAMPLE, DemoServer, free_port, sample_lengths, screenshot, start_process, stop_process

from claude_web.testing import RemoteFakeClaude, text

pytestmark = pytest.mark.needs_browser

FLASK_READY = re.compile(r"claude-web Flask demo running at (http://\S+)")
ANSWER_LENGTH = (
    "() => (document.querySelector('#conversation .bubble.assistant') || {textContent: ''}).textContent.length"
)
SETTLED = "() => ['done', 'error', 'stopped'].includes(document.getElementById('status').dataset.state)"


@pytest.fixture(scope="module")
def flask_demo(demo_server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The Flask app on a free port, talking to the session's FakeClaude; yields (URL, usage log path)."""
    usage_log = tmp_path_factory.mktemp("flask") / "usage.jsonl"
    env = {k: v for k, v in demo_server.env.items() if k != "ANTHROPIC_API_KEY"}
    env.update(
        {
            "CLAUDE_WEB_FAKE_URL": demo_server.fake_url,
            "FLASK_DEMO_USAGE_LOG": str(usage_log),
            "FLASK_DEMO_DB": str(usage_log.parent / "flask_demo.sqlite3"),
        }
    )
    process, output = start_process(
        [sys.executable, str(EXAMPLE / "flask_app.py"), "--port", str(free_port())], env, FLASK_READY
    )
    found = FLASK_READY.search("\n".join(output))
    assert found
    try:
        yield found.group(1), usage_log
    finally:
        stop_process(process)


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_flask_chat_streams_stops_and_validates(
    context: Any, flask_demo: tuple[str, Path], fake: RemoteFakeClaude
) -> None:
    url, usage_log = flask_demo
    page = context.new_page()
    page.goto(url)
    assert page.locator("#claude-mode").get_attribute("data-mode") == "fake"

    page.fill("#prompt", "Hello from Flask")
    page.click("#send")
    lengths = sample_lengths(page, ANSWER_LENGTH, SETTLED)
    assert page.locator("#status").get_attribute("data-state") == "done"
    steps = sorted({n for n in lengths if n > 0})
    assert len(steps) >= 3, lengths
    assert (
        page.locator("#conversation .bubble.assistant")
        .text_content()
        .startswith('Here is a thought about "Hello from Flask"')
    )
    screenshot(page, "flask-chat")

    fake.queue(text(" ".join(f"Flask sentence {i:02d}." for i in range(1, 41)), chunks=80, event_delay=0.1))
    page.fill("#prompt", "A long one, please")
    page.click("#send")
    page.wait_for_function(
        "() => document.querySelectorAll('#conversation .bubble.assistant')[1]?.textContent.length > 10"
    )
    page.click("#stop")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'stopped'")
    assert fake.wait_for_stream_abort(10), "the Flask app did not close the upstream stream"
    deadline = time.monotonic() + 10
    while not any(r["status"] == "aborted" for r in _records(usage_log)) and time.monotonic() < deadline:
        time.sleep(0.2)
    statuses = [r["status"] for r in _records(usage_log)]
    assert statuses.count("ok") == 1 and statuses.count("aborted") == 1, statuses

    page.fill("#prompt", "x" * 4001)
    page.click("#send")
    error = page.locator("#chat-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "Your message is too long (4,001 characters; the limit is 4,000)."
    page.reload()  # the conversation is stored (Flask-SQLAlchemy): both answers are back, the stopped one marked
    page.wait_for_function("() => document.querySelectorAll('#conversation .bubble.assistant').length === 2")
    assert page.locator("#conversation .bubble.assistant.stopped").count() == 1
    screenshot(page, "flask-chat-error")


def test_flask_tools_page_shows_the_call_and_result(
    context: Any, flask_demo: tuple[str, Path], fake: RemoteFakeClaude
) -> None:
    url, _ = flask_demo
    page = context.new_page()
    page.goto(url + "tools/")
    page.fill("#prompt", "What is 6 * 7?")
    page.click("#send")
    page.wait_for_function(SETTLED)
    assert page.locator("#conversation .tool-call").count() == 1
    assert page.locator("#conversation .tool-result .detail").inner_text() == "42"
    screenshot(page, "flask-tools")
