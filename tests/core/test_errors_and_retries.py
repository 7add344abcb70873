"""The error tree, its status mapping, and the retry policy's decisions and delays (no I/O here)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

import claude_web
from claude_web import _exceptions as exc
from claude_web._base_client import BaseClient

REQ = httpx.Request("POST", "https://api.anthropic.com/v1/messages")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.BadRequestError),
        (401, exc.AuthenticationError),
        (403, exc.PermissionDeniedError),
        (404, exc.NotFoundError),
        (409, exc.ConflictError),
        (413, exc.RequestTooLargeError),
        (422, exc.UnprocessableEntityError),
        (429, exc.RateLimitError),
        (529, exc.OverloadedError),
        (500, exc.InternalServerError),
        (503, exc.InternalServerError),
        (504, exc.InternalServerError),
        (418, exc.APIStatusError),
    ],
)
def test_status_mapping(status: int, cls: type[exc.APIStatusError]) -> None:
    body = {"type": "error", "error": {"type": "some_error", "message": "boom"}}
    response = httpx.Response(status, json=body, request=REQ, headers={"request-id": "req_1"})
    error = exc.make_status_error(f"Error code: {status} - {body}", body=body, response=response)
    assert type(error) is cls
    assert error.status_code == status
    assert error.request_id == "req_1"
    assert error.type == "some_error"
    assert error.body == body
    assert "boom" in str(error)


def test_tree_shape() -> None:
    assert issubclass(claude_web.APITimeoutError, claude_web.APIConnectionError)
    assert issubclass(claude_web.APIConnectionError, claude_web.APIError)
    assert issubclass(claude_web.APIStatusError, claude_web.APIError)
    assert issubclass(claude_web.APIResponseValidationError, claude_web.APIError)
    assert issubclass(claude_web.APIError, claude_web.AnthropicError)
    for name in ("ServiceUnavailableError", "DeadlineExceededError", "OverloadedError"):
        assert issubclass(getattr(claude_web, name), claude_web.APIStatusError)


def _resp(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQ)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (503, {}, True),
        (529, {}, True),
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (400, {"x-should-retry": "true"}, True),
        (529, {"x-should-retry": "false"}, False),
    ],
)
def test_should_retry(status: int, headers: dict[str, str], expected: bool) -> None:
    assert BaseClient._should_retry(_resp(status, **headers)) is expected


def _client() -> BaseClient:
    return BaseClient(base_url="http://x", timeout=1.0, max_retries=2, custom_headers=None, custom_query=None)


def test_retry_after_headers_are_honoured() -> None:
    c = _client()
    assert c._retry_delay(0, httpx.Headers({"retry-after-ms": "1500"})) == pytest.approx(1.5)
    assert c._retry_delay(0, httpx.Headers({"retry-after": "3"})) == pytest.approx(3.0)
    future = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 < c._retry_delay(0, httpx.Headers({"retry-after": future})) <= 5.5
    # unreasonable values fall back to our own backoff
    assert c._retry_delay(0, httpx.Headers({"retry-after": "600"})) <= 0.5


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    c = _client()
    for attempt, base in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        delays = [c._retry_delay(attempt, None) for _ in range(200)]
        assert all(base * 0.75 <= d <= base for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > 0  # jitter present


def test_nonstreaming_guard() -> None:
    client = claude_web.Anthropic(api_key="k", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="Streaming is required"):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=64_000, messages=[])
    with pytest.raises(ValueError, match="Streaming is required"):
        client.messages.create(model="claude-opus-4-0", max_tokens=10_000, messages=[])
