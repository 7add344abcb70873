"""``client.beta.messages.tool_runner``: the call -> tools -> results loop, differentially against anthropic
0.125.0 on FakeClaude (every request on the wire and every message yielded), then claude-web's extensions."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pydantic
import pytest

import claude_web
from claude_web.lib.tools import ToolCallResult
from claude_web.testing import FakeClaude, message, text, tool_use

pytestmark = [
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),  # anthropic's models
    pytest.mark.filterwarnings("ignore:The 'output_format' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Tool 'nope' not found in tool runner:UserWarning"),  # anthropic's
    pytest.mark.filterwarnings("ignore:The model called tool 'nope':UserWarning"),
]

USER = [{"role": "user", "content": "Work it out"}]
CALLS: list[str] = []


def calc(expression: str) -> str:
    """Evaluate an arithmetic expression.

    Args:
        expression: Digits and + - * / only.
    """
    CALLS.append(expression)
    if expression == "boom":
        raise RuntimeError("kaboom")
    if not set(expression) <= set("0123456789+-*/ "):
        raise ValueError(f"not arithmetic: {expression}")
    return str(eval(expression))  # only digits and operators, checked above


def shaped(n: int) -> Any:
    """Answer in many shapes."""
    return {1: {"x": 1}, 2: [{"type": "text", "text": "block"}], 3: 42, 4: None, 5: ["a", "b"]}[n]


async def slow(n: int) -> str:
    """Sleep a little, then answer."""
    await asyncio.sleep(0.3)
    return f"slept {n}"


def use(name: str, tool_input: dict[str, Any], block_id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id, "name": name, "input": tool_input}


def _runner(lib: Any, client: Any, functions: list[Any] | None = None, **kwargs: Any) -> Any:
    tools = [lib.beta_tool(f) for f in (functions or [calc])]
    return client.beta.messages.tool_runner(model="m", max_tokens=200, messages=USER, tools=tools, **kwargs)


def _loop(**kwargs: Any) -> Any:
    def scenario(lib: Any, client: Any) -> Any:
        runner = _runner(lib, client, **kwargs)
        return [m for m in runner]

    return scenario


SCENARIOS = {
    "one tool call": (_loop(), lambda: [tool_use("calc", {"expression": "2+2"}, text="Let me", id="tu_1"), text("4")]),
    "parallel calls with failures": (
        _loop(),
        lambda: [
            message(
                [
                    {"type": "text", "text": "several"},
                    use("calc", {"expression": "boom"}, "tu_1"),
                    use("calc", {"expression": "1+1"}, "tu_2"),
                    use("nope", {}, "tu_3"),
                    use("calc", {"wrong": 1}, "tu_4"),
                    use("calc", {"expression": "x"}, "tu_5"),
                ],
                stop_reason="tool_use",
            ),
            text("done"),
        ],
    ),
    "results of any shape": (
        _loop(functions=[shaped]),
        lambda: [
            message([use("shaped", {"n": n}, f"tu_{n}") for n in range(1, 6)], stop_reason="tool_use"),
            text("ok"),
        ],
    ),
    "max_iterations": (_loop(max_iterations=2), lambda: [tool_use("calc", {"expression": "1"}, id=f"t{i}") for i in range(4)]),
    "tool_use with end_turn": (
        _loop(),
        lambda: [message([use("calc", {"expression": "3*3"}, "tu_1")], stop_reason="end_turn"), text("nine")],
    ),
    "no tool call": (_loop(), lambda: [text("nothing to do", stop_reason="max_tokens")]),
    "betas and extras": (
        _loop(betas=["b1"], system="Be exact.", temperature=0, extra_headers={"x-custom": "1"}),
        lambda: [tool_use("calc", {"expression": "5-1"}, id="tu_1"), text("4")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_runner_same_as_anthropic(run_both: Any, name: str) -> None:
    scenario, replies = SCENARIOS[name]
    results, wires = run_both(scenario, replies)
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert wires[1][0]["headers"]["x-stainless-helper"] == "beta.messages.parse, BetaToolRunner"


def test_runner_tool_results_on_the_wire(fake_claude: FakeClaude) -> None:
    fake_claude.queue(*SCENARIOS["parallel calls with failures"][1]())
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with pytest.warns(UserWarning, match="tool 'nope', which is not among the runner's function tools"):
        final = _runner(claude_web, client).until_done()
    assert final.content[0].text == "done"
    answers = fake_claude.last_request.json["messages"][-1]["content"]
    assert [(a["tool_use_id"], a["content"], a.get("is_error", False)) for a in answers] == [
        ("tu_1", "RuntimeError('kaboom')", True),
        ("tu_2", "2", False),
        ("tu_3", "Error: Tool 'nope' not found", True),
        ("tu_4", "ValueError('Invalid arguments for function calc')", True),
        ("tu_5", "ValueError('not arithmetic: x')", True),
    ]


def test_runner_conversation_controls_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        CALLS.clear()
        runner = _runner(lib, client)
        seen = []
        for index, msg in enumerate(runner):
            seen.append(msg)
            response = runner.generate_tool_call_response()
            seen.append(response)
            assert runner.generate_tool_call_response() == response  # cached: the tools ran once
            if index == 0:
                runner.set_messages_params(lambda params: {**params, "max_tokens": 77})
            if index == 1:
                runner.append_messages({"role": "user", "content": "and once more"})
        return [seen, runner.until_done(), list(CALLS)]

    replies = [
        tool_use("calc", {"expression": "6*7"}, id="tu_1"),
        tool_use("calc", {"expression": "1"}, id="tu_2"),
        text("42"),
    ]
    results, wires = run_both(scenario, lambda: list(replies))
    assert results[0][:2] == results[1][:2]
    assert wires[0] == wires[1]
    # each tool call runs once (0.125.0 runs the second one again after append_messages)
    assert results[1][2] == ["6*7", "1"]
    assert [w["json"]["max_tokens"] for w in wires[1]] == [200, 77, 77]
    assert wires[1][2]["json"]["messages"][-1] == {"role": "user", "content": "and once more"}


def test_runner_mixed_tools_and_output_format_same(run_both: Any) -> None:
    class Verdict(pydantic.BaseModel):
        answer: int

    def scenario(lib: Any, client: Any) -> Any:
        tools = [lib.beta_tool(calc), {"name": "other", "description": "o", "input_schema": {"type": "object"}}]
        runner = client.beta.messages.tool_runner(
            model="m", max_tokens=50, messages=USER, tools=tools, output_format=Verdict
        )
        final = runner.until_done()
        return [final, repr(final.parsed_output)]

    replies = [tool_use("calc", {"expression": "2*3"}, id="tu_1"), text('{"answer": 6}')]
    results, wires = run_both(scenario, lambda: list(replies))
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert results[1][1] == "Verdict(answer=6)"


def test_streaming_runner_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        runner = _runner(lib, client, stream=True, betas=["b1"])
        turns = []
        for stream in runner:
            turns.append([event.type for event in stream if event.type != "input_json"])
        return [turns, runner.until_done()]

    replies = [tool_use("calc", {"expression": "2+2"}, text="Adding", id="tu_1"), text("4")]
    results, wires = run_both(scenario, lambda: list(replies))
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert len(wires[1]) == 2 and wires[1][0]["headers"]["x-stainless-helper"] == "BetaToolRunner"


def test_streaming_runner_finishes_unread_streams_same(run_both: Any) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        runner = _runner(lib, client, stream=True)
        kinds = [type(stream).__name__ for stream in runner]  # no stream read by the caller
        return [kinds, runner.until_done()]

    replies = [tool_use("calc", {"expression": "8/2"}, id="tu_1"), text("4")]
    results, wires = run_both(scenario, lambda: list(replies))
    assert results[0] == results[1] and results[1][0] == ["BetaMessageStream", "BetaMessageStream"]
    assert wires[0] == wires[1]


async def test_async_runner_same(run_both_async: Any) -> None:
    async def scenario(lib: Any, client: Any) -> Any:
        tools = [lib.beta_async_tool(slow)]
        runner = client.beta.messages.tool_runner(model="m", max_tokens=50, messages=USER, tools=tools)
        return [m async for m in runner]

    replies = [message([use("slow", {"n": n}, f"tu_{n}") for n in (1, 2)], stop_reason="tool_use"), text("done")]
    results, wires = await run_both_async(scenario, lambda: list(replies))
    assert results[0] == results[1]
    assert wires[0] == wires[1]


async def test_async_streaming_runner_same(run_both_async: Any) -> None:
    async def scenario(lib: Any, client: Any) -> Any:
        runner = client.beta.messages.tool_runner(
            model="m", max_tokens=50, messages=USER, tools=[lib.beta_async_tool(slow)], stream=True
        )
        finals = []
        async for stream in runner:
            finals.append(await stream.get_final_message())
        return [finals, await runner.until_done()]

    replies = [tool_use("slow", {"n": 1}, id="tu_1"), text("done")]
    results, wires = await run_both_async(scenario, lambda: list(replies))
    assert results[0] == results[1]
    assert wires[0] == wires[1]


async def test_async_runner_runs_one_turns_tools_concurrently(fake_claude: FakeClaude) -> None:
    fake_claude.queue(
        message([use("slow", {"n": n}, f"tu_{n}") for n in (1, 2, 3)], stop_reason="tool_use"), text("done")
    )
    client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url)
    runner = client.beta.messages.tool_runner(
        model="m", max_tokens=50, messages=USER, tools=[claude_web.beta_async_tool(slow)]
    )
    started = time.perf_counter()
    final = await runner.until_done()
    elapsed = time.perf_counter() - started
    assert final.content[0].text == "done"
    assert elapsed < 0.75, elapsed  # three 0.3 s tools, not 0.9 s one after another
    answers = fake_claude.last_request.json["messages"][-1]["content"]
    assert [a["content"] for a in answers] == ["slept 1", "slept 2", "slept 3"]  # in the order of the calls
    await client.close()


def test_every_request_gives_one_usage_record(fake_claude: FakeClaude) -> None:
    records: list[Any] = []
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url, usage_recorder=records.append)
    fake_claude.queue(
        tool_use("calc", {"expression": "1+1"}, id="a"), tool_use("calc", {"expression": "2"}, id="b"), text("x")
    )
    _runner(claude_web, client).until_done()
    fake_claude.queue(tool_use("calc", {"expression": "1+1"}, id="a"), text("y"))
    for _stream in _runner(claude_web, client, stream=True):
        pass  # streams left unread: the runner reads them
    assert [(r.operation, r.status) for r in records] == [
        ("beta.messages.parse", "ok"),
        ("beta.messages.parse", "ok"),
        ("beta.messages.parse", "ok"),
        ("beta.messages.stream", "ok"),
        ("beta.messages.stream", "ok"),
    ]
    assert len(fake_claude.requests) == len(records) and all(r.output_tokens > 0 for r in records)


async def test_async_every_request_gives_one_usage_record(fake_claude: FakeClaude) -> None:
    records: list[Any] = []
    client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url, usage_recorder=records.append)
    fake_claude.queue(tool_use("slow", {"n": 1}, id="a"), text("x"), tool_use("slow", {"n": 1}, id="a"), text("y"))
    tools = [claude_web.beta_async_tool(slow)]
    await client.beta.messages.tool_runner(model="m", max_tokens=9, messages=USER, tools=tools).until_done()
    async for _stream in client.beta.messages.tool_runner(
        model="m", max_tokens=9, messages=USER, tools=tools, stream=True
    ):
        pass
    assert [r.operation for r in records] == ["beta.messages.parse"] * 2 + ["beta.messages.stream"] * 2
    assert {r.status for r in records} == {"ok"}
    await client.close()


# -- claude-web extensions -------------------------------------------------------------------------------------


class Site:
    """What a web layer hands its tools: who is asking, in which conversation."""

    def __init__(self, user: str, conversation: int) -> None:
        self.user = user
        self.conversation = conversation


@claude_web.beta_tool
def my_notes(query: str, *, context: Site) -> str:
    """Search the signed-in user's notes.

    Args:
        query: Words to look for.
    """
    return f"{context.user}/{context.conversation}: notes about {query}"


def test_tool_context_timeouts_and_observed_results(fake_claude: FakeClaude) -> None:
    release = threading.Event()

    @claude_web.beta_tool
    def stuck(seconds: float) -> str:
        """Never answers in time."""
        release.wait(seconds)
        return "late"

    observed: list[ToolCallResult] = []
    fake_claude.queue(
        message(
            [use("my_notes", {"query": "milk"}, "tu_1"), use("stuck", {"seconds": 5}, "tu_2")], stop_reason="tool_use"
        ),
        text("done"),
    )
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    runner = client.beta.messages.tool_runner(
        model="m", max_tokens=50, messages=USER, tools=[my_notes, stuck],
        tool_context=Site("ada", 7), tool_timeout=0.2, on_tool_result=observed.append,
    )  # fmt: skip
    started = time.perf_counter()
    turns = 0
    for msg in runner:
        turns += 1
        if msg.stop_reason == "tool_use":
            runner.generate_tool_call_response()
            assert [r.tool_use_id for r in runner.tool_results] == ["tu_1", "tu_2"]
    release.set()
    assert turns == 2 and time.perf_counter() - started < 3
    first, second = observed
    assert (first.name, first.content, first.is_error, first.error) == (
        "my_notes",
        "ada/7: notes about milk",
        False,
        None,
    )
    assert second.is_error and second.name == "stuck" and "did not finish within 0.2 seconds" in second.content
    assert isinstance(second.error, claude_web.lib.tools.ToolTimeoutError) and 0.15 < second.duration < 2
    schema_props = fake_claude.requests[0].json["tools"][0]["input_schema"]["properties"]
    assert list(schema_props) == ["query"]  # the context parameter is never shown to the model
    assert [m["role"] for m in runner.messages] == ["user", "assistant", "user"]
    assert runner.messages[2]["content"][1]["is_error"] is True


async def test_async_extensions(fake_claude: FakeClaude) -> None:
    observed: list[tuple[str, Any]] = []

    async def record(result: ToolCallResult) -> None:
        await asyncio.sleep(0)
        observed.append((result.name, result.content))

    @claude_web.beta_async_tool
    async def hang(n: int) -> str:
        """Takes too long."""
        await asyncio.sleep(10)
        return "never"

    fake_claude.queue(
        message(
            [
                use("my_notes", {"query": "tea"}, "a"),
                use("hang", {"n": 1}, "b"),
                use("calc", {"expression": "3+4"}, "c"),
            ],
            stop_reason="tool_use",
        ),
        text("done"),
    )
    client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url)
    runner = client.beta.messages.tool_runner(
        model="m", max_tokens=50, messages=USER, tools=[my_notes, hang, claude_web.beta_tool(calc)],
        tool_context=Site("bo", 3), tool_timeout=0.2, on_tool_result=record,
    )  # fmt: skip
    started = time.perf_counter()
    final = await runner.until_done()
    assert final.content[0].text == "done" and time.perf_counter() - started < 3
    seen = dict(observed)
    assert set(seen) == {"my_notes", "hang", "calc"} and seen["my_notes"] == "bo/3: notes about tea"
    assert "did not finish within 0.2 seconds" in seen["hang"] and seen["calc"] == "7"
    answers = fake_claude.last_request.json["messages"][-1]["content"]
    assert [a["tool_use_id"] for a in answers] == ["a", "b", "c"]
    assert answers[1]["is_error"] is True and "did not finish within 0.2 seconds" in answers[1]["content"]
    assert answers[2]["content"] == "7" and answers[0]["content"] == "bo/3: notes about tea"
    await client.close()


async def test_async_callback_errors_propagate_unwrapped(fake_claude: FakeClaude) -> None:
    def broken(result: ToolCallResult) -> None:
        raise LookupError("the site's bug")

    fake_claude.queue(tool_use("calc", {"expression": "1"}, id="a"), text("x"))
    client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url)
    runner = client.beta.messages.tool_runner(
        model="m", max_tokens=9, messages=USER, tools=[claude_web.beta_tool(calc)], on_tool_result=broken
    )
    with pytest.raises(LookupError, match="the site's bug"):
        await runner.until_done()
    await client.close()


def test_sync_runner_refuses_async_tools(fake_claude: FakeClaude) -> None:
    client = claude_web.Anthropic(api_key="k", base_url=fake_claude.base_url)
    with pytest.raises(TypeError, match="is async"):
        client.beta.messages.tool_runner(
            model="m", max_tokens=9, messages=USER, tools=[claude_web.beta_async_tool(slow)]
        )
    with pytest.raises(NotImplementedError, match="compaction_control"):
        client.beta.messages.tool_runner(
            model="m", max_tokens=9, messages=USER, tools=[], compaction_control={"enabled": True}
        )
    assert fake_claude.requests == []


async def test_async_runner_times_out_a_thread_tool_and_reports_results(fake_claude: FakeClaude) -> None:
    release = threading.Event()

    @claude_web.beta_tool
    def blocking(n: int) -> str:
        """Blocks its thread."""
        release.wait(5)
        return "late"

    fake_claude.queue(
        message([use("blocking", {"n": 1}, "a"), use("my_notes", {"query": "q"}, "b")], stop_reason="tool_use"),
        text("done"),
    )
    client = claude_web.AsyncAnthropic(api_key="k", base_url=fake_claude.base_url)
    runner = client.beta.messages.tool_runner(
        model="m", max_tokens=9, messages=USER, tools=[blocking, my_notes], tool_context=Site("cy", 1), tool_timeout=0.2
    )
    async for msg in runner:
        if msg.stop_reason == "tool_use":
            response = await runner.generate_tool_call_response()
            assert response is not None and len(response["content"]) == 2
            assert [(r.name, r.is_error) for r in runner.tool_results] == [("blocking", True), ("my_notes", False)]
    release.set()
    assert (
        runner.messages[-1]["content"][0]["content"]
        == "ToolTimeoutError(\"Tool 'blocking' did not finish within 0.2 seconds\")"
    )
    await client.close()
