"""The one settings schema: three sources, the same objects, errors that name the setting as it was written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claude_web.web.settings import ConfigError, parse_settings, settings_from_env, settings_from_flat

NESTED = {
    "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}},
    "CHAT": {"MODELS": ["claude-haiku-4-5"], "MAX_TOKENS": 300, "LOGIN_REQUIRED": False},
    "QUOTAS": {"TOKENS_PER_DAY": 5000, "COST_PER_MONTH": "2.50", "STORE": "memory"},
    "STREAMING": {"HEARTBEAT": 2.5, "MAX_STREAMS": 50},
    "PRICING": {"MODELS": {"my-model": {"input": "1", "output": "2", "cache_write": "1.25", "cache_read": "0.1"}}},
    "JOBS": {"REDIS_URL": "redis://127.0.0.1:6379/15", "MAX_RETRIES": 3},
}
FLAT = {
    "CLAUDE_WEB_CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}},
    "CLAUDE_WEB_CHAT_MODELS": ["claude-haiku-4-5"],
    "CLAUDE_WEB_CHAT_MAX_TOKENS": 300,
    "CLAUDE_WEB_CHAT_LOGIN_REQUIRED": False,
    "CLAUDE_WEB_QUOTAS": {"TOKENS_PER_DAY": 5000, "COST_PER_MONTH": "2.50"},
    "CLAUDE_WEB_QUOTA_STORE": "memory",
    "CLAUDE_WEB_STREAM_HEARTBEAT": 2.5,
    "CLAUDE_WEB_STREAMING_MAX_STREAMS": 50,
    "CLAUDE_WEB_PRICING": {"my-model": {"input": "1", "output": "2", "cache_write": "1.25", "cache_read": "0.1"}},
    "CLAUDE_WEB_JOBS": {"REDIS_URL": "redis://127.0.0.1:6379/15", "MAX_RETRIES": 3},
}
ENV = {
    "CLAUDE_WEB_CLIENTS": '{"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}}',
    "CLAUDE_WEB_CHAT_MODELS": "claude-haiku-4-5",
    "CLAUDE_WEB_CHAT_MAX_TOKENS": "300",
    "CLAUDE_WEB_CHAT_LOGIN_REQUIRED": "false",
    "CLAUDE_WEB_QUOTAS": '{"TOKENS_PER_DAY": 5000, "COST_PER_MONTH": "2.50"}',
    "CLAUDE_WEB_QUOTA_STORE": "memory",
    "CLAUDE_WEB_STREAM_HEARTBEAT": "2.5",
    "CLAUDE_WEB_STREAMING_MAX_STREAMS": "50",
    "CLAUDE_WEB_PRICING": '{"my-model": {"input": "1", "output": "2", "cache_write": "1.25", "cache_read": "0.1"}}',
    "CLAUDE_WEB_REDIS_URL": "redis://127.0.0.1:6379/15",
    "CLAUDE_WEB_JOBS_MAX_RETRIES": "3",
    "CLAUDE_WEB_REQUIRE_SERVICES": "1",  # not a setting: ignored in the environment
}


def test_three_sources_make_the_same_settings() -> None:
    nested, flat, env = parse_settings(NESTED), settings_from_flat(FLAT), settings_from_env(ENV)
    assert nested == flat == env
    assert nested.chat.max_tokens == 300 and nested.quotas.limits.cost_per_month == Decimal("2.50")
    assert nested.streaming.max_streams == 50 and nested.jobs.get("MAX_RETRIES") == 3
    assert nested.pricing.table["my-model"].output == Decimal("2")


@pytest.mark.parametrize(
    ("source", "raw", "expected"),
    [
        ("nested", {"CHAT": {"MAX_TOKENS": 0}}, "CLAUDE_WEB['CHAT']['MAX_TOKENS'] must be a positive integer"),
        ("flat", {"CLAUDE_WEB_CHAT_MAX_TOKENS": 0}, 'app.config["CLAUDE_WEB_CHAT_MAX_TOKENS"] must be a positive'),
        ("env", {"CLAUDE_WEB_CHAT_MAX_TOKENS": "0"}, "environment variable CLAUDE_WEB_CHAT_MAX_TOKENS must be"),
        ("flat", {"CLAUDE_WEB_QUOTAS": {"TOKENS_PER_HOUR": 1}}, "'TOKENS_PER_HOUR'"),
        ("flat", {"CLAUDE_WEB_CHAT_MAX_TOKEN": 5}, "CLAUDE_WEB_CHAT_MAX_TOKEN"),
        ("nested", {"CLIENTS": {"x": {"BACKEND": "nope"}}}, "'nope', which is not a backend"),
        ("nested", {"CHAT": {"CLIENT": "other"}}, "CLAUDE_WEB['CHAT']['CLIENT'] is 'other', which is not in CLIENTS"),
    ],
)
def test_errors_name_the_setting_as_written(source: str, raw: dict[str, object], expected: str) -> None:
    parse = {"nested": parse_settings, "flat": settings_from_flat, "env": settings_from_env}[source]
    with pytest.raises(ConfigError) as info:
        parse(raw)  # type: ignore[operator]
    assert expected in str(info.value)
    assert "Write it like" in str(info.value) or "unknown" in str(info.value) or "not a claude-web" in str(info.value)


def test_credentials_never_show_in_reprs() -> None:
    cfg = parse_settings({"CLIENTS": {"a": {"BACKEND": "anthropic", "OPTIONS": {"api_key": "sk-ant-SECRET"}}}})
    assert "sk-ant-SECRET" not in repr(cfg) and "<redacted>" in repr(cfg.clients["a"])
