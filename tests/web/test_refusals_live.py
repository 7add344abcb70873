"""The refusals of the web layer, through both adapters on a real server (gunicorn ``gthread``): who may start
jobs, quotas for every owner, the chat rules for every job kind, JSON-only bodies, bad input (a 400 naming the
field, never a 500, never an upstream call), the framework's own body limit as JSON, and no API key on Django's
DEBUG error page."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_servers import Server
from wsgi_apps import API_KEY

from claude_web.testing import FakeClaude

ADAPTERS = ["gunicorn-gthread-flask", "gunicorn-gthread-django"]
MAX_IMAGE = 2000
MAX_BODY = 200_000
HI = [{"role": "user", "content": "Hi"}]


def _start(name: str, fake: FakeClaude, tmp: Path, **env: str) -> Server:
    return Server(name, fake, tmp, CW_MAX_IMAGE_BYTES=str(MAX_IMAGE), CW_MAX_BODY=str(MAX_BODY), **env)


@pytest.fixture(scope="module", params=ADAPTERS)
def signed_in_site(
    request: pytest.FixtureRequest, fake_claude_server: FakeClaude, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """LOGIN_REQUIRED on (``X-User`` is the login), 3 requests per minute per owner."""
    server = _start(
        request.param, fake_claude_server, tmp_path_factory.mktemp("in"), CW_LOGIN_REQUIRED="1", CW_QUOTA_RPM="3"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module", params=ADAPTERS)
def open_site(
    request: pytest.FixtureRequest, fake_claude_server: FakeClaude, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """LOGIN_REQUIRED off: anonymous visitors own what they start through their session; 3 requests a minute."""
    server = _start(
        request.param, fake_claude_server, tmp_path_factory.mktemp("open"), CW_LOGIN_REQUIRED="0", CW_QUOTA_RPM="3"
    )
    yield server
    server.stop()


def _user() -> dict[str, str]:
    return {"X-User": uuid.uuid4().hex[:12]}


def _refusal(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error: dict[str, Any] = response.json()["error"]
    return error


def test_anonymous_visitors_cannot_start_jobs(signed_in_site: Server, fake_claude: FakeClaude) -> None:
    with httpx.Client(base_url=signed_in_site.url, timeout=10) as http:
        error = _refusal(http.post("/jobs/", json={"kind": "stream", "params": {"messages": HI}}), 401)
        assert error["type"] == "authentication_required"
        assert _refusal(http.post(signed_in_site.path, json={"messages": HI}), 401)
    assert fake_claude.requests == []


def test_one_quota_for_chat_and_jobs(signed_in_site: Server, fake_claude: FakeClaude) -> None:
    user = _user()
    with httpx.Client(base_url=signed_in_site.url, timeout=10, headers=user) as http:
        assert http.post(signed_in_site.path, json={"messages": HI}).status_code == 200
        for _ in range(2):
            assert http.post("/jobs/", json={"kind": "create", "params": {"messages": HI}}).status_code == 202
        calls = _settled(fake_claude, 3)  # the chat call and the two jobs' calls
        over = http.post("/jobs/", json={"kind": "stream", "params": {"messages": HI}})
        assert _refusal(over, 429)["type"] == "quota_exceeded" and int(over.headers["Retry-After"]) > 0
        assert _refusal(http.post(signed_in_site.path, json={"messages": HI}), 429)
        assert len(fake_claude.requests) == calls  # refused before any upstream call


def test_batch_jobs_follow_the_chat_rules(signed_in_site: Server, fake_claude: FakeClaude) -> None:
    def batch(**params: Any) -> dict[str, Any]:
        return {"kind": "batch", "params": {"requests": [{"custom_id": "a", "params": {"messages": HI, **params}}]}}

    with httpx.Client(base_url=signed_in_site.url, timeout=10, headers=_user()) as http:
        error = _refusal(http.post("/jobs/", json=batch(model="claude-opus-4-1")), 400)
        assert error["field"] == "params.requests[0].params.model"
        error = _refusal(http.post("/jobs/", json=batch(max_tokens=100_000)), 400)
        assert error["field"] == "params.requests[0].params.max_tokens"
        error = _refusal(http.post("/jobs/", json={"kind": "batch", "params": {"requests": "all"}}), 400)
        assert error["field"] == "params.requests"
    assert fake_claude.requests == []


@pytest.mark.parametrize("kind", ["chat", "job"])
def test_only_json_bodies(signed_in_site: Server, fake_claude: FakeClaude, kind: str) -> None:
    path = signed_in_site.path if kind == "chat" else "/jobs/"
    body = {"messages": HI} if kind == "chat" else {"kind": "stream", "params": {"messages": HI}}
    with httpx.Client(base_url=signed_in_site.url, timeout=10, headers=_user()) as http:
        raw = json.dumps(body).encode()
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
            response = http.post(path, content=raw, headers={"Content-Type": content_type} if content_type else {})
            assert _refusal(response, 415)["type"] == "unsupported_media_type", content_type
    assert fake_claude.requests == []


def _settled(fake: FakeClaude, count: int) -> int:
    deadline = time.monotonic() + 10
    while len(fake.requests) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(fake.requests)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


BAD_CHAT = {
    "deep nesting": ('{"messages": ' + _deep(40_000) + "}", "body"),  # refused while parsing
    "deep metadata": ('{"messages": [{"role": "user", "content": "Hi"}], "metadata": {"user_id": ' + _deep(40_000)
                      + "}}", "body"),
    "text not a string": (json.dumps({"messages": [{"role": "user", "content": [{"type": "text", "text": 42}]}]}),
                          "messages[0].content[0].text"),
    "text missing": (json.dumps({"messages": [{"role": "user", "content": [{"type": "text"}]}]}),
                     "messages[0].content[0].text"),
    "metadata key": (json.dumps({"messages": HI, "metadata": {"session": "x"}}), "metadata.session"),
    "metadata user_id": (json.dumps({"messages": HI, "metadata": {"user_id": 7}}), "metadata.user_id"),
    "lone surrogate": ('{"messages": [{"role": "user", "content": "bad \\ud800 text"}]}', "messages[0].content"),
    "image too large": (json.dumps({"messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": "A" * (MAX_IMAGE * 2)}}]}]}), "messages[0].content[0].source.data"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CHAT))
def test_bad_input_is_a_400_naming_the_field(signed_in_site: Server, fake_claude: FakeClaude, case: str) -> None:
    body, field = BAD_CHAT[case]
    inner = json.loads(body) if case not in ("deep nesting", "deep metadata") else None
    job = (
        json.dumps({"kind": "stream", "params": inner})
        if inner is not None
        else '{"kind": "stream", "params": ' + body + "}"
    )
    with httpx.Client(base_url=signed_in_site.url, timeout=20, headers=_user()) as http:
        for path, raw, prefix in ((signed_in_site.path, body, ""), ("/jobs/", job, "params.")):
            response = http.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})
            error = _refusal(response, 400)
            assert error["field"] == (field if field == "body" else prefix + field), (case, path, error)
    assert fake_claude.requests == []


def test_a_body_over_the_frameworks_limit_is_json(signed_in_site: Server, fake_claude: FakeClaude) -> None:
    big = json.dumps({"messages": [{"role": "user", "content": "x" * (MAX_BODY + 10)}]}).encode()
    for path in (signed_in_site.path, "/jobs/"):
        # a connection each: a server may close one whose body the app left unread (gunicorn drains only so much)
        with httpx.Client(base_url=signed_in_site.url, timeout=20, headers=_user()) as http:
            response = http.post(path, content=big, headers={"Content-Type": "application/json"})
            error = _refusal(response, 413 if response.status_code == 413 else 400)
            assert error["field"] == "body" and str(MAX_BODY)[:3] in error["message"].replace(",", ""), error
    assert fake_claude.requests == []


def test_anonymous_visitors_have_a_quota_too(open_site: Server, fake_claude: FakeClaude) -> None:
    """Anonymous visitors own their jobs through their session, and count against their address (as their
    chats do): dropping the session cookie does not start a new count."""
    with httpx.Client(base_url=open_site.url, timeout=10) as visitor:
        for _ in range(3):
            started = visitor.post("/jobs/", json={"kind": "create", "params": {"messages": HI}})
            assert started.status_code == 202, started.text
        assert _refusal(visitor.post("/jobs/", json={"kind": "create", "params": {"messages": HI}}), 429)
        assert _refusal(visitor.post(open_site.path, json={"messages": HI}), 429)  # chats: the same count
    # a client that drops its cookies (a new session each time) is still the same visitor
    dropped = httpx.post(f"{open_site.url}/jobs/", json={"kind": "create", "params": {"messages": HI}}, timeout=10)
    assert _refusal(dropped, 429)


@pytest.mark.parametrize("failure", [401, 529, 500, "dead"])
def test_no_api_key_on_djangos_debug_page(fake_claude: FakeClaude, tmp_path: Path, failure: int | str) -> None:
    """DEBUG=True renders every frame's locals for an uncaught client error: the key is in none of them."""
    env = {"CW_DEBUG": "1"}
    if failure == "dead":
        env["CW_FAKE_URL"] = "http://127.0.0.1:9"
    server = _start("runserver-django", fake_claude, tmp_path, **env)
    try:
        if failure != "dead":
            fake_claude.fail_next(1, status=int(failure))
        page = httpx.get(f"{server.url}/plain/", headers={"X-User": "dev"}, timeout=30)
    finally:
        server.stop()
    assert page.status_code == 500
    assert "Local vars" in page.text or "local vars" in page.text.lower()  # the page with the frames' locals
    assert API_KEY not in page.text
    assert API_KEY[-8:] not in page.text
