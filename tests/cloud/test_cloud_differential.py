"""Differential tests: the same calls through anthropic==0.125.0's AnthropicBedrock / AnthropicVertex and ours,
against the same FakeBedrock / FakeVertex, give the same path, JSON body, event sequence and final message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from cloud_helpers import MODEL_BEDROCK, MODEL_VERTEX, USER, bedrock_kwargs, vertex_kwargs

import claude_web
from claude_web.testing import FakeClaude, MessageReply, error, text, thinking, tool_use
from claude_web.testing._cloud import FakeBedrock, FakeVertex

LIBS = (claude_web, anthropic)
Server = FakeBedrock | FakeVertex


def fixed(reply: MessageReply, message_id: str = "msg_differential") -> MessageReply:
    reply.message_id = message_id
    return reply


def without_request_id(body: Any) -> Any:
    """Error bodies from FakeClaude carry a fresh random request_id per request."""
    return {k: v for k, v in body.items() if k != "request_id"} if isinstance(body, dict) else body


def wire(server: Server) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.json) for r in server.requests]


def run_both(
    fake: FakeClaude,
    server: Server,
    make: Callable[[Any], Any],
    scenario: Callable[[Any, Any], Any],
    replies: list[Any],
) -> list[tuple[Any, list[tuple[str, str, Any]]]]:
    """Run ``scenario(lib, client)`` once per library with the same queued replies; return (result, wire) pairs
    after asserting they are equal."""
    runs = []
    raised: list[Exception] = []
    for lib in LIBS:
        fake.clear()
        server.clear()
        fake.queue(*replies)
        api = make(lib)
        try:
            result = scenario(lib, api)
        except lib.APIStatusError as exc:
            raised.append(exc)
            result = ("status_error", exc.status_code, without_request_id(exc.body))
        runs.append((result, wire(server)))
    if raised:
        assert len(raised) == 2, f"only one library raised: {raised}"
        # ours is the class anthropic raises, or a subclass of it (e.g. a 529 is also an OverloadedError)
        assert isinstance(raised[0], getattr(claude_web, type(raised[1]).__name__))
    ours, theirs = runs
    assert ours[1] == theirs[1], "different requests"
    assert ours[0] == theirs[0], "different results"
    assert ours[1], "no request was recorded"
    return runs


def bedrock_client(server: FakeBedrock) -> Callable[[Any], Any]:
    return lambda lib: lib.AnthropicBedrock(**bedrock_kwargs(server))


def vertex_client(server: FakeVertex) -> Callable[[Any], Any]:
    return lambda lib: lib.AnthropicVertex(**vertex_kwargs(server))


def create(lib: Any, api: Any, **extra: Any) -> Any:
    return api.messages.create(max_tokens=256, messages=USER, **extra).to_dict()


def stream_true(lib: Any, api: Any, **extra: Any) -> Any:
    with api.messages.create(max_tokens=256, messages=USER, stream=True, **extra) as stream:
        return [event.to_dict() for event in stream]


def stream_helper(lib: Any, api: Any, **extra: Any) -> Any:
    with api.messages.stream(max_tokens=256, messages=USER, **extra) as stream:
        types = [event.type for event in stream]
        return types, stream.get_final_message().to_dict()


REPLIES: dict[str, Callable[[], list[Any]]] = {
    "text": lambda: [fixed(text("The quick brown fox jumps over the lazy dog", chunks=4))],
    "tool_use": lambda: [fixed(tool_use("get_weather", {"city": "Paris", "units": "metric"}))],
    "thinking": lambda: [fixed(thinking("Let me think this through.", "Here is the answer."))],
}


@pytest.mark.parametrize("reply", sorted(REPLIES))
@pytest.mark.parametrize("scenario", [create, stream_true, stream_helper])
def test_bedrock_matches_anthropic(
    fake: FakeClaude, bedrock: FakeBedrock, reply: str, scenario: Callable[..., Any]
) -> None:
    runs = run_both(
        fake,
        bedrock,
        bedrock_client(bedrock),
        lambda lib, api: scenario(lib, api, model=MODEL_BEDROCK),
        REPLIES[reply](),
    )
    path = runs[0][1][0][1]
    assert path.endswith("/invoke") if scenario is create else path.endswith("/invoke-with-response-stream")
    assert bedrock.signatures_verified == 2  # one per library, both verified


@pytest.mark.parametrize("reply", sorted(REPLIES))
@pytest.mark.parametrize("scenario", [create, stream_true, stream_helper])
def test_vertex_matches_anthropic(
    fake: FakeClaude, vertex: FakeVertex, reply: str, scenario: Callable[..., Any]
) -> None:
    runs = run_both(
        fake, vertex, vertex_client(vertex), lambda lib, api: scenario(lib, api, model=MODEL_VERTEX), REPLIES[reply]()
    )
    path = runs[0][1][0][1]
    assert path.endswith(":rawPredict") if scenario is create else path.endswith(":streamRawPredict")


def test_bedrock_betas_system_and_tools_match(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
    runs = run_both(
        fake,
        bedrock,
        bedrock_client(bedrock),
        lambda lib, api: create(
            lib,
            api,
            model="arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.x",
            system="Be brief",
            tools=tools,
            metadata={"user_id": "u1"},
            stop_sequences=["END"],
            extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"},
        ),
        REPLIES["text"](),
    )
    body = runs[0][1][0][2]
    assert body["anthropic_beta"] == ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]
    assert "%2F" in runs[0][1][0][1]


def test_vertex_count_tokens_matches(fake: FakeClaude, vertex: FakeVertex) -> None:
    runs = run_both(
        fake,
        vertex,
        vertex_client(vertex),
        lambda lib, api: api.messages.count_tokens(model=MODEL_VERTEX, messages=USER, system="Be brief").to_dict(),
        [],
    )
    assert runs[0][1][0][1].endswith("/models/count-tokens:rawPredict")


@pytest.mark.parametrize("status", [400, 429, 500, 529])
def test_bedrock_errors_match(fake: FakeClaude, bedrock: FakeBedrock, status: int) -> None:
    runs = run_both(
        fake, bedrock, bedrock_client(bedrock), lambda lib, api: create(lib, api, model=MODEL_BEDROCK), [error(status)]
    )
    assert runs[0][0][0] == "status_error"


@pytest.mark.parametrize("status", [401, 404, 503, 504, 529])
def test_vertex_errors_match(fake: FakeClaude, vertex: FakeVertex, status: int) -> None:
    runs = run_both(
        fake, vertex, vertex_client(vertex), lambda lib, api: create(lib, api, model=MODEL_VERTEX), [error(status)]
    )
    assert runs[0][0][0] == "status_error"


async def _async_runs(fake: FakeClaude, server: Server, make: Callable[[Any], Any], model: str) -> list[Any]:
    runs = []
    for lib in LIBS:
        fake.clear()
        server.clear()
        fake.queue(fixed(text("async words here", chunks=3)), fixed(text("and a helper", chunks=2)))
        api = make(lib)
        stream = await api.messages.create(model=model, max_tokens=64, messages=USER, stream=True)
        events = [event.to_dict() async for event in stream]
        async with api.messages.stream(model=model, max_tokens=64, messages=USER) as helper:
            final = (await helper.get_final_message()).to_dict()
        runs.append((events, final, wire(server)))
    return runs


async def test_async_bedrock_matches_anthropic(fake: FakeClaude, bedrock: FakeBedrock) -> None:
    ours, theirs = await _async_runs(
        fake, bedrock, lambda lib: lib.AsyncAnthropicBedrock(**bedrock_kwargs(bedrock)), MODEL_BEDROCK
    )
    assert ours == theirs
    assert len(ours[2]) == 2 and ours[1]["content"][0]["text"] == "and a helper"


async def test_async_vertex_matches_anthropic(fake: FakeClaude, vertex: FakeVertex) -> None:
    ours, theirs = await _async_runs(
        fake, vertex, lambda lib: lib.AsyncAnthropicVertex(**vertex_kwargs(vertex)), MODEL_VERTEX
    )
    assert ours == theirs
    assert len(ours[2]) == 2 and ours[0][-1] == {"type": "message_stop"}
