"""Differential tests of the client's options against anthropic==0.125.0 on FakeClaude: credentials and the
environment, ``ANTHROPIC_CUSTOM_HEADERS``, a custom ``http_client``'s timeout, the error fields and messages,
and a closed client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

import claude_web
from claude_web.testing import FakeClaude, delay, error, text

KEY = "sk-ant-fidelity-SECRET"
USER = [{"role": "user", "content": "Hi"}]
LIBS = (claude_web, anthropic)
AUTH_HEADERS = ("x-api-key", "authorization")


def _call(client: Any) -> Any:
    return client.messages.create(model="m", max_tokens=5, messages=USER)


def _headers_each(fake: FakeClaude, make: Callable[[Any], Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    seen = []
    for lib in LIBS:
        fake.clear()
        _call(make(lib))
        seen.append({h: fake.last_request.headers.get(h) for h in names})
    return seen


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_explicit_api_key_ignores_the_token_variable(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ANTHROPIC_AUTH_TOKEN", "env-token")
    ours, theirs = _headers_each(
        fake_claude, lambda lib: lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url), AUTH_HEADERS
    )
    assert ours == theirs == {"x-api-key": KEY, "authorization": None}


def test_explicit_token_ignores_the_key_variable(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ANTHROPIC_API_KEY", "env-key")
    ours, theirs = _headers_each(
        fake_claude, lambda lib: lib.Anthropic(auth_token="tok", base_url=fake_claude.base_url), AUTH_HEADERS
    )
    assert ours == theirs == {"x-api-key": None, "authorization": "Bearer tok"}


def test_both_variables_are_read_without_explicit_credentials(
    fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("ANTHROPIC_API_KEY", "env-key")
    clean_env.setenv("ANTHROPIC_AUTH_TOKEN", "env-token")
    ours, theirs = _headers_each(fake_claude, lambda lib: lib.Anthropic(base_url=fake_claude.base_url), AUTH_HEADERS)
    assert ours == theirs == {"x-api-key": "env-key", "authorization": "Bearer env-token"}


def test_custom_headers_variable(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Team: search\nno colon here\nX-Trace:  env \nX-Empty:")
    names = ("x-team", "x-trace", "x-empty", "x-extra")
    ours, theirs = _headers_each(
        fake_claude,
        lambda lib: lib.Anthropic(
            api_key=KEY, base_url=fake_claude.base_url, default_headers={"X-Trace": "explicit", "x-extra": "1"}
        ),
        names,
    )
    assert ours == theirs
    assert ours == {"x-team": "search", "x-trace": "explicit", "x-empty": "", "x-extra": "1"}


def test_custom_headers_survive_with_options(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Team: search")
    ours, theirs = _headers_each(
        fake_claude,
        lambda lib: lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url).with_options(max_retries=1),
        ("x-team",),
    )
    assert ours == theirs == {"x-team": "search"}


def test_missing_credentials_same_type_error(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    messages = []
    for lib in LIBS:
        client = lib.Anthropic(base_url=fake_claude.base_url)
        with pytest.raises(TypeError) as caught:
            _call(client)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert fake_claude.requests == []


def test_omitting_the_credential_header_is_allowed(fake_claude: FakeClaude, clean_env: pytest.MonkeyPatch) -> None:
    """``extra_headers={"X-Api-Key": omit}`` says "I know there is no key" (e.g. a proxy adds it)."""
    seen = []
    for lib in LIBS:
        fake_claude.clear()
        client = lib.Anthropic(base_url=fake_claude.base_url, max_retries=0)
        with pytest.raises(lib.AuthenticationError):  # sent without a key: FakeClaude says 401, as the API would
            client.messages.create(model="m", max_tokens=5, messages=USER, extra_headers={"X-Api-Key": lib.omit})
        seen.append({h: fake_claude.last_request.headers.get(h) for h in AUTH_HEADERS})
    assert seen[0] == seen[1] == {"x-api-key": None, "authorization": None}


def test_an_explicit_header_replaces_the_key(fake_claude: FakeClaude) -> None:
    ours, theirs = _headers_each(
        fake_claude,
        lambda lib: lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, default_headers={"X-Api-Key": "other"}),
        AUTH_HEADERS,
    )
    assert ours == theirs == {"x-api-key": "other", "authorization": None}


def _timeout_view(timeout: Any) -> Any:
    if isinstance(timeout, httpx.Timeout):
        return [(name, value, type(value).__name__) for name, value in timeout.as_dict().items()]
    return timeout


@pytest.mark.parametrize(
    "make_http",
    [
        lambda lib: None,
        lambda lib: httpx.Client(timeout=0.3),
        lambda lib: httpx.Client(timeout=httpx.Timeout(20, connect=2)),
        lambda lib: httpx.Client(),  # httpx's untouched default: ours is used
        lambda lib: lib.DefaultHttpxClient(),
    ],
)
def test_timeout_from_http_client_same(make_http: Callable[[Any], Any]) -> None:
    views = [_timeout_view(lib.Anthropic(api_key=KEY, http_client=make_http(lib)).timeout) for lib in LIBS]
    assert views[0] == views[1]


def test_default_timeout_same_values_and_types() -> None:
    assert _timeout_view(claude_web.DEFAULT_TIMEOUT) == _timeout_view(anthropic.DEFAULT_TIMEOUT)
    assert _timeout_view(claude_web.Anthropic(api_key=KEY).timeout) == _timeout_view(
        anthropic.Anthropic(api_key=KEY).timeout
    )


def test_http_client_timeout_is_what_times_out(fake_claude: FakeClaude) -> None:
    outcomes = []
    for lib in LIBS:
        fake_claude.clear()
        fake_claude.queue(delay(1.0, then=text("late")))
        client = lib.Anthropic(
            api_key=KEY, base_url=fake_claude.base_url, max_retries=0, http_client=httpx.Client(timeout=0.3)
        )
        with pytest.raises(lib.APITimeoutError) as caught:
            _call(client)
        outcomes.append((type(caught.value).__name__, str(caught.value), caught.value.message))
    assert outcomes[0] == outcomes[1]


def test_async_http_client_timeout_same() -> None:
    views = [
        _timeout_view(lib.AsyncAnthropic(api_key=KEY, http_client=httpx.AsyncClient(timeout=0.7)).timeout)
        for lib in LIBS
    ]
    assert views[0] == views[1] == [(n, 0.7, "float") for n in ("connect", "read", "write", "pool")]


@pytest.mark.parametrize("status", [401, 429, 529])
def test_status_errors_carry_workspace_id(fake_claude: FakeClaude, status: int) -> None:
    seen = []
    for lib in LIBS:
        fake_claude.clear()
        fake_claude.queue(error(status, headers={"anthropic-workspace-id": "wrkspc_01"}))
        client = lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)
        with pytest.raises(lib.APIStatusError) as caught:
            _call(client)
        seen.append((type(caught.value).__name__, caught.value.workspace_id, caught.value.type))
    assert seen[0] == seen[1]
    assert seen[0][1] == "wrkspc_01"


def test_workspace_id_none_without_the_header(fake_claude: FakeClaude) -> None:
    seen = []
    for lib in LIBS:
        fake_claude.clear()
        fake_claude.queue(error(400))
        client = lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)
        with pytest.raises(lib.APIStatusError) as caught:
            _call(client)
        seen.append(caught.value.workspace_id)
    assert seen == [None, None]


@pytest.mark.parametrize("is_async", [False, True])
def test_closed_client_raises_connection_error(fake_claude: FakeClaude, is_async: bool) -> None:
    import asyncio

    seen = []
    for lib in LIBS:
        if is_async:

            async def run(lib: Any = lib) -> Any:
                client = lib.AsyncAnthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)
                await client.close()
                try:
                    await client.messages.create(model="m", max_tokens=5, messages=USER)
                except Exception as failure:
                    return failure
                return None

            exc = asyncio.run(run())
        else:
            client = lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)
            client.close()
            try:
                _call(client)
                exc = None
            except Exception as caught:
                exc = caught
        assert isinstance(exc, lib.APIConnectionError), exc
        seen.append((type(exc).__name__, str(exc)))
    assert seen[0] == seen[1]
    assert fake_claude.requests == []
