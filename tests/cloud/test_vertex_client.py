"""AnthropicVertex / AsyncAnthropicVertex against FakeVertex, and their google-auth token handling."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import google.auth
import pytest
from cloud_helpers import MODEL_VERTEX, USER, vertex_kwargs
from google.auth.exceptions import RefreshError

import claude_web
from claude_web import AnthropicVertex, AsyncAnthropicVertex
from claude_web.lib.vertex import VertexConfigError, VertexCredentialsError
from claude_web.testing import FakeClaude, error, text, tool_use
from claude_web.testing._cloud import FakeVertex
from claude_web.usage import UsageRecord

PREFIX = "/v1/projects/test-project/locations/us-east5/publishers/anthropic/models"


class FakeCredentials:
    """Enough of google.auth.credentials.Credentials: ``token``, ``expired`` and ``refresh(request)``."""

    def __init__(
        self, token: str | None = None, *, expired: bool = False, fail: bool = False, delay: float = 0.0
    ) -> None:
        self.token = token
        self.expired = expired
        self.fail = fail
        self.delay = delay
        self.refreshes = 0
        self.refresh_threads: list[int] = []
        self.requests_given: list[Any] = []

    def refresh(self, request: Any) -> None:
        self.refresh_threads.append(threading.get_ident())
        self.requests_given.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RefreshError("invalid_grant: Token has been expired or revoked.")
        self.refreshes += 1
        self.token = "vertex-token"
        self.expired = False


def client(server: FakeVertex, **overrides: Any) -> AnthropicVertex:
    return AnthropicVertex(**vertex_kwargs(server, **overrides))


def aclient(server: FakeVertex, **overrides: Any) -> AsyncAnthropicVertex:
    return AsyncAnthropicVertex(**vertex_kwargs(server, **overrides))


# -- the request -----------------------------------------------------------------------------------------------


def test_create_sends_the_vertex_shape(fake: FakeClaude, vertex: FakeVertex) -> None:
    fake.queue(text("Hi from Vertex"))
    message = client(vertex).messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER, top_k=5)
    assert message.content[0].text == "Hi from Vertex"
    request = vertex.last_request
    assert request.path == f"{PREFIX}/{MODEL_VERTEX}:rawPredict"
    assert request.json == {"max_tokens": 64, "messages": USER, "top_k": 5, "anthropic_version": "vertex-2023-10-16"}
    assert request.headers["authorization"] == "Bearer vertex-token"
    assert fake.last_request.json["model"] == MODEL_VERTEX


def test_stream_true_and_helpers_use_stream_raw_predict(fake: FakeClaude, vertex: FakeVertex) -> None:
    api = client(vertex)
    fake.queue(text("one two", chunks=2))
    with api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER, stream=True) as stream:
        types = [event.type for event in stream]
    assert types == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert vertex.last_request.path == f"{PREFIX}/{MODEL_VERTEX}:streamRawPredict"
    assert vertex.last_request.json["stream"] is True  # Vertex keeps stream in the body
    fake.queue(tool_use("get_weather", {"city": "Paris"}))
    with api.messages.stream(model=MODEL_VERTEX, max_tokens=64, messages=USER) as helper:
        final = helper.get_final_message()
    assert final.content[0].type == "tool_use" and final.content[0].input == {"city": "Paris"}


async def test_async_create_stream_and_helpers(fake: FakeClaude, vertex: FakeVertex) -> None:
    async with aclient(vertex) as api:
        fake.queue(text("async vertex"))
        message = await api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER)
        assert message.content[0].text == "async vertex"
        fake.queue(text("a b", chunks=2))
        stream = await api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER, stream=True)
        assert [e.type async for e in stream][-1] == "message_stop"
        fake.queue(text("helper words", chunks=2))
        async with api.messages.stream(model=MODEL_VERTEX, max_tokens=64, messages=USER) as helper:
            assert "".join([t async for t in helper.text_stream]) == "helper words"
    assert len(vertex.requests) == 3


def test_count_tokens_goes_to_the_count_tokens_model(vertex: FakeVertex) -> None:
    count = client(vertex).messages.count_tokens(model=MODEL_VERTEX, messages=USER)
    assert count.input_tokens > 0
    request = vertex.last_request
    assert request.path == f"{PREFIX}/count-tokens:rawPredict"
    assert request.json == {"messages": USER, "model": MODEL_VERTEX, "anthropic_version": "vertex-2023-10-16"}


def test_batches_are_not_supported(vertex: FakeVertex) -> None:
    with pytest.raises(claude_web.AnthropicError, match="Batch API is not supported in the Vertex client"):
        client(vertex).messages.batches.list()
    assert vertex.requests == []


def test_in_stream_error_and_http_errors(fake: FakeClaude, vertex: FakeVertex) -> None:
    api = client(vertex)
    fake.queue(text("a b c d", chunks=4, error_after=3))
    with pytest.raises(claude_web.OverloadedError):
        list(api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER, stream=True))
    fake.queue(error(503))
    with pytest.raises(claude_web.ServiceUnavailableError) as busy:
        api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER)
    assert isinstance(busy.value, claude_web.InternalServerError)
    fake.queue(error(504))
    with pytest.raises(claude_web.DeadlineExceededError):
        api.messages.create(model=MODEL_VERTEX, max_tokens=64, messages=USER)
    with pytest.raises(claude_web.AuthenticationError) as denied:
        client(vertex, access_token="wrong-token").messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert denied.value.body["error"]["status"] == "UNAUTHENTICATED"  # type: ignore[index]


def test_retries(fake: FakeClaude, vertex: FakeVertex) -> None:
    fake.queue(error(529, headers={"retry-after-ms": "1"}), text("second"))
    assert (
        client(vertex, max_retries=1).messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER).content[0].text
        == "second"
    )
    assert len(vertex.requests) == 2


def test_with_options_raw_response_and_usage(fake: FakeClaude, vertex: FakeVertex) -> None:
    records: list[UsageRecord] = []
    base = client(vertex, usage_recorder=records.append)
    copy = base.with_options(timeout=30.0, default_headers={"x-extra": "yes"})
    assert copy._auth is base._auth and copy._client is base._client
    assert copy.region == "us-east5" and copy.project_id == "test-project"
    raw = copy.with_raw_response.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert raw.http_response.status_code == 200 and raw.parse().type == "message"
    assert vertex.last_request.headers["x-extra"] == "yes"
    other = copy.with_options(project_id="another-project")
    with pytest.raises(claude_web.PermissionDeniedError):
        other.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert "/projects/another-project/" in vertex.last_request.path
    assert [r.backend for r in records] == ["vertex", "vertex"]
    assert [r.status for r in records] == ["ok", "error"]


# -- configuration and bad input ---------------------------------------------------------------------------------


def test_missing_region_names_the_argument_and_env_var() -> None:
    with pytest.raises(ValueError, match="region=.*CLOUD_ML_REGION"):
        AnthropicVertex(project_id="p", access_token="t")


def test_region_project_and_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUD_ML_REGION", "europe-west1")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "env-project")
    api = AnthropicVertex(access_token="t")
    assert api.region == "europe-west1" and api.project_id == "env-project"
    assert str(api.base_url) == "https://europe-west1-aiplatform.googleapis.com/v1/"
    assert str(AnthropicVertex(region="global", access_token="t").base_url) == "https://aiplatform.googleapis.com/v1/"
    assert (
        str(AnthropicVertex(region="eu", access_token="t").base_url) == "https://aiplatform.eu.rep.googleapis.com/v1/"
    )
    monkeypatch.setenv("ANTHROPIC_VERTEX_BASE_URL", "http://proxy.invalid/v1")
    assert str(AnthropicVertex(access_token="t").base_url) == "http://proxy.invalid/v1/"
    assert "secret-token" not in repr(AnthropicVertex(access_token="secret-token"))


def test_missing_project_names_the_argument_and_env_var(vertex: FakeVertex) -> None:
    api = AnthropicVertex(region="us-east5", access_token="vertex-token", base_url=vertex.base_url)
    assert api.project_id is None
    with pytest.raises(VertexConfigError, match="project_id=.*ANTHROPIC_VERTEX_PROJECT_ID"):
        api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    with pytest.raises(claude_web.AnthropicError, match="ANTHROPIC_VERTEX_PROJECT_ID"):
        api.messages.count_tokens(model=MODEL_VERTEX, messages=USER)
    assert vertex.requests == []


def test_missing_project_says_adc_had_none(vertex: FakeVertex) -> None:
    api = AnthropicVertex(region="us-east5", base_url=vertex.base_url)
    with pytest.raises(VertexConfigError, match="no Application Default Credentials in tests"):
        api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)


def test_default_credentials_give_token_and_project(vertex: FakeVertex, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = FakeCredentials()  # no token yet: the first request refreshes it
    calls: list[Any] = []

    def default(scopes: Any = None, **kwargs: Any) -> tuple[FakeCredentials, str]:
        calls.append(scopes)
        return credentials, "test-project"

    monkeypatch.setattr(google.auth, "default", default)
    api = AnthropicVertex(region="us-east5", base_url=vertex.base_url)
    api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert calls == [["https://www.googleapis.com/auth/cloud-platform"]]
    assert credentials.refreshes == 1
    assert api.project_id == "test-project" and api.credentials is credentials
    assert vertex.last_request.path.startswith("/v1/projects/test-project/")
    assert type(credentials.requests_given[0]).__module__ == "google.auth.transport.requests"


def test_expired_token_is_refreshed_once_across_threads(vertex: FakeVertex) -> None:
    credentials = FakeCredentials("stale-token", expired=True, delay=0.05)
    api = client(vertex, access_token=None, credentials=credentials)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert credentials.refreshes == 1
    assert {r.headers["authorization"] for r in vertex.requests} == {"Bearer vertex-token"}
    credentials.expired = True  # expires again later: one more refresh
    api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert credentials.refreshes == 2


async def test_async_refresh_runs_off_the_event_loop(vertex: FakeVertex) -> None:
    credentials = FakeCredentials("stale-token", expired=True)
    api = aclient(vertex, access_token=None, credentials=credentials)
    await api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    await api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert credentials.refreshes == 1
    assert credentials.refresh_threads and credentials.refresh_threads[0] != threading.get_ident()
    assert vertex.last_request.headers["authorization"] == "Bearer vertex-token"


def test_failed_refresh_is_an_authentication_error(vertex: FakeVertex) -> None:
    api = client(vertex, access_token=None, credentials=FakeCredentials(expired=True, fail=True))
    with pytest.raises(claude_web.AuthenticationError, match="Could not refresh the Google credentials") as info:
        api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert isinstance(info.value, VertexCredentialsError)
    assert isinstance(info.value.__cause__, RefreshError)
    assert vertex.requests == []


async def test_async_no_credentials_is_an_authentication_error(vertex: FakeVertex) -> None:
    api = AsyncAnthropicVertex(region="us-east5", project_id="test-project", base_url=vertex.base_url)
    with pytest.raises(VertexCredentialsError, match="No Google credentials found"):
        await api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert vertex.requests == []


def test_missing_google_auth_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(ImportError, match=r'pip install "claude-web\[vertex\]"'):
        AnthropicVertex(region="us-east5", project_id="p")
    assert AnthropicVertex(region="us-east5", project_id="p", access_token="t").access_token == "t"


async def test_adc_is_retried_after_a_failure_and_found_off_the_loop(
    vertex: FakeVertex, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = AsyncAnthropicVertex(region="us-east5", base_url=vertex.base_url)
    with pytest.raises(VertexConfigError, match="no Application Default Credentials in tests"):
        await api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    credentials = FakeCredentials()
    threads: list[int] = []

    def default(scopes: Any = None, **kwargs: Any) -> tuple[FakeCredentials, str]:
        threads.append(threading.get_ident())
        return credentials, "test-project"

    monkeypatch.setattr(google.auth, "default", default)  # ADC set up later: the next call finds it
    message = await api.messages.create(model=MODEL_VERTEX, max_tokens=8, messages=USER)
    assert message.type == "message" and api.project_id == "test-project"
    assert threads and threads[0] != threading.get_ident()
    assert credentials.refreshes == 1
