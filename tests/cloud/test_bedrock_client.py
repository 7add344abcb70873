"""AnthropicBedrock / AsyncAnthropicBedrock against FakeBedrock (which verifies every SigV4 signature)."""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloud_helpers import MODEL_BEDROCK, USER, bedrock_kwargs

import claude_web
from claude_web import AnthropicBedrock, AsyncAnthropicBedrock
from claude_web.lib.bedrock import BedrockCredentialsError, encode_message
from claude_web.testing import FakeClaude, error, text, tool_use
from claude_web.testing._cloud import FakeBedrock
from claude_web.usage import UsageRecord


def client(server: FakeBedrock, **overrides: Any) -> AnthropicBedrock:
    return AnthropicBedrock(**bedrock_kwargs(server, **overrides))


def aclient(server: FakeBedrock, **overrides: Any) -> AsyncAnthropicBedrock:
    return AsyncAnthropicBedrock(**bedrock_kwargs(server, **overrides))


# -- the request -----------------------------------------------------------------------------------------------


def test_create_sends_the_bedrock_shape_and_a_verified_signature(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(text("Hi from Bedrock"))
    message = client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, temperature=0.5)
    assert message.content[0].type == "text" and message.content[0].text == "Hi from Bedrock"
    request = bedrock.last_request
    assert request.method == "POST"
    assert request.path == f"/model/{MODEL_BEDROCK}/invoke"
    assert request.json == {
        "max_tokens": 64,
        "messages": USER,
        "temperature": 0.5,
        "anthropic_version": "bedrock-2023-05-31",
    }
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]
    assert "x-amz-date" in request.headers
    assert bedrock.signatures_verified == 1
    assert fake.last_request.json["model"] == MODEL_BEDROCK  # the fake translated the URL back into a body


def test_model_is_quoted_into_the_path(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5"
    client(bedrock).messages.create(model=arn, max_tokens=16, messages=USER)
    assert bedrock.last_request.path == "/model/" + arn.replace("/", "%2F") + "/invoke"
    assert bedrock.signatures_verified == 1  # the percent-encoded path signs and verifies
    assert fake.last_request.json["model"] == arn


def test_beta_header_goes_into_the_body(bedrock: FakeBedrock) -> None:
    client(bedrock).messages.create(
        model=MODEL_BEDROCK, max_tokens=16, messages=USER, extra_headers={"anthropic-beta": "beta-one, beta-two"}
    )
    body = bedrock.last_request.json
    assert body["anthropic_beta"] == ["beta-one", "beta-two"]
    assert bedrock.last_request.headers["anthropic-beta"] == "beta-one, beta-two"


def test_anthropic_version_in_extra_body_is_kept(bedrock: FakeBedrock) -> None:
    with pytest.raises(claude_web.BadRequestError, match="anthropic_version"):
        client(bedrock).messages.create(
            model=MODEL_BEDROCK, max_tokens=16, messages=USER, extra_body={"anthropic_version": "other"}
        )
    assert bedrock.last_request.json["anthropic_version"] == "other"


def test_session_token_is_signed(fake: FakeClaude) -> None:
    creds = {"ASIATEMP": ("temp-secret", "the-session-token")}
    with FakeBedrock(fake, credentials=creds) as server:
        ok = AnthropicBedrock(
            aws_access_key="ASIATEMP",
            aws_secret_key="temp-secret",
            aws_session_token="the-session-token",
            aws_region="us-east-1",
            base_url=server.base_url,
            max_retries=0,
        )
        ok.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
        assert server.last_request.headers["x-amz-security-token"] == "the-session-token"
        assert "x-amz-security-token" in server.last_request.headers["authorization"]
        assert server.signatures_verified == 1
        wrong = ok.with_options(aws_session_token="another-token")
        with pytest.raises(claude_web.PermissionDeniedError):
            wrong.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)


