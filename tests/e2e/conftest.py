"""Browser end-to-end fixtures: the demo (``example_project/run_demo.py``: FakeClaude + the Django site under
uvicorn) started once per session on free ports, Debian's Chromium driven by Playwright, and a logged-in page.

Without ``/usr/bin/chromium`` (or the ``playwright`` package) the tests skip locally and fail when
``CLAUDE_WEB_REQUIRE_SERVICES=1`` (see ``e2e_helpers.require_browser``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DemoServer,
    log_in,
    require_browser,
    running_demo,
)

from claude_web.testing import RemoteFakeClaude


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo with in-process background jobs, for the whole session."""
    require_browser()
    with running_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, per test module: Playwright's sync API runs an event loop in this thread while it is open, which
    must not leak into other test packages (their ``asyncio.run`` would fail)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def fake(demo_server: DemoServer) -> RemoteFakeClaude:
    """FakeClaude's control client, with no scripted replies or recorded requests left from earlier tests."""
    demo_server.fake.clear()
    return demo_server.fake


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies and localStorage)."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, demo_server: DemoServer, fake: RemoteFakeClaude) -> Any:
    """A page logged in as the demo user, on the chat page."""
    tab = context.new_page()
    log_in(tab, demo_server)
    return tab
