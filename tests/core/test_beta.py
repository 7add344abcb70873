"""``client.beta``: messages (create, stream, parse, count_tokens) and models with ``betas=[...]``, and the
``Beta*`` types, differentially against anthropic 0.125.0 (wire requests and ``to_dict()`` of results)."""

from __future__ import annotations

import warnings
from typing import Any

import anthropic
import anthropic.types.beta as their_beta
import pydantic
import pytest

import claude_web
import claude_web.types.beta as beta_types
from claude_web.testing import FakeClaude, message, text, tool_use
from claude_web.types import Message, MessageTokensCount, ModelInfo, TextBlock, ToolUseBlock, Usage
from claude_web.types.beta.parsed_beta_message import ParsedBetaMessage

pytestmark = [
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),  # anthropic's models
    pytest.mark.filterwarnings("ignore:The 'output_format' parameter is deprecated:DeprecationWarning"),
]

USER = [{"role": "user", "content": "Hello beta"}]


class Answer(pydantic.BaseModel):
    value: int


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"betas": ["b1", "b2"]},
        {"betas": []},
        {"betas": ["b1"], "extra_headers": {"anthropic-beta": "x1", "x-custom": "c"}},
        {"extra_headers": {"anthropic-beta": "x1"}},
        {"betas": ["context-management-2025-06-27"], "context_management": {"edits": []}, "speed": "fast"},
        {"output_format": {"type": "json_schema", "schema": {"type": "object"}}, "output_config": {"effort": "low"}},
        {"system": "s", "temperature": 0.5, "stop_sequences": ["END"], "metadata": {"user_id": "u"}},
        {"extra_query": {"q": "1"}, "extra_body": {"brand_new": [1]}},
    ],
)
def test_create_same_wire_and_result(run_both: Any, kwargs: dict[str, Any]) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        return client.beta.messages.create(model="m", max_tokens=50, messages=USER, **kwargs)

    results, wires = run_both(scenario, lambda: [text("Beta answer.")])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert wires[1][0]["query"] == {"beta": "true", **kwargs.get("extra_query", {})}


def test_create_tool_use_and_unknown_blocks_same(run_both: Any) -> None:
    blocks = [
        {"type": "text", "text": "hm", "future": 1},
        {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {"a": [1]}},
        {"type": "mcp_tool_use", "id": "m1", "name": "x", "server_name": "s", "input": {}},
    ]
    results, wires = run_both(
        lambda lib, c: c.beta.messages.create(model="m", max_tokens=5, messages=USER, betas=["mcp-client-2025-04-04"]),
        lambda: [message(blocks, usage={"input_tokens": 3, "output_tokens": 4, "speed": "fast"})],
    )
    assert results[0] == results[1]
    assert results[1]["content"][2] == {**blocks[2], "id": "<id>"} and results[1]["usage"]["speed"] == "fast"
    assert wires[0] == wires[1]


def test_create_streaming_events_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        with client.beta.messages.create(model="m", max_tokens=5, messages=USER, stream=True, betas=["b"]) as stream:
            return list(stream)

    results, wires = run_both(scenario, lambda: [tool_use("t", {"q": "x"}, text="Calling", id="toolu_1")])
    assert results[0] == results[1]
    assert wires[0] == wires[1] and wires[1][0]["json"]["stream"] is True


def test_create_result_types(fake_claude: FakeClaude) -> None:
    fake_claude.queue(tool_use("t", {"q": 1}, text="x", id="toolu_1"))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    msg = client.beta.messages.create(model="m", max_tokens=5, messages=USER)
    assert isinstance(msg, beta_types.BetaMessage) and isinstance(msg, Message)
    assert isinstance(msg.usage, beta_types.BetaUsage) and msg.usage.speed is None
    assert isinstance(msg.content[0], beta_types.BetaTextBlock) and isinstance(
        msg.content[1], beta_types.BetaToolUseBlock
    )
    assert msg.context_management is None and msg._request_id is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"output_format": Answer},
        {"output_format": Answer, "betas": ["b1"]},
        {"output_format": Answer, "betas": ["b1"], "extra_headers": {"anthropic-beta": "x1"}},
        {},
        {"output_config": {"effort": "low"}},
    ],
)
def test_parse_same(run_both: Any, kwargs: dict[str, Any]) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        msg = client.beta.messages.parse(model="m", max_tokens=50, messages=USER, **kwargs)
        return [msg, repr(msg.parsed_output)]

    results, wires = run_both(scenario, lambda: [text('{"value": 42}')])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert wires[1][0]["headers"]["x-stainless-helper"] == "beta.messages.parse"