def test_profile_credentials_are_found_the_boto3_way(
    bedrock: FakeBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "profile-credentials"
    shared.write_text(
        f"[work]\naws_access_key_id = {bedrock.access_key}\naws_secret_access_key = {bedrock.secret_key}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    AnthropicBedrock(aws_profile="work", aws_region="us-east-1", base_url=bedrock.base_url).messages.create(
        model=MODEL_BEDROCK, max_tokens=16, messages=USER
    )
    assert bedrock.signatures_verified == 1


def test_env_credentials_are_found(bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", bedrock.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", bedrock.secret_key)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    AnthropicBedrock(base_url=bedrock.base_url).messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert bedrock.signatures_verified == 1


def test_wrong_secret_fails_signature_verification(bedrock: FakeBedrock) -> None:
    bad = client(bedrock, aws_secret_key="not-the-secret")
    with pytest.raises(claude_web.PermissionDeniedError, match="signature we calculated does not match") as info:
        bad.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert info.value.response.headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")
    assert bedrock.signatures_verified == 0


def test_a_body_changed_after_signing_fails_verification(bedrock: FakeBedrock) -> None:
    signer = client(bedrock)
    request = httpx.Request(
        "POST",
        f"{bedrock.base_url}/model/{MODEL_BEDROCK}/invoke",
        content=b'{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[]}',
        headers={"content-type": "application/json"},
    )
    signer._prepare_request(request)
    tampered = httpx.Request(
        "POST",
        request.url,
        headers=request.headers,
        content=request.content.replace(b'"max_tokens":1', b'"max_tokens":9'),
    )
    with httpx.Client() as http:
        assert http.send(request).status_code != 403  # the untouched request verifies...
        answer = http.send(tampered)  # ...the same bytes with one digit changed do not
    assert answer.status_code == 403
    assert answer.headers["x-amzn-errortype"].startswith("InvalidSignatureException")


def test_unsigned_request_is_refused(bedrock: FakeBedrock) -> None:
    answer = httpx.post(f"{bedrock.base_url}/model/{MODEL_BEDROCK}/invoke", json={})
    assert answer.status_code == 403
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_bearer_api_key(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeBedrock(fake, api_keys={"bedrock-api-key"}) as server:
        AnthropicBedrock(api_key="bedrock-api-key", aws_region="us-east-1", base_url=server.base_url).messages.create(
            model=MODEL_BEDROCK, max_tokens=16, messages=USER
        )
        assert server.last_request.headers["authorization"] == "Bearer bedrock-api-key"
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
        from_env = AnthropicBedrock(aws_region="us-east-1", base_url=server.base_url)
        assert from_env.api_key == "bedrock-api-key"
        from_env.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
        assert len(server.requests) == 2
    with pytest.raises(ValueError, match="Cannot specify both `api_key` and AWS credentials"):
        AnthropicBedrock(api_key="k", aws_access_key="a", aws_region="us-east-1")


# -- streaming -------------------------------------------------------------------------------------------------


def test_stream_true_decodes_eventstream_into_typed_events(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(text("one two three", chunks=3))
    with client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, stream=True) as stream:
        events = list(stream)
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == "one two three"
    assert bedrock.last_request.path == f"/model/{MODEL_BEDROCK}/invoke-with-response-stream"
    assert "stream" not in bedrock.last_request.json


def test_messages_stream_helpers(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(tool_use("get_weather", {"city": "Paris"}))
    with client(bedrock).messages.stream(model=MODEL_BEDROCK, max_tokens=64, messages=USER) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "tool_use" and final.content[0].input == {"city": "Paris"}
    assert bedrock.last_request.path.endswith("/invoke-with-response-stream")


async def test_async_create_stream_and_helpers(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    async with aclient(bedrock) as api:
        fake.queue(text("async hello"))
        message = await api.messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER)
        assert message.content[0].text == "async hello"
        fake.queue(text("streamed async", chunks=2))
        stream = await api.messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, stream=True)
        types = [event.type async for event in stream]
        assert types.count("content_block_delta") == 2 and types[-1] == "message_stop"
        fake.queue(text("helper text", chunks=2))
        async with api.messages.stream(model=MODEL_BEDROCK, max_tokens=64, messages=USER) as helper:
            pieces = [piece async for piece in helper.text_stream]
        assert "".join(pieces) == "helper text"
    assert bedrock.signatures_verified == 3


@pytest.mark.parametrize(
    ("error_type", "cls", "status"),
    [
        ("rate_limit_error", claude_web.RateLimitError, 429),
        ("overloaded_error", claude_web.ServiceUnavailableError, 503),
        ("api_error", claude_web.InternalServerError, 500),
        ("invalid_request_error", claude_web.BadRequestError, 400),
    ],
)
def test_exception_frames_mid_stream(
    fake: FakeClaude, bedrock: FakeBedrock, error_type: str, cls: type[Exception], status: int
) -> None:
    fake.queue(text("a b c d e f", chunks=4, error_after=3, error_type=error_type))
    seen: list[str] = []
    with pytest.raises(cls) as info:
        for event in client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, stream=True):
            seen.append(event.type)
    assert seen[0] == "message_start"
    assert isinstance(info.value, claude_web.APIStatusError) and info.value.status_code == status


async def test_async_exception_frame(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(text("a b c", chunks=3, error_after=2, error_type="rate_limit_error"))
    stream = await aclient(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, stream=True)
    with pytest.raises(claude_web.RateLimitError):
        async for _ in stream:
            pass


def _mock_stream_client(body: bytes) -> AnthropicBedrock:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/vnd.amazon.eventstream"}, content=body)

    return AnthropicBedrock(
        aws_access_key="AKIDEXAMPLE",
        aws_secret_key="secret",
        aws_region="us-east-1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=0,
    )


def _frame(event: dict[str, Any]) -> bytes:
    payload = {"bytes": base64.b64encode(json.dumps(event).encode()).decode()}
    return encode_message(
        {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    },
}


def test_corrupted_crc_in_a_live_stream_raises_a_clear_error() -> None:
    second = bytearray(_frame({"type": "message_stop"}))
    second[-1] ^= 0x55
    api = _mock_stream_client(_frame(START) + bytes(second))
    stream = api.messages.create(model=MODEL_BEDROCK, max_tokens=8, messages=USER, stream=True)
    assert next(stream).type == "message_start"
    with pytest.raises(claude_web.APIResponseValidationError, match="message CRC mismatch") as info:
        next(stream)
    assert info.value.response.status_code == 200


def test_stream_cut_mid_frame_is_a_connection_error() -> None:
    api = _mock_stream_client(_frame(START) + _frame({"type": "message_stop"})[:-5])
    with pytest.raises(claude_web.APIConnectionError):
        list(api.messages.create(model=MODEL_BEDROCK, max_tokens=8, messages=USER, stream=True))


def test_dropped_connection_mid_stream(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(text("a b c d e", chunks=5, drop_after=3))
    with pytest.raises(claude_web.APIConnectionError):
        list(client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=64, messages=USER, stream=True))


# -- errors, retries, options ------------------------------------------------------------------------------------


def test_http_errors_map_into_our_tree(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(error(429))
    with pytest.raises(claude_web.RateLimitError) as limited:
        client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert limited.value.response.headers["x-amzn-ErrorType"].startswith("ThrottlingException")
    assert limited.value.body == {"message": "Number of request tokens has exceeded your per-minute rate limit"}
    fake.queue(error(529))
    with pytest.raises(claude_web.ServiceUnavailableError) as busy:
        client(bedrock).messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert isinstance(busy.value, claude_web.InternalServerError) and busy.value.status_code == 503


def test_retries_and_each_attempt_is_signed_again(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(
        error(500, headers={"retry-after-ms": "1"}), error(503, headers={"retry-after-ms": "1"}), text("third time")
    )
    message = client(bedrock, max_retries=2).messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert message.content[0].text == "third time"
    assert len(bedrock.requests) == 3 and bedrock.signatures_verified == 3


def test_batches_and_count_tokens_are_not_supported(bedrock: FakeBedrock) -> None:
    api = client(bedrock)
    with pytest.raises(claude_web.AnthropicError, match="Token counting is not supported in Bedrock"):
        api.messages.count_tokens(model=MODEL_BEDROCK, messages=USER)
    with pytest.raises(claude_web.AnthropicError, match="Batch API is not supported in Bedrock"):
        api.messages.batches.list()
    assert bedrock.requests == []


def test_with_options_copy_and_raw_response(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    base = client(bedrock, default_headers={"x-team": "one"})
    copy = base.with_options(max_retries=5, default_headers={"x-extra": "two"})
    assert copy.max_retries == 5 and copy.aws_region == "us-east-1"
    assert copy._auth is base._auth and copy._client is base._client  # shared AWS session and pool
    raw = copy.with_raw_response.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert raw.headers["x-amzn-requestid"]
    assert raw.parse().type == "message"
    headers = bedrock.last_request.headers
    assert headers["x-team"] == "one" and headers["x-extra"] == "two"
    assert "x-team" in headers["authorization"]  # custom headers are signed too
    other_region = base.with_options(aws_region="eu-west-1")
    assert other_region._auth is not base._auth
    with pytest.raises(claude_web.PermissionDeniedError, match="scoped to a valid region"):
        other_region.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    with copy.with_streaming_response.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER) as resp:
        assert resp.http_response.status_code == 200


def test_usage_records_say_bedrock(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    records: list[UsageRecord] = []
    api = client(bedrock, usage_recorder=records.append, usage_context={"user": "u1"})
    api.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    with api.messages.stream(model=MODEL_BEDROCK, max_tokens=16, messages=USER) as stream:
        stream.until_done()
    assert [r.backend for r in records] == ["bedrock", "bedrock"]
    assert [r.status for r in records] == ["ok", "ok"]
    assert records[0].context == {"user": "u1"} and records[1].output_tokens > 0


# -- configuration and bad input ---------------------------------------------------------------------------------


def test_region_and_base_url_resolution(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    keys = {"aws_access_key": "AKIDEXAMPLE", "aws_secret_key": "secret"}
    with caplog.at_level(logging.WARNING):
        default = AnthropicBedrock(**keys)
    assert default.aws_region == "us-east-1"
    assert str(default.base_url).rstrip("/") == "https://bedrock-runtime.us-east-1.amazonaws.com"
    assert "No AWS region specified" in caplog.text
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")  # read through boto3's session
    assert AnthropicBedrock(**keys).aws_region == "ap-southeast-2"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert AnthropicBedrock(**keys).aws_region == "eu-central-1"
    assert AnthropicBedrock(**keys, aws_region="us-west-2").aws_region == "us-west-2"
    monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", "http://proxy.invalid/bedrock")
    assert str(AnthropicBedrock(**keys).base_url) == "http://proxy.invalid/bedrock/"
    assert str(AnthropicBedrock(**keys, base_url="http://arg.invalid").base_url).rstrip("/") == "http://arg.invalid"
    assert "secret" not in repr(AnthropicBedrock(**keys))


def test_no_credentials_is_an_authentication_error(bedrock: FakeBedrock) -> None:
    api = AnthropicBedrock(aws_region="us-east-1", base_url=bedrock.base_url)
    with pytest.raises(claude_web.AuthenticationError, match="No AWS credentials found") as info:
        api.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert isinstance(info.value, BedrockCredentialsError)
    assert info.value.response.headers["x-claude-web-synthetic"] == "credentials"
    assert bedrock.requests == []  # nothing was sent


async def test_async_no_credentials_is_an_authentication_error(bedrock: FakeBedrock) -> None:
    api = AsyncAnthropicBedrock(aws_region="us-east-1", base_url=bedrock.base_url)
    with pytest.raises(BedrockCredentialsError):
        await api.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)


def test_unknown_profile_is_an_authentication_error(bedrock: FakeBedrock) -> None:
    api = AnthropicBedrock(aws_profile="does-not-exist", aws_region="us-east-1", base_url=bedrock.base_url)
    with pytest.raises(BedrockCredentialsError, match="does-not-exist") as info:
        api.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert "botocore" in type(info.value.__cause__).__module__


def test_missing_boto3_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ImportError, match=r'pip install "claude-web\[bedrock\]"'):
        AnthropicBedrock(aws_access_key="a", aws_secret_key="b", aws_region="us-east-1")
    # a Bedrock API key needs no boto3
    assert AnthropicBedrock(api_key="k", aws_region="us-east-1").api_key == "k"


def test_debug_log_redacts_signing_secrets(fake: FakeClaude, caplog: pytest.LogCaptureFixture) -> None:
    with FakeBedrock(fake, credentials={"ASIATEMP": ("temp-secret", "session-token-SECRET")}) as server:
        api = AnthropicBedrock(
            aws_access_key="ASIATEMP",
            aws_secret_key="temp-secret",
            aws_session_token="session-token-SECRET",
            aws_region="us-east-1",
            base_url=server.base_url,
        )
        with caplog.at_level(logging.DEBUG, logger="claude_web"):
            api.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
        assert server.signatures_verified == 1
    assert "Request POST" in caplog.text
    assert "AWS4-HMAC-SHA256" not in caplog.text
    assert "session-token-SECRET" not in caplog.text
    assert "<redacted>" in caplog.text


def test_usage_records_carry_the_aws_request_id(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    records: list[UsageRecord] = []
    c = client(bedrock, usage_recorder=records.append)
    fake.queue(text("counted"))
    raw = c.messages.with_raw_response.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    fake.queue(text("streamed", chunks=2))
    with c.messages.stream(model=MODEL_BEDROCK, max_tokens=16, messages=USER) as stream:
        stream.until_done()
        stream_id = stream.response.headers["x-amzn-requestid"]
    fake.queue(error(400))
    with pytest.raises(claude_web.BadRequestError):
        c.messages.create(model=MODEL_BEDROCK, max_tokens=16, messages=USER)
    assert [r.status for r in records] == ["ok", "ok", "error"]
    assert records[0].request_id == raw.headers["x-amzn-requestid"]
    assert records[1].request_id == stream_id
    assert records[2].request_id  # AWS ids on errors too
