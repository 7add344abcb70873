"""``beta_tool`` / ``beta_async_tool``: the tool definitions and input validation, against anthropic 0.125.0."""

from __future__ import annotations

import asyncio
import datetime
import enum
import json
from typing import Annotated, Any, Literal

import anthropic
import pydantic
import pytest
from pydantic import Field

import claude_web
from claude_web.lib.tools import BetaAsyncFunctionTool, BetaFunctionTool
from claude_web.lib.tools._docstring import parse_docstring


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


def get_weather(
    city: str,
    unit: Literal["c", "f"] = "c",
    days: int = 1,
    tags: list[str] | None = None,
    color: Color = Color.RED,
    when: datetime.date | None = None,
    where: Point | None = None,
    *,
    verbose: bool = False,
    limit: Annotated[int, Field(description="from the field", ge=1)] = 2,
) -> str:
    """Get the weather for a city.

    It looks outside,
    then reports.

    Args:
        city: The city name,
            e.g. Oslo.
        unit: Unit of temperature.
        days (int): Number of days.
        limit: loses to the Field description
        nonexistent: ignored

    Returns:
        A sentence.
    """
    return f"{city} {unit} {days} {where}"


def rest_style(a: int, b="x"):  # type: ignore[no-untyped-def]
    """Summary.

    :param a: the a,
        continued
    :type a: int
    :param str b: the b
    """
    return a


def numpy_style(a: int, b: str) -> str:
    """Summary line

    Parameters
    ----------
    a : int
        The a.
    b : str
        The b.
    """
    return b * a


def undocumented(x: int, y: float = 1.5, z: dict[str, int] | None = None) -> float:
    return x * y


FUNCTIONS = [get_weather, rest_style, numpy_style, undocumented]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"name": "renamed", "description": "Custom description."},
    {
        "cache_control": {"type": "ephemeral"},
        "defer_loading": True,
        "strict": True,
        "input_examples": [{"x": 1}],
        "eager_input_streaming": True,
        "allowed_callers": ["direct"],
    },
    {"input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}},
    {"input_schema": Point},
]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_tool_definition_same_as_anthropic(func: Any, options: dict[str, Any]) -> None:
    ours = claude_web.beta_tool(**options)(func) if options else claude_web.beta_tool(func)
    theirs = anthropic.beta_tool(**options)(func) if options else anthropic.beta_tool(func)
    assert json.dumps(ours.to_dict()) == json.dumps(theirs.to_dict())  # byte-identical, key order included
    assert (ours.name, ours.description, ours.input_schema) == (theirs.name, theirs.description, theirs.input_schema)
    assert isinstance(ours, BetaFunctionTool)


def test_async_tool_definition_and_call_same() -> None:
    async def lookup(term: str, limit: int = 3) -> str:
        """Look a term up.

        Args:
            term: What to look for.
        """
        await asyncio.sleep(0)
        return f"{term}:{limit}"

    ours, theirs = claude_web.beta_async_tool(lookup), anthropic.beta_async_tool(lookup)
    assert json.dumps(ours.to_dict()) == json.dumps(theirs.to_dict())
    assert isinstance(ours, BetaAsyncFunctionTool)
    assert asyncio.run(ours.call({"term": "x", "limit": "4"})) == asyncio.run(theirs.call({"term": "x", "limit": "4"}))


@pytest.mark.parametrize(
    "tool_input",
    [
        {"city": "Oslo"},
        {"city": "Oslo", "days": "3", "where": {"x": 1}, "color": "blue", "when": "2025-01-02"},
        {"days": 3},
        {"city": "Oslo", "unknown": 1},
        {"city": "Oslo", "unit": "kelvin"},
        {"city": "Oslo", "limit": 0},
    ],
)
def test_call_validates_like_anthropic(tool_input: dict[str, Any]) -> None:
    outcomes = []
    for tool in (claude_web.beta_tool(get_weather), anthropic.beta_tool(get_weather)):
        try:
            outcomes.append(("ok", tool.call(tool_input)))
        except ValueError as exc:
            outcomes.append(("error", str(exc), type(exc.__cause__).__name__))
    assert outcomes[0] == outcomes[1]


def test_tool_is_callable_and_repr() -> None:
    tool = claude_web.beta_tool(get_weather)
    assert tool("Bergen") == "Bergen c 1 None"
    assert repr(tool) == "<BetaFunctionTool name='get_weather'>"


def test_context_parameter_is_hidden_and_passed() -> None:
    seen: list[Any] = []

    @claude_web.beta_tool
    def notes(query: str, *, context: dict[str, str]) -> str:
        """Search the user's notes.

        Args:
            query: Words to look for.
        """
        seen.append(context)
        return f"{context['user']}:{query}"

    assert notes.takes_context
    assert "context" not in notes.input_schema["properties"] and notes.input_schema["required"] == ["query"]
    assert notes.call({"query": "milk"}, context={"user": "ada"}) == "ada:milk"
    assert seen == [{"user": "ada"}]
    with pytest.raises(ValueError):  # the model cannot fill it in
        notes.call({"query": "milk", "context": {"user": "mallory"}}, context={"user": "ada"})


def test_positional_only_parameters_are_named_in_the_schema() -> None:
    def minus(a: int, /, b: int) -> int:
        return a - b

    tool = claude_web.beta_tool(minus)
    assert tool.input_schema["type"] == "object" and tool.input_schema["required"] == ["a", "b"]
    assert tool.call({"a": 5, "b": 2}) == 3


def test_var_arguments_are_refused() -> None:
    def anything(*args: int) -> int:
        return sum(args)

    with pytest.raises(TypeError, match=r"\*args"):
        claude_web.beta_tool(anything)


def test_local_forward_references_resolve() -> None:
    class Local(pydantic.BaseModel):
        q: int

    def uses(item: Local) -> int:
        return item.q

    tool = claude_web.beta_tool(uses)
    assert tool.call({"item": {"q": 4}}) == 4
    assert tool.input_schema["$defs"]["Local"]["required"] == ["q"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, ("", {})),
        ("   ", ("", {})),
        ("One line.", ("One line.", {})),
        ("Title\nmore title.\n\nBody.", ("Title\n\nmore title.\n\nBody.", {})),
        (
            "S.\n\nArgs:\n    a:\n        next line\n    b (int, optional): bee\n",
            ("S.", {"a": "next line", "b": "bee"}),
        ),
        ("S.\n\nKeyword Args:\n    c: kw\n\nRaises:\n    ValueError: x\n", ("S.", {"c": "kw"})),
        ("S.\n\nArgs:\n    a: first\n\n        second\n", ("S.", {"a": "first\nsecond"})),
    ],
)
def test_docstring_parsing(doc: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_docstring(doc) == expected
