"""System checks: stable ids, hints, and what triggers each."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from claude_web_django.checks import check_claude_web

FAKE = {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}


def ids(value: Any, **overrides: Any) -> list[str]:
    with override_settings(CLAUDE_WEB=value, **overrides):
        return [m.id for m in check_claude_web()]


def test_a_clean_configuration_passes() -> None:
    assert ids({"CLIENTS": {"default": FAKE}}, DEBUG=True) == []


def test_unparsable_settings_are_e001() -> None:
    with override_settings(CLAUDE_WEB={"CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {}}}}):
        (message,) = check_claude_web()
    assert message.id == "claude_web.E001"
    assert "needs 'base_url'" in message.msg and message.hint


def test_unknown_backend_is_e008() -> None:
    with override_settings(CLAUDE_WEB={"CLIENTS": {"default": FAKE, "x": {"BACKEND": "openai"}}}):
        (message,) = check_claude_web()
    assert message.id == "claude_web.E008"
    assert "'openai', which is not a backend" in message.msg and "'bedrock'" in message.hint


def test_anthropic_client_without_key_is_e002(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with override_settings(CLAUDE_WEB={"CLIENTS": {"default": {"BACKEND": "anthropic"}}}):
        (message,) = check_claude_web()
    assert message.id == "claude_web.E002" and "ANTHROPIC_API_KEY" in message.hint
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    assert ids({"CLIENTS": {"default": {"BACKEND": "anthropic"}}}) == []
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert ids({"CLIENTS": {"default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": "sk"}}}}) == []


def test_missing_extras_are_e003_and_e004(monkeypatch: pytest.MonkeyPatch) -> None:
    import claude_web.web.checks as checks

    monkeypatch.setattr(checks, "_has_module", lambda name: False)
    value = {"CLIENTS": {"default": FAKE, "aws": {"BACKEND": "bedrock"}, "gcp": {"BACKEND": "vertex"}}}
    assert ids(value, DEBUG=True) == ["claude_web.E003", "claude_web.E004"]
    monkeypatch.setattr(checks, "_has_module", lambda name: True)
    assert ids(value, DEBUG=True) == []


def test_unknown_chat_client_is_e005() -> None:
    assert ids({"CLIENTS": {"default": FAKE}, "CHAT": {"CLIENT": "other"}}, DEBUG=True) == ["claude_web.E005"]


def test_unknown_usage_database_is_e006() -> None:
    assert ids({"CLIENTS": {"default": FAKE}, "USAGE": {"DATABASE": "nope"}}, DEBUG=True) == ["claude_web.E006"]


def test_quota_cache_checks_e007_and_w002() -> None:
    quotas = {"REQUESTS_PER_MINUTE": 5, "CACHE": "missing"}
    assert ids({"CLIENTS": {"default": FAKE}, "QUOTAS": quotas}, DEBUG=True) == ["claude_web.E007"]
    quotas["CACHE"] = "default"  # local memory in the test project
    assert ids({"CLIENTS": {"default": FAKE}, "QUOTAS": quotas}, DEBUG=True) == ["claude_web.W002"]
    shared = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert ids({"CLIENTS": {"default": FAKE}, "QUOTAS": quotas}, DEBUG=True, CACHES=shared) == []


def test_fake_backend_in_production_is_w001() -> None:
    assert ids({"CLIENTS": {"default": FAKE}}, DEBUG=False) == ["claude_web.W001"]
    assert ids({"CLIENTS": {"default": FAKE}}, DEBUG=True) == []


def test_unpriced_chat_model_is_w003() -> None:
    value = {"CLIENTS": {"default": FAKE}, "CHAT": {"MODELS": ["claude-haiku-4-5", "my-model"]}}
    with override_settings(CLAUDE_WEB=value, DEBUG=True):
        (message,) = check_claude_web()
    assert message.id == "claude_web.W003" and "'my-model'" in message.msg


def test_checks_run_through_manage_py() -> None:
    with override_settings(CLAUDE_WEB={"CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {}}}}):
        with pytest.raises(SystemCheckError, match="claude_web.E001"):
            call_command("check")


def test_an_assistant_tool_that_cannot_be_imported_is_w005() -> None:
    value = {
        "CLIENTS": {"default": FAKE},
        "ASSISTANTS": {"calc": {"MODEL": "claude-haiku-4-5", "TOOLS": ["cwdj_tools.calculator", "nowhere.tool"]}},
    }
    with override_settings(CLAUDE_WEB=value, DEBUG=True):
        (message,) = check_claude_web()
    assert message.id == "claude_web.W005"
    assert "ASSISTANTS['calc']['TOOLS'][1]: cannot use 'nowhere.tool' as a tool" in message.msg
    assert "@claude_web.web.tools.tool" in message.hint


def test_an_assistant_model_without_a_price_is_w003() -> None:
    value = {"CLIENTS": {"default": FAKE}, "ASSISTANTS": {"x": {"MODEL": "my-finetune"}}}
    assert ids(value, DEBUG=True) == ["claude_web.W003"]
