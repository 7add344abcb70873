"""Shared fixtures: real services (Redis, PostgreSQL) with a clear policy when one is missing.

Locally a missing service skips the tests that need it; with ``CLAUDE_WEB_REQUIRE_SERVICES=1`` (set by
``.ci/run``) it fails them instead, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

REDIS_URL = os.environ.get("CLAUDE_WEB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_DSN = os.environ.get("CLAUDE_WEB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (CLAUDE_WEB_REQUIRE_SERVICES=1: missing services are failures)")
    pytest.skip(f"{message}; start it, or run `make test` through .ci/run")


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_DSN
