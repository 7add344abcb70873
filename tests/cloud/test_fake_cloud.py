"""FakeBedrock and FakeVertex themselves: what they accept, refuse and record."""

from __future__ import annotations

import json

import httpx
from cloud_helpers import MODEL_BEDROCK, MODEL_VERTEX, USER

from claude_web import AnthropicBedrock
from claude_web.lib.bedrock import EventStreamBuffer
from claude_web.testing import FakeClaude, text
from claude_web.testing._cloud import FakeBedrock, FakeVertex


def signed_post(server: FakeBedrock, path: str, body: dict[str, object]) -> httpx.Response:
    signer = AnthropicBedrock(
        aws_access_key=server.access_key, aws_secret_key=server.secret_key, aws_region=server.region
    )
    request = httpx.Request(
        "POST",
        f"{server.base_url}{path}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    signer._prepare_request(request)
    with httpx.Client() as http:
        return http.send(request)


def test_bedrock_refuses_model_and_stream_in_the_body(bedrock: FakeBedrock) -> None:
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": USER, "model": MODEL_BEDROCK}
    answer = signed_post(bedrock, f"/model/{MODEL_BEDROCK}/invoke", body)
    assert answer.status_code == 400
    assert answer.headers["x-amzn-errortype"].startswith("ValidationException")
    assert answer.json() == {"message": "extraneous key [model] is not permitted"}
    del body["model"]
    body["anthropic_version"] = "2023-06-01"
    assert signed_post(bedrock, f"/model/{MODEL_BEDROCK}/invoke", body).status_code == 400


def test_bedrock_unknown_route_and_recorded_requests(bedrock: FakeBedrock) -> None:
    answer = signed_post(bedrock, "/model/x/converse", {})
    assert answer.status_code == 404
    assert bedrock.last_request.path == "/model/x/converse"
    assert bedrock.signatures_verified == 1  # auth is checked before routing
    bedrock.clear()
    assert bedrock.requests == []


def test_bedrock_stream_is_eventstream_framed(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    fake.queue(text("framed", chunks=1))
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": USER}
    answer = signed_post(bedrock, f"/model/{MODEL_BEDROCK}/invoke-with-response-stream", body)
    assert answer.headers["content-type"] == "application/vnd.amazon.eventstream"
    messages = EventStreamBuffer().feed(answer.content)
    assert {m.header(":message-type") for m in messages} == {"event"}
    assert {m.header(":event-type") for m in messages} == {"chunk"}
    assert {m.header(":content-type") for m in messages} == {"application/json"}
    assert all(set(json.loads(m.payload)) == {"bytes", "p"} for m in messages)
    assert fake.last_request.json["stream"] is True


def test_vertex_requires_a_bearer_token(fake: FakeClaude) -> None:
    with FakeVertex(fake) as server:  # no token list: any bearer token is accepted
        url = f"{server.base_url}/projects/p/locations/r/publishers/anthropic/models/{MODEL_VERTEX}:rawPredict"
        body = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 8, "messages": USER}
        missing = httpx.post(url, json=body)
        assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
        ok = httpx.post(url, json=body, headers={"authorization": "Bearer anything"})
        assert ok.status_code == 200 and ok.json()["model"] == MODEL_VERTEX
        assert len(server.requests) == 2
        wrong_version = httpx.post(
            url, json={**body, "anthropic_version": "x"}, headers={"authorization": "Bearer anything"}
        )
        assert wrong_version.status_code == 400
        not_found = httpx.post(
            f"{server.base_url}/projects/p/other", json=body, headers={"authorization": "Bearer anything"}
        )
        assert not_found.status_code == 404
