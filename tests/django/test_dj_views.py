"""The chat views through Django's test client: validation, login, CSRF, the SSE body, upstream errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from cwdj_helpers import chat_body, parse_sse, usage_rows
from django.test import Client

from claude_web.testing import error, text

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/claude/chat/"
AURL = "/claude/achat/"


def post(client: Any, body: Any, url: str = URL) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ({"messages": "hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages[0].content"),
        (chat_body(model="gpt-4"), "model"),
        (chat_body(model=7), "model"),
        (chat_body(max_tokens=5000), "max_tokens"),
        (chat_body(max_tokens="10"), "max_tokens"),
        (chat_body(colour="red"), "colour"),
    ],
)
@pytest.mark.parametrize("url", [URL, AURL])
def test_bad_input_is_a_400_naming_the_field(
    claude_web_settings: Any, fake_claude: Any, auth_client: Any, body: Any, field: str, url: str
) -> None:
    response = post(auth_client, body, url)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"]["type"] == "invalid_request"
    assert payload["error"]["field"] == field
    assert fake_claude.requests == []  # no upstream call
    assert usage_rows() == []


@pytest.mark.parametrize("url", [URL, AURL])
def test_login_is_required_by_default(claude_web_settings: Any, fake_claude: Any, client: Client, url: str) -> None:
    response = post(client, chat_body(), url)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_required"
    assert fake_claude.requests == []


def test_anonymous_chat_when_allowed(claude_web_settings: Any, fake_claude: Any, client: Client) -> None:
    claude_web_settings(CHAT={"MODELS": ["claude-haiku-4-5"], "LOGIN_REQUIRED": False})
    response = post(client, chat_body())
    events = parse_sse(body_of(response))
    assert events[-1]["event"] == "done"
    (row,) = usage_rows()
    assert row.user_id is None and row.context["quota_key"].startswith("ip:")


@pytest.mark.parametrize("url", [URL, AURL])
def test_csrf_is_kept(claude_web_settings: Any, fake_claude: Any, user: Any, url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, chat_body(), url)
    assert response.status_code == 403
    assert fake_claude.requests == []
    client.get("/admin/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    ok = client.post(url, data=json.dumps(chat_body()), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200


def test_get_is_not_allowed(claude_web_settings: Any, auth_client: Any) -> None:
    assert auth_client.get(URL).status_code == 405


def test_stream_body_is_browser_sse(claude_web_settings: Any, fake_claude: Any, auth_client: Any, user: Any) -> None:
    fake_claude.queue(text("Hello big world", chunks=3))
    response = post(auth_client, chat_body(model="claude-sonnet-4-5", max_tokens=100), URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    assert response["X-Request-ID"]
    events = parse_sse(body_of(response))
    assert events[0] == {"comment": "stream open"}
    named = [e for e in events if "event" in e]
    assert [e["event"] for e in named][0] == "start" and named[-1]["event"] == "done"
    assert [int(e["id"]) for e in named] == list(range(1, len(named) + 1))
    assert "".join(e["data"]["text"] for e in named if e["event"] == "text") == "Hello big world"
    assert sum(1 for e in named if e["event"] == "text") >= 3
    sent_body = fake_claude.last_request.json
    assert sent_body["model"] == "claude-sonnet-4-5" and sent_body["max_tokens"] == 100
    (row,) = usage_rows()
    assert row.status == "ok" and row.operation == "messages.stream" and row.user_id == user.pk
    assert row.web_request_id == response["X-Request-ID"]
    assert named[-1]["data"]["usage"]["output_tokens"] == row.output_tokens


def test_upstream_error_is_a_safe_sse_error_event(claude_web_settings: Any, fake_claude: Any, auth_client: Any) -> None:
    fake_claude.queue(error(529))
    response = post(auth_client, chat_body())
    assert response.status_code == 200
    raw = body_of(response)
    events = [e for e in parse_sse(raw) if "event" in e]
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["data"]["type"] == "overloaded_error"
    assert "overloaded" in events[0]["data"]["message"].lower()
    assert b"Traceback" not in raw and b"fake-key" not in raw
    (row,) = usage_rows()
    assert row.status == "error" and row.error_type == "overloaded_error"


@pytest.mark.parametrize("url", [URL, AURL])
def test_views_stream_under_the_async_test_client(
    claude_web_settings: Any, fake_claude: Any, user: Any, async_client: Any, url: str
) -> None:
    """Under ASGI both views answer with an async iterator (a sync one would be buffered by Django)."""
    fake_claude.queue(text("Async hello", chunks=2))
    async_client.force_login(user)

    async def run() -> bytes:
        response = await async_client.post(url, data=chat_body(), content_type="application/json")
        assert response.status_code == 200
        assert response.is_async
        return b"".join([chunk async for chunk in response.streaming_content])

    events = [e for e in parse_sse(async_to_sync(run)()) if "event" in e]
    assert "".join(e["data"]["text"] for e in events if e["event"] == "text") == "Async hello"
    assert events[-1]["event"] == "done"
    (row,) = usage_rows()
    assert row.status == "ok" and row.user_id == user.pk


def test_subclass_can_add_a_system_prompt(claude_web_settings: Any, fake_claude: Any, rf: Any, user: Any) -> None:
    from claude_web_django.views import ChatStreamView

    class Pirate(ChatStreamView):
        def get_params(self, request: Any, params: dict[str, Any]) -> dict[str, Any]:
            return {**params, "system": "Talk like a pirate."}

    request = rf.post(URL, data=json.dumps(chat_body()), content_type="application/json")
    request.user = user
    response = Pirate.as_view()(request)
    body_of(response)
    sent_body = fake_claude.last_request.json
    assert sent_body["system"] == "Talk like a pirate."
