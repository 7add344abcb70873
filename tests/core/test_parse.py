"""Structured outputs: ``transform_schema``, ``messages.parse`` and ``messages.stream(output_format=...)``,
differentially against anthropic 0.125.0 (wire JSON and ``to_dict()`` of results) on FakeClaude."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from decimal import Decimal
from typing import Any, Literal

import anthropic
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

import claude_web
from claude_web.testing import FakeClaude, message, text
from claude_web.types import Message, ParsedMessage, ParsedTextBlock

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # anthropic's models

USER = [{"role": "user", "content": "Tell me about someone"}]


class Address(pydantic.BaseModel):
    street: str
    zip: int | None = None


class Kind(enum.Enum):
    PERSON = "person"
    ROBOT = "robot"


class Person(pydantic.BaseModel):
    """Someone."""

    name: str = pydantic.Field(description="full name", min_length=2, max_length=30)
    age: int = pydantic.Field(ge=0, le=150)
    tags: list[str] = pydantic.Field(default_factory=list, min_length=1, max_length=5)
    kind: Kind = Kind.PERSON
    mood: Literal["calm", "busy"] = "calm"
    address: Address | None = None
    score: float = pydantic.Field(default=1.0, multiple_of=0.5, gt=0)
    email: str = pydantic.Field(default="a@b.c", pattern=r"^\S+@\S+$", json_schema_extra={"format": "email"})
    born: datetime.date | None = None
    balance: Decimal = Decimal("0")
    pair: tuple[int, str] | None = None
    seen: set[int] = pydantic.Field(default_factory=set)
    extra: dict[str, int] = pydantic.Field(default_factory=dict)


class Small(pydantic.BaseModel):
    name: str
    age: int = 3


class SmallDict(TypedDict):
    a: int


@dataclasses.dataclass
class SmallData:
    a: int
    b: str = "x"


SCHEMAS: list[Any] = [
    {"type": "string", "format": "date-time", "minLength": 1},
    {"type": "string", "format": "binary", "minLength": 1},
    {"type": "string", "format": "email", "pattern": "x"},
    {"type": "array", "items": {"type": "integer", "minimum": 3}, "minItems": 1, "maxItems": 4},
    {"type": "array", "minItems": 2, "uniqueItems": True, "description": "d", "title": "T"},
    {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": True, "minProperties": 1},
    {"type": "object", "additionalProperties": {"type": "string"}},
    {"type": "object", "description": "", "required": ["a"], "x-extra": [1, {"b": None}]},
    {"oneOf": [{"type": "string"}, {"type": "integer", "default": 3}]},
    {"anyOf": [{"type": "string"}], "allOf": [{"type": "integer"}], "title": "t", "description": "d", "min": 1},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}], "title": "Q"},
    {"$ref": "#/$defs/A", "description": "dropped", "$defs": {"A": {"type": "integer", "minimum": 1}}},
    {"type": "integer", "format": "int32", "title": "A", "enum": [1], "description": "D", "const": 1},
    {"type": "string", "enum": ["a", None], "default": "a", "examples": ["a", "b"]},
    {"type": "number", "exclusiveMaximum": 3, "description": None, "title": None},
    {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"B": {"type": "null"}}},
    Person,
    Small,
    Address,
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: getattr(s, "__name__", None) or json.dumps(s)[:40])
def test_transform_schema_same_as_anthropic(schema: Any) -> None:
    original = json.dumps(schema) if isinstance(schema, dict) else None
    ours = claude_web.transform_schema(schema)
    # byte-identical JSON: same keywords, same order, same descriptions
    assert json.dumps(ours) == json.dumps(anthropic.transform_schema(schema))
    if original is not None:
        assert json.dumps(schema) == original  # the input is left alone


@pytest.mark.parametrize("schema", [{}, {"enum": ["a"]}, {"not": {"type": "string"}}, {"type": "array", "items": {}}])
def test_transform_schema_rejects_what_anthropic_rejects(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must have a 'type'"):
        anthropic.transform_schema(schema)
    with pytest.raises(ValueError, match="must have a 'type'"):
        claude_web.transform_schema(schema)


_KEYWORDS = st.sampled_from(
    ["minimum", "maxLength", "pattern", "default", "examples", "const", "format", "minItems", "uniqueItems", "x-k"]
)
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5), st.sampled_from(["uuid", "ipv4"])
)


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.builds(
        lambda kind, extra, described: {
            "type": kind,
            **extra,
            **({"description": described} if described is not None else {}),
        },
        st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"]),
        st.dictionaries(_KEYWORDS, _VALUES, max_size=3),
        st.one_of(st.none(), st.text(max_size=4)),
    )

    def extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.one_of(
            st.builds(
                lambda props, req: {"type": "object", "properties": props, "required": req},
                st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
                st.lists(st.sampled_from("abc"), max_size=2),
            ),
            st.builds(lambda items, n: {"type": "array", "items": items, "minItems": n}, inner, st.integers(0, 3)),
            st.builds(lambda subs: {"anyOf": subs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda subs: {"oneOf": subs, "title": "t"}, st.lists(inner, min_size=1, max_size=2)),
        )

    return st.recursive(leaf, extend, max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_schemas())
def test_transform_schema_same_on_generated_schemas(schema: dict[str, Any]) -> None:
    assert json.dumps(claude_web.transform_schema(schema)) == json.dumps(anthropic.transform_schema(schema))


def _parse(output_format: Any, **kwargs: Any) -> Any:
    def scenario(lib: Any, client: Any) -> Any:
        msg = client.messages.parse(model="m", max_tokens=100, messages=USER, output_format=output_format, **kwargs)
        return [msg, repr(msg.parsed_output), [repr(getattr(b, "parsed_output", "-")) for b in msg.content]]

    return scenario


PERSON_JSON = json.dumps({"name": "Ada", "age": 36, "tags": ["x"], "born": "1815-12-10", "balance": "1.5"})


@pytest.mark.parametrize(
    ("output_format", "reply", "kwargs"),
    [
        (Person, text(PERSON_JSON), {}),
        (Small, text('{"name": "x"}'), {"output_config": {"effort": "low"}}),
        (Small, text('{"name": "x"}'), {"output_config": {"format": {"type": "json_schema", "schema": {}}}}),
        (Small, text('{"name": "x", "age": "7"}', stop_reason="max_tokens"), {"temperature": 0.1}),
        (SmallDict, text('{"a": 1}'), {}),
        (SmallData, text('{"a": 1}'), {}),
        (list[int], text("[1, 2]"), {}),
        (None, text('{"name": "x"}'), {}),
        (
            Small,
            message(
                [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "text", "text": '{"name": "a"}'},
                    {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}},
                    {"type": "text", "text": '{"name": "b", "age": 2}'},
                ]
            ),
            {},
        ),
        (Small, message([{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]), {}),
    ],
)
def test_parse_same_wire_and_result(run_both: Any, output_format: Any, reply: Any, kwargs: dict[str, Any]) -> None:
    results, wires = run_both(_parse(output_format, **kwargs), lambda: [reply])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert wires[1][0]["headers"]["x-stainless-helper"] == "messages.parse"


def test_parse_without_output_format_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        msg = client.messages.parse(model="m", max_tokens=100, messages=USER)
        return [msg, msg.parsed_output]

    results, wires = run_both(scenario, lambda: [text('{"a": 1}')])
    assert results[0] == results[1]
    assert results[1][0]["content"][0]["parsed_output"] is None
    assert wires[0] == wires[1] and "output_config" not in wires[1][0]["json"]


def test_parse_result_types(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text('{"name": "Bo", "age": 4}'))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    msg = client.messages.parse(model="m", max_tokens=100, messages=USER, output_format=Small)
    assert isinstance(msg, ParsedMessage) and isinstance(msg, Message)
    block = msg.content[0]
    assert isinstance(block, ParsedTextBlock)
    assert msg.parsed_output == Small(name="Bo", age=4) and block.parsed_output is msg.parsed_output
    assert msg._request_id is not None


@pytest.mark.parametrize("reply_text", ["not json", '{"name": "x"', '{"age": 3}', '{"name": 5}', ""])
def test_parse_errors_same_class(run_both: Any, reply_text: str) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        try:
            client.messages.parse(model="m", max_tokens=100, messages=USER, output_format=Small)
        except pydantic.ValidationError as exc:
            return ["ValidationError", [(e["type"], e["loc"]) for e in exc.errors()]]
        return "no error"

    results, _ = run_both(scenario, lambda: [text(reply_text)])
    assert results[0] == results[1]
    assert results[1][0] == "ValidationError"


def test_parse_records_one_usage_record(fake_claude: FakeClaude) -> None:
    records: list[Any] = []
    fake_claude.queue(text('{"name": "x"}'))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, usage_recorder=records.append)
    client.messages.parse(model="m", max_tokens=100, messages=USER, output_format=Small)
    assert [(r.operation, r.status) for r in records] == [("messages.parse", "ok")]
    assert records[0].output_tokens > 0


def test_parse_refuses_stream_and_is_not_a_raw_response_method(fake_claude: FakeClaude) -> None:
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with pytest.raises(TypeError, match="messages.stream"):
        client.messages.parse(model="m", max_tokens=5, messages=USER, output_format=Small, stream=True)  # type: ignore[call-overload, arg-type]
    assert fake_claude.requests == []
    with pytest.raises(AttributeError):
        client.messages.with_raw_response.parse  # noqa: B018  (0.125.0 has no raw parse either)
    with pytest.raises(AttributeError):
        anthropic.Anthropic(api_key="k").messages.with_raw_response.parse  # noqa: B018


async def test_async_parse_same(run_both_async: Any) -> None:
    async def scenario(lib: Any, client: Any) -> Any:
        msg = await client.messages.parse(model="m", max_tokens=100, messages=USER, output_format=Person)
        return [msg, repr(msg.parsed_output)]

    results, wires = await run_both_async(scenario, lambda: [text(PERSON_JSON)])
    assert results[0] == results[1]
    assert wires[0] == wires[1]


def _stream_scenario(output_format: Any) -> Any:
    def scenario(lib: Any, client: Any) -> Any:
        with client.messages.stream(model="m", max_tokens=100, messages=USER, output_format=output_format) as stream:
            events = [
                (type(e).__name__.lstrip("_Lazy"), e.to_dict())
                for e in stream
                if e.type in ("content_block_stop", "message_stop", "text")
            ]
            final = stream.get_final_message()
        return [events, final, repr(final.parsed_output), type(final).__name__.split("[")[0]]

    return scenario


@pytest.mark.parametrize("output_format", [Small, {"type": "json_schema", "schema": {"type": "object"}}])
def test_stream_with_output_format_same(run_both: Any, output_format: Any) -> None:
    reply = message(
        [
            {"type": "thinking", "thinking": "hm", "signature": "sig"},
            {"type": "text", "text": '{"name": "Al", "age": 5}'},
            {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {"q": 1}},
        ]
    )
    results, wires = run_both(_stream_scenario(output_format), lambda: [reply])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    names = [name for name, _ in results[1][0]]
    assert names.count("ParsedContentBlockStopEvent") == 3 and names[-1] == "ParsedMessageStopEvent"
    assert results[1][3] == "ParsedMessage"


def test_stream_parse_error_raised_at_the_block_stop(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        seen: list[str] = []
        with client.messages.stream(model="m", max_tokens=100, messages=USER, output_format=Small) as stream:
            try:
                for event in stream:
                    seen.append(event.type)
            except pydantic.ValidationError:
                return ["ValidationError", seen]
        return ["no error", seen]

    results, _ = run_both(scenario, lambda: [text('{"nam": 1}', chunks=2)])
    assert results[0] == results[1]
    assert results[1][0] == "ValidationError" and results[1][1][-1] == "text"


def test_stream_text_stream_then_parsed_final(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text('{"name": "Streamed", "age": 9}', chunks=5))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with client.messages.stream(model="m", max_tokens=100, messages=USER, output_format=Small) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == '{"name": "Streamed", "age": 9}' and len(pieces) == 5
    assert final.parsed_output == Small(name="Streamed", age=9)
    assert isinstance(final, ParsedMessage)


def test_stream_without_output_format_unchanged(fake_claude: FakeClaude) -> None:
    fake_claude.queue(text('{"a": 1}'))
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with client.messages.stream(model="m", max_tokens=100, messages=USER) as stream:
        final = stream.get_final_message()
    # as in anthropic 0.125.0: the helper's final message is a ParsedMessage whose parsed_output stays None
    assert isinstance(final, Message) and type(final).__name__ == "ParsedMessage" and final.parsed_output is None
    assert "output_config" not in fake_claude.last_request.json


async def test_async_stream_with_output_format_same(run_both_async: Any) -> None:
    async def scenario(lib: Any, client: Any) -> Any:
        async with client.messages.stream(model="m", max_tokens=100, messages=USER, output_format=Person) as stream:
            stops = [e.to_dict() async for e in stream if e.type in ("content_block_stop", "message_stop")]
            final = await stream.get_final_message()
        return [stops, final, repr(final.parsed_output)]

    results, wires = await run_both_async(scenario, lambda: [text(PERSON_JSON)])
    assert results[0] == results[1]
    assert wires[0] == wires[1]
