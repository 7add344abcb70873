"""Usage accounting: one :class:`UsageRecord` per upstream call, priced from a table, handed to a recorder.

The core knows nothing of where records go. A client built with ``usage_recorder=callable`` calls it exactly
once per API call (retries included in that one call), whether the call succeeds, fails, or a stream is cut
short. The Django and Flask adapters plug their storage in here; ``usage_context`` carries request metadata
(user, request id, client alias, job id) into each record.

>>> from claude_web import Anthropic
>>> records = []
>>> client = Anthropic(api_key="k", usage_recorder=records.append)
>>> per_request = client.with_options(usage_context={"user": "alice"})
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "DEFAULT_PRICING",
    "ModelPrice",
    "UsageRecord",
    "UsageRecorder",
    "UsageTracker",
    "compute_cost",
    "price_for",
]

log = logging.getLogger("claude_web.usage")

Status = Literal["ok", "error", "aborted"]
UsageRecorder = Callable[["UsageRecord"], None]

_MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens; cache writes (5-minute) and cache reads priced separately."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal

    @classmethod
    def of(
        cls, input: str | float, output: str | float, cache_write: str | float, cache_read: str | float
    ) -> ModelPrice:
        return cls(Decimal(str(input)), Decimal(str(output)), Decimal(str(cache_write)), Decimal(str(cache_read)))


# Public list prices (USD / MTok). Keys are model-id prefixes; the longest matching prefix wins.
DEFAULT_PRICING: dict[str, ModelPrice] = {
    "claude-opus-4-5": ModelPrice.of(5, 25, 6.25, 0.50),
    "claude-opus-4-1": ModelPrice.of(15, 75, 18.75, 1.50),
    "claude-opus-4": ModelPrice.of(15, 75, 18.75, 1.50),
    "claude-sonnet-4-5": ModelPrice.of(3, 15, 3.75, 0.30),
    "claude-sonnet-4": ModelPrice.of(3, 15, 3.75, 0.30),
    "claude-3-7-sonnet": ModelPrice.of(3, 15, 3.75, 0.30),
    "claude-haiku-4-5": ModelPrice.of(1, 5, 1.25, 0.10),
    "claude-3-5-haiku": ModelPrice.of(0.80, 4, 1, 0.08),
    "claude-3-haiku": ModelPrice.of(0.25, 1.25, 0.30, 0.03),
}


def price_for(model: str | None, pricing: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of ``model`` by longest matching prefix, or ``None`` when the table does not know it."""
    if not model:
        return None
    table = DEFAULT_PRICING if pricing is None else pricing
    exact = table.get(model)
    if exact is not None:
        return exact
    best: str | None = None
    for prefix in table:
        if model.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return table[best] if best is not None else None


def compute_cost(
    model: str | None,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    pricing: Mapping[str, ModelPrice] | None = None,
) -> Decimal | None:
    """Cost in USD as a ``Decimal``; ``None`` for a model the pricing table does not know (never a guess)."""
    price = price_for(model, pricing)
    if price is None:
        return None
    total = (
        price.input * input_tokens
        + price.output * output_tokens
        + price.cache_write * cache_creation_input_tokens
        + price.cache_read * cache_read_input_tokens
    ) / _MTOK
    return total.quantize(Decimal("0.00000001"))


@dataclass
class UsageRecord:
    """What one upstream call cost and how it went."""

    operation: str
    model: str | None
    status: Status = "ok"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost: Decimal | None = None
    latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    error_type: str | None = None
    estimated: bool = False
    """True when ``output_tokens`` is an estimate: a stream that ended early (closed, cancelled, broken) before
    the API reported its final usage; see :mod:`claude_web._streaming` for how it is estimated."""
    request_id: str | None = None
    backend: str = "anthropic"
    context: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (cost as a string, time as ISO 8601)."""
        data = asdict(self)
        data["cost"] = None if self.cost is None else str(self.cost)
        data["created_at"] = self.created_at.isoformat()
        return data


def _usage_int(usage: Any, name: str) -> int:
    value = getattr(usage, name, None) if not isinstance(usage, Mapping) else usage.get(name)
    return int(value) if isinstance(value, int) else 0


class UsageTracker:
    """Builds and emits the single record of one call; ``finish`` is idempotent (the first call wins)."""

    __slots__ = ("_done", "_pricing", "_recorder", "_started", "record")

    def __init__(
        self,
        recorder: UsageRecorder,
        *,
        operation: str,
        model: str | None,
        backend: str,
        context: Mapping[str, Any] | None,
        pricing: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        self._recorder = recorder
        self._pricing = pricing
        self._started = time.perf_counter()
        self._done = False
        self.record = UsageRecord(operation=operation, model=model, backend=backend, context=dict(context or {}))

    @property
    def done(self) -> bool:
        return self._done

    def first_token(self) -> None:
        if self.record.time_to_first_token_ms is None:
            self.record.time_to_first_token_ms = (time.perf_counter() - self._started) * 1000.0

    def set_usage(self, usage: Any, *, model: str | None = None) -> None:
        """Take token counts from a ``Usage`` model or dict (missing counts are left as they are)."""
        rec = self.record
        if model:
            rec.model = model
        for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            value = getattr(usage, name, None) if not isinstance(usage, Mapping) else usage.get(name)
            if isinstance(value, int):
                setattr(rec, name, value)

    def finish(
        self,
        status: Status = "ok",
        *,
        error: BaseException | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> UsageRecord | None:
        if self._done:
            return None
        self._done = True
        rec = self.record
        rec.status = status
        rec.latency_ms = (time.perf_counter() - self._started) * 1000.0
        if request_id:
            rec.request_id = request_id
        if error is not None and error_type is None:
            error_type = getattr(error, "type", None) or type(error).__name__
        rec.error_type = error_type
        rec.cost = compute_cost(
            rec.model,
            input_tokens=rec.input_tokens,
            output_tokens=rec.output_tokens,
            cache_creation_input_tokens=rec.cache_creation_input_tokens,
            cache_read_input_tokens=rec.cache_read_input_tokens,
            pricing=self._pricing,
        )
        try:
            self._recorder(rec)
        except Exception:  # a recorder must never break the caller's request
            log.exception("usage recorder %r failed; the call itself is unaffected", self._recorder)
        return rec
