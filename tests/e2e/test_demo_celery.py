"""The long-task page with background jobs on Celery + the Redis relay (``run_demo.py --redis-url``): a reload
mid-answer resumes from the last event id, with the full text and no duplication."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import DemoServer, log_in, require_browser, running_demo, screenshot

from claude_web.testing import text

pytestmark = [pytest.mark.needs_browser, pytest.mark.needs_redis]


@pytest.fixture(scope="module")
def celery_demo(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_browser()
    with running_demo(tmp_path_factory.mktemp("demo-celery"), "--redis-url", redis_url) as server:
        assert any("Celery worker + Redis relay" in line for line in server.output)
        yield server


def test_long_task_on_celery_resumes_after_reload(context: Any, celery_demo: DemoServer) -> None:
    celery_demo.fake.clear()
    full = " ".join(f"Celery sentence {i:02d} streamed through Redis." for i in range(1, 31))
    celery_demo.fake.queue(text(full, chunks=60, event_delay=0.07))
    event_urls: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: event_urls.append(request.url) if "/events/" in request.url else None)
    log_in(page, celery_demo, path="/long-task/")
    page.fill("#job-prompt", "Write a report about Celery")
    page.click("#job-start")
    page.wait_for_function("() => document.getElementById('job-output').textContent.length > 150", timeout=30_000)
    before = page.locator("#job-output").text_content()
    assert re.search(r"[?&]job=", page.url)
    page.reload()
    page.wait_for_function("() => document.getElementById('job-status').dataset.state === 'done'", timeout=30_000)
    final = page.locator("#job-output").text_content()
    assert len(before) < len(full)
    assert final == full
    assert any("last_event_id=" in url for url in event_urls[1:]), event_urls
    assert len(celery_demo.fake.requests) == 1
    screenshot(page, "long-task-celery")
