"""Django's CSRF protection stays on every claude-web POST, over live servers (Django's WSGI server and uvicorn):
a signed-in browser's post without the token is refused (403) before any upstream call; with it, it goes through."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cwdj_helpers import chat_body
from test_dj_live import UvicornThread

from claude_web.testing import text
from claude_web_django import jobs

pytestmark = pytest.mark.django_db(transaction=True)

JOB = {"kind": "stream", "params": {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64}}


@pytest.fixture(scope="module")
def asgi() -> Iterator[UvicornThread]:
    with UvicornThread() as server:
        yield server


@pytest.fixture(params=["wsgi", "asgi"])
def base_url(request: pytest.FixtureRequest) -> str:
    if request.param == "wsgi":
        return str(request.getfixturevalue("live_server").url)
    return request.getfixturevalue("asgi").url


@pytest.fixture
def with_jobs(claude_web_settings: Any, settings: Any) -> Iterator[None]:
    from cw_testproject.urls import urlpatterns
    from django.urls import include, path

    module = types.ModuleType("cwdj_csrf_urls")
    module.urlpatterns = [*urlpatterns, path("jobs/", include("claude_web_django.jobs"))]  # type: ignore[attr-defined]
    sys.modules["cwdj_csrf_urls"] = module
    settings.ROOT_URLCONF = "cwdj_csrf_urls"
    claude_web_settings(JOBS={"THREADS": 1})
    jobs.set_job_service(None)
    yield
    jobs.set_job_service(None)


def test_every_post_needs_the_csrf_token(base_url: str, with_jobs: None, fake_claude: Any, user: Any) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    with httpx.Client(base_url=base_url, timeout=15) as http:
        http.cookies.set("sessionid", browser.cookies["sessionid"].value)
        http.get("/admin/login/")  # the CSRF cookie, as any page of the site sets it
        token = http.cookies["csrftoken"]
        for path, body in (("/claude/chat/", chat_body()), ("/claude/achat/", chat_body()), ("/jobs/", JOB)):
            refused = http.post(path, json=body)
            assert refused.status_code == 403, (path, refused.status_code)
        assert fake_claude.requests == []

        fake_claude.queue(text("chat"), text("job"))
        assert http.post("/claude/chat/", json=chat_body(), headers={"X-CSRFToken": token}).status_code == 200
        started = http.post("/jobs/", json=JOB, headers={"X-CSRFToken": token})
        assert started.status_code == 202, started.text
        cancel_url = started.json()["cancel_url"]
        assert http.post(cancel_url).status_code == 403
        assert http.post(cancel_url, headers={"X-CSRFToken": token}).status_code == 202
