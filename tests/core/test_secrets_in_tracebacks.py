"""Credentials stay out of rendered tracebacks: Django's ``DEBUG=True`` error page shows every frame's locals, so
no frame of ours (nor of httpx under us) may hold the key where a repr shows it. Real failures from FakeClaude
(500, 401, 529, an error inside a stream) and a dead upstream, rendered by Django's own ``ExceptionReporter``."""

from __future__ import annotations

import asyncio
import os
import pprint
import secrets
from collections.abc import Callable
from typing import Any

import pytest

import claude_web
from claude_web.testing import FakeClaude, error, text

# made at run time, so the key is in no source line the report shows around a frame
KEY = "sk-ant-api03-" + secrets.token_hex(24)
DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused
USER = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def render() -> Callable[[BaseException], str]:
    from django.conf import settings

    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        settings.configure(DEBUG=True, SECRET_KEY="test-only", INSTALLED_APPS=[], ALLOWED_HOSTS=["*"], USE_TZ=True)
    import django

    django.setup()
    from django.views.debug import ExceptionReporter

    def render(exc: BaseException) -> str:
        reporter = ExceptionReporter(None, type(exc), exc, exc.__traceback__)
        frames = reporter.get_traceback_frames()
        assert any("claude_web" in frame["filename"] for frame in frames)  # our frames are really in the report
        return reporter.get_traceback_text() + reporter.get_traceback_html()

    return render


def _create(client: Any) -> None:
    client.messages.create(model="m", max_tokens=5, messages=USER)


def _stream(client: Any) -> None:
    with client.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
        stream.get_final_message()


def _failure(call: Callable[[Any], None], client: Any) -> BaseException:
    try:
        call(client)
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


CREDENTIALS = [pytest.param({"api_key": KEY}, id="api_key"), pytest.param({"auth_token": KEY}, id="auth_token")]


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("status", [500, 401, 529])
def test_status_errors(
    fake_claude: FakeClaude, render: Callable[[BaseException], str], credential: dict[str, str], status: int
) -> None:
    fake_claude.queue(error(status), error(status))
    client = claude_web.Anthropic(**credential, base_url=fake_claude.base_url, max_retries=1)
    exc = _failure(_create, client)
    assert isinstance(exc, claude_web.APIStatusError) and exc.status_code == status
    page = render(exc)
    assert KEY not in page
    assert "Local vars" in page and "_request" in page  # the send loop's frame and its locals were rendered


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_dead_upstream(render: Callable[[BaseException], str], credential: dict[str, str]) -> None:
    client = claude_web.Anthropic(**credential, base_url=DEAD_URL, max_retries=0)
    exc = _failure(_create, client)
    assert isinstance(exc, claude_web.APIConnectionError)
    page = render(exc)
    assert KEY not in page
    assert "httpx" in page and "ConnectError" in page  # the chained httpx frames were rendered too


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_error_inside_a_stream(
    fake_claude: FakeClaude, render: Callable[[BaseException], str], credential: dict[str, str]
) -> None:
    fake_claude.queue(text("a b c d e f g h", chunks=8, error_after=4))
    client = claude_web.Anthropic(**credential, base_url=fake_claude.base_url, max_retries=0)
    exc = _failure(_stream, client)
    assert isinstance(exc, claude_web.OverloadedError)
    assert KEY not in render(exc)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_async_client(
    fake_claude: FakeClaude, render: Callable[[BaseException], str], credential: dict[str, str]
) -> None:
    async def run(client: claude_web.AsyncAnthropic) -> BaseException:
        try:
            await client.messages.create(model="m", max_tokens=5, messages=USER)
        except Exception as exc:
            return exc
        raise AssertionError("the call did not fail")

    fake_claude.queue(error(529))
    exc = asyncio.run(run(claude_web.AsyncAnthropic(**credential, base_url=fake_claude.base_url, max_retries=0)))
    assert isinstance(exc, claude_web.OverloadedError)
    assert KEY not in render(exc)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_reprs_of_the_client_and_what_it_holds(fake_claude: FakeClaude, credential: dict[str, str]) -> None:
    client = claude_web.Anthropic(**credential, base_url=fake_claude.base_url)
    _create(client)  # the caches are filled
    copy = client.with_options(timeout=3)
    for obj in (client, copy):
        for text_of in (repr(obj), str(obj), pprint.pformat(vars(obj)), repr(obj.messages)):
            assert KEY not in text_of
    assert "<redacted>" in repr(client)
    # the key still reaches the wire and reads back as given
    assert KEY in fake_claude.last_request.headers.get("x-api-key", "") + fake_claude.last_request.headers.get(
        "authorization", ""
    )
    assert (client.api_key or client.auth_token) == KEY and (copy.api_key or copy.auth_token) == KEY
