"""Read-only admin of the usage ledger (filters, totals of the filtered rows, a daily chart per model) and of
conversations (owner, messages, tokens, cost, and a read-only transcript).

Numbers read as a person reads them (:mod:`claude_web.web.formatting`): ``125,713`` tokens, ``$0.0042``,
``2.31 s``; the usage list fits a 1280 px window without scrolling sideways.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from claude_web.web.formatting import compact_tokens, format_duration, format_money, format_tokens

from .conversation_admin import ConversationAdmin
from .models import TokenUsage

__all__ = [
    "ConversationAdmin",
    "TokenUsageAdmin",
    "daily_usage",
    "short_model",
    "short_operation",
    "svg_bar_chart",
    "totals_text",
]

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _money(value: Any) -> Decimal:
    """A summed cost with the ledger's 8 decimal places (SQLite sums decimals as floats)."""
    return Decimal(0 if value is None else str(value)).quantize(Decimal("0.00000001"))


def totals(queryset: Any) -> dict[str, Any]:
    """Request count, token sums and total cost of ``queryset``."""
    sums = queryset.aggregate(requests=Count("id"), cost_sum=Sum("cost"), **{f"{f}_sum": Sum(f) for f in _TOKEN_FIELDS})
    result: dict[str, Any] = {f: sums[f"{f}_sum"] or 0 for f in _TOKEN_FIELDS}
    result["requests"] = sums["requests"]
    result["cost"] = _money(sums["cost_sum"])
    result["total_tokens"] = sum(result[f] for f in _TOKEN_FIELDS)
    return result


def totals_text(totals: dict[str, Any]) -> dict[str, str]:
    """:func:`totals` as text: separators for counts, dollars for the cost."""
    out = {name: format_tokens(value) for name, value in totals.items() if name != "cost"}
    out["cost"] = format_money(totals["cost"])
    return out


def short_model(model: str) -> str:
    """A model id as a list shows it: no ``claude-`` prefix, no date snapshot suffix
    (``claude-sonnet-4-5-20250929`` -> ``sonnet-4-5``); the full id is the cell's tooltip."""
    head, _, tail = model.rpartition("-")
    if head and len(tail) == 8 and tail.isdigit():
        model = head
    return model.removeprefix("claude-")


def short_operation(operation: str) -> str:
    """``beta.messages.stream`` -> ``stream``, ``messages.batches.create`` -> ``batches.create``."""
    return operation.removeprefix("beta.").removeprefix("messages.")


def daily_usage(queryset: Any) -> list[dict[str, Any]]:
    """Rows of ``{"day", "model", "requests", "tokens", "cost"}`` ordered by day then model."""
    rows = (
        queryset.annotate(day=TruncDate("created_at"))
        .values("day", "model")
        .annotate(requests=Count("id"), cost_sum=Sum("cost"), **{f"{f}_sum": Sum(f) for f in _TOKEN_FIELDS})
        .order_by("day", "model")
    )
    return [
        {
            "day": row["day"],
            "model": row["model"] or "?",
            "requests": row["requests"],
            "tokens": sum(row[f"{f}_sum"] or 0 for f in _TOKEN_FIELDS),
            "cost": _money(row["cost_sum"]),
            "tokens_text": format_tokens(sum(row[f"{f}_sum"] or 0 for f in _TOKEN_FIELDS)),
            "cost_text": format_money(_money(row["cost_sum"])),
        }
        for row in rows
    ]


def svg_bar_chart(
    rows: list[dict[str, Any]], value: str, *, title: str, width: int = 760, height: int = 240
) -> dict[str, Any]:
    """A stacked bar per day (one colour per model) as plain data for the template's inline SVG."""
    days = sorted({row["day"] for row in rows})
    models = sorted({row["model"] for row in rows})
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}
    per_day: dict[Any, float] = {d: 0.0 for d in days}
    for row in rows:
        per_day[row["day"]] += float(row[value])
    peak = max(per_day.values(), default=0.0) or 1.0
    left, bottom, top = 60, 30, 20
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(len(days), 1)
    bar_w = max(min(slot * 0.7, 48), 2)
    bars: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(height - bottom)
        for row in (r for r in rows if r["day"] == day):
            h = float(row[value]) / peak * plot_h
            y -= h
            bars.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "w": round(bar_w, 1),
                    "h": round(h, 1),
                    "colour": colours[row["model"]],
                    "title": f"{day} {row['model']}: {row[value]}",
                }
            )
        labels.append({"x": round(x + bar_w / 2, 1), "y": height - bottom + 14, "text": day.strftime("%m-%d")})
    return {
        "title": title,
        "width": width,
        "height": height,
        "bars": bars,
        "labels": labels,
        "legend": [{"model": m, "colour": c} for m, c in colours.items()],
        "peak": f"{peak:,.0f}" if value == "tokens" else f"{peak:,.4f}",
        "axis_x": left,
        "axis_top": top,
        "axis_bottom": height - bottom,
        "axis_right": width - 10,
    }


