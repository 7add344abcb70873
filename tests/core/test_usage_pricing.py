from __future__ import annotations

from decimal import Decimal

from claude_web.usage import DEFAULT_PRICING, ModelPrice, UsageTracker, compute_cost, price_for


def test_longest_prefix_wins() -> None:
    assert price_for("claude-opus-4-5-20251101") == DEFAULT_PRICING["claude-opus-4-5"]
    assert price_for("claude-opus-4-20250514") == DEFAULT_PRICING["claude-opus-4-20250514"]
    assert price_for("claude-opus-4-7") is None  # a newer model is not priced at an older model's rates
    assert price_for("gpt-4") is None
    assert price_for(None) is None


def test_cost_prices_cache_reads_and_writes_separately() -> None:
    cost = compute_cost(
        "claude-haiku-4-5",  # no long-context tier: 4M prompt tokens are still standard rates
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    assert cost == Decimal("1") + Decimal("5") + Decimal("1.25") + Decimal("0.10")
    assert compute_cost("unknown-model", input_tokens=10) is None


def test_custom_pricing_table() -> None:
    table = {"my-model": ModelPrice.of(1, 2, 0, 0)}
    assert compute_cost("my-model-v2", input_tokens=500_000, output_tokens=500_000, pricing=table) == Decimal("1.5")


def test_tracker_emits_exactly_once_and_survives_a_failing_recorder() -> None:
    seen = []
    tracker = UsageTracker(
        seen.append, operation="messages.create", model="claude-haiku-4-5", backend="anthropic", context={"user": "u1"}
    )
    tracker.set_usage({"input_tokens": 10, "output_tokens": 20})
    first = tracker.finish("ok", request_id="req_1")
    assert tracker.finish("error") is None
    assert len(seen) == 1 and seen[0] is first
    assert first is not None and first.status == "ok" and first.context == {"user": "u1"}
    assert first.cost == compute_cost("claude-haiku-4-5", input_tokens=10, output_tokens=20)

    def broken(_record: object) -> None:
        raise RuntimeError("db down")

    assert UsageTracker(broken, operation="x", model=None, backend="anthropic", context=None).finish() is not None
