"""Fixtures for the FakeClaude tests: a plain httpx client on the session's (per-test cleared) FakeClaude."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fake_helpers import HEADERS

from claude_web.testing import FakeClaude


@pytest.fixture
def http(fake_claude: FakeClaude) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_claude.base_url, headers=HEADERS, timeout=10) as client:
        yield client