def test_parse_result_types(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text('{"value": 7}'))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    msg = client.beta.messages.parse(model="m", max_tokens=5, messages=USER, output_format=Answer)
    assert isinstance(msg, ParsedBetaMessage) and isinstance(msg, beta_types.BetaMessage)
    assert msg.parsed_output == Answer(value=7)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"betas": ["b1"], "extra_headers": {"anthropic-beta": "x1"}},
        {"output_format": Answer, "betas": ["b1"]},
        {"output_format": {"type": "json_schema", "schema": {"type": "object"}}},
    ],
)
def test_stream_same(run_both: Any, kwargs: dict[str, Any]) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        with client.beta.messages.stream(model="m", max_tokens=50, messages=USER, **kwargs) as stream:
            texts = list(stream.text_stream)
            final = stream.get_final_message()
        return [texts, final, repr(final.parsed_output), type(final).__name__.split("[")[0]]

    results, wires = run_both(scenario, lambda: [text('{"value": 3}', chunks=3)])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert results[1][3] == "ParsedBetaMessage"
    assert wires[1][0]["headers"]["x-stainless-helper-method"] == "stream"


def test_stream_final_message_is_beta(fake_claude: FakeClaude) -> None:
    fake_claude.queue(message([{"type": "text", "text": "hi"}], usage={"input_tokens": 2, "output_tokens": 3}))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with client.beta.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
        assert isinstance(stream, claude_web.BetaMessageStream)
        final = stream.get_final_message()
    assert isinstance(final, ParsedBetaMessage) and isinstance(final.usage, beta_types.BetaUsage)
    assert final.usage.output_tokens == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"betas": ["b1"]},
        {"betas": ["b1"], "extra_headers": {"anthropic-beta": "x1"}},
        {"output_format": {"type": "json_schema", "schema": {"type": "object"}}, "system": "s"},
    ],
)
def test_count_tokens_same(run_both: Any, kwargs: dict[str, Any]) -> None:
    results, wires = run_both(lambda lib, c: c.beta.messages.count_tokens(model="m", messages=USER, **kwargs))
    assert results[0] == results[1]
    assert wires[0] == wires[1]


def test_models_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        page = client.beta.models.list(limit=3, betas=["b1"])
        every = [m.id for m in client.beta.models.list(limit=4)]
        one = client.beta.models.retrieve(every[2], betas=["b1"], extra_headers={"anthropic-beta": "x1"})
        return [page.data, page.has_more, every, one, type(one).__name__]

    results, wires = run_both(scenario)
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert all(w["query"].get("beta") == "true" for w in wires[1]) and len(wires[1]) > 3


async def test_async_beta_same(run_both_async: Any) -> None:
    async def scenario(lib: Any, client: Any) -> Any:
        created = await client.beta.messages.create(model="m", max_tokens=5, messages=USER, betas=["b1"])
        parsed = await client.beta.messages.parse(model="m", max_tokens=5, messages=USER, output_format=Answer)
        async with client.beta.messages.stream(model="m", max_tokens=5, messages=USER, betas=["b2"]) as stream:
            streamed = await stream.get_final_message()
        counted = await client.beta.messages.count_tokens(model="m", messages=USER, betas=["b3"])
        models = [m.id async for m in client.beta.models.list(limit=2, betas=["b4"])]
        one = await client.beta.models.retrieve(models[0])
        return [created, parsed, repr(parsed.parsed_output), streamed, counted, models, one]

    results, wires = await run_both_async(scenario, lambda: [text("one"), text('{"value": 1}'), text("three")])
    assert results[0] == results[1]
    assert wires[0] == wires[1]


def test_raw_response_views(fake_claude: FakeClaude) -> None:
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    fake_claude.queue(text("raw"))
    raw = client.beta.messages.with_raw_response.create(model="m", max_tokens=5, messages=USER, betas=["b"])
    assert raw.headers.get("request-id") and isinstance(raw.parse(), beta_types.BetaMessage)
    fake_claude.queue(text("raw2"))
    raw2 = client.with_raw_response.beta.messages.create(model="m", max_tokens=5, messages=USER)
    assert raw2.parse().content[0].text == "raw2"
    assert fake_claude.last_request.query == {"beta": "true"}


def test_unknown_keyword_is_a_type_error(fake_claude: FakeClaude) -> None:
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with pytest.raises(TypeError, match="unexpected keyword argument 'temprature'"):
        client.beta.messages.create(model="m", max_tokens=5, messages=USER, temprature=1)  # type: ignore[call-overload]
    assert fake_claude.requests == []


