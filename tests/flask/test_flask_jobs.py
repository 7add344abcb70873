"""Jobs on a Flask app that uses ClaudeWeb: the extension's clients, chat rules, quota and usage pipeline."""

from __future__ import annotations

import time
from typing import Any

from claude_web.testing import text
from claude_web_flask import get_state
from claude_web_flask.jobs import create_jobs_blueprint

HI = [{"role": "user", "content": "Hi"}]


def _wait_done(client: Any, job_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = client.get(f"/jobs/{job_id}/").get_json().get("state")
        if state in ("done", "error", "cancelled"):
            return str(state)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_jobs_use_the_extension(make_app: Any, fake_claude: Any) -> None:
    under = make_app(
        CLAUDE_WEB_JOBS={"THREADS": 1},
        CLAUDE_WEB_QUOTAS={"REQUESTS_PER_MINUTE": 1},
        CLAUDE_WEB_QUOTA_STORE="memory",
        CLAUDE_WEB_USER_LOADER=lambda: "alice",
    )
    app = under.app
    app.register_blueprint(create_jobs_blueprint(owner=lambda: "user:alice"), url_prefix="/jobs")
    client = app.test_client()

    refused = client.post("/jobs/", json={"kind": "stream", "params": {"model": "claude-nope", "messages": HI}})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "params.model"
    capped = client.post("/jobs/", json={"kind": "stream", "params": {"messages": HI, "max_tokens": 10**6}})
    assert capped.status_code == 400 and capped.get_json()["error"]["field"] == "params.max_tokens"
    assert fake_claude.requests == []

    fake_claude.queue(text("a job answer", chunks=3))
    started = client.post("/jobs/", json={"kind": "stream", "params": {"messages": HI}})
    assert started.status_code == 202, started.get_data(as_text=True)
    assert _wait_done(client, started.get_json()["job_id"]) == "done"
    (record,) = under.usage.wait(1)
    assert record.status == "ok" and record.context["user_id"] == "alice"
    assert record.context["quota_key"] == "user:alice"
    assert fake_claude.last_request.path == "/v1/messages"  # through CLAUDE_WEB_CLIENTS' fake backend

    over = client.post("/jobs/", json={"kind": "stream", "params": {"messages": HI}})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    get_state(app).runtime.set_jobs(None)


def test_unreachable_redis_is_a_503_that_says_so(make_app: Any, caplog: Any) -> None:
    t = make_app(CLAUDE_WEB_JOBS={"REDIS_URL": "redis://127.0.0.1:1/0", "KEY_PREFIX": "cw-down"})
    t.app.register_blueprint(create_jobs_blueprint(owner=lambda: "user:alice"), url_prefix="/jobs")
    response = t.app.test_client().post("/jobs/", json={"kind": "stream", "params": {"messages": HI}})
    assert response.status_code == 503 and response.mimetype == "application/json"
    assert response.get_json()["error"]["type"] == "jobs_unavailable"
    assert "job store cannot be reached" in caplog.text
    result = t.app.test_cli_runner().invoke(args=["claude", "ping"])
    assert result.exit_code == 1 and "Redis cannot be reached" in result.output
