"""The read-only TokenUsage admin: list with filters and totals, and the daily chart page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claude_web.usage import UsageRecord
from claude_web_django.admin import daily_usage, svg_bar_chart
from claude_web_django.models import TokenUsage
from claude_web_django.receivers import write_usage

pytestmark = pytest.mark.django_db

LIST = "/admin/claude_web/tokenusage/"


def add(
    model: str, tokens: int, cost: str | None, days_ago: int = 0, status: str = "ok", user: Any = None
) -> TokenUsage:
    record = UsageRecord(
        operation="messages.create",
        model=model,
        status=status,  # type: ignore[arg-type]
        input_tokens=tokens,
        output_tokens=tokens,
        cost=None if cost is None else Decimal(cost),
        context={"user_id": None if user is None else user.pk},
    )
    record.created_at = timezone.now() - timedelta(days=days_ago)
    row = write_usage(record)
    assert row is not None
    return row


@pytest.fixture
def rows(admin_user: Any) -> None:
    add("claude-haiku-4-5", 10, "0.00010", days_ago=1, user=admin_user)
    add("claude-haiku-4-5", 20, "0.00020", days_ago=1)
    add("claude-sonnet-4-5", 5, "0.00100", days_ago=0, status="error")
    add("mystery-model", 7, None, days_ago=0)


def test_changelist_shows_rows_and_totals(admin_client: Any, rows: None) -> None:
    response = admin_client.get(LIST)
    assert response.status_code == 200
    totals = response.context_data["usage_totals"]
    assert totals["requests"] == 4
    assert totals["total_tokens"] == 2 * (10 + 20 + 5 + 7)
    assert totals["cost"] == Decimal("0.00130")
    html = response.content.decode()
    assert 'id="claude-usage-totals"' in html and "mystery-model" in html
    assert 'href="/admin/claude_web/tokenusage/chart/"' in html


def test_totals_follow_the_filters(admin_client: Any, rows: None) -> None:
    response = admin_client.get(LIST, {"status__exact": "error"})
    assert response.context_data["usage_totals"]["requests"] == 1
    response = admin_client.get(LIST, {"model": "claude-haiku-4-5"})
    assert response.context_data["usage_totals"]["requests"] == 2
    response = admin_client.get(LIST, {"model__exact": "claude-haiku-4-5"})
    assert response.context_data["usage_totals"]["total_tokens"] == 60


def test_filters_are_offered(admin_client: Any, rows: None) -> None:
    response = admin_client.get(LIST)
    titles = {spec.title for spec in response.context_data["cl"].filter_specs}
    assert {"status", "model", "user", "created at"} <= set(map(str, titles))


def test_admin_is_read_only(admin_client: Any, rows: None) -> None:
    row = TokenUsage.objects.first()
    assert admin_client.get(LIST + "add/").status_code == 403
    assert admin_client.post(f"{LIST}{row.pk}/delete/").status_code == 403
    detail = admin_client.get(f"{LIST}{row.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert TokenUsage.objects.count() == 4


def test_chart_page_renders_svg_per_model(admin_client: Any, rows: None) -> None:
    response = admin_client.get(LIST + "chart/", {"days": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    content = html.split('id="content-main"')[1].split("<!-- END Content -->")[0]
    assert content.count("<svg") == 2
    assert 'aria-label="Tokens per day"' in content and 'aria-label="Cost per day (USD)"' in content
    assert content.count('class="bar"') == 2 * 3  # 3 (day, model) groups in each chart
    assert "claude-sonnet-4-5" in html and "mystery-model" in html
    assert "<script" not in content  # server-rendered, no JS, no CDN
    assert "cdn" not in html.lower()
    assert response.context_data["totals"]["requests"] == 4


def test_chart_needs_staff(client: Any, rows: None) -> None:
    response = client.get(LIST + "chart/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_daily_usage_and_chart_geometry(rows: None) -> None:
    data = daily_usage(TokenUsage.objects.all())
    assert [(r["model"], r["tokens"]) for r in data if r["model"] == "claude-haiku-4-5"] == [("claude-haiku-4-5", 60)]
    chart = svg_bar_chart(data, "tokens", title="t", height=240)
    tallest = max(bar["h"] for bar in chart["bars"])
    assert 0 < tallest <= 240 - 30 - 20
    assert len(chart["legend"]) == 3 and len(chart["labels"]) == 2
