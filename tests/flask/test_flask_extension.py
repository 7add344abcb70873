"""ClaudeWeb / init_app: registration, config defaults and errors, app factory, per-request clients."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, g
from flask_helpers import chat_body, parse_sse

from claude_web import Anthropic
from claude_web_flask import DEFAULTS, Claude, ClaudeWeb, ConfigError, get_state


def test_alias_and_defaults_in_one_place(make_app: Any) -> None:
    assert Claude is ClaudeWeb
    t = make_app()
    for key in DEFAULTS:
        assert key in t.app.config, key
    assert t.app.config["CLAUDE_WEB_STREAM_HEARTBEAT"] == 15.0
    assert t.app.extensions["claude_web"] is get_state(t.app)


def test_second_registration_is_refused(make_app: Any) -> None:
    t = make_app()
    with pytest.raises(RuntimeError, match="already registered"):
        t.claude.init_app(t.app)
    with pytest.raises(RuntimeError, match="already registered"):
        ClaudeWeb(t.app)


def test_missing_api_key_outside_testing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    app = Flask("prod")
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as info:
        ClaudeWeb(app)
    assert "CLAUDE_WEB_CLIENTS" in str(info.value)
    assert "claude_web" not in app.extensions
    # in testing the same config is accepted (the fake or a mock transport supplies the answers)
    testing_app = Flask("testing")
    testing_app.testing = True
    ClaudeWeb(testing_app)
    # and a key from the environment is enough in production
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    ClaudeWeb(Flask("prod2"))


def test_fake_backend_only_when_testing_or_debug(fake_claude: Any) -> None:
    config = {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url}}}
    app = Flask("prod")
    app.config["CLAUDE_WEB_CLIENTS"] = config
    with pytest.raises(ConfigError, match="only allowed when app.testing or app.debug"):
        ClaudeWeb(app)
    debug_app = Flask("debug")
    debug_app.debug = True
    debug_app.config["CLAUDE_WEB_CLIENTS"] = config
    ClaudeWeb(debug_app)
    no_url = Flask("nourl")
    no_url.testing = True
    no_url.config["CLAUDE_WEB_CLIENTS"] = {"default": {"BACKEND": "fake", "OPTIONS": {}}}
    with pytest.raises(ConfigError, match="base_url"):
        ClaudeWeb(no_url)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("CLAUDE_WEB_CLIENTS", {"default": {"BACKEND": "nope"}}, "BACKEND"),
        ("CLAUDE_WEB_CLIENTS", {"default": {"OPTION": {}}}, "unknown key"),
        ("CLAUDE_WEB_DEFAULT_CLIENT", "other", "CLAUDE_WEB_DEFAULT_CLIENT"),
        ("CLAUDE_WEB_QUOTAS", {"REQUESTS_PER_HOUR": 3}, "REQUESTS_PER_HOUR"),
        ("CLAUDE_WEB_QUOTAS", {"REQUESTS_PER_MINUTE": 3}, "CLAUDE_WEB_QUOTA_REDIS_URL"),
        ("CLAUDE_WEB_USAGE_STORAGE", "mongo", "CLAUDE_WEB_USAGE_STORAGE"),
        ("CLAUDE_WEB_USAGE_TABLE", "usage; drop table x", "CLAUDE_WEB_USAGE_TABLE"),
        ("CLAUDE_WEB_STREAM_HEARTBEAT", 0, "CLAUDE_WEB_STREAM_HEARTBEAT"),
        ("CLAUDE_WEB_CHAT_DEFAULT_MODEL", "claude-unknown", "CLAUDE_WEB_CHAT_DEFAULT_MODEL"),
        ("CLAUDE_WEB_PRICING", {"my-model": {"input": 1}}, "lacks .output."),
        ("CLAUDE_WEB_USER_LOADER", "no_such_module:loader", "CLAUDE_WEB_USER_LOADER"),
    ],
)
def test_bad_settings_fail_at_init_app(make_app: Any, key: str, value: Any, message: str) -> None:
    t = make_app(register=False, **{key: value})
    with pytest.raises(ConfigError, match=message):
        t.claude.init_app(t.app)


def test_section_dicts_are_not_overridden_by_defaults(make_app: Any) -> None:
    """A setting given in a section dict keeps its value (the defaults of single keys used to replace it: a
    ``CLAUDE_WEB_QUOTAS`` ``STORE`` of ``"memory"`` became ``"redis"``, a ``CLAUDE_WEB_CHAT`` cap became 1024)."""
    t = make_app(
        CLAUDE_WEB_QUOTAS={"STORE": "memory", "REQUESTS_PER_MINUTE": 2, "KEY_PREFIX": "mine"},
        CLAUDE_WEB_CHAT={"MAX_TOKENS": 256, "ALLOW_SYSTEM": False},
        CLAUDE_WEB_STREAMING={"HEARTBEAT": 3.0},
    )
    settings = get_state(t.app).settings
    assert (settings.quotas.store, settings.quotas.key_prefix, settings.quotas.fail_open) == ("memory", "mine", True)
    assert (settings.chat.max_tokens, settings.chat.allow_system, settings.chat.max_messages) == (256, False, 200)
    assert settings.streaming.heartbeat == 3.0
    assert "CLAUDE_WEB_CHAT_MAX_TOKENS" not in t.app.config
    # a single key the app sets itself still wins over its section dict, and reading never writes into the
    # app's dicts or the shared defaults
    t2 = make_app(CLAUDE_WEB_CHAT={"MAX_TOKENS": 256}, CLAUDE_WEB_CHAT_MAX_TOKENS=128)
    assert get_state(t2.app).settings.chat.max_tokens == 128
    assert t2.app.config["CLAUDE_WEB_CHAT"] == {"MAX_TOKENS": 256}
    assert t2.app.config["CLAUDE_WEB_QUOTAS"] == {} == DEFAULTS["CLAUDE_WEB_QUOTAS"]
    assert t2.app.config["CLAUDE_WEB_QUOTAS"] is not DEFAULTS["CLAUDE_WEB_QUOTAS"]


def test_client_spec_repr_hides_the_key(make_app: Any) -> None:
    t = make_app(CLAUDE_WEB_CLIENTS={"default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": "sk-ant-SECRET"}}})
    spec = get_state(t.app).settings.clients["default"]
    assert "sk-ant-SECRET" not in repr(spec)
    assert "sk-ant-SECRET" not in repr(get_state(t.app).settings)
    with t.app.app_context():
        assert "sk-ant-SECRET" not in repr(t.claude.client)


def test_per_request_client_is_a_cheap_view_kept_on_g(make_app: Any) -> None:
    t = make_app()
    t.claude.user_loader(lambda: "alice")
    with t.app.test_request_context("/x", headers={"X-Request-ID": "req-123"}):
        client = t.claude.client
        assert client is t.claude.get_client("default")
        assert g._claude_web_clients["default"] is client
        base = get_state(t.app).runtime.clients.get("default")
        assert client is not base
        assert client._client is base._client  # one connection pool for every request
        context = client.usage_context
        assert context["user_id"] == "alice"
        assert context["request_id"] == "req-123"
        assert context["alias"] == "default"
        assert context["path"] == "/x"
        assert context["quota_key"] == "user:alice"
    with t.app.test_request_context("/y"):
        other = t.claude.client
        assert other is not client
        assert len(other.usage_context["request_id"]) == 32  # generated when the header is absent


def test_usage_record_carries_request_metadata(make_app: Any, fake_claude: Any) -> None:
    t = make_app(CLAUDE_WEB_USER_LOADER=lambda: 42)
    client = t.app.test_client()
    response = client.post("/claude/chat", json=chat_body("Hello"), headers={"X-Request-ID": "abc"})
    assert response.status_code == 200
    events = [e for e in parse_sse(response.get_data(as_text=True)) if "event" in e]
    assert events[-1]["event"] == "done"
    [record] = t.usage.wait(1)
    assert record.status == "ok"
    assert record.context["user_id"] == "42"
    assert record.context["request_id"] == "abc"
    assert record.context["path"] == "/claude/chat"
    assert fake_claude.last_request is not None


def test_two_apps_configured_differently_in_one_process(make_app: Any, fake_claude: Any) -> None:
    from claude_web.testing import FakeClaude

    with FakeClaude() as other:
        one = make_app(CLAUDE_WEB_CHAT_MODELS=["claude-haiku-4-5"])
        two = make_app(base_url=other.base_url, CLAUDE_WEB_CHAT_MODELS=["claude-sonnet-4-5"])
        # (a streamed body runs inside its request context: read each one before the next request)
        r1 = one.app.test_client().post("/claude/chat", json=chat_body("to one"))
        assert r1.status_code == 200 and "event: done" in r1.get_data(as_text=True)
        r2 = two.app.test_client().post("/claude/chat", json=chat_body("to two"))
        assert r2.status_code == 200 and "event: done" in r2.get_data(as_text=True)
        assert len(fake_claude.requests) == 1 and len(other.requests) == 1
        assert _body(fake_claude.requests[0])["model"] == "claude-haiku-4-5"
        assert _body(other.requests[0])["model"] == "claude-sonnet-4-5"
        # each app records its own usage only
        assert [r.model for r in one.usage.wait(1)] == ["claude-haiku-4-5"]
        assert [r.model for r in two.usage.wait(1)] == ["claude-sonnet-4-5"]
        # and one app's model policy is not the other's
        refused = one.app.test_client().post("/claude/chat", json=chat_body("x", model="claude-sonnet-4-5"))
        assert refused.status_code == 400
        assert refused.get_json()["error"]["field"] == "model"


def test_client_outside_a_request_carries_only_the_alias(make_app: Any) -> None:
    t = make_app()
    with t.app.app_context():
        client = t.claude.client
        assert isinstance(client, Anthropic)
        assert client.usage_context == {"alias": "default", "backend": "fake"}
    with pytest.raises(RuntimeError, match="not set up"):
        get_state(Flask("bare"))


def _body(request: Any) -> dict[str, Any]:
    body = getattr(request, "json", None)
    if callable(body):
        body = body()
    if isinstance(body, dict):
        return body
    import json

    return dict(json.loads(request.body))


def test_a_failing_user_loader_means_anonymous_not_a_500(make_app: Any, fake_claude: Any) -> None:
    def broken() -> str:
        raise LookupError("session store down")

    t = make_app(CLAUDE_WEB_USER_LOADER=broken)
    response = t.app.test_client().post("/claude/chat", json=chat_body())
    assert response.status_code == 200
    assert "event: done" in response.get_data(as_text=True)
    [record] = t.usage.wait(1)
    assert record.context["user_id"] is None
    assert record.context["quota_key"] == "ip:127.0.0.1"


def test_user_loader_from_a_dotted_path(make_app: Any) -> None:
    t = make_app(CLAUDE_WEB_USER_LOADER="getpass:getuser")
    with t.app.test_request_context("/"):
        import getpass

        assert t.claude.request_metadata()["user_id"] == getpass.getuser()


def test_a_setting_under_the_other_spelling_of_its_section_is_not_overridden_by_a_default(make_app: Any) -> None:
    t = make_app(CLAUDE_WEB_STREAMING_MAX_STREAMS=7, CLAUDE_WEB_QUOTAS_KEY_PREFIX="mine")
    settings = get_state(t.app).settings
    assert settings.streaming.max_streams == 7 and settings.quotas.key_prefix == "mine"
