"""FakeClaude's prompt cache: the API's prompt caching model, kept in memory with a clock tests can move.

A request marks cache breakpoints with ``cache_control: {"type": "ephemeral", "ttl"?: "5m" | "1h"}`` on tools, system
blocks and message content blocks (at most 4). The prefix of the prompt up to each breakpoint, in the order tools ->
system -> messages, is cached for the model once it is at least the model's minimum length. A later request reads
the longest live cached prefix that ends at one of its breakpoints or at one of the 20 blocks before it (the
lookback, per breakpoint); each hit refreshes the entry's TTL. Usage then splits the prompt in three:
``cache_read_input_tokens`` (the prefix read), ``cache_creation_input_tokens`` (newly written up to the last
breakpoint past the hit, by TTL in ``cache_creation``) and ``input_tokens`` (the rest), which add up to what
``count_tokens`` says for the same request.

>>> cache = PromptCache(min_tokens=1)
>>> body = {"model": "m", "system": [{"type": "text", "text": "x" * 400, "cache_control": {"type": "ephemeral"}}],
...         "messages": [{"role": "user", "content": "Hi"}]}
>>> cache.account(body)["cache_creation_input_tokens"], cache.account(body)["cache_read_input_tokens"]
(100, 100)
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._tokens import PromptUnit, estimate_input_tokens, prompt_units, tokens_of

__all__ = ["MAX_BREAKPOINTS", "CacheError", "PromptCache", "check_cache_control", "documented_min_tokens"]

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}

# Minimum cacheable prompt length by model, from the prompt caching documentation (as of 2026-11): 4096 tokens for
# Claude Opus 4.5 / 4.6 and Haiku 4.5, 2048 for Haiku 3.5 and Haiku 3, 1024 for the other Sonnet and Opus models.
_MIN_TOKENS: tuple[tuple[str, int], ...] = (
    ("opus-4-5", 4096),
    ("opus-4-6", 4096),
    ("haiku-4-5", 4096),
    ("3-5-haiku", 2048),
    ("3-haiku", 2048),
)


def documented_min_tokens(model: str) -> int:
    """The documented minimum cacheable prefix for ``model`` (a name, alias, snapshot or platform id).

    >>> documented_min_tokens("claude-sonnet-4-5"), documented_min_tokens("claude-3-5-haiku-20241022")
    (1024, 2048)
    """
    for marker, tokens in _MIN_TOKENS:
        if marker in model:
            return tokens
    return 1024


class CacheError(ValueError):
    """A request's cache_control is not valid (the API answers 400 invalid_request_error)."""


@dataclass
class _Entry:
    expires_at: float
    ttl: str


@dataclass(frozen=True)
class _Breakpoint:
    index: int
    ttl: str


def _breakpoints(units: list[PromptUnit]) -> list[_Breakpoint]:
    found: list[_Breakpoint] = []
    for index, unit in enumerate(units):
        control = unit.cache_control
        if control is None:
            continue
        if not isinstance(control, dict) or control.get("type") != "ephemeral":
            raise CacheError(f"{unit.where}.cache_control.type: Input should be 'ephemeral'")
        ttl = control.get("ttl", "5m")
        if ttl not in TTL_SECONDS:
            raise CacheError(f"{unit.where}.cache_control.ttl: Input should be '5m' or '1h'")
        if ttl == "1h" and any(b.ttl == "5m" for b in found):
            raise CacheError(
                "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block "
                f"(found at {unit.where})"
            )
        found.append(_Breakpoint(index, ttl))
    if len(found) > MAX_BREAKPOINTS:
        raise CacheError(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(found)}."
        )
    return found


def check_cache_control(body: dict[str, Any]) -> None:
    """Raise :class:`CacheError` when the request's breakpoints are not valid."""
    _breakpoints(prompt_units(body))


class PromptCache:
    """The prompt cache of one FakeClaude. Thread-safe.

    ``min_tokens`` overrides the documented per-model minimum cacheable length; ``clock`` (seconds, monotonic) is
    read for TTLs, and :meth:`advance` moves it forward.
    """

    def __init__(self, min_tokens: int | None = None, clock: Callable[[], float] | None = None) -> None:
        self.min_tokens = min_tokens
        self._clock = clock or time.monotonic
        self._offset = 0.0
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the cache's clock ``seconds`` forward (entries older than their TTL expire)."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._offset += seconds

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        now = self.now()
        with self._lock:
            return sum(1 for entry in self._entries.values() if entry.expires_at > now)

    def min_tokens_for(self, model: str) -> int:
        return self.min_tokens if self.min_tokens is not None else documented_min_tokens(model)

    def account(self, body: dict[str, Any]) -> dict[str, Any]:
        """Read and write the cache for one Messages request; answer its usage input fields (``input_tokens``,
        ``cache_read_input_tokens``, ``cache_creation_input_tokens``, ``cache_creation``)."""
        units = prompt_units(body)
        breakpoints = _breakpoints(units)
        total = estimate_input_tokens(body)
        model = str(body.get("model"))
        prefix_tokens: list[int] = []
        hashes: list[str] = []
        chars = 0
        digest = hashlib.sha256(model.encode())
        for unit in units:
            chars += unit.chars
            prefix_tokens.append(tokens_of(chars))
            digest.update(json.dumps(unit.key, sort_keys=True, separators=(",", ":")).encode())
            hashes.append(digest.copy().hexdigest())
        read = 0
        written = {"5m": 0, "1h": 0}
        now = self.now()
        with self._lock:
            hit = -1
            for point in breakpoints:
                for index in range(point.index, max(hit, point.index - LOOKBACK_BLOCKS - 1), -1):
                    entry = self._entries.get((model, hashes[index]))
                    if entry is not None and entry.expires_at > now:
                        hit = index
                        break
            if hit >= 0:
                entry = self._entries[(model, hashes[hit])]
                entry.expires_at = now + TTL_SECONDS[entry.ttl]  # a hit refreshes the entry
                read = prefix_tokens[hit]
            cached_up_to = read
            minimum = self.min_tokens_for(model)
            for point in breakpoints:
                if point.index <= hit or prefix_tokens[point.index] < minimum:
                    continue
                self._entries[(model, hashes[point.index])] = _Entry(now + TTL_SECONDS[point.ttl], point.ttl)
                written[point.ttl] += prefix_tokens[point.index] - cached_up_to
                cached_up_to = prefix_tokens[point.index]
            self._expire(now)
        creation = written["5m"] + written["1h"]
        return {
            "input_tokens": total - read - creation,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": written["5m"], "ephemeral_1h_input_tokens": written["1h"]},
        }

    def _expire(self, now: float) -> None:
        stale = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in stale:
            del self._entries[key]
