"""The settings reader: defaults, errors that say what to write, and ``setting_changed``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from claude_web.usage import DEFAULT_PRICING
from claude_web_django.conf import claude_settings, parse_settings


def test_defaults_without_a_setting() -> None:
    cfg = parse_settings(None)
    assert list(cfg.clients) == ["default"]
    assert cfg.clients["default"].backend == "anthropic"
    assert cfg.usage.enabled is True and cfg.usage.database == "default"
    assert cfg.chat.max_tokens == 1024 and cfg.chat.login_required is True
    assert cfg.streaming.heartbeat == 15.0
    assert not cfg.quotas.limits.enabled
    assert cfg.pricing.table["claude-haiku-4-5"] == DEFAULT_PRICING["claude-haiku-4-5"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], "settings.CLAUDE_WEB must be a dict"),
        ({"CLIENT": {}}, "unknown key(s) 'CLIENT'"),
        ({"CLIENTS": {}}, "CLAUDE_WEB['CLIENTS'] is empty"),
        ({"CLIENTS": {"default": {"BACKEND": "openai"}}}, "'openai', which is not a backend"),
        ({"CLIENTS": {"default": {"BACKEND": "fake"}}}, "needs 'base_url' for the 'fake' backend"),
        ({"CLIENTS": {"default": {"BACKEND": "anthropic", "OPTION": {}}}}, "unknown key(s) 'OPTION'"),
        ({"CHAT": {"MAX_TOKENS": 0}}, "CLAUDE_WEB['CHAT']['MAX_TOKENS'] must be a positive integer"),
        ({"CHAT": {"MODELS": ["a"], "DEFAULT_MODEL": "b"}}, "'b', which is not in MODELS"),
        ({"CHAT": {"MODELS": "claude-haiku-4-5"}}, "must be a non-empty list of model ids"),
        ({"QUOTAS": {"TOKENS_PER_DAY": -5}}, "CLAUDE_WEB['QUOTAS']['TOKENS_PER_DAY'] must be a positive integer"),
        ({"QUOTAS": {"COST_PER_MONTH": "lots"}}, "COST_PER_MONTH'] must be a number"),
        ({"PRICING": {"MODELS": {"m": {"input": 1}}}}, "lacks 'output', 'cache_write', 'cache_read'"),
        (
            {"PRICING": {"MODELS": {"m": {"input": 1, "output": 1, "cache_write": 1, "cache_read": 1, "as_of": "?"}}}},
            "CLAUDE_WEB['PRICING']['MODELS']['m']['as_of'] must be an ISO date",
        ),
        ({"STREAMING": {"HEARTBEAT": 0}}, "must be a positive number of seconds"),
        ({"USAGE": {"ENABLED": "yes"}}, "CLAUDE_WEB['USAGE']['ENABLED'] must be True or False"),
    ],
)
def test_wrong_settings_say_what_to_write(raw: Any, expected: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        parse_settings(raw)
    assert expected in str(info.value)


def test_error_messages_include_an_example() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"Write it like: .*'BACKEND'\] = 'anthropic'"):
        parse_settings({"CLIENTS": {"default": {"BACKEND": "nope"}}})


def test_missing_alias_says_what_to_add() -> None:
    cfg = parse_settings({"CLIENTS": {"default": {"BACKEND": "anthropic"}}})
    with pytest.raises(ImproperlyConfigured, match=r"has no 'batch' client .*'batch': \{'BACKEND': 'anthropic'"):
        cfg.client("batch")


def test_pricing_overrides_merge_with_defaults_or_replace_them() -> None:
    price = {"input": "1", "output": "2", "cache_write": "1.25", "cache_read": "0.1"}
    merged = parse_settings({"PRICING": {"MODELS": {"my-model": price}}}).pricing.table
    assert merged["my-model"].output == Decimal("2")
    assert "claude-sonnet-4-5" in merged
    alone = parse_settings({"PRICING": {"MODELS": {"my-model": price}, "INCLUDE_DEFAULTS": False}}).pricing.table
    assert list(alone) == ["my-model"]


def test_pricing_settings_take_the_long_context_and_tool_keys() -> None:
    price = {
        "input": "1",
        "output": "2",
        "cache_write": "1.25",
        "cache_read": "0.1",
        "cache_write_1h": "2.2",
        "long_context": {"threshold": 100_000, "input": "2", "output": "3"},
        "web_search_per_1k": "12",
        "as_of": "2026-11-02",
        "source": "contract 7",
    }
    table = parse_settings({"PRICING": {"MODELS": {"my-model": price}}}).pricing.table
    parsed = table["my-model"]
    assert parsed.cache_write_1h == Decimal("2.2") and parsed.web_search_per_1k == Decimal("12")
    assert parsed.long_context is not None and parsed.long_context.threshold == 100_000
    assert str(parsed.as_of) == "2026-11-02" and parsed.source == "contract 7"


def test_quota_limits_are_parsed() -> None:
    cfg = parse_settings({"QUOTAS": {"REQUESTS_PER_MINUTE": 3, "COST_PER_MONTH": "2.50", "CACHE": "other"}})
    assert cfg.quotas.limits.requests_per_minute == 3
    assert cfg.quotas.limits.cost_per_month == Decimal("2.50")
    assert cfg.quotas.cache == "other"


def test_client_repr_hides_credentials() -> None:
    cfg = parse_settings({"CLIENTS": {"default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": "sk-secret"}}}})
    text = repr(cfg.clients["default"])
    assert "sk-secret" not in text and "<redacted>" in text


def test_setting_changed_is_honoured() -> None:
    with override_settings(CLAUDE_WEB={"CHAT": {"MAX_TOKENS": 77}}):
        assert claude_settings().chat.max_tokens == 77
        with override_settings(CLAUDE_WEB={"CHAT": {"MAX_TOKENS": 12}}):
            assert claude_settings().chat.max_tokens == 12
        assert claude_settings().chat.max_tokens == 77
    assert claude_settings().chat.max_tokens == 1024


def test_chat_policy_follows_settings() -> None:
    policy = parse_settings({"CHAT": {"MODELS": ["x", "y"], "MAX_TOKENS": 50, "ALLOW_SYSTEM": False}}).chat.policy()
    assert policy.models == ("x", "y") and policy.default_model == "x"
    assert policy.max_tokens_cap == 50 and policy.allow_system is False
