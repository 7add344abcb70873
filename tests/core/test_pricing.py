"""Cost exactness: every expected value below is worked out by hand from the token counts and the list prices
(USD per million tokens) and written out; the code under test never computes its own expectation.

List prices used (``DEFAULT_PRICING``, public pricing page): Claude Sonnet 4 / 4.5 / 3.7: $3 in, $15 out, $3.75
5-minute write, $6 1-hour write, $0.30 read; above 200K prompt tokens (Sonnet 4 / 4.5) $6 in, $22.50 out, $7.50,
$12, $0.60. Haiku 4.5: $1, $5, $1.25, $2, $0.10. Opus 4.5: $5, $25, $6.25, $10, $0.50. Haiku 3: $0.25, $1.25,
$0.30, $0.50, $0.03. Web search $10 per 1,000 (1 cent each); web fetch free. Batch: half of every token part.
"""

from __future__ import annotations

import doctest
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import claude_web
import claude_web.pricing
import claude_web.usage
import claude_web.web.events
from claude_web.pricing import (
    DEFAULT_PRICING,
    CostBreakdown,
    LongContextPrice,
    ModelPrice,
    PriceTable,
    PricingError,
    UsageCounts,
    compute_cost_breakdown,
    price_for,
)
from claude_web.types import Usage
from claude_web.usage import UsageRecord, UsageTracker, compute_cost
from claude_web.web_stream import browser_events, done_payload

D = Decimal
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recorded-streams"


def parts(input: str, output: str, cache_write: str, cache_read: str, tools: str, total: str) -> CostBreakdown:
    return CostBreakdown(D(input), D(output), D(cache_write), D(cache_read), D(tools), D(total))


# ---------------------------------------------------------------------------------------------------------------
# the recorded API streams, priced through a real client (stream -> tracker -> record)

# final counts per stream (input, output, cache writes, cache reads, web searches) and the hand-worked cost:
RECORDED: dict[str, CostBreakdown | None] = {
    # claude-3-opus-latest: not in the table
    "basic_response": None,
    # claude-opus-4-7: not in the table (and not priced as Opus 4 by a short prefix)
    "compaction_response": None,
    # sonnet-4-5, 25 in, 8 out: 25 x $3 = $0.000075; 8 x $15 = $0.00012
    "context_management_response": parts("0.000075", "0.00012", "0", "0", "0", "0.000195"),
    "fallback_credit_response": parts("0.000075", "0.00012", "0", "0", "0", "0.000195"),
    "fallback_response": None,  # claude-opus-4-7
    # claude-3-7-sonnet, 450 in, 124 out: 450 x $3 = $0.00135; 124 x $15 = $0.00186
    "incomplete_partial_json_response": parts("0.00135", "0.00186", "0", "0", "0", "0.00321"),
    # sonnet-4-5, 40 in, 8 out, 12 writes (no 1-hour share: all at $3.75 = $0.000045), 7 reads (x $0.30 =
    # $0.0000021), 1 web search ($0.01)
    "message_delta_fields_response": parts("0.00012", "0.00012", "0.000045", "0.0000021", "0.01", "0.0102871"),
    # sonnet-4-5, 25 in, 8 out, 10 five-minute writes ($0.0000375), 5 reads ($0.0000015)
    "message_delta_omitted_usage_response": parts("0.000075", "0.00012", "0.0000375", "0.0000015", "0", "0.000234"),
    "refusal_response": None,  # claude-opus-4-7
    # claude-sonnet-4-5-20250929, 9281 in ($0.027843), 97 out ($0.001455), 1 web search ($0.01)
    "server_tool_use_response": parts("0.027843", "0.001455", "0", "0", "0.01", "0.039298"),
    # claude-sonnet-4-20250514; the stream breaks on bad tool JSON before its message_delta: 377 in, and an
    # estimated 22 out (48 text + 38 tool-input characters received, / 4 rounded up) at $15/MTok = $0.00033
    "tool_use_invalid_json_response": parts("0.001131", "0.00033", "0", "0", "0", "0.001461"),
    # claude-sonnet-4-20250514, 377 in ($0.001131), 65 out ($0.000975)
    "tool_use_response": parts("0.001131", "0.000975", "0", "0", "0", "0.002106"),
}


