"""Structured outputs: with ``output_config.format`` (or the earlier ``output_format``) the unscripted answer is JSON
that validates against the schema; pydantic validates it independently, and anthropic 0.125.0's messages.parse
reads it."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any, Literal

import anthropic
import httpx
import pytest
from fake_helpers import body
from pydantic import BaseModel, Field

from claude_web.testing import FakeClaude, text
from claude_web.testing._schema import example_value


class Mood(str, Enum):
    CALM = "calm"
    STORMY = "stormy"


class Place(BaseModel):
    city: str
    population: int
    coords: tuple[float, float] | None = None


class Town(Place):
    population: int = Field(ge=1000)


class Forecast(BaseModel):
    summary: str = Field(min_length=20, max_length=60)
    mood: Mood
    kind: Literal["daily", "hourly"]
    temperature: float = Field(gt=-90, le=60)
    when: datetime
    places: list[Town] = Field(min_length=2)
    alerts: list[str] | None
    rain: bool
    note: str | None = None


def _format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"output_config": {"format": {"type": "json_schema", "schema": schema}}}


@pytest.mark.parametrize("stream", [False, True])
def test_default_answer_validates_against_the_schema(http: httpx.Client, stream: bool) -> None:
    schema = Forecast.model_json_schema()  # nested models through $defs, enums, Optional as anyOf, bounds
    response = http.post("/v1/messages", json=body(**_format(schema), stream=stream))
    assert response.status_code == 200
    if stream:
        answer = "".join(
            json.loads(line[6:])["delta"].get("text", "")
            for line in response.text.splitlines()
            if line.startswith("data: ") and '"content_block_delta"' in line
        )
    else:
        assert response.json()["stop_reason"] == "end_turn"
        answer = response.json()["content"][0]["text"]
    forecast = Forecast.model_validate_json(answer)
    assert len(forecast.places) == 2 and forecast.places[0].population >= 1000
    assert forecast.mood is Mood.CALM and forecast.kind == "daily"


def test_earlier_output_format_and_plain_schemas(http: httpx.Client) -> None:
    schema = {"type": "array", "items": {"type": "integer", "maximum": 0}, "minItems": 3}
    answer = http.post("/v1/messages", json=body(output_format={"type": "json_schema", "schema": schema})).json()
    assert json.loads(answer["content"][0]["text"]) == [0, 0, 0]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"const": "fixed"}, "fixed"),
        ({"type": ["null", "boolean"]}, True),
        ({"type": "string", "format": "email"}, "someone@example.com"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "integer", "exclusiveMinimum": 5}, 6),
        (
            {"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"type": "null"}}}]},
            {"a": 1, "b": None},
        ),
        ({"$ref": "#/definitions/X", "definitions": {"X": {"enum": [7, 8]}}}, 7),
    ],
)
def test_example_values(schema: dict[str, Any], expected: Any) -> None:
    assert example_value(schema) == expected


def test_recursive_schema_ends() -> None:
    schema = {"$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}}}
    value = example_value({**schema, "$ref": "#/$defs/Node"})
    depth = 0
    while isinstance(value, dict):
        value, depth = value["child"], depth + 1
    assert value is None and depth > 1


def test_a_scripted_reply_still_wins(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("not json"))
    answer = http.post("/v1/messages", json=body(**_format({"type": "object"}))).json()
    assert answer["content"][0]["text"] == "not json"


class Stop(BaseModel):
    city: str
    nights: int


class Trip(BaseModel):
    """What anthropic's messages.parse can send: it moves bounds such as ``ge`` into descriptions, which only a
    model reads, and drops tuples), so the fake sees (and honours) types, enums and structure."""

    name: str
    mood: Mood
    stops: list[Stop]
    budget: float | None


def test_anthropic_parse_reads_the_answer(fake_claude: FakeClaude) -> None:
    client = anthropic.Anthropic(api_key="sk-test", base_url=fake_claude.base_url, max_retries=0)
    parsed = client.messages.parse(
        model="claude-sonnet-4-5", max_tokens=1000, messages=body()["messages"], output_format=Trip
    )
    assert isinstance(parsed.parsed_output, Trip) and parsed.parsed_output.mood is Mood.CALM
    sent = fake_claude.last_request.json
    assert sent["output_config"]["format"]["type"] == "json_schema"
    client.close()
