"""The demo's pages and its one own endpoint (long-task start).

The chat and tool pages talk to claude-web's conversation endpoints (``claude_web_conversations``): the
conversation, its history and the tool loop live on the server. Job events, status and cancel of the long task go to
``claude_web_jobs``. The pages are plain templates with a little JavaScript from ``chat/static/chat/``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from claude_web.chat import ChatRequestError
from claude_web.jobs import JobRequestError
from claude_web.quotas import QuotaExceeded
from claude_web.web.aisdk_history import ui_messages
from claude_web.web.errors import NotFound
from claude_web.web.formatting import format_duration, format_money, format_tokens
from claude_web_django.conf import claude_settings
from claude_web_django.jobs import get_job_service, job_owner
from claude_web_django.models import TokenUsage
from claude_web_django.quotas import check_quota, quota_exceeded_response
from claude_web_django.runtime import get_runtime

from .charts import daily_series, usage_chart_svg

log = logging.getLogger("chat.views")

LONG_TASK_SYSTEM = "Write a long, detailed answer in several paragraphs."
CHART_DAYS = 14
JOB_PLACEHOLDER = "__job__"
CHAT_HINT = (
    "Your conversations are kept on the server: reload the page and the history is still here; an answer that is "
    "still being written picks up where it was. Stop ends the answer at once (the upstream call is closed; what "
    "was written stays, marked as stopped). The system prompt is the site's own."
)
AISDK_HINT = (
    "A React page built on the Vercel AI SDK's useChat (bundled with esbuild), talking to claude-web's AI SDK "
    "endpoints: the answer streams as a UI message stream with the calculator's calls inline, a reload picks the "
    "answer up again (useChat's resume), and Stop closes the upstream call."
)
TOOLS_HINT = (
    "The calculator assistant may call a server-run calculator tool. claude-web's tool runner makes the call, "
    "and each tool call and its result appear inline; a failing tool answers with a readable error."
)


def _bad_request(exc: ChatRequestError | JobRequestError) -> JsonResponse:
    return JsonResponse(exc.to_dict(), status=400)


def _not_logged_in() -> JsonResponse:
    return JsonResponse(
        {"error": {"type": "authentication_required", "message": "Log in to use the demo."}}, status=401
    )


# -- pages ----------------------------------------------------------------------------------------------------------


def _conversation_page(
    request: HttpRequest, *, assistant: str, heading: str, hint: str, conversation_id: str | None, prefill: str = ""
) -> HttpResponse:
    if conversation_id is not None:
        try:  # somebody else's conversation, or a deleted one: the page itself is a 404
            conv = get_runtime().conversations.get(conversation_id, f"user:{request.user.pk}")
        except NotFound:
            raise Http404("No such conversation.") from None
        assistant = conv.assistant
    context = {
        "heading": heading,
        "hint": hint,
        "assistant": assistant,
        "prefill": prefill,
        "conversation_id": conversation_id or "",
        "list_url": reverse("claude_web_conversations:list"),
        "page_base": reverse("chat"),
        "new_url": request.path if conversation_id is None else reverse("chat"),
    }
    return render(request, "chat/chat.html", context)


@login_required
def chat_page(request: HttpRequest, conversation_id: str | None = None) -> HttpResponse:
    return _conversation_page(
        request, assistant="default", heading="Chat", hint=CHAT_HINT, conversation_id=conversation_id
    )


@login_required
def tools_page(request: HttpRequest) -> HttpResponse:
    return _conversation_page(
        request,
        assistant="calculator",
        heading="Tool use: a calculator",
        hint=TOOLS_HINT,
        conversation_id=None,
        prefill="What is (1234 + 4321) * 3 / 5?",
    )


@login_required
def aisdk_page(request: HttpRequest, chat_id: str | None = None) -> HttpResponse:
    """The useChat page: a new chat, or ``chat_id``'s stored messages as UI messages (404 if not the user's)."""
    messages: list[dict[str, object]] = []
    if chat_id is not None:
        runtime = get_runtime()
        owner = f"user:{request.user.pk}"
        if runtime.conversation_store.get_conversation(chat_id) is not None:  # else: its first answer is on its way
            try:
                _, stored, job = runtime.conversations.detail(chat_id, owner)
            except NotFound:
                raise Http404("No such conversation.") from None
            messages = ui_messages(stored, running=None if job is None else job.id)
    context = {
        "hint": AISDK_HINT,
        "api": reverse("claude_web_conversations:ai_sdk"),
        "chat_id": chat_id or "",
        "page_base": reverse("aisdk"),
        "assistant": "calculator",
        "messages": messages,
    }
    return render(request, "chat/aisdk.html", context)


@login_required
def long_task_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "chat/long_task.html",
        {
            "start_url": reverse("long_task_start"),
            "events_template": reverse("claude_web_jobs:events", args=[JOB_PLACEHOLDER]),
            "cancel_template": reverse("claude_web_jobs:cancel", args=[JOB_PLACEHOLDER]),
            "status_template": reverse("claude_web_jobs:status", args=[JOB_PLACEHOLDER]),
        },
    )


@login_required
def usage_page(request: HttpRequest) -> HttpResponse:
    mine = TokenUsage.objects.filter(user=request.user)
    since = timezone.now() - timedelta(days=CHART_DAYS)
    per_day = (
        mine.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(inp=Sum("input_tokens"), out=Sum("output_tokens"))
    )
    rows = [(r["day"], r["status"], (r["inp"] or 0) + (r["out"] or 0)) for r in per_day]
    series = daily_series(rows, today=timezone.localdate(), days=CHART_DAYS)
    totals = mine.aggregate(calls=Count("id"), inp=Sum("input_tokens"), out=Sum("output_tokens"), cost=Sum("cost"))
    by_status = dict(mine.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    rows = [
        {
            "status": row.status,
            "created_at": row.created_at,
            "operation": row.operation,
            "model": row.model,
            "error_type": row.error_type,
            "input": format_tokens(row.input_tokens),
            "output": format_tokens(row.output_tokens),
            "cost": format_money(row.cost),
            "latency": format_duration(row.latency_ms),
        }
        for row in mine.order_by("-created_at")[:50]
    ]
    context = {
        "rows": rows,
        "chart": mark_safe(usage_chart_svg(series, days=CHART_DAYS)),  # built from numbers and escaped labels
        "totals": totals,
        "totals_text": {
            "calls": format_tokens(totals["calls"]),
            "input": format_tokens(totals["inp"] or 0),
            "output": format_tokens(totals["out"] or 0),
            "cost": format_money(totals["cost"] or 0),
        },
        "by_status": by_status,
    }
    return render(request, "chat/usage.html", context)


# -- long task: validated like the chat, then handed to the jobs service ---------------------------------------------


@require_POST
def long_task_start(request: HttpRequest) -> HttpResponse:
    """``POST {"messages", "model"?, "max_tokens"?}`` -> 202 with the job's events/status/cancel URLs."""
    if not request.user.is_authenticated:
        return _not_logged_in()
    try:
        params = claude_settings().chat.policy().validate(request.body)
    except ChatRequestError as exc:
        return _bad_request(exc)
    try:
        check_quota(f"user:{request.user.pk}")
    except QuotaExceeded as exc:
        return quota_exceeded_response(exc)
    params.setdefault("system", LONG_TASK_SYSTEM)
    owner = job_owner(request)
    if owner is None:
        return _not_logged_in()
    try:
        job = get_job_service().start("stream", params, owner=owner)
    except JobRequestError as exc:
        return _bad_request(exc)
    return JsonResponse(
        {
            "job_id": job.id,
            "events_url": reverse("claude_web_jobs:events", args=[job.id]),
            "status_url": reverse("claude_web_jobs:status", args=[job.id]),
            "cancel_url": reverse("claude_web_jobs:cancel", args=[job.id]),
        },
        status=202,
    )