def _client(path: Path, records: list[UsageRecord], **options: Any) -> claude_web.Anthropic:
    body = path.read_bytes().rstrip(b"\n") + b"\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return claude_web.Anthropic(
        api_key="k",
        base_url="http://fake",
        max_retries=0,
        usage_recorder=records.append,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **options,
    )


PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def test_every_recorded_stream_has_an_expected_cost() -> None:
    assert sorted(RECORDED) == sorted(p.stem for p in FIXTURES.glob("*.txt"))


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recorded_stream_cost_is_exact(name: str) -> None:
    records: list[UsageRecord] = []
    client = _client(FIXTURES / f"{name}.txt", records)
    try:
        with client.messages.stream(**PARAMS) as stream:
            stream.get_final_message()
    except ValueError:
        assert name == "tool_use_invalid_json_response"
    (record,) = records
    expected = RECORDED[name]
    assert record.cost_breakdown == expected
    if expected is None:
        assert record.cost is None and record.cost_input is None and record.cost_tools is None
    else:
        assert record.cost == expected.total
        assert (
            record.cost_input
            + record.cost_output
            + record.cost_cache_write
            + record.cost_cache_read
            + (record.cost_tools)
            == record.cost
        )


@pytest.mark.parametrize("name", sorted(n for n in RECORDED if n != "tool_use_invalid_json_response"))
def test_done_event_of_a_recorded_stream_carries_the_cost(name: str) -> None:
    with _client(FIXTURES / f"{name}.txt", []).messages.stream(**PARAMS) as stream:
        events = list(browser_events(stream))
    kind, payload = events[-1]
    assert kind == "done"
    expected = RECORDED[name]
    if expected is None:
        assert payload["cost"] is None
    else:
        assert D(payload["cost"]) == expected.total and len(payload["cost"].split(".")[1]) == 8
    json.dumps(payload)


def test_done_payload_uses_the_table_it_is_given() -> None:
    table = PriceTable({"claude-sonnet-4-5": ModelPrice.of("1000000", 0, 0, 0)})  # $1 per input token
    with _client(FIXTURES / "server_tool_use_response.txt", []).messages.stream(**PARAMS) as stream:
        message = stream.get_final_message()
    # 9281 input tokens at $1, plus one web search at the table's default $10 per 1,000
    assert done_payload(message, table)["cost"] == "9281.01000000"
    assert done_payload(message)["cost"] == "0.03929800"


def test_a_client_with_a_price_table_prices_its_records_with_it() -> None:
    records: list[UsageRecord] = []
    table = PriceTable.from_settings(
        {"MODELS": {"claude-sonnet-4": {"input": "10", "output": "0", "cache_write": "0", "cache_read": "0"}}},
        include_defaults=False,
    )
    client = _client(FIXTURES / "tool_use_response.txt", records, pricing=table)
    assert client.pricing is table and client.with_options(timeout=5).pricing is table
    with client.messages.stream(**PARAMS) as stream:
        stream.get_final_message()
    # 377 input tokens at $10
    assert records[0].cost == D("0.00377")
    assert claude_web.Anthropic(api_key="k").pricing is DEFAULT_PRICING


# ---------------------------------------------------------------------------------------------------------------
# synthetic usages, one per tier


def cost(model: str, usage: Any, **kwargs: Any) -> CostBreakdown | None:
    return compute_cost_breakdown(model, usage, **kwargs)


def test_five_minute_writes() -> None:
    # no cache_creation split: all 50,000 writes are 5-minute writes at $1.25 = $0.0625
    usage = {"input_tokens": 2000, "output_tokens": 300, "cache_creation_input_tokens": 50_000}
    assert cost("claude-haiku-4-5", usage) == parts("0.002", "0.0015", "0.0625", "0", "0", "0.066")


def test_one_hour_writes_cost_twice_the_input_rate() -> None:
    # 50,000 one-hour writes at $2 = $0.10, not the $0.0625 of the 5-minute rate (62.5% of it: 37.5% under)
    usage = {
        "input_tokens": 2000,
        "output_tokens": 300,
        "cache_creation_input_tokens": 50_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 50_000},
    }
    assert cost("claude-haiku-4-5", usage) == parts("0.002", "0.0015", "0.1", "0", "0", "0.1035")
    assert cost("claude-haiku-4-5", Usage.model_validate(usage)) == parts("0.002", "0.0015", "0.1", "0", "0", "0.1035")


