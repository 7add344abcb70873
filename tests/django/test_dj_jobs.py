"""Jobs under Django: the app's own clients run them, and their usage lands in the ledger under the job's owner."""

from __future__ import annotations

from typing import Any

import pytest
from cwdj_helpers import usage_rows

from claude_web.testing import text
from claude_web_django import jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_job_usage_row_belongs_to_the_owner(claude_web_settings: Any, fake_claude: Any, user: Any) -> None:
    claude_web_settings(JOBS={"THREADS": 1})
    jobs.set_job_service(None)
    try:
        fake_claude.queue(text("a long answer in pieces", chunks=5))
        service = jobs.get_job_service()
        owner = f"user:{user.pk}"
        job = service.start(
            "stream",
            {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]},
            owner=owner,
        )
        names = [event.event for event in service.events(job.id, owner)]
        assert names[-1] == "done"
        # the upstream call went to this test's FakeClaude through CLAUDE_WEB["CLIENTS"]["default"]
        assert fake_claude.last_request.path == "/v1/messages"
        (row,) = usage_rows()
        assert row.status == "ok" and row.operation == "messages.stream"
        assert row.user_id == user.pk
        assert row.output_tokens > 0
    finally:
        jobs.set_job_service(None)


def _start(client: Any, params: dict[str, Any]) -> Any:
    return client.post("/claude-jobs/", data={"kind": "stream", "params": params}, content_type="application/json")


@pytest.fixture
def jobs_urls(settings: Any) -> None:
    import sys
    import types

    from django.urls import include, path

    module = types.ModuleType("cwdj_jobs_urls")
    module.urlpatterns = [path("claude-jobs/", include("claude_web_django.jobs"))]  # type: ignore[attr-defined]
    sys.modules["cwdj_jobs_urls"] = module
    settings.ROOT_URLCONF = "cwdj_jobs_urls"


def test_job_start_applies_chat_rules_and_quota(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, jobs_urls: None
) -> None:
    claude_web_settings(JOBS={"THREADS": 1}, QUOTAS={"REQUESTS_PER_MINUTE": 1})
    jobs.set_job_service(None)
    try:
        hi = [{"role": "user", "content": "Hi"}]
        refused = _start(auth_client, {"model": "claude-not-allowed", "messages": hi})
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "params.model"
        capped = _start(auth_client, {"messages": hi, "max_tokens": 10**6})
        assert capped.status_code == 400 and capped.json()["error"]["field"] == "params.max_tokens"
        assert fake_claude.requests == []
        fake_claude.queue(text("first job"))
        ok = _start(auth_client, {"messages": hi})
        assert ok.status_code == 202, ok.content
        usage_rows()  # the first job's usage counts against the per-minute limit
        _wait_done(ok.json()["job_id"], auth_client)
        over = _start(auth_client, {"messages": hi})
        assert over.status_code == 429 and int(over["Retry-After"]) > 0
    finally:
        jobs.set_job_service(None)


def _wait_done(job_id: str, client: Any) -> None:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = client.get(f"/claude-jobs/{job_id}/").json().get("state")
        if state in ("done", "error", "cancelled"):
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_unreachable_redis_is_a_503_that_says_so(
    claude_web_settings: Any, auth_client: Any, jobs_urls: None, caplog: Any
) -> None:
    """Celery mode with Redis down: a JSON 503 ``jobs_unavailable`` (never an HTML 500), the cause in the log, and
    ``manage.py check`` / ``claude_ping`` say Redis cannot be reached."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from claude_web_django.checks import check_claude_web

    claude_web_settings(JOBS={"REDIS_URL": "redis://127.0.0.1:1/0", "KEY_PREFIX": "cw-down"})
    jobs.set_job_service(None)
    try:
        response = _start(auth_client, {"messages": [{"role": "user", "content": "Hi"}]})
        assert response.status_code == 503 and response["Content-Type"] == "application/json"
        assert response.json()["error"]["type"] == "jobs_unavailable" and int(response["Retry-After"]) > 0
        assert "job store cannot be reached" in caplog.text and "ConnectionError" in caplog.text
        assert "W004" in " ".join(m.id or "" for m in check_claude_web())
        with pytest.raises(CommandError, match="Redis cannot be reached"):
            call_command("claude_ping", "--alias", "default")
    finally:
        jobs.set_job_service(None)
