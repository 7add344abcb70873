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
        job = service.start("stream", {"model": "claude-haiku-4-5", "max_tokens": 64,
                                       "messages": [{"role": "user", "content": "Hi"}]}, owner=owner)
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