if TYPE_CHECKING:
    _UsageAdminBase = admin.ModelAdmin[TokenUsage]
else:
    _UsageAdminBase = admin.ModelAdmin


@admin.register(TokenUsage)
class TokenUsageAdmin(_UsageAdminBase):
    list_display = ("when", "call", "model_name", "outcome", "user", "tokens", "money", "latency")
    list_display_links = ("when",)
    list_filter = (
        "status",
        "model",
        "operation",
        "backend",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("model", "request_id", "web_request_id", "error_type", "record_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    change_list_template = "admin/claude_web/tokenusage/change_list.html"
    chart_days = 30

    class Media:
        css = {"all": ("claude_web/admin.css",)}

    @admin.display(description="when", ordering="created_at")
    def when(self, obj: TokenUsage) -> str:
        stamp = timezone.localtime(obj.created_at)
        full, short = stamp.strftime("%Y-%m-%d %H:%M:%S %Z"), stamp.strftime("%m-%d %H:%M")
        return format_html('<span class="cw-nowrap" title="{}">{}</span>', full, short)

    @admin.display(description="call", ordering="operation")
    def call(self, obj: TokenUsage) -> str:
        return format_html(
            '<span class="cw-nowrap" title="{}">{}</span>', obj.operation, short_operation(obj.operation)
        )

    @admin.display(description="model", ordering="model")
    def model_name(self, obj: TokenUsage) -> str:
        return format_html('<span class="cw-nowrap" title="{}">{}</span>', obj.model, short_model(obj.model or "?"))

    @admin.display(description="in · out", ordering="input_tokens")
    def tokens(self, obj: TokenUsage) -> str:
        main = format_html(
            '<span class="cw-nowrap">{} · {}</span>', format_tokens(obj.input_tokens), format_tokens(obj.output_tokens)
        )
        if not (obj.cache_read_input_tokens or obj.cache_creation_input_tokens):
            return main
        return format_html(
            '{}<br><span class="cw-muted" title="cache: {} read, {} written">cache {} · {} new</span>',
            main,
            format_tokens(obj.cache_read_input_tokens),
            format_tokens(obj.cache_creation_input_tokens),
            compact_tokens(obj.cache_read_input_tokens),
            compact_tokens(obj.cache_creation_input_tokens),
        )

    @admin.display(description="cost", ordering="cost")
    def money(self, obj: TokenUsage) -> str:
        return format_html('<span class="cw-nowrap" title="{} USD">{}</span>', obj.cost, format_money(obj.cost))

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, obj: TokenUsage) -> str:
        return format_html('<span class="cw-nowrap">{}</span>', format_duration(obj.latency_ms))

    @admin.display(description="status", ordering="status")
    def outcome(self, obj: TokenUsage) -> str:
        """The status, and under it the error type in words (``overloaded_error`` -> ``overloaded``)."""
        if not obj.error_type:
            return obj.status
        shown = obj.error_type.removesuffix("_error").replace("_", " ")
        return format_html('{}<br><span class="cw-muted" title="{}">{}</span>', obj.status, obj.error_type, shown)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        chart = path(
            "chart/", self.admin_site.admin_view(self.chart_view), name=f"{opts.app_label}_{opts.model_name}_chart"
        )
        return [chart, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if isinstance(context, dict) and "cl" in context:
            context["usage_totals"] = totals(context["cl"].queryset)
            context["usage_totals_text"] = totals_text(context["usage_totals"])
            opts = self.model._meta
            context["chart_url"] = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_chart")
        return response

    def chart_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", self.chart_days)), 366))
        except ValueError:
            days = self.chart_days
        since = timezone.now() - timedelta(days=days)
        queryset = self.get_queryset(request).filter(created_at__gte=since)
        rows = daily_usage(queryset)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Claude usage per day, last {days} days",
            "days": days,
            "rows": rows,
            "totals": totals(queryset),
            "totals_text": totals_text(totals(queryset)),
            "token_chart": svg_bar_chart(rows, "tokens", title="Tokens per day"),
            "cost_chart": svg_bar_chart(rows, "cost", title="Cost per day (USD)"),
        }
        return TemplateResponse(request, "admin/claude_web/usage_chart.html", context)
