"""FakeClaude stops at ``max_tokens`` like the API: the answer is cut to exactly ``max_tokens`` output tokens (by the
fake's estimate), ``stop_reason`` is ``"max_tokens"``, streamed and not, for default and scripted replies."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from fake_helpers import body, streamed_message

import claude_web
from claude_web.testing import FakeClaude, message, text, thinking, tool_use
from claude_web.testing._tokens import output_tokens


def _create(http: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/messages", json=payload)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _stream(http: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/messages", json={**payload, "stream": True})
    assert response.status_code == 200, response.text
    return streamed_message(response.text)


def test_default_answer_is_cut_at_max_tokens(http: httpx.Client) -> None:
    full = _create(http, body())
    assert full["stop_reason"] == "end_turn"
    answer = full["content"][0]["text"]
    assert full["usage"]["output_tokens"] == len(answer) // 4 > 5

    cut = _create(http, body(max_tokens=5))
    assert cut["stop_reason"] == "max_tokens"
    assert cut["usage"]["output_tokens"] == 5
    assert cut["content"] == [{"type": "text", "text": answer[:20]}]
    assert output_tokens(cut["content"]) == 5


def test_streamed_default_answer_is_cut_the_same_way(http: httpx.Client) -> None:
    cut = _create(http, body(max_tokens=7))
    streamed = _stream(http, body(max_tokens=7))
    assert streamed["content"] == cut["content"]
    assert streamed["stop_reason"] == "max_tokens"
    assert streamed["usage"]["output_tokens"] == 7


@pytest.mark.parametrize("stream", [False, True])
def test_scripted_text_is_cut_and_a_short_one_is_not(fake_claude: FakeClaude, http: httpx.Client, stream: bool) -> None:
    send = _stream if stream else _create
    fake_claude.queue(text("The quick brown fox jumps over the lazy dog, twice."), text("Short."))
    cut = send(http, body(max_tokens=3))
    assert cut["content"] == [{"type": "text", "text": "The quick br"}]
    assert (cut["stop_reason"], cut["usage"]["output_tokens"]) == ("max_tokens", 3)
    whole = send(http, body(max_tokens=3))
    assert whole["content"] == [{"type": "text", "text": "Short."}]
    assert (whole["stop_reason"], whole["usage"]["output_tokens"]) == ("end_turn", 1)


def test_an_answer_exactly_max_tokens_long_is_not_cut(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("12345678"))
    result = _create(http, body(max_tokens=2))
    assert (result["stop_reason"], result["usage"]["output_tokens"]) == ("end_turn", 2)


@pytest.mark.parametrize("stream", [False, True])
def test_thinking_counts_toward_max_tokens(fake_claude: FakeClaude, http: httpx.Client, stream: bool) -> None:
    send = _stream if stream else _create
    thought = "Let me think this through carefully."  # 36 characters: 9 tokens
    fake_claude.queue(thinking(thought, "Blue light scatters more."), thinking(thought, "Blue light scatters more."))
    only_thinking = send(http, body(max_tokens=5))
    assert [b["type"] for b in only_thinking["content"]] == ["thinking"]
    assert only_thinking["content"][0]["thinking"] == thought[:20]
    assert only_thinking["usage"]["output_tokens"] == 5
    some_text = send(http, body(max_tokens=11))
    assert some_text["content"][0]["thinking"] == thought
    assert some_text["content"][1]["text"] == "Blue lig"  # 44 - 36 characters
    assert (some_text["stop_reason"], some_text["usage"]["output_tokens"]) == ("max_tokens", 11)


def test_tool_call_cut_mid_input(fake_claude: FakeClaude, http: httpx.Client) -> None:
    call: dict[str, Any] = {"expression": "2+2", "precision": 10}
    for _ in range(2):
        fake_claude.queue(tool_use("calc", call, text="Let me use a tool.", id="toolu_cut"))
    # 18 characters of text, then 26 of '{"expression": "2+2", "precision": 10}': 44 characters = 11 tokens
    result = _create(http, body(max_tokens=11))
    assert result["stop_reason"] == "max_tokens"
    assert result["usage"]["output_tokens"] == 11
    assert result["content"][1] == {
        "type": "tool_use",
        "id": "toolu_cut",
        "name": "calc",
        "input": {"expression": "2+2"},
    }

    streamed = _stream(http, body(max_tokens=11))
    assert streamed["content"][1]["partial_json"] == '{"expression": "2+2", "pre'
    assert (streamed["stop_reason"], streamed["usage"]["output_tokens"]) == ("max_tokens", 11)


def test_tool_call_not_started_is_absent_and_complete_one_kept(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(
        tool_use("calc", {"expression": "2+2"}, text="Let me use a tool."),
        tool_use("calc", {"expression": "2+2"}, text="Let me use a tool."),
    )
    before = _create(http, body(max_tokens=4))
    assert [b["type"] for b in before["content"]] == ["text"]
    assert before["stop_reason"] == "max_tokens"
    whole = _create(http, body(max_tokens=100))
    assert whole["content"][1]["input"] == {"expression": "2+2"}
    assert whole["stop_reason"] == "tool_use"


def test_blocks_the_model_does_not_write_count_nothing(fake_claude: FakeClaude, http: httpx.Client) -> None:
    result_block = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [{"x": "y" * 400}]}
    fake_claude.queue(message([result_block, {"type": "text", "text": "Found it."}]))
    result = _create(http, body(max_tokens=5))
    assert result["content"] == [result_block, {"type": "text", "text": "Found it."}]
    assert (result["stop_reason"], result["usage"]["output_tokens"]) == ("end_turn", 2)


def test_batch_results_are_cut_too(fake_claude: FakeClaude, http: httpx.Client) -> None:
    params = body(max_tokens=4)
    created = http.post("/v1/messages/batches", json={"requests": [{"custom_id": "a", "params": params}]}).json()
    http.get(f"/v1/messages/batches/{created['id']}")
    line = http.get(f"/v1/messages/batches/{created['id']}/results").json()
    result = line["result"]["message"]
    assert (result["stop_reason"], result["usage"]["output_tokens"]) == ("max_tokens", 4)
    assert len(result["content"][0]["text"]) == 16


def test_sdks_read_a_cut_tool_call_alike(fake_claude: FakeClaude) -> None:
    """Differential: anthropic 0.125.0 and claude_web accumulate the cut stream to the same message."""
    finals = []
    for lib in (claude_web, anthropic):
        fake_claude.queue(
            tool_use("calc", {"expression": "2+2", "precision": 10}, text="Let me use a tool.", id="toolu_x")
        )
        client: Any = lib.Anthropic(api_key="sk-test", base_url=fake_claude.base_url, max_retries=0)
        with client.messages.stream(model="m", max_tokens=11, messages=body()["messages"]) as stream:
            final = stream.get_final_message()
        finals.append(final.to_dict())
        client.close()
    for final in finals:
        final.pop("id")
    assert finals[0] == finals[1]
    assert finals[0]["stop_reason"] == "max_tokens"
    assert finals[0]["content"][1]["input"] == {"expression": "2+2"}
