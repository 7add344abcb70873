"""Numbers as a person reads them, for admin pages, reports and demos: token counts, money, durations.

>>> format_tokens(125713), format_money(Decimal("0.00423")), format_money(Decimal("12.5")), format_duration(2309.99)
('125,713', '$0.0042', '$12.50', '2.31 s')
>>> format_duration(231.4), format_duration(65_000), format_money(None), compact_tokens(1_203_456)
('231 ms', '1 min 5 s', '—', '1.2M')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["compact_tokens", "format_duration", "format_money", "format_tokens"]

NONE = "—"


def format_tokens(value: Any) -> str:
    """A count with thousands separators (``NONE`` for no value)."""
    if value is None or value == "":
        return NONE
    return f"{int(value):,}"


def compact_tokens(value: Any) -> str:
    """A count for a narrow column: ``999``, ``45.7k``, ``1.2M`` (give the exact one as a tooltip)."""
    if value is None or value == "":
        return NONE
    number = int(value)
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(number) >= size:
            shown = f"{number / size:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return str(number)


def format_money(value: Any, *, currency: str = "$") -> str:
    """USD for a person: cents from one dollar up, four decimals below (``$0.0042``), ``< $0.0001`` for crumbs,
    ``$0`` for nothing, ``NONE`` for an unknown price (never a guess)."""
    if value is None or value == "":
        return NONE
    amount = Decimal(str(value))
    if amount == 0:
        return f"{currency}0"
    sign, amount = ("-", -amount) if amount < 0 else ("", amount)
    if amount >= 1:
        return f"{sign}{currency}{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    if amount < Decimal("0.0001"):
        return f"{sign}< {currency}0.0001"
    return f"{sign}{currency}{amount.quantize(Decimal('0.0001'), ROUND_HALF_UP)}"


def format_duration(milliseconds: Any) -> str:
    """A duration given in milliseconds: ``231 ms``, ``2.31 s``, ``1 min 5 s``."""
    if milliseconds is None or milliseconds == "":
        return NONE
    ms = float(milliseconds)
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