def test_mixed_write_lifetimes_and_reads() -> None:
    # 1234 in ($0.003702), 567 out ($0.008505), 10,000 x $3.75 + 20,000 x $6 = $0.1575, 40,000 reads x $0.30
    usage = Usage.model_validate(
        {
            "input_tokens": 1234,
            "output_tokens": 567,
            "cache_creation_input_tokens": 30_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 10_000, "ephemeral_1h_input_tokens": 20_000},
            "cache_read_input_tokens": 40_000,
        }
    )
    assert cost("claude-sonnet-4-5", usage) == parts("0.003702", "0.008505", "0.1575", "0.012", "0", "0.181707")


def test_reads_and_rounding_half_to_even() -> None:
    # Opus 4.5: 3 in x $5, 1 out x $25, 7 reads x $0.50 = $0.0000035
    usage = {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 7}
    assert cost("claude-opus-4-5-20251101", usage) == parts("0.000015", "0.000025", "0", "0.0000035", "0", "0.0000435")
    # Haiku 3 batch reads cost $0.015 per MTok: 3 reads = $0.000000045 -> 0.00000004 (half to even), 5 reads =
    # $0.000000075 -> 0.00000008
    assert cost("claude-3-haiku-20240307", {"cache_read_input_tokens": 3}, batch=True) == parts(
        "0", "0", "0", "0.00000004", "0", "0.00000004"
    )
    assert cost("claude-3-haiku-20240307", {"cache_read_input_tokens": 5}, batch=True) == parts(
        "0", "0", "0", "0.00000008", "0", "0.00000008"
    )


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        # prompt 199,999 tokens: standard. 150,000 x $3 = $0.45; 1000 out x $15; 49,999 reads x $0.30
        (49_999, parts("0.45", "0.015", "0", "0.0149997", "0", "0.4799997")),
        # exactly 200,000: still standard (the premium starts past the threshold)
        (50_000, parts("0.45", "0.015", "0", "0.015", "0", "0.48")),
        # 200,001: every token at the long-context rates: $6 in, $22.50 out, $0.60 reads
        (50_001, parts("0.9", "0.0225", "0", "0.0300006", "0", "0.9525006")),
    ],
)
def test_long_context_below_at_and_above_the_threshold(reads: int, expected: CostBreakdown) -> None:
    usage = {"input_tokens": 150_000, "output_tokens": 1000, "cache_read_input_tokens": reads}
    assert cost("claude-sonnet-4-5", usage) == expected


def test_long_context_counts_cache_writes_and_scales_them() -> None:
    # Sonnet 4: 100 in + 250,000 writes = 250,100 prompt tokens: long context. 100 x $6; 2000 out x $22.50;
    # 50,000 x $7.50 + 200,000 x $12 = $2.775
    usage = {
        "input_tokens": 100,
        "output_tokens": 2000,
        "cache_creation_input_tokens": 250_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 50_000, "ephemeral_1h_input_tokens": 200_000},
    }
    assert cost("claude-sonnet-4-20250514", usage) == parts("0.0006", "0.045", "2.775", "0", "0", "2.8206")


def test_a_model_without_a_long_context_tier_keeps_its_rates() -> None:
    # Haiku 4.5, 500,000 in x $1, 100 out x $5
    usage = {"input_tokens": 500_000, "output_tokens": 100}
    assert cost("claude-haiku-4-5", usage) == parts("0.5", "0.0005", "0", "0", "0", "0.5005")


def test_batch_halves_token_parts_but_not_server_tools() -> None:
    # Sonnet 4.5 batch: 10,000 in x $1.50; 2000 out x $7.50; 4000 one-hour writes x $3; 1000 reads x $0.15;
    # 3 web searches at the full $0.01
    usage = {
        "input_tokens": 10_000,
        "output_tokens": 2000,
        "cache_creation_input_tokens": 4000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 4000},
        "cache_read_input_tokens": 1000,
        "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 0},
    }
    assert cost("claude-sonnet-4-5", usage, batch=True) == parts(
        "0.015", "0.015", "0.012", "0.00015", "0.03", "0.07215"
    )
    # batch and long context stack: 300,000 in x $3 (half of $6), 10,000 out x $11.25
    long = {"input_tokens": 300_000, "output_tokens": 10_000}
    assert cost("claude-sonnet-4-5", long, batch=True) == parts("0.9", "0.1125", "0", "0", "0", "1.0125")


