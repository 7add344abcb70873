"""Defaults shared by every client (values from Anthropic's public API documentation)."""

from __future__ import annotations

import httpx

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_TIMEOUT = httpx.Timeout(timeout=600, connect=5.0)  # 600 as an int, as `anthropic` has it
DEFAULT_MAX_RETRIES = 2
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# a retry-after longer than this is ignored in favour of our own backoff
MAX_RETRY_AFTER = 60.0

# The non-streaming guard: a call is expected to take up to an hour per 128k output tokens; past ten
# minutes the user must stream. Some models have a smaller explicit cap.
NONSTREAMING_MAX_SECONDS = 60 * 60
NONSTREAMING_DEFAULT_SECONDS = 60 * 10
NONSTREAMING_TOKENS_PER_HOUR = 128_000
MODEL_NONSTREAMING_TOKENS: dict[str, int] = {
    "claude-opus-4-20250514": 8_192,
    "claude-opus-4-0": 8_192,
    "claude-4-opus-20250514": 8_192,
    "anthropic.claude-opus-4-20250514-v1:0": 8_192,
    "claude-opus-4@20250514": 8_192,
    "anthropic.claude-opus-4-1-20250805-v1:0": 8_192,
    "claude-opus-4-1@20250805": 8_192,
}
