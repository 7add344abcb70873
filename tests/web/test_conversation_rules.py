"""The framework-free rules of conversations: settings, history, context window, cache breakpoints, tools; and
prompt caching that pays, measured on FakeClaude through the neutral handlers and a memory store."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

from claude_web.testing import text, tool_use
from claude_web.web.conversations import (
    ChatMessage,
    MemoryConversationStore,
    api_messages,
    drop_oldest,
    estimate_tokens,
    fit_messages,
    place_breakpoints,
    title_from,
    turns,
)
from claude_web.web.handlers import conversation_create, conversation_detail, conversation_post
from claude_web.web.http import Principal, WebRequest
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import ConfigError, parse_settings, settings_from_env, settings_from_flat
from claude_web.web.tools import Tool, ToolContext, ToolError, ToolRegistry, tool, tool_content

# -- settings -------------------------------------------------------------------------------------------------


def test_without_assistants_there_is_one_default_from_chat() -> None:
    cfg = parse_settings({"CHAT": {"MODELS": ["claude-sonnet-4-5"], "MAX_TOKENS": 300}})
    (only,) = cfg.assistants.values()
    assert (only.name, only.model, only.system, only.tools, only.max_tokens) == (
        "default",
        "claude-sonnet-4-5",
        "",
        (),
        300,
    )
    assert cfg.conversations.default_assistant == "default" and cfg.conversations.cache is True
    assert cfg.chat.allow_system is False and cfg.chat.allow_assistant_turns is False


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (
            {"ASSISTANTS": {"a": {"MODEL": "m", "SYSTEM": 3}}},
            "CLAUDE_WEB['ASSISTANTS']['a']['SYSTEM'] must be a string",
        ),
        ({"ASSISTANTS": {"a": {"TOOLS": "myapp.tools.x"}}}, "['TOOLS'] must be a list of dotted paths"),
        ({"ASSISTANTS": {"a": {"TOOLS": ["calculator"]}}}, "['TOOLS'][0] is 'calculator', not a dotted path"),
        ({"ASSISTANTS": {"a": {"CLIENT": "nope"}}}, "['CLIENT'] is 'nope', which is not in CLIENTS"),
        ({"ASSISTANTS": {"a": {"SYSTEM_PROMPT": "x"}}}, "unknown key(s) 'SYSTEM_PROMPT'"),
        ({"ASSISTANTS": {"a b": {}}}, "has the name 'a b'"),
        ({"CONVERSATIONS": {"DEFAULT_ASSISTANT": "x"}}, "is 'x', which is not in ASSISTANTS ('default')"),
        ({"ASSISTANTS": {"a": {}}, "CONVERSATIONS": {"DEFAULT_ASSISTANT": "b"}}, "is 'b', which is not in"),
        ({"CONVERSATIONS": {"CONTEXT_SHARE": 1.5}}, "must be a fraction above 0 and at most 1"),
        ({"CONVERSATIONS": {"CACHE_TTL": "10m"}}, "must be one of '5m', '1h'"),
        ({"CONVERSATIONS": {"STRATEGY": "summarise"}}, "or a 'package.module:function' path"),
        ({"CONVERSATIONS": {"TOKEN_COUNTER": "guess"}}, "must be one of 'estimate', 'count_tokens'"),
    ],
)
def test_wrong_settings_say_what_to_write(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    message = str(caught.value)
    assert says in message and ("Write it like" in message or "known keys" in message)


def test_flask_keys_and_environment_spell_the_same_settings() -> None:
    flat = settings_from_flat(
        {
            "CLAUDE_WEB_ASSISTANTS": {"calc": {"MODEL": "claude-haiku-4-5", "TOOLS": ["a.b"]}},
            "CLAUDE_WEB_CONVERSATIONS": {"DEFAULT_ASSISTANT": "calc"},
            "CLAUDE_WEB_CONVERSATIONS_PAGE_SIZE": 5,
            "CLAUDE_WEB_CHAT_ALLOW_ASSISTANT_TURNS": True,
        }
    )
    assert flat.assistants["calc"].tools == ("a.b",) and flat.conversations.page_size == 5
    assert flat.conversations.default_assistant == "calc" and flat.chat.allow_assistant_turns is True
    env = settings_from_env(
        {
            "CLAUDE_WEB_ASSISTANTS": json.dumps({"calc": {"MODEL": "claude-haiku-4-5"}}),
            "CLAUDE_WEB_CONVERSATIONS_CONTEXT_SHARE": "0.5",
            "CLAUDE_WEB_CONVERSATIONS_CACHE": "off",
        }
    )
    assert env.assistants["calc"].model == "claude-haiku-4-5"
    assert env.conversations.context_share == 0.5 and env.conversations.cache is False


# -- history --------------------------------------------------------------------------------------------------


def _msg(i: int, role: str, *blocks: dict[str, Any], status: str = "complete") -> ChatMessage:
    return ChatMessage(i, "c", role, list(blocks), status=status)  # type: ignore[arg-type]


def _t(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def test_history_keeps_pairs_drops_errors_and_unsigned_partials() -> None:
    use = {"type": "tool_use", "id": "t1", "name": "calc", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "t1", "content": "2"}
    orphan_use = {"type": "tool_use", "id": "t2", "name": "calc", "input": {}}
    stored = [
        _msg(1, "assistant", _t("leading answer")),  # no question before it: dropped
        _msg(2, "user", _t("First?")),
        _msg(3, "assistant", _t("Let me"), use),
        _msg(4, "user", result),
        _msg(5, "assistant", _t("It is 2."), orphan_use),  # its call never got a result: the call goes
        _msg(6, "user", _t("Failed question"), status="error"),
        _msg(7, "user", _t("Second?")),
        _msg(8, "assistant", {"type": "thinking", "thinking": "hm"}, _t("Half an ans"), status="partial"),
        _msg(9, "assistant", _t(" "), status="partial"),
        _msg(10, "user", _t("Third?")),
    ]
    out = api_messages(stored)
    assert [m["role"] for m in out] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert out[1]["content"] == [_t("Let me"), use] and out[2]["content"] == [result]
    assert out[3]["content"] == [_t("It is 2.")]
    assert out[4]["content"] == [_t("Second?")]
    assert out[5]["content"] == [_t("Half an ans")]
    assert stored[2].content[1] is not out[1]["content"][1] or out[1]["content"][1] == use


def test_turns_keep_tool_results_with_their_calls() -> None:
    messages = [
        {"role": "user", "content": [_t("a")]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "x", "name": "n", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "r"}, _t("and b?")]},
        {"role": "assistant", "content": [_t("b")]},
        {"role": "user", "content": [_t("c")]},
    ]
    assert [len(t) for t in turns(messages)] == [4, 1]


def test_title_from_the_first_question() -> None:
    assert title_from("Plan a trip\nto Oslo in May") == "Plan a trip"
    long = title_from("word " * 40)
    assert len(long) == 60 and long.endswith("…")


# -- context window -------------------------------------------------------------------------------------------


def _conversation(turn_count: int, size: int = 700) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(turn_count):
        out.append({"role": "user", "content": [_t(f"q{i} " + "x" * size)]})
        out.append({"role": "assistant", "content": [{"type": "tool_use", "id": f"t{i}", "name": "n", "input": {}}]})
        out.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": "y" * size}]}
        )
        out.append({"role": "assistant", "content": [_t(f"a{i}")]})
    out.append({"role": "user", "content": [_t("latest")]})
    return out


def test_drop_oldest_drops_whole_turns_until_the_prompt_fits() -> None:
    params = {"model": "m", "system": "s" * 350, "messages": _conversation(6)}
    full = estimate_tokens(params)
    budget = full // 2
    kept = drop_oldest(params, budget, estimate_tokens)
    assert estimate_tokens({**params, "messages": kept}) <= budget
    assert kept[0]["role"] == "user" and kept[0]["content"][0]["text"].startswith("q")
    assert kept[-1]["content"][0]["text"] == "latest"
    ids_used = {b["id"] for m in kept for b in m["content"] if b.get("type") == "tool_use"}
    ids_answered = {b["tool_use_id"] for m in kept for b in m["content"] if b.get("type") == "tool_result"}
    assert ids_used == ids_answered and ids_used  # no pair is split
    assert drop_oldest(params, full, estimate_tokens) == params["messages"]
    assert drop_oldest(params, 1, estimate_tokens) == [params["messages"][-1]]  # the newest turn always stays


def test_an_exact_counter_is_scaled_then_checked() -> None:
    calls: list[int] = []

    def counter(p: Any) -> int:  # a "real" count: twice the estimate
        calls.append(len(p["messages"]))
        return estimate_tokens(p) * 2

    params = {"model": "m", "messages": _conversation(8)}
    budget = estimate_tokens(params)  # fits only about half
    kept = fit_messages(params, budget, counter)
    assert counter({**params, "messages": kept}) <= budget
    assert len(calls) <= 4  # one count, then the cut is checked (not one count per dropped turn)


def test_a_broken_strategy_sends_the_whole_history() -> None:
    params = {"model": "m", "messages": _conversation(2)}

    def broken(p: Any, budget: int, count: Any) -> list[dict[str, Any]]:
        raise RuntimeError("oops")

    assert fit_messages(params, 10, estimate_tokens, broken) == params["messages"]
    assert fit_messages(params, 10, estimate_tokens, lambda p, b, c: [{"role": "assistant"}]) == params["messages"]


# -- cache breakpoints ----------------------------------------------------------------------------------------


def test_breakpoints_on_tools_system_and_both_ends_of_the_history() -> None:
    messages = _conversation(2)
    params = {"model": "m", "system": "sys", "tools": [{"name": "a"}, {"name": "b"}], "messages": messages}
    placed = place_breakpoints(params, ttl="1h")
    marked = [
        where
        for where, block in [("tool", t) for t in placed["tools"]]
        + [("system", b) for b in placed["system"]]
        + [(f"m{i}", b) for i, m in enumerate(placed["messages"]) for b in m["content"]]
        if "cache_control" in block
    ]
    n = len(messages)
    assert marked == ["tool", "system", f"m{n - 3}", f"m{n - 1}"]
    assert placed["tools"][1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert all("cache_control" not in b for m in messages for b in m["content"])  # the history is untouched
    assert "cache_control" not in params["tools"][1]


# -- tools ----------------------------------------------------------------------------------------------------


def test_tool_content_rules() -> None:
    assert tool_content("t", [{"type": "text", "text": "a"}]) == [{"type": "text", "text": "a"}]
    assert tool_content("t", [1, 2]) == "[1, 2]" and tool_content("t", True) == "true"
    with pytest.raises(ToolError, match="returned a set value, which is not JSON"):
        tool_content("t", {1, 2})
    with pytest.raises(ToolError, match="not JSON"):
        tool_content("t", float("nan"))


def test_the_tool_decorator_follows_beta_tool_schema_rules() -> None:
    @tool(timeout=2)
    def lookup(city: str, unit: str = "c", *, context: ToolContext) -> str:
        """The weather in a city.

        Args:
            city: The city name.
        """
        return f"{city} for {context.user_id}"

    assert isinstance(lookup, Tool) and lookup.timeout == 2 and lookup.takes_context
    schema = lookup.to_dict()
    assert schema["description"] == "The weather in a city."
    assert schema["input_schema"]["required"] == ["city"]
    assert schema["input_schema"]["properties"]["city"]["description"] == "The city name."
    assert "context" not in schema["input_schema"]["properties"]
    assert lookup.call({"city": "Oslo"}, context=ToolContext(user_id="7")) == "Oslo for 7"


def test_async_tools_run_from_sync_and_async_code_with_their_timeout() -> None:
    @tool(timeout=0.2)
    async def nap(seconds: float) -> str:
        """Sleep."""
        await asyncio.sleep(seconds)
        return "awake"

    assert nap.call({"seconds": 0.01}) == "awake"
    from claude_web.lib.tools import ToolTimeoutError

    with pytest.raises(ToolTimeoutError):
        nap.call({"seconds": 2})
    assert asyncio.run(nap.acall({"seconds": 0.01})) == "awake"
    with pytest.raises(ToolTimeoutError):
        asyncio.run(nap.acall({"seconds": 2}))


def test_the_registry_imports_and_explains() -> None:
    registry = ToolRegistry()
    (found,) = registry.resolve(["textwrap:dedent"], where="ASSISTANTS['a']['TOOLS']")
    assert found.name == "dedent" and registry.get("textwrap:dedent") is found
    assert found.to_dict()["input_schema"]["required"] == ["text"]
    with pytest.raises(ConfigError, match=r"ASSISTANTS\['a'\]\['TOOLS'\]\[0\]: cannot use 'nope.nothing' as a tool"):
        registry.resolve(["nope.nothing"], where="ASSISTANTS['a']['TOOLS']")
    with pytest.raises(ConfigError, match="two tools named 'dedent'"):
        registry.resolve(["textwrap:dedent", "textwrap.dedent"])
    with pytest.raises(ConfigError, match="takes \\*kw"):
        registry.resolve(["json:dumps"])


# -- prompt caching that pays, on FakeClaude -------------------------------------------------------------------

SYSTEM = "You answer questions about the weather in Norway, briefly and precisely. " * 80


def _runtime(fake: Any, cache: bool, tools: list[Any] | None = None) -> WebRuntime:
    settings = parse_settings(
        {
            "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake.base_url, "max_retries": 0}}},
            "ASSISTANTS": {"default": {"MODEL": "claude-sonnet-4-5", "SYSTEM": SYSTEM, "TOOLS": tools or []}},
            "CONVERSATIONS": {"CACHE": cache},
        }
    )
    return WebRuntime(settings, conversation_store=MemoryConversationStore())


def _request(method: str, body: Any = None) -> WebRequest:
    raw = b"" if body is None else json.dumps(body).encode()
    return WebRequest(method, "/c/", raw, content_type="application/json", principal=Principal(user_id=1))


def _turns(fake: Any, cache: bool, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    runtime = _runtime(fake, cache)
    try:
        cid = conversation_create(runtime, _request("POST", {})).json["conversation"]["id"]
        for i in range(count):
            response = conversation_post(runtime, _request("POST", {"message": f"Question {i}: " + "w" * 400}), cid)
            assert response.status == 200 and response.stream is not None
            assert b"event: done" in b"".join(response.stream)
        detail = conversation_detail(runtime, _request("GET"), cid).json
        return [m["usage"] for m in detail["messages"] if m["role"] == "assistant"], detail["messages"]
    finally:
        runtime.close()


def test_each_turn_reads_the_history_from_the_cache(fake_claude: Any) -> None:
    usage, _ = _turns(fake_claude, True, 5)
    assert usage[0]["cache_creation_input_tokens"] > 0 and usage[0]["cache_read_input_tokens"] == 0
    for before, now in zip(usage, usage[1:], strict=False):
        prompt = now["input_tokens"] + now["cache_read_input_tokens"] + now["cache_creation_input_tokens"]
        assert (
            now["cache_read_input_tokens"] >= before["cache_read_input_tokens"] + before["cache_creation_input_tokens"]
        )
        assert now["cache_read_input_tokens"] / prompt > 0.8
    sent = fake_claude.last_request.json
    marks = [b for m in sent["messages"] for b in m["content"] if "cache_control" in b]
    assert len(marks) == 2 and "cache_control" in sent["system"][0]
    off, _ = _turns(fake_claude, False, 3)
    assert all(u["cache_read_input_tokens"] == 0 and u["cache_creation_input_tokens"] == 0 for u in off)
    assert "cache_control" not in json.dumps(fake_claude.last_request.json)


def test_a_tool_round_reads_the_turn_so_far_from_the_cache(fake_claude: Any) -> None:
    @tool
    def weather(city: str) -> str:
        """The weather."""
        return "Rain in " + city + ". " + "Details. " * 100

    runtime = _runtime(fake_claude, True, [weather])
    try:
        cid = conversation_create(runtime, _request("POST", {})).json["conversation"]["id"]
        fake_claude.queue(tool_use("weather", {"city": "Bergen"}), text("It rains in Bergen."))
        response = conversation_post(runtime, _request("POST", {"message": "Weather in Bergen? " + "w" * 400}), cid)
        assert response.stream is not None and b"event: done" in b"".join(response.stream)
        detail = conversation_detail(runtime, _request("GET"), cid).json
        first, second = (m["usage"] for m in detail["messages"] if m["role"] == "assistant")
        assert (
            second["cache_read_input_tokens"] == first["cache_read_input_tokens"] + first["cache_creation_input_tokens"]
        )
        conv = detail["conversation"]
        assert Decimal(conv["cost"]) == sum(Decimal(m["cost"]) for m in detail["messages"] if m["cost"])
    finally:
        runtime.close()


def test_a_long_conversation_drops_its_oldest_turns_counted_by_the_api(fake_claude: Any) -> None:
    settings = parse_settings(
        {
            "CLIENTS": {
                "default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url, "max_retries": 0}}
            },
            "ASSISTANTS": {"default": {"MODEL": "claude-sonnet-4-5", "SYSTEM": "Be brief.", "MAX_TOKENS": 500}},
            "CONVERSATIONS": {"TOKEN_COUNTER": "count_tokens", "CONTEXT_WINDOW": 2500, "CONTEXT_SHARE": 1.0},
        }
    )
    runtime = WebRuntime(settings, conversation_store=MemoryConversationStore())
    try:
        cid = conversation_create(runtime, _request("POST", {})).json["conversation"]["id"]
        for i in range(8):
            fake_claude.queue(text(f"Answer {i}. " + "a" * 800))
            response = conversation_post(runtime, _request("POST", {"message": f"Question {i}: " + "q" * 800}), cid)
            assert response.stream is not None and b"event: done" in b"".join(response.stream)
        paths = [r.path for r in fake_claude.requests]
        assert paths.count("/v1/messages/count_tokens") >= 8
        last = [r for r in fake_claude.requests if r.path == "/v1/messages"][-1].json
        sent = last["messages"]
        assert sent[0]["role"] == "user" and sent[-1]["content"][0]["text"].startswith("Question 7")
        assert 1 < len(sent) < 15  # the oldest turns were left out, whole
        detail = conversation_detail(runtime, _request("GET"), cid).json
        assert len(detail["messages"]) == 16  # the stored conversation keeps everything
        for message in detail["messages"]:
            if message["role"] == "assistant":
                assert message["usage"]["output_tokens"] > 0
    finally:
        runtime.close()


# -- budgets: a turn reserves its worst case and gives back what it did not spend ------------------------------


def test_a_turn_holds_its_worst_case_until_it_ends_and_is_refused_when_it_cannot_fit(fake_claude: Any) -> None:
    from claude_web.web.budgets import budget_report

    settings = parse_settings(
        {
            "CLIENTS": {
                "default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url, "max_retries": 0}}
            },
            "ASSISTANTS": {"default": {"MODEL": "claude-sonnet-4-5", "SYSTEM": "Be brief.", "MAX_TOKENS": 1000}},
            "QUOTAS": {"COST_PER_MONTH": "0.05", "STORE": "memory"},
        }
    )
    runtime = WebRuntime(settings, conversation_store=MemoryConversationStore())
    try:
        budgets = runtime.budgets
        assert budgets is not None
        cid = conversation_create(runtime, _request("POST", {})).json["conversation"]["id"]
        fake_claude.queue(text("A short answer.", chunks=3))
        response = conversation_post(runtime, _request("POST", {"message": "Hello there"}), cid)
        assert response.status == 200 and response.stream is not None
        assert b"event: done" in b"".join(response.stream)
        (line,) = [line for line in budget_report(budgets) if line.scope == "user:1"]
        # settled to what the call cost, and nothing left held once the turn ended
        assert line.reserved == 0 and line.used > 0
        # a 1000-token answer at $15/MTok alone is $0.015: once the stored history makes the worst case larger
        # than what is left of $0.05, the next turn is refused before any upstream call
        sent = len(fake_claude.requests)
        for _ in range(6):
            fake_claude.queue(text("w " * 300, chunks=3))
            answer = conversation_post(runtime, _request("POST", {"message": "More, please. " * 40}), cid)
            if answer.status != 200:
                break
            assert answer.stream is not None
            b"".join(answer.stream)
            sent = len(fake_claude.requests)
        assert answer.status == 429 and answer.json["error"]["type"] == "quota_exceeded"
        assert len(fake_claude.requests) == sent  # the refused turn never went upstream
        (line,) = [line for line in budget_report(budgets) if line.scope == "user:1"]
        assert line.reserved == 0 and line.used <= line.value
    finally:
        runtime.close()