def test_web_search_is_charged_per_use_and_web_fetch_only_in_tokens() -> None:
    # Haiku 4.5: 1000 in, 100 out, 7 searches x $0.01; 4 fetches cost nothing beyond their tokens
    usage = {
        "input_tokens": 1000,
        "output_tokens": 100,
        "server_tool_use": {"web_search_requests": 7, "web_fetch_requests": 4},
    }
    assert cost("claude-haiku-4-5", usage) == parts("0.001", "0.0005", "0", "0", "0.07", "0.0715")


def test_unknown_models_have_no_cost() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 100}
    for model in ("claude-opus-4-7", "claude-3-opus-20240229", "gpt-4", "", None):
        assert price_for(model) is None
        assert compute_cost_breakdown(model, usage) is None
    record = UsageRecord(operation="messages.create", model="my-model", input_tokens=5)
    assert record.apply_pricing() is None
    assert (record.cost, record.cost_input, record.cost_output, record.cost_cache_write) == (None, None, None, None)
    assert (record.cost_cache_read, record.cost_tools, record.cost_breakdown) == (None, None, None)


def test_compute_cost_keeps_its_signature_and_learns_the_new_counts() -> None:
    # Sonnet 4.5: 1000 in ($0.003), 100 one-hour of 300 writes (200 x $3.75 + 100 x $6 = $0.00135), 2 searches
    total = compute_cost(
        "claude-sonnet-4-5",
        input_tokens=1000,
        cache_creation_input_tokens=300,
        cache_creation_1h_input_tokens=100,
        web_search_requests=2,
    )
    assert total == D("0.02435")
    assert compute_cost("claude-sonnet-4-5", input_tokens=1000, batch=True) == D("0.0015")


# ---------------------------------------------------------------------------------------------------------------
# settings: overrides, every key, errors that name the key

OVERRIDE = {
    "MODELS": {
        "my-model": {
            "input": "2",
            "output": "8",
            "cache_write": "2.5",
            "cache_read": "0.2",
            "cache_write_1h": "4.4",
            "long_context": {"threshold": 1000, "input": "4", "output": "12"},
            "web_search_per_1k": "25",
            "web_fetch_per_1k": "1",
            "batch_discount": "0.4",
            "as_of": "2026-11-01",
            "source": "our contract",
        }
    }
}
OVERRIDE_USAGE = {
    "input_tokens": 600,
    "output_tokens": 50,
    "cache_creation_input_tokens": 300,
    "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 3},
}


def test_settings_override_with_every_key() -> None:
    table = PriceTable.from_settings(OVERRIDE)
    price = table.lookup("my-model-2")
    assert price is not None and price.as_of == date(2026, 11, 1) and price.source == "our contract"
    assert table.lookup("claude-haiku-4-5") == DEFAULT_PRICING["claude-haiku-4-5"]  # merged over the defaults
    # 999 prompt tokens (600 + 300 + 99): standard. 600 x $2; 50 x $8; 200 x $2.50 + 100 x $4.40 = $0.00094;
    # 99 reads x $0.20; 2 searches x $0.025 + 3 fetches x $0.001 = $0.053
    usage = {**OVERRIDE_USAGE, "cache_read_input_tokens": 99}
    assert table.cost("my-model", usage) == parts("0.0012", "0.0004", "0.00094", "0.0000198", "0.053", "0.0555598")
    # batch (40% off token parts): $0.00072, $0.00024, $0.000564, $0.00001188; tools unchanged
    assert table.cost("my-model", usage, batch=True) == parts(
        "0.00072", "0.00024", "0.000564", "0.00001188", "0.053", "0.05453588"
    )
    # 1001 prompt tokens: long context. 600 x $4; 50 x $12; 200 x $5 (1.25 x 4) + 100 x $8 (2 x 4); 101 x $0.40
    usage = {**OVERRIDE_USAGE, "cache_read_input_tokens": 101}
    assert table.cost("my-model", usage) == parts("0.0024", "0.0006", "0.0018", "0.0000404", "0.053", "0.0578404")


