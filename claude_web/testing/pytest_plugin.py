"""pytest plugin (registered as the ``claude_web`` pytest11 entry point).

Fixtures:

- ``fake_claude``: a FakeClaude shared by the whole session (started on first use, stopped at the end),
  cleared before each test so every test starts with no requests, queued replies, batches, files, cached
  prompts or counters.
- ``fake_claude_base_url``: its ``base_url`` (``http://127.0.0.1:PORT``).
- ``fake_claude_server``: the same session server without the per-test clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fake import FakeClaude


@pytest.fixture(scope="session")
def fake_claude_server() -> Iterator[FakeClaude]:
    """The session's FakeClaude (not cleared between tests; prefer ``fake_claude``)."""
    from ._fake import FakeClaude  # imported lazily: loading the plugin stays cheap

    with FakeClaude() as server:
        yield server


@pytest.fixture
def fake_claude(fake_claude_server: FakeClaude) -> FakeClaude:
    """The session's FakeClaude, cleared for this test."""
    fake_claude_server.clear()
    return fake_claude_server


@pytest.fixture
def fake_claude_base_url(fake_claude: FakeClaude) -> str:
    """``fake_claude.base_url``: ``http://127.0.0.1:PORT``."""
    return fake_claude.base_url
