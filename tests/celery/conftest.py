"""Fixtures for the jobs tests: a Redis key prefix per test, FakeClaude, and real Celery worker processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cw_helpers import Workers, cleanup_prefix


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix nobody else uses; every key under it is deleted afterwards."""
    value = f"cwtest-{uuid.uuid4().hex[:12]}"
    yield value
    cleanup_prefix(redis_url, value)


@pytest.fixture
def redis_relay(redis_url: str, prefix: str) -> Iterator[Any]:
    from claude_web.relay import relay_from_url

    relay = relay_from_url(redis_url, prefix=prefix, ttl=60)
    yield relay
    relay.close()


@pytest.fixture(scope="session")
def fake() -> Iterator[Any]:
    from claude_web.testing import FakeClaude

    with FakeClaude() as server:
        yield server


@pytest.fixture
def clean_fake(fake: Any) -> Any:
    fake.clear()
    return fake


@pytest.fixture(scope="module")
def workers(redis_url: str, fake: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """One prefix and one worker (``-c 2``) for a test module; tests may start more with ``workers.start``."""
    prefix = f"cwtest-{uuid.uuid4().hex[:12]}"
    pool = Workers(redis_url, prefix, fake.base_url, tmp_path_factory.mktemp("workers"))
    try:
        pool.start("w1")
        yield pool
    finally:
        pool.stop()
        cleanup_prefix(redis_url, prefix)
