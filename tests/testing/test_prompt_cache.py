"""FakeClaude's prompt caching model: breakpoints on tools, system and message blocks; prefix reads and writes with
TTLs on a movable clock; the per-model minimum; the lookback per breakpoint; usage that adds up to count_tokens."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from fake_helpers import HEADERS, MODEL, sse_events

import claude_web
from claude_web.testing import FakeClaude, RemoteFakeClaude, text
from claude_web.testing._cache import documented_min_tokens

EPHEMERAL = {"type": "ephemeral"}
SYSTEM = "You are a patient tutor. " * 176  # 4400 characters: 1100 tokens, above Sonnet's 1024
ASKED = "Explain Rayleigh scattering. " * 14  # 406 characters: 101 tokens with the system prompt's prefix


def _system(value: str = SYSTEM, ttl: str | None = None) -> list[dict[str, Any]]:
    control = {**EPHEMERAL, "ttl": ttl} if ttl else EPHEMERAL
    return [{"type": "text", "text": value, "cache_control": control}]


def _user(value: str, cached: bool) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": value}
    if cached:
        block["cache_control"] = EPHEMERAL
    return {"role": "user", "content": [block]}


def _request(system: Any, messages: list[dict[str, Any]], model: str = MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 50, "system": system, "messages": messages, **extra}


def _usage(http: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    """The usage of the answer, after checking that it adds up to what count_tokens says for the same prompt."""
    response = http.post("/v1/messages", json=payload)
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()["usage"]
    counted = http.post("/v1/messages/count_tokens", json={k: v for k, v in payload.items() if k != "max_tokens"})
    total = usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
    assert counted.json()["input_tokens"] == total
    split = usage["cache_creation"]
    assert (
        split["ephemeral_5m_input_tokens"] + split["ephemeral_1h_input_tokens"] == usage["cache_creation_input_tokens"]
    )
    return usage


def _reads_writes(usage: dict[str, Any]) -> tuple[int, int, int]:
    return usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"], usage["input_tokens"]


def test_three_turns_write_then_read_the_earlier_prefix(fake_claude: FakeClaude, http: httpx.Client) -> None:
    first = [_user(ASKED, cached=True)]
    turn1 = _usage(http, _request(_system(), first))
    assert _reads_writes(turn1) == (0, 1100 + 101, 3)  # both breakpoints written; 3 tokens of overhead left
    assert turn1["cache_creation"] == {"ephemeral_5m_input_tokens": 1201, "ephemeral_1h_input_tokens": 0}

    answer = "Short waves scatter more than long ones, so the sky looks blue. " * 2  # 128 characters: 32 tokens
    second = [_user(ASKED, cached=False), {"role": "assistant", "content": answer}, _user("Why red sunsets?", True)]
    turn2 = _usage(http, _request(_system(), second))
    # the lookback from the new breakpoint finds turn 1's prefix (system + first question): read it, write the rest
    assert _reads_writes(turn2) == (1201, 32 + 4, 3)

    third = [*second[:2], _user("Why red sunsets?", False), {"role": "assistant", "content": "Longer path."}]
    third.append(_user("And the moon?", True))
    turn3 = _usage(http, _request(_system(), third))
    assert turn3["cache_read_input_tokens"] == 1201 + 36

    fake_claude.advance_time(301)  # past the 5-minute TTL of every entry
    after = _usage(http, _request(_system(), third))
    assert after["cache_read_input_tokens"] == 0
    assert after["cache_creation_input_tokens"] == after["cache_creation"]["ephemeral_5m_input_tokens"] > 1201


def test_a_hit_refreshes_the_ttl(fake_claude: FakeClaude, http: httpx.Client) -> None:
    payload = _request(_system(), [_user("Hello?", False)])
    assert _reads_writes(_usage(http, payload))[1] == 1100
    for _ in range(3):  # 12 minutes in all, never 5 minutes without a hit
        fake_claude.advance_time(240)
        assert _reads_writes(_usage(http, payload))[0] == 1100
    fake_claude.advance_time(300)
    assert _reads_writes(_usage(http, payload))[:2] == (0, 1100)


def test_one_hour_ttl_is_split_out_and_outlives_five_minutes(fake_claude: FakeClaude, http: httpx.Client) -> None:
    payload = _request(_system(ttl="1h"), [_user(ASKED, cached=True)])
    usage = _usage(http, payload)
    assert usage["cache_creation"] == {"ephemeral_5m_input_tokens": 101, "ephemeral_1h_input_tokens": 1100}
    fake_claude.advance_time(1800)
    later = _usage(http, payload)
    assert _reads_writes(later)[:2] == (1100, 101)  # the 1-hour system prefix is still there, the 5-minute part is not
    assert later["cache_creation"]["ephemeral_5m_input_tokens"] == 101


def test_below_the_minimum_nothing_is_cached(http: httpx.Client) -> None:
    short = _request(_system("Be brief. " * 40), [_user(ASKED, cached=True)])  # 400 + 406 characters: 201 tokens
    for _ in range(2):
        usage = _usage(http, short)
        assert _reads_writes(usage) == (0, 0, 204)
    haiku = _request(_system(), [_user("Hi", False)], model="claude-haiku-4-5")  # 1100 tokens < Haiku 4.5's 4096
    assert _reads_writes(_usage(http, haiku))[:2] == (0, 0)


def test_documented_minimums() -> None:
    assert documented_min_tokens("claude-sonnet-4-5-20250929") == 1024
    assert documented_min_tokens("claude-opus-4-1") == 1024
    assert documented_min_tokens("claude-opus-4-5") == 4096
    assert documented_min_tokens("anthropic.claude-haiku-4-5-20251001-v1:0") == 4096
    assert documented_min_tokens("claude-3-5-haiku-20241022") == 2048
    assert documented_min_tokens("claude-3-haiku-20240307") == 2048


def test_cache_min_tokens_is_configurable_and_reset_by_clear(fake_claude: FakeClaude, http: httpx.Client) -> None:
    payload = _request(_system("Be brief. " * 40), [_user("Hi", False)])  # 100 tokens
    fake_claude.cache_min_tokens = 100
    assert _reads_writes(_usage(http, payload))[1] == 100
    assert _reads_writes(_usage(http, payload))[0] == 100
    fake_claude.clear()
    assert fake_claude.cache_min_tokens is None
    assert _reads_writes(_usage(http, payload))[:2] == (0, 0)
    with FakeClaude(cache_min_tokens=50) as own, httpx.Client(base_url=own.base_url, headers=HEADERS) as client:
        assert _reads_writes(_usage(client, payload))[1] == 100
        own.clear()
        assert own.cache_min_tokens == 50


def test_changing_the_system_prompt_or_the_model_misses(http: httpx.Client) -> None:
    _usage(http, _request(_system(), [_user("Hi", False)]))
    changed = _usage(http, _request(_system(SYSTEM.replace("patient", "curious")), [_user("Hi", False)]))
    assert _reads_writes(changed)[:2] == (0, 1100)
    other_model = _usage(http, _request(_system(), [_user("Hi", False)], model="claude-opus-4-1"))
    assert _reads_writes(other_model)[:2] == (0, 1100)
    same = _usage(http, _request(_system(), [_user("Hi", False)]))
    assert _reads_writes(same)[:2] == (1100, 0)


def test_tools_come_first_and_the_last_marked_tool_caches_them(http: httpx.Client) -> None:
    tools = [
        {"name": f"tool_{i}", "description": "Looks things up. " * 60, "input_schema": {"type": "object"}}
        for i in range(5)
    ]
    tools[-1]["cache_control"] = EPHEMERAL
    payload = _request("Be brief.", [_user("Hi", False)], tools=tools)
    first = _usage(http, payload)
    assert first["cache_creation_input_tokens"] > 1024 and first["cache_read_input_tokens"] == 0
    again = _usage(http, {**payload, "system": "Be very brief."})  # the system prompt comes after the tools
    assert again["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def test_the_lookback_reaches_twenty_blocks_back(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.cache_min_tokens = 100
    opening = _user("Long context. " * 40, cached=True)  # 560 characters: 140 tokens
    _usage(http, _request("Be brief.", [opening]))
    plain_opening = _user("Long context. " * 40, cached=False)

    def later(blocks: int) -> dict[str, Any]:
        extra = [{"type": "text", "text": f"note {i}"} for i in range(blocks - 1)]
        extra.append({"type": "text", "text": "last", "cache_control": EPHEMERAL})
        turns = [plain_opening, {"role": "assistant", "content": "OK."}, {"role": "user", "content": extra}]
        return _request("Be brief.", turns)

    # the assistant turn is one block, so the breakpoint sits 1 + N blocks after the cached prefix
    assert _usage(http, later(19))["cache_read_input_tokens"] == 142  # 20 blocks back: found
    fake_claude.clear()
    fake_claude.cache_min_tokens = 100
    _usage(http, _request("Be brief.", [opening]))
    assert _usage(http, later(20))["cache_read_input_tokens"] == 0  # 21 blocks back: not looked at


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ({"type": "persistent"}, "cache_control.type"),
        ({"type": "ephemeral", "ttl": "2h"}, "cache_control.ttl"),
    ],
)
def test_invalid_cache_control_is_400(http: httpx.Client, control: dict[str, Any], expected: str) -> None:
    payload = _request([{"type": "text", "text": "Hi", "cache_control": control}], [_user("Hi", False)])
    response = http.post("/v1/messages", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert f"system.0.{expected}" in response.json()["error"]["message"]


def test_at_most_four_breakpoints_and_longer_ttl_first(http: httpx.Client) -> None:
    blocks = [{"type": "text", "text": f"part {i}", "cache_control": EPHEMERAL} for i in range(5)]
    too_many = http.post("/v1/messages", json=_request(blocks, [_user("Hi", False)]))
    assert too_many.status_code == 400 and "Found 5" in too_many.json()["error"]["message"]
    mixed = _system(ttl="5m") + _system("More.", ttl="1h")
    wrong_order = http.post("/v1/messages", json=_request(mixed, [_user("Hi", False)]))
    assert wrong_order.status_code == 400 and "ttl='1h'" in wrong_order.json()["error"]["message"]


def test_stream_reports_the_cache_in_message_start(http: httpx.Client) -> None:
    payload = _request(_system(), [_user("Hi", False)], stream=True)
    http.post("/v1/messages", json=payload)
    events = sse_events(http.post("/v1/messages", json=payload).text)
    start_usage = events[0][1]["message"]["usage"]
    assert (start_usage["cache_read_input_tokens"], start_usage["cache_creation_input_tokens"]) == (1100, 0)


def test_a_scripted_usage_wins(fake_claude: FakeClaude, http: httpx.Client) -> None:
    fake_claude.queue(text("Hi", usage={"cache_read_input_tokens": 7}))
    usage = http.post("/v1/messages", json=_request(_system(), [_user("Hi", False)])).json()["usage"]
    assert usage["cache_read_input_tokens"] == 7 and usage["cache_creation_input_tokens"] == 1100


def test_sdks_parse_the_cache_usage_alike(fake_claude: FakeClaude) -> None:
    """Differential: anthropic 0.125.0 and claude_web read the same cache usage from the same answers."""
    usages = []
    for lib in (claude_web, anthropic):
        fake_claude.clear()
        client: Any = lib.Anthropic(api_key="sk-test", base_url=fake_claude.base_url, max_retries=0)
        for _ in range(2):
            reply = client.messages.create(**_request(_system(ttl="1h"), [_user(ASKED, cached=True)]))
            usages.append(reply.usage.to_dict())
        client.close()
    assert usages[:2] == usages[2:]
    assert usages[1]["cache_read_input_tokens"] == 1201
    assert usages[0]["cache_creation"] == {"ephemeral_5m_input_tokens": 101, "ephemeral_1h_input_tokens": 1100}


def test_remote_control_moves_the_clock_and_sets_the_minimum() -> None:
    with FakeClaude() as fake, RemoteFakeClaude(fake.base_url) as remote:
        with httpx.Client(base_url=fake.base_url, headers=HEADERS) as client:
            remote.set_cache_min_tokens(100)
            payload = _request(_system("Be brief. " * 40), [_user("Hi", False)])
            assert _reads_writes(_usage(client, payload))[1] == 100
            remote.advance_time(299)
            assert _reads_writes(_usage(client, payload))[0] == 100
            remote.advance_time(301)
            assert _reads_writes(_usage(client, payload))[:2] == (0, 100)
