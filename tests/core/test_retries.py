"""``claude_web.retries``: the one home of the retry rules. Its examples run as doctests; the rules are checked
against ``anthropic`` 0.125.0's own decisions and used by the client's send loops."""

from __future__ import annotations

import doctest
import email.utils
import time

import anthropic
import httpx
import pytest

import claude_web
from claude_web import _client, _credentials, retries
from claude_web.retries import (
    backoff_delay,
    retry_after_seconds,
    retry_delay,
    retry_delay_for,
    should_retry_error,
    should_retry_status,
)
from claude_web.testing import FakeClaude, error, text


@pytest.mark.parametrize("obj", [retries, _credentials, _client.custom_headers_from_env])
def test_examples(obj: object) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(obj):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x/v1/messages"))


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529])
@pytest.mark.parametrize("should", [None, "true", "false"])
def test_status_rule_agrees_with_anthropic(status: int, should: str | None) -> None:
    headers = {} if should is None else {"x-should-retry": should}
    theirs = anthropic.Anthropic(api_key="k")._should_retry(_response(status, **headers))
    assert should_retry_status(status, httpx.Headers(headers)) is theirs


def test_retry_after_agrees_with_anthropic() -> None:
    theirs = anthropic.Anthropic(api_key="k")
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    for headers in (
        {"retry-after-ms": "1500"},
        {"retry-after-ms": "junk", "retry-after": "2"},
        {"retry-after": "2.5"},
        {"retry-after": "never"},
        {},
    ):
        h = httpx.Headers(headers)
        assert retry_after_seconds(h) == theirs._parse_retry_after_header(h)
    ours, official = (
        retry_after_seconds({"retry-after": future}),
        theirs._parse_retry_after_header(httpx.Headers({"retry-after": future})),
    )
    assert ours is not None and official is not None and abs(ours - official) < 1.5


def test_errors() -> None:
    request = httpx.Request("POST", "http://x")
    assert should_retry_error(claude_web.APIConnectionError(request=request))
    assert should_retry_error(claude_web.APITimeoutError(request))
    assert should_retry_error(claude_web.RetryableError("again"))
    assert should_retry_error(claude_web.OverloadedError("busy", response=_response(529), body=None))
    assert not should_retry_error(claude_web.BadRequestError("bad", response=_response(400), body=None))
    assert not should_retry_error(
        claude_web.OverloadedError("busy", response=_response(529, **{"x-should-retry": "false"}), body=None)
    )
    # an in-stream error: the HTTP answer was 200, the error event's type gives the status
    in_stream = claude_web.OverloadedError("busy", response=_response(200), body=None)
    in_stream.status_code = 529
    assert should_retry_error(in_stream)
    # a wrapped failure is judged by its cause
    try:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError as cause:
            raise RuntimeError("wrapped") from cause
    except RuntimeError as wrapped:
        assert should_retry_error(wrapped)
    assert not should_retry_error(ValueError("a bug"))


def test_delays_are_parametrisable() -> None:
    fixed = {"jitter": lambda: 0.0}
    assert [backoff_delay(n, **fixed) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 8.0]  # type: ignore[arg-type]
    slow = [backoff_delay(n, initial_delay=1.0, max_delay=60.0, jitter=lambda: 0.0) for n in (0, 3, 10)]
    assert slow == [1.0, 8.0, 60.0]
    assert backoff_delay(0, jitter=lambda: 0.999) == pytest.approx(0.5 * 0.75, rel=1e-2)
    assert retry_delay(0, {"retry-after": "90"}, jitter=lambda: 0.0) == 0.5
    assert retry_delay(0, {"retry-after": "90"}, max_retry_after=600.0) == 90.0
    assert retry_delay(1, {"retry-after": "0"}, jitter=lambda: 0.0) == 1.0
    assert retry_delay(1, {"retry-after": "0"}, allow_immediate=True) == 0.0
    assert retry_delay(0, {"retry-after": "-3"}, jitter=lambda: 0.0) == 0.5
    exc = claude_web.RateLimitError("slow", response=_response(429, **{"retry-after": "3"}), body=None)
    assert retry_delay_for(exc, 0) == 3.0
    assert retry_delay_for(claude_web.APIConnectionError(request=httpx.Request("GET", "http://x")), 2, **fixed) == 2.0  # type: ignore[arg-type]


def test_the_client_waits_as_the_rules_say(fake_claude: FakeClaude) -> None:
    fake_claude.queue(error(529, headers={"retry-after-ms": "120"}), text("done"))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, max_retries=1)
    client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    first, second = (r.received_at for r in fake_claude.requests)
    assert 0.11 <= second - first < 0.5
