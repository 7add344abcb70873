"""CSRF on the Flask blueprints over a live werkzeug server: Flask-WTF's ``CSRFProtect`` is honoured when the app
installs it (also with ``WTF_CSRF_CHECK_DEFAULT`` off), its refusals are JSON, an exempted blueprint is the app's
choice; without it, JSON-only bodies and no CORS preflight keep cross-site posts out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flask import Flask
from flask_helpers import AppUnderTest, LiveServer
from flask_wtf.csrf import CSRFProtect, generate_csrf

from claude_web.testing import FakeClaude, text
from claude_web_flask import chat_blueprint
from claude_web_flask.jobs import create_jobs_blueprint

CHAT = {"messages": [{"role": "user", "content": "Hello"}]}
JOB = {"kind": "stream", "params": {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 64}}


def _app(make_app: Callable[..., AppUnderTest], **config: Any) -> tuple[Flask, CSRFProtect]:
    made = make_app(SECRET_KEY="csrf-tests", **config)
    app = made.app
    app.register_blueprint(create_jobs_blueprint(), url_prefix="/jobs")

    @app.get("/token")
    def token() -> str:
        return generate_csrf()  # type: ignore[no-any-return]

    return app, CSRFProtect(app)


def _browser(server: LiveServer) -> tuple[httpx.Client, str]:
    """A browser on the site: its session cookie, and the token a page of the site would give it."""
    http = httpx.Client(base_url=server.url, timeout=10)
    return http, http.get("/token").text


@pytest.mark.parametrize("check_default", [True, False], ids=["csrf-everywhere", "csrf-per-view"])
def test_csrf_protect_guards_every_post(
    make_app: Callable[..., AppUnderTest],
    serve: Callable[[Flask], LiveServer],
    fake_claude: FakeClaude,
    check_default: bool,
) -> None:
    app, _ = _app(make_app, WTF_CSRF_CHECK_DEFAULT=check_default)
    server = serve(app)
    http, token = _browser(server)
    try:
        for path, body in (("/claude/chat", CHAT), ("/jobs/", JOB)):
            refused = http.post(path, json=body)
            assert refused.status_code == 400, (path, refused.text)
            assert refused.headers["content-type"] == "application/json"
            error = refused.json()["error"]
            assert error["type"] == "csrf_failed" and error["field"] == "X-CSRFToken", error
            wrong = http.post(path, json=body, headers={"X-CSRFToken": token[:-4] + "AAAA"})
            assert wrong.status_code == 400 and wrong.json()["error"]["type"] == "csrf_failed"
        assert fake_claude.requests == []  # nothing reached Claude

        fake_claude.queue(text("with the token"), text("a job"))
        chat = http.post("/claude/chat", json=CHAT, headers={"X-CSRFToken": token})
        assert chat.status_code == 200 and "event: done" in chat.text
        job = http.post("/jobs/", json=JOB, headers={"X-CSRFToken": token})
        assert job.status_code == 202, job.text
        cancel = http.post(job.json()["cancel_url"])  # every POST, cancel too
        assert cancel.status_code == 400 and cancel.json()["error"]["type"] == "csrf_failed"
        assert http.post(job.json()["cancel_url"], headers={"X-CSRFToken": token}).status_code == 202
        assert http.get(job.json()["status_url"]).status_code == 200  # reads need no token
    finally:
        http.close()


def test_an_exempted_blueprint_is_the_apps_choice(
    make_app: Callable[..., AppUnderTest], serve: Callable[[Flask], LiveServer], fake_claude: FakeClaude
) -> None:
    app, csrf = _app(make_app)
    csrf.exempt(chat_blueprint)
    server = serve(app)
    fake_claude.queue(text("exempt"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/claude/chat", json=CHAT).status_code == 200
        assert http.post("/jobs/", json=JOB).json()["error"]["type"] == "csrf_failed"  # still protected


def test_without_flask_wtf_cross_site_posts_are_kept_out(
    make_app: Callable[..., AppUnderTest], serve: Callable[[Flask], LiveServer], fake_claude: FakeClaude
) -> None:
    """What a foreign page can send without asking (a form, text/plain) is refused; what needs asking (JSON from
    another origin) is never allowed, because no preflight is answered with CORS headers."""
    made = make_app(SECRET_KEY="no-wtf")
    made.app.register_blueprint(create_jobs_blueprint(), url_prefix="/jobs")
    server = serve(made.app)
    origin = {"Origin": "https://evil.example"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for path in ("/claude/chat", "/jobs/"):
            plain = http.post(path, content=b'{"messages": []}', headers={**origin, "Content-Type": "text/plain"})
            assert plain.status_code == 415, plain.text
            form = http.post(path, data={"messages": "hi"}, headers=origin)
            assert form.status_code == 415
            multipart = http.post(path, files={"f": b"{}"}, headers=origin)
            assert multipart.status_code == 415
            preflight = http.options(
                path,
                headers={
                    **origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            assert not any(name.lower().startswith("access-control-allow") for name in preflight.headers), (
                preflight.headers
            )
    assert fake_claude.requests == []