def test_an_override_replaces_the_whole_entry_and_defaults_can_be_left_out() -> None:
    plain = {"input": "3", "output": "15", "cache_write": "3.75", "cache_read": "0.3"}
    table = PriceTable.from_settings({"MODELS": {"claude-sonnet-4-5": plain}, "INCLUDE_DEFAULTS": False})
    assert list(table) == ["claude-sonnet-4-5"]
    price = table["claude-sonnet-4-5"]
    assert price.long_context is None and price.cache_write_1h == D("6") and price.as_of is None
    # 300,000 in at the plain $3 now that the entry has no long-context tier
    assert table.cost("claude-sonnet-4-5", {"input_tokens": 300_000}) == parts("0.9", "0", "0", "0", "0", "0.9")
    assert PriceTable.from_models({"x": plain}, include_defaults=False).lookup("x-1") == price


@pytest.mark.parametrize(
    ("settings", "key", "problem"),
    [
        ({"MODEL": {}}, "PRICING", "unknown key(s) 'MODEL'"),
        ({"MODELS": []}, "PRICING['MODELS']", "must be a dict"),
        ({"MODELS": {"m": {"input": 1}}}, "PRICING['MODELS']['m']", "lacks 'output', 'cache_write', 'cache_read'"),
        ({"MODELS": {"m": {"input": "x", "output": 1, "cache_write": 1, "cache_read": 1}}}, "['input']", "a number"),
        ({"MODELS": {"m": {"input": -1, "output": 1, "cache_write": 1, "cache_read": 1}}}, "['input']", "non-neg"),
        (
            {"MODELS": {"m": {"input": 1, "output": 1, "cache_write": 1, "cache_read": 1, "cache_write_2h": 1}}},
            "PRICING['MODELS']['m']",
            "unknown key(s) 'cache_write_2h'",
        ),
        (
            {
                "MODELS": {
                    "m": {
                        "input": 1,
                        "output": 1,
                        "cache_write": 1,
                        "cache_read": 1,
                        "long_context": {"threshold": 200000, "input": "6"},
                    }
                }
            },
            "PRICING['MODELS']['m']['long_context']",
            "lacks 'output'",
        ),
        (
            {
                "MODELS": {
                    "m": {
                        "input": 1,
                        "output": 1,
                        "cache_write": 1,
                        "cache_read": 1,
                        "long_context": {"threshold": "lots", "input": "6", "output": "9"},
                    }
                }
            },
            "['long_context']['threshold']",
            "number of tokens",
        ),
        (
            {"MODELS": {"m": {"input": 1, "output": 1, "cache_write": 1, "cache_read": 1, "as_of": "last week"}}},
            "PRICING['MODELS']['m']['as_of']",
            "ISO date",
        ),
        (
            {"MODELS": {"m": {"input": 1, "output": 1, "cache_write": 1, "cache_read": 1, "batch_discount": 2}}},
            "['batch_discount']",
            "between 0 and 1",
        ),
        ({"INCLUDE_DEFAULTS": "yes"}, "PRICING['INCLUDE_DEFAULTS']", "True or False"),
    ],
)
def test_bad_price_settings_name_the_key(settings: Any, key: str, problem: str) -> None:
    with pytest.raises(PricingError) as info:
        PriceTable.from_settings(settings)
    assert key in info.value.key and problem in str(info.value)
    assert info.value.example


# ---------------------------------------------------------------------------------------------------------------
# the default table itself: every entry dated and sourced, the list prices as published