def test_beta_calls_record_usage(fake_claude: FakeClaude) -> None:
    records: list[Any] = []
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, usage_recorder=records.append)
    fake_claude.queue(text("a"), text('{"value": 1}'), text("c"))
    client.beta.messages.create(model="m", max_tokens=5, messages=USER)
    client.beta.messages.parse(model="m", max_tokens=5, messages=USER, output_format=Answer)
    with client.beta.messages.stream(model="m", max_tokens=5, messages=USER) as stream:
        stream.until_done()
    client.beta.messages.count_tokens(model="m", messages=USER)
    assert [(r.operation, r.status) for r in records] == [
        ("beta.messages.create", "ok"),
        ("beta.messages.parse", "ok"),
        ("beta.messages.stream", "ok"),
        ("beta.messages.count_tokens", "ok"),
    ]


BETA_MODELS = ["BetaMessage", "BetaUsage", "BetaMessageTokensCount", "BetaModelInfo", "BetaTextBlock",
               "BetaToolUseBlock", "BetaThinkingBlock", "BetaRedactedThinkingBlock", "BetaServerToolUseBlock",
               "BetaTextDelta", "BetaInputJSONDelta", "BetaRawMessageStartEvent", "BetaRawContentBlockDeltaEvent",
               "BetaCacheCreation", "BetaServerToolUsage", "BetaContainer"]  # fmt: skip


@pytest.mark.parametrize("name", BETA_MODELS)
def test_beta_models_have_anthropics_fields(name: str) -> None:
    ours, theirs = getattr(beta_types, name), getattr(their_beta, name)
    assert set(theirs.model_fields) <= set(ours.model_fields)


BETA_PARAMS = ["BetaMessageParam", "BetaToolParam", "BetaTextBlockParam", "BetaToolResultBlockParam",
               "BetaToolUseBlockParam", "BetaImageBlockParam", "BetaCacheControlEphemeralParam",
               "BetaMetadataParam", "BetaJSONOutputFormatParam"]  # fmt: skip


@pytest.mark.parametrize("name", BETA_PARAMS)
def test_beta_params_take_anthropics_required_keys(name: str) -> None:
    ours, theirs = getattr(beta_types, name), getattr(their_beta, name)
    assert theirs.__required_keys__ <= ours.__required_keys__ | ours.__optional_keys__
    assert ours.__required_keys__ <= theirs.__required_keys__


def test_beta_names_users_import_exist() -> None:
    for name in [*BETA_MODELS, *BETA_PARAMS, "BetaContentBlock", "BetaRawMessageStreamEvent", "BetaToolUnionParam",
                 "BetaContentBlockParam", "BetaStopReason", "BetaThinkingConfigParam", "BetaToolChoiceParam"]:  # fmt: skip
        assert hasattr(their_beta, name) and hasattr(beta_types, name), name
    assert set(beta_types.__all__) <= set(dir(their_beta)) | {"AnthropicBetaParam"}
    assert beta_types.BetaTextBlock is TextBlock and beta_types.BetaToolUseBlock is ToolUseBlock
    assert issubclass(beta_types.BetaUsage, Usage) and issubclass(beta_types.BetaModelInfo, ModelInfo)
    assert issubclass(beta_types.BetaMessageTokensCount, MessageTokensCount)
    assert anthropic.types.AnthropicBetaParam is not None and beta_types.AnthropicBetaParam is str


def _beta_call(method: str, client: Any, **kwargs: Any) -> Any:
    messages = client.beta.messages
    if method == "count_tokens":
        return messages.count_tokens(model="m", messages=USER, **kwargs)
    if method == "stream":
        with messages.stream(model="m", max_tokens=5, messages=USER, **kwargs) as stream:
            return stream.get_final_message()
    return getattr(messages, method)(model="m", max_tokens=5, messages=USER, **kwargs)


@pytest.mark.parametrize("method", ["create", "count_tokens", "stream", "parse"])
def test_output_format_is_deprecated_in_beta_as_in_anthropic(run_both: Any, method: str) -> None:
    schema = {"type": "json_schema", "schema": {"type": "object"}}
    output_format: Any = Answer if method == "parse" else schema

    def scenario(lib: Any, client: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _beta_call(method, client, output_format=output_format, output_config={"effort": "low"})
        deprecations = [str(w.message) for w in caught if w.category is DeprecationWarning]
        try:
            _beta_call(method, client, output_format=output_format, output_config={"format": schema})
        except lib.AnthropicError as exc:
            return [deprecations, type(exc).__name__, str(exc)]
        return [deprecations, "no error"]

    results, wires = run_both(scenario, lambda: [text('{"value": 1}')])
    assert results[0] == results[1]
    assert results[1][1] == "AnthropicError" and len(results[1][0]) == 1
    assert wires[0] == wires[1] and len(wires[1]) == 1  # the second call never left the client
    assert wires[1][0]["json"]["output_config"]["effort"] == "low"
