"""A server-rendered SVG bar chart of a user's daily token usage, stacked by call status (no JavaScript, no CDN).

>>> from datetime import date
>>> svg = usage_chart_svg([DayUsage(date(2025, 1, 2), {"ok": 120, "aborted": 30})], days=1)
>>> svg.count('class="bar ')
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

__all__ = ["STATUS_COLOURS", "DayUsage", "daily_series", "usage_chart_svg"]

STATUS_COLOURS = {"ok": "#4e79a7", "aborted": "#f28e2b", "error": "#e15759"}

_WIDTH, _HEIGHT = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 16, 40


@dataclass
class DayUsage:
    """Tokens used on one day, per status (``ok``, ``aborted``, ``error``)."""

    day: date
    tokens: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.tokens.values())


def daily_series(rows: Sequence[tuple[date, str, int]], *, today: date, days: int = 14) -> list[DayUsage]:
    """``days`` consecutive days ending ``today`` from ``(day, status, tokens)`` rows (missing days are zero)."""
    series = {today - timedelta(days=offset): DayUsage(today - timedelta(days=offset)) for offset in range(days)}
    for day, status, tokens in rows:
        entry = series.get(day)
        if entry is not None:
            entry.tokens[status] = entry.tokens.get(status, 0) + int(tokens or 0)
    return [series[d] for d in sorted(series)]


def _nice_max(value: int) -> int:
    """The smallest 1/2/5 x 10^n at or above ``value`` (at least 10), for the y axis."""
    step = 10
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def usage_chart_svg(series: Sequence[DayUsage], *, days: int | None = None) -> str:
    """The chart as an ``<svg>`` string; every bar segment is a ``<rect class="bar STATUS">`` with a tooltip."""
    count = days or len(series) or 1
    top = _nice_max(max((d.total for d in series), default=0))
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / count
    bar_w = max(4.0, slot * 0.6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="{_WIDTH}" height="{_HEIGHT}" role="img" aria-labelledby="usage-chart-title">',
        '<title id="usage-chart-title">Tokens per day, by status</title>',
    ]
    for tick in range(5):
        value = top * tick // 4
        y = _TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value:,}</text>'
        )
    for index, day in enumerate(series):
        x = _LEFT + slot * index + (slot - bar_w) / 2
        base = _TOP + plot_h
        for status in ("ok", "aborted", "error"):
            tokens = day.tokens.get(status, 0)
            if tokens <= 0:
                continue
            height = max(1.0, plot_h * tokens / top)
            base -= height
            label = escape(f"{day.day:%b %d}: {tokens:,} tokens ({status})")
            parts.append(
                f'<rect class="bar {status}" data-day="{day.day.isoformat()}" data-tokens="{tokens}" '
                f'x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{STATUS_COLOURS.get(status, "#999")}"><title>{label}</title></rect>'
            )
        if index % max(1, count // 7) == 0 or index == len(series) - 1:
            parts.append(
                f'<text class="day" x="{x + bar_w / 2:.1f}" y="{_HEIGHT - _BOTTOM + 16}" '
                f'text-anchor="middle" font-size="11">{day.day:%b %d}</text>'
            )
    legend_x = _LEFT
    for status, colour in STATUS_COLOURS.items():
        parts.append(f'<rect x="{legend_x}" y="{_HEIGHT - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{_HEIGHT - 5}" font-size="11">{status}</text>')
        legend_x += 80
    parts.append("</svg>")
    return "".join(parts)
