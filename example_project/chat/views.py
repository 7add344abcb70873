"""The demo's pages and its two own endpoints (long-task start, tool-use loop).

Streaming chat goes straight to claude-web's ``claude_web:achat`` view; job events, status and cancel to
``claude_web_jobs``. The pages are plain templates with a little JavaScript from ``chat/static/chat/``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from claude_web import APIError
from claude_web.chat import ChatRequestError
from claude_web.jobs import JobRequestError
from claude_web.quotas import QuotaExceeded
from claude_web.web_stream import safe_error
from claude_web_django import aclient_for
from claude_web_django.conf import claude_settings
from claude_web_django.jobs import get_job_service, job_owner
from claude_web_django.models import TokenUsage
from claude_web_django.quotas import check_quota, quota_exceeded_response

from .calculator import TOOL, CalculatorError, evaluate, format_number
from .charts import daily_series, usage_chart_svg

log = logging.getLogger("chat.views")

LONG_TASK_SYSTEM = "Write a long, detailed answer in several paragraphs."
TOOL_SYSTEM = "Use the calculator tool for any arithmetic; never compute in your head."
MAX_TOOL_ROUNDS = 4
CHART_DAYS = 14
JOB_PLACEHOLDER = "__job__"


def _bad_request(exc: ChatRequestError | JobRequestError) -> JsonResponse:
    return JsonResponse(exc.to_dict(), status=400)


def _not_logged_in() -> JsonResponse:
    return JsonResponse(
        {"error": {"type": "authentication_required", "message": "Log in to use the demo."}}, status=401
    )


# -- pages ----------------------------------------------------------------------------------------------------------


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    # Under ASGI (uvicorn) the async view streams without a thread per answer; under WSGI (runserver) the sync one.
    view = "claude_web:achat" if isinstance(request, ASGIRequest) else "claude_web:chat"
    return render(
        request, "chat/chat.html", {"chat_url": reverse(view), "max_tokens": claude_settings().chat.max_tokens}
    )


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
def tools_page(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/tools.html", {"run_url": reverse("tools_run")})


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
    context = {
        "rows": list(mine.order_by("-created_at")[:50]),
        "chart": mark_safe(usage_chart_svg(series, days=CHART_DAYS)),  # built from numbers and escaped labels
        "totals": totals,
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


# -- tool use: the whole loop runs here, the page gets the steps ----------------------------------------------------


def _run_tool(name: str, tool_input: Any) -> tuple[str, bool]:
    """The tool's output text and whether it is an error."""
    if name != TOOL["name"]:
        return f"unknown tool {name!r}", True
    expression = tool_input.get("expression") if isinstance(tool_input, dict) else None
    try:
        return format_number(evaluate(str(expression or ""))), False
    except CalculatorError as exc:
        return str(exc), True


async def tools_run(request: HttpRequest) -> HttpResponse:
    """``POST {"prompt", "model"?}``: create -> tool_use -> compute -> tool_result -> ... -> final answer."""
    if request.method != "POST":
        return JsonResponse({"error": {"type": "method_not_allowed", "message": "POST only."}}, status=405)
    user = await request.auser()
    if not user.is_authenticated:
        return _not_logged_in()
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ChatRequestError("body", "must be a JSON object")
        prompt = body.get("prompt")
        chat = {"messages": [{"role": "user", "content": prompt if isinstance(prompt, str) else ""}]}
        if "model" in body:
            chat["model"] = body["model"]
        params = claude_settings().chat.policy().validate(chat)
    except ValueError as exc:
        if isinstance(exc, ChatRequestError):
            return _bad_request(exc)
        return _bad_request(ChatRequestError("body", "is not valid JSON"))
    try:
        await sync_to_async(check_quota)(f"user:{user.pk}")
    except QuotaExceeded as exc:
        return quota_exceeded_response(exc)
    client = await aclient_for(request)
    messages: list[dict[str, Any]] = list(params["messages"])
    steps: list[dict[str, Any]] = []
    answer = ""
    try:
        for _ in range(MAX_TOOL_ROUNDS):
            message = await client.messages.create(
                model=params["model"],
                max_tokens=params["max_tokens"],
                system=TOOL_SYSTEM,
                tools=[TOOL],
                messages=messages,
            )
            said = "".join(block.text for block in message.content if block.type == "text")
            calls = [block for block in message.content if block.type == "tool_use"]
            if message.stop_reason != "tool_use" or not calls:
                answer = said
                break
            if said:
                steps.append({"type": "text", "text": said})
            messages.append({"role": "assistant", "content": [b.to_dict(mode="json") for b in message.content]})
            results = []
            for call in calls:
                output, failed = _run_tool(call.name, call.input)
                steps.append({"type": "tool_call", "id": call.id, "name": call.name, "input": call.input})
                steps.append({"type": "tool_result", "tool_use_id": call.id, "content": output, "is_error": failed})
                results.append({"type": "tool_result", "tool_use_id": call.id, "content": output, "is_error": failed})
            messages.append({"role": "user", "content": results})
        else:
            answer = "(stopped after too many tool calls)"
    except APIError as exc:
        log.warning("tool demo: upstream call failed: %s", type(exc).__name__)
        return JsonResponse({"error": safe_error(exc), "steps": steps}, status=502)
    return JsonResponse({"steps": steps, "answer": answer})