@pytest.mark.parametrize(
    ("model", "rates", "long_context"),
    [
        ("claude-opus-4-5-20251101", ("5", "25", "6.25", "10", "0.50"), False),
        ("claude-opus-4-1-20250805", ("15", "75", "18.75", "30", "1.50"), False),
        ("claude-opus-4-20250514", ("15", "75", "18.75", "30", "1.50"), False),
        ("claude-opus-4-0", ("15", "75", "18.75", "30", "1.50"), False),
        ("claude-opus-4@20250514", ("15", "75", "18.75", "30", "1.50"), False),
        ("claude-sonnet-4-5-20250929", ("3", "15", "3.75", "6", "0.30"), True),
        ("claude-sonnet-4-5@20250929", ("3", "15", "3.75", "6", "0.30"), True),
        ("claude-sonnet-4-20250514", ("3", "15", "3.75", "6", "0.30"), True),
        ("claude-sonnet-4-0", ("3", "15", "3.75", "6", "0.30"), True),
        ("claude-3-7-sonnet-20250219", ("3", "15", "3.75", "6", "0.30"), False),
        ("claude-haiku-4-5-20251001", ("1", "5", "1.25", "2", "0.10"), False),
        ("claude-3-5-haiku-20241022", ("0.80", "4", "1", "1.6", "0.08"), False),
        ("claude-3-haiku-20240307", ("0.25", "1.25", "0.30", "0.50", "0.03"), False),
    ],
)
def test_default_list_prices(model: str, rates: tuple[str, ...], long_context: bool) -> None:
    price = price_for(model)
    assert price is not None
    assert (price.input, price.output, price.cache_write, price.cache_write_1h, price.cache_read) == tuple(
        D(r) for r in rates
    )
    assert price.batch_discount == D("0.5") and price.web_search_per_1k == D("10") and price.web_fetch_per_1k == 0
    assert price.as_of == date(2026, 11, 30) and price.source.startswith("https://")
    if long_context:
        assert price.long_context == LongContextPrice(200_000, D("6"), D("22.50"))
        assert price.long_context.rates.cache_write == D("7.5") and price.long_context.rates.cache_read == D("0.6")
    else:
        assert price.long_context is None


def test_the_default_table_is_read_only_and_a_mapping() -> None:
    assert all(p.as_of and p.source for p in DEFAULT_PRICING.values())
    with pytest.raises(TypeError):
        DEFAULT_PRICING["x"] = DEFAULT_PRICING["claude-haiku-4-5"]  # type: ignore[index]
    # a plain dict still works as a table, with the same longest-prefix rule
    table = {"a": ModelPrice.of(1, 1, 1, 1), "ab": ModelPrice.of(2, 2, 2, 2)}
    assert price_for("abc", table) == table["ab"] and price_for("b", table) is None


def test_model_price_keeps_its_four_number_constructor() -> None:
    price = ModelPrice(D("3"), D("15"), D("3.75"), D("0.30"))
    assert price == ModelPrice.of(3, 15, 3.75, "0.30")
    assert price.cache_write_1h == D("6") and price.long_context is None
    assert ModelPrice.of(1, 2, 3, 4, cache_write_1h=9, as_of="2026-01-02").as_of == date(2026, 1, 2)


# ---------------------------------------------------------------------------------------------------------------
# the record: counts read from usage models and dicts, parts set, JSON-friendly


def test_tracker_reads_the_new_counts_and_fills_the_parts() -> None:
    seen: list[UsageRecord] = []
    tracker = UsageTracker(seen.append, operation="messages.stream", model=None, backend="anthropic", context={})
    start = Usage.model_validate(
        {
            "input_tokens": 1000,
            "output_tokens": 1,
            "cache_creation_input_tokens": 300,
            "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
            "cache_read_input_tokens": 0,
        }
    )
    tracker.set_usage(start, model="claude-sonnet-4-5")
    tracker.set_usage({"output_tokens": 100, "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1}})
    record = tracker.finish()
    assert record is not None
    counts = (record.input_tokens, record.output_tokens, record.cache_creation_input_tokens)
    assert counts == (1000, 100, 300)
    assert (record.cache_creation_1h_input_tokens, record.web_search_requests, record.web_fetch_requests) == (100, 2, 1)
    # 1000 x $3; 100 x $15; 200 x $3.75 + 100 x $6; 2 searches
    assert record.cost_breakdown == parts("0.003", "0.0015", "0.00135", "0", "0.02", "0.02585")
    data = record.to_dict()
    assert data["cost"] == "0.02585000" and data["cost_cache_read"] == "0.00000000" and data["estimated"] is False
    assert json.loads(json.dumps(data))["cost_tools"] == "0.02000000"
    assert UsageCounts.of(record) == UsageCounts(1000, 100, 300, 100, 0, 2, 1)


def test_module_examples_run() -> None:
    for module in (claude_web.pricing, claude_web.usage, claude_web.web.events):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
