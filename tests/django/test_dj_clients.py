"""Process clients, per-request views of them, per-event-loop async clients and the middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from cwdj_helpers import usage_rows
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from claude_web import Anthropic, AsyncAnthropic
from claude_web_django import aclient_for, client_for, get_async_client, get_client
from claude_web_django.clients import FAKE_API_KEY, build_client, request_context
from claude_web_django.conf import ClientSettings


def test_one_sync_client_per_alias_and_process(claude_web_settings: Any, fake_claude: Any) -> None:
    client = get_client()
    assert isinstance(client, Anthropic)
    assert get_client("default") is client
    assert str(client.base_url).rstrip("/") == fake_claude.base_url.rstrip("/")
    assert client.api_key == FAKE_API_KEY
    assert client.max_retries == 0


def test_setting_change_rebuilds_the_client(claude_web_settings: Any) -> None:
    first = get_client()
    claude_web_settings(CLIENTS={"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:1"}}})
    second = get_client()
    assert second is not first
    assert str(second.base_url).startswith("http://127.0.0.1:1")


def test_unknown_alias_is_a_clear_error(claude_web_settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="has no 'nope' client"):
        get_client("nope")


def test_unknown_option_is_a_clear_error() -> None:
    cfg = ClientSettings("default", "anthropic", {"api_key": "k", "colour": "red"})
    with pytest.raises(ImproperlyConfigured, match=r"OPTIONS'\] has an option Anthropic does not take"):
        build_client(cfg)


def test_missing_extra_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    # boto3 and botocore not installed: importing them raises ImportError
    for name in [m for m in sys.modules if m == "boto3" or m.startswith(("boto3.", "botocore"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(ImproperlyConfigured, match=r"pip install 'claude-web\[bedrock\]'"):
        build_client(ClientSettings("aws", "bedrock", {"aws_region": "us-east-1"}))


def test_clients_without_usage_hooks_still_build(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend class that does not take the usage options is built without them, with a warning."""

    class Plain:
        def __init__(self, *, api_key: str | None = None, base_url: str | None = None) -> None:
            self.api_key, self.base_url = api_key, base_url

    import claude_web.web.clients as registry

    monkeypatch.setattr(registry, "client_class", lambda cfg, asynchronous: Plain)
    client = build_client(ClientSettings("p", "fake", {"base_url": "http://x"}))
    assert isinstance(client, Plain) and client.base_url == "http://x" and client.api_key == FAKE_API_KEY
    assert "not recorded in the usage ledger" in caplog.text


def test_request_views_share_the_pool_and_carry_metadata(
    claude_web_settings: Any, rf: RequestFactory, user: Any
) -> None:
    request = rf.get("/x", HTTP_X_REQUEST_ID="req-123")
    request.user = user
    view = client_for(request)
    assert view is not get_client()
    assert view._client is get_client()._client  # one connection pool
    context = request_context(request, "default")
    assert context["user_id"] == str(user.pk) and context["request_id"] == "req-123"  # a string, as under Flask
    assert context["quota_key"] == f"user:{user.pk}"


def test_anonymous_requests_are_keyed_by_address(claude_web_settings: Any, rf: RequestFactory) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/x", REMOTE_ADDR="10.1.2.3")
    request.user = AnonymousUser()
    context = request_context(request, "default")
    assert context["user_id"] is None and context["quota_key"] == "ip:10.1.2.3"
    assert len(context["request_id"]) == 32  # generated


def test_async_client_needs_a_running_loop(claude_web_settings: Any) -> None:
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        get_async_client()


def test_async_clients_are_per_event_loop(claude_web_settings: Any) -> None:
    async def grab() -> tuple[AsyncAnthropic, AsyncAnthropic, int]:
        first, second = get_async_client(), get_async_client()
        return first, second, id(asyncio.get_running_loop())

    a1, a2, loop_a = async_to_sync(grab)()
    b1, b2, loop_b = async_to_sync(grab)()
    assert isinstance(a1, AsyncAnthropic)
    assert a1 is a2 and b1 is b2  # cached within a loop
    assert a1 is not b1  # never shared across loops
    assert a1._client is not b1._client


@pytest.mark.django_db(transaction=True)
def test_async_client_works_on_each_loop(claude_web_settings: Any, fake_claude: Any) -> None:
    """Two ``async_to_sync`` calls, i.e. two event loops, both complete a real call (no 'loop is closed')."""

    async def call() -> str:
        message = await get_async_client().messages.create(
            model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
        )
        return message.content[0].text

    assert async_to_sync(call)()
    assert async_to_sync(call)()
    assert len(fake_claude.requests) == 2
    rows = usage_rows()
    assert [r.status for r in rows] == ["ok", "ok"]


@pytest.mark.django_db(transaction=True)
def test_aclient_for_loads_the_user(claude_web_settings: Any, rf: RequestFactory, user: Any) -> None:
    request = rf.get("/x")

    async def auser() -> Any:
        return user

    request.auser = auser

    async def call() -> None:
        client = await aclient_for(request)
        await client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )

    async_to_sync(call)()
    (row,) = usage_rows()
    assert row.user_id == user.pk and row.operation


@pytest.mark.django_db(transaction=True)
def test_middleware_gives_request_claude(claude_web_settings: Any, auth_client: Any, user: Any) -> None:
    response = auth_client.get("/plain/", HTTP_X_REQUEST_ID="abc-1")
    assert response.status_code == 200
    assert response.json()["text"]
    (row,) = usage_rows()
    assert row.user_id == user.pk
    assert row.web_request_id == "abc-1"
    assert row.alias == "default" and row.backend == "fake"
    assert row.context["path"] == "/plain/"


@pytest.mark.django_db(transaction=True)
def test_middleware_gives_request_aclaude(claude_web_settings: Any, async_client: Any, user: Any) -> None:
    async_client.force_login(user)

    async def run() -> Any:
        return await async_client.get("/aplain/")

    response = async_to_sync(run)()
    assert response.status_code == 200
    (row,) = usage_rows()
    assert row.user_id == user.pk and row.status == "ok"


def test_asgi_lifespan_shutdown_closes_the_loops_clients(claude_web_settings: Any) -> None:
    import asyncio

    from claude_web_django.asgi import with_lifespan

    async def django_app(scope: Any, receive: Any, send: Any) -> None:  # never reached by lifespan messages
        raise AssertionError("lifespan must not reach Django")

    app = with_lifespan(django_app)

    async def serve() -> tuple[Any, list[str]]:
        client = get_async_client()
        inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent: list[str] = []

        async def receive() -> Any:
            return inbox.pop(0)

        async def send(message: Any) -> None:
            sent.append(message["type"])

        await app({"type": "lifespan"}, receive, send)
        return client, sent

    client, sent = asyncio.run(serve())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert client._client.is_closed
