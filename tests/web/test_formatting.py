"""Numbers as people read them: the admin's and reports' formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claude_web.web.formatting import compact_tokens, format_duration, format_money, format_tokens


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (999, "999"), (125713, "125,713"), (10**9, "1,000,000,000"), (None, "—")],
)
def test_tokens(value: int | None, shown: str) -> None:
    assert format_tokens(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0"), "$0"),
        (Decimal("0.00000800"), "< $0.0001"),
        (Decimal("0.00423"), "$0.0042"),
        (Decimal("0.37745"), "$0.3775"),
        (Decimal("1.005"), "$1.01"),
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("-0.5"), "-$0.5000"),
        (None, "—"),
    ],
)
def test_money(value: Decimal | None, shown: str) -> None:
    assert format_money(value) == shown


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.4, "0 ms"), (231.4, "231 ms"), (2309.995999894454, "2.31 s"), (12_345, "12.3 s"), (65_000, "1 min 5 s"),
     (120_000, "2 min"), (None, "—")],
)  # fmt: skip
def test_durations(ms: float | None, shown: str) -> None:
    assert format_duration(ms) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(999, "999"), (1000, "1k"), (45_678, "45.7k"), (1_203_456, "1.2M"), (2 * 10**9, "2G")]
)
def test_compact_tokens(value: int, shown: str) -> None:
    assert compact_tokens(value) == shown
