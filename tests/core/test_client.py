"""The non-streaming client against FakeClaude on a real socket: wire format, parsing, options, errors, retries."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

import claude_web
from claude_web import Anthropic, AsyncAnthropic
from claude_web.testing import FakeClaude, error, reset, text, tool_use

KEY = "sk-ant-test-SECRET-0123456789"
USER = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def client(fake_claude: FakeClaude) -> Anthropic:
    return Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0)


def test_create_sends_the_documented_wire_request(fake_claude: FakeClaude, client: Anthropic) -> None:
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER, temperature=0.5)
    req = fake_claude.last_request
    assert req.method == "POST" and req.path == "/v1/messages"
    assert req.headers["x-api-key"] == KEY
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["content-type"] == "application/json"
    assert req.json == {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": USER, "temperature": 0.5}
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "claude-sonnet-4-5"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message._request_id and message._request_id.startswith("req_")


def test_scripted_tool_use_parses(fake_claude: FakeClaude, client: Anthropic) -> None:
    fake_claude.queue(tool_use("get_weather", {"city": "Paris"}, text="Let me check."))
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER)
    kinds = [b.type for b in message.content]
    assert kinds == ["text", "tool_use"]
    block = message.content[1]
    assert block.name == "get_weather" and block.input == {"city": "Paris"}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"


def test_extra_options_reach_the_wire(fake_claude: FakeClaude, client: Anthropic) -> None:
    client.messages.create(
        model="m",
        max_tokens=5,
        messages=USER,
        extra_headers={"anthropic-beta": "a-1,b-2", "x-custom": "1"},
        extra_query={"debug": "yes"},
        extra_body={"top_k": 3, "new_param": {"x": 1}},
    )
    req = fake_claude.last_request
    assert req.headers["anthropic-beta"] == "a-1,b-2" and req.headers["x-custom"] == "1"
    assert req.query == {"debug": "yes"}
    assert req.json["top_k"] == 3 and req.json["new_param"] == {"x": 1}


def test_omit_removes_a_default_header(fake_claude: FakeClaude) -> None:
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, default_headers={"x-team": "a"})
    client.messages.create(model="m", max_tokens=5, messages=USER, extra_headers={"x-team": claude_web.omit})
    assert "x-team" not in fake_claude.last_request.headers


def test_with_options_shares_the_pool_and_overrides(fake_claude: FakeClaude, client: Anthropic) -> None:
    other = client.with_options(default_headers={"x-a": "1"}, max_retries=5, timeout=3.0)
    assert other._client is client._client
    assert other.max_retries == 5 and other.timeout == 3.0 and client.max_retries == 0
    other.messages.create(model="m", max_tokens=5, messages=USER)
    assert fake_claude.last_request.headers["x-a"] == "1"
    assert client.copy().api_key == KEY


def test_count_tokens_and_models(fake_claude: FakeClaude, client: Anthropic) -> None:
    count = client.messages.count_tokens(model="m", messages=USER)
    assert count.input_tokens > 0
    assert fake_claude.last_request.path == "/v1/messages/count_tokens"
    page = client.models.list(limit=10)
    assert len(page.data) == 10 and page.has_more
    every = [m.id for m in client.models.list(limit=10)]
    assert len(every) == len(set(every)) > 10
    first = client.models.retrieve(every[0])
    assert first.id == every[0] and first.type == "model"
    with pytest.raises(claude_web.NotFoundError):
        client.models.retrieve("no-such-model")


def test_batches_lifecycle(fake_claude: FakeClaude, client: Anthropic) -> None:
    requests = [{"custom_id": f"r{i}", "params": {"model": "m", "max_tokens": 10, "messages": USER}} for i in range(3)]
    batch = client.messages.batches.create(requests=requests)
    assert batch.type == "message_batch" and batch.id.startswith("msgbatch_")
    got = client.messages.batches.retrieve(batch.id)
    assert got.id == batch.id
    while got.processing_status != "ended":
        got = client.messages.batches.retrieve(batch.id)
    results = list(client.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in results) == ["r0", "r1", "r2"]
    assert all(r.result.type == "succeeded" for r in results)
    assert any(b.id == batch.id for b in client.messages.batches.list())
    deleted = client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"


def test_raw_and_streaming_response(fake_claude: FakeClaude, client: Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model="m", max_tokens=5, messages=USER)
    assert raw.status_code == 200 and raw.request_id and raw.headers["request-id"] == raw.request_id
    message = raw.parse()
    assert message.content[0].type == "text"
    with client.messages.with_streaming_response.create(model="m", max_tokens=5, messages=USER) as resp:
        assert resp.status_code == 200
        body = b"".join(resp.iter_bytes())
    assert json.loads(body)["type"] == "message"
    raw_page = client.with_raw_response.models.list(limit=2)
    assert raw_page.status_code == 200 and len(raw_page.parse().data) == 2


def test_custom_requests(fake_claude: FakeClaude, client: Anthropic) -> None:
    data = client.get("/v1/models", cast_to=object, options={"params": {"limit": 2}})
    assert isinstance(data, dict) and len(data["data"]) == 2
    posted = client.post("/v1/messages/count_tokens", cast_to=httpx.Response, body={"model": "m", "messages": USER})
    assert posted.status_code == 200 and posted.json()["input_tokens"] > 0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, claude_web.BadRequestError),
        (401, claude_web.AuthenticationError),
        (403, claude_web.PermissionDeniedError),
        (404, claude_web.NotFoundError),
        (413, claude_web.RequestTooLargeError),
        (429, claude_web.RateLimitError),
        (500, claude_web.InternalServerError),
        (529, claude_web.OverloadedError),
    ],
)
def test_http_errors_map_to_classes(fake_claude: FakeClaude, client: Anthropic, status: int, cls: type) -> None:
    fake_claude.queue(error(status, message=f"scripted {status}"))
    with pytest.raises(cls) as info:
        client.messages.create(model="m", max_tokens=5, messages=USER)
    assert info.value.status_code == status
    assert f"scripted {status}" in str(info.value)
    assert info.value.request_id and info.value.request_id.startswith("req_")
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_validation_error_from_fake_is_a_400(fake_claude: FakeClaude, client: Anthropic) -> None:
    with pytest.raises(claude_web.BadRequestError, match="max_tokens"):
        client.messages.create(model="m", max_tokens=0, messages=USER)


def test_retries_then_succeeds(fake_claude: FakeClaude) -> None:
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=2)
    fake_claude.queue(error(529, headers={"retry-after-ms": "10"}), error(500, headers={"retry-after-ms": "10"}))
    message = client.messages.create(model="m", max_tokens=5, messages=USER)
    assert message.type == "message"
    assert len([r for r in fake_claude.requests if r.path == "/v1/messages"]) == 3


def test_retries_exhausted_and_x_should_retry(fake_claude: FakeClaude) -> None:
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=1)
    fake_claude.queue(*(error(429, headers={"retry-after-ms": "5"}) for _ in range(3)))
    with pytest.raises(claude_web.RateLimitError):
        client.messages.create(model="m", max_tokens=5, messages=USER)
    assert len(fake_claude.requests) == 2
    fake_claude.clear()
    fake_claude.queue(error(400, headers={"x-should-retry": "true", "retry-after-ms": "5"}))
    client.messages.create(model="m", max_tokens=5, messages=USER)
    assert len(fake_claude.requests) == 2
    fake_claude.clear()
    fake_claude.queue(error(529, headers={"x-should-retry": "false"}))
    with pytest.raises(claude_web.OverloadedError):
        client.messages.create(model="m", max_tokens=5, messages=USER)
    assert len(fake_claude.requests) == 1


def test_per_request_max_retries_override(fake_claude: FakeClaude) -> None:
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=3)
    fake_claude.queue(*(error(500, headers={"retry-after-ms": "5"}) for _ in range(5)))
    with pytest.raises(claude_web.InternalServerError):
        client.with_options(max_retries=0).messages.create(model="m", max_tokens=5, messages=USER)
    assert len(fake_claude.requests) == 1


def test_connection_reset_is_retried_then_raises_connection_error(fake_claude: FakeClaude) -> None:
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=1)
    fake_claude.queue(reset(), text("after reset"))
    assert client.messages.create(model="m", max_tokens=5, messages=USER).content[0].text == "after reset"  # type: ignore[union-attr]
    fake_claude.queue(reset(), reset())
    with pytest.raises(claude_web.APIConnectionError):
        client.messages.create(model="m", max_tokens=5, messages=USER)


def test_timeout_raises_api_timeout_error(fake_claude: FakeClaude) -> None:
    from claude_web.testing import delay

    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=0, timeout=0.2)
    fake_claude.queue(delay(1.0, then=text("late")))
    with pytest.raises(claude_web.APITimeoutError):
        client.messages.create(model="m", max_tokens=5, messages=USER)


def test_missing_api_key_is_caught_as_type_error(fake_claude: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    client = Anthropic(base_url=fake_claude.base_url)
    with pytest.raises(TypeError, match="Could not resolve authentication method") as caught:
        client.messages.create(model="m", max_tokens=5, messages=USER)
    assert isinstance(caught.value, claude_web.AnthropicError)
    assert fake_claude.requests == []


def test_env_vars_and_auth_token(fake_claude: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_claude.base_url)
    Anthropic().messages.create(model="m", max_tokens=5, messages=USER)
    assert fake_claude.last_request.headers["x-api-key"] == "env-key"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    Anthropic(auth_token="tok").messages.create(model="m", max_tokens=5, messages=USER)
    assert fake_claude.last_request.headers["authorization"] == "Bearer tok"


def test_invalid_response_is_a_validation_error(fake_claude: FakeClaude, client: Anthropic) -> None:
    with pytest.raises(claude_web.APIResponseValidationError):
        client.get("/v1/models", cast_to=claude_web.types.Message)


def test_key_never_in_repr_or_logs(
    fake_claude: FakeClaude, client: Anthropic, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert KEY not in repr(client) and KEY not in str(client)
    caplog.set_level(logging.DEBUG)
    client.messages.create(model="m", max_tokens=5, messages=USER)
    fake_claude.queue(error(401))
    with pytest.raises(claude_web.AuthenticationError):
        client.messages.create(model="m", max_tokens=5, messages=USER)
    assert caplog.records, "debug logging produced nothing"
    assert KEY not in caplog.text
    assert "<redacted>" in caplog.text


def test_anthropic_log_env_turns_on_logging() -> None:
    import subprocess
    import sys

    code = (
        "import logging, claude_web\n"
        "claude_web.Anthropic(api_key='sk-SECRET', base_url='http://127.0.0.1:9')\n"
        "print(logging.getLogger('claude_web').level)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"ANTHROPIC_LOG": "debug", "PATH": ""},
        timeout=60,
    )
    assert out.stdout.strip() == str(logging.DEBUG), out.stderr


def test_usage_recorder_one_record_per_call(fake_claude: FakeClaude) -> None:
    records: list = []
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, usage_recorder=records.append, max_retries=2)
    fake_claude.queue(error(529, headers={"retry-after-ms": "5"}))
    per_request = client.with_options(usage_context={"user": "alice"})
    message = per_request.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=USER)
    assert len(records) == 1
    rec = records[0]
    assert rec.status == "ok" and rec.context == {"user": "alice"} and rec.operation == "messages.create"
    assert rec.input_tokens == message.usage.input_tokens and rec.output_tokens == message.usage.output_tokens
    assert rec.cost is not None and rec.request_id == message._request_id
    fake_claude.queue(error(400))
    with pytest.raises(claude_web.BadRequestError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=USER)
    assert len(records) == 2 and records[1].status == "error" and records[1].error_type == "invalid_request_error"


async def test_async_client(fake_claude: FakeClaude) -> None:
    async with AsyncAnthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=1) as client:
        fake_claude.queue(error(529, headers={"retry-after-ms": "5"}))
        message = await client.messages.create(model="m", max_tokens=5, messages=USER)
        assert message.content[0].type == "text"
        ids = [m.id async for m in client.models.list(limit=7)]
        assert len(ids) == len(set(ids)) > 7
        page = await client.models.list(limit=3)
        assert len(page.data) == 3
        raw = await client.messages.with_raw_response.create(model="m", max_tokens=5, messages=USER)
        assert (await raw.parse()).type == "message"
        async with client.messages.with_streaming_response.create(model="m", max_tokens=5, messages=USER) as resp:
            lines = [line async for line in resp.iter_lines()]
        assert json.loads("".join(lines))["type"] == "message"
        count = await client.messages.count_tokens(model="m", messages=USER)
        assert count.input_tokens > 0
    assert client.is_closed()


def test_raw_and_streaming_responses_record_usage_once_even_unparsed(fake_claude: FakeClaude) -> None:
    records: list = []
    client = Anthropic(api_key=KEY, base_url=fake_claude.base_url, usage_recorder=records.append)
    raw = client.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=5, messages=USER)
    assert len(records) == 1 and records[0].status == "ok"
    assert records[0].output_tokens == raw.parse().usage.output_tokens > 0  # parse() adds no second record
    assert len(records) == 1
    with client.messages.with_streaming_response.create(model="claude-haiku-4-5", max_tokens=5, messages=USER) as r:
        body = r.json()
    assert len(records) == 2 and records[1].status == "ok"
    assert records[1].input_tokens == body["usage"]["input_tokens"] > 0
    with client.messages.with_streaming_response.create(
        model="claude-haiku-4-5", max_tokens=5, messages=USER, stream=True
    ) as r:
        lines = list(r.iter_lines())
    assert "event: message_stop" in lines
    assert len(records) == 3 and records[2].status == "ok"
    fake_claude.queue(text("x " * 200, chunks=200, event_delay=0.005))
    with client.messages.with_streaming_response.create(
        model="claude-haiku-4-5", max_tokens=5, messages=USER, stream=True
    ) as r:
        next(iter(r.iter_lines()))
    assert len(records) == 4 and records[3].status == "aborted"
    with client.messages.with_streaming_response.create(
        model="claude-haiku-4-5", max_tokens=5, messages=USER, stream=True
    ) as r:
        stream = r.parse()
        assert [e.type for e in stream][-1] == "message_stop"
    assert len(records) == 5 and records[4].status == "ok" and records[4].output_tokens > 0
