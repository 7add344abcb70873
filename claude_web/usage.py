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

from .pricing import (
    DEFAULT_PRICING,
    CostBreakdown,
    ModelPrice,
    UsageCounts,
    compute_cost_breakdown,
    format_cost,
    price_for,
)

__all__ = [
    "DEFAULT_PRICING",
    "CostBreakdown",
    "ModelPrice",
    "UsageRecord",
    "UsageRecorder",
    "UsageTracker",
    "compute_cost",
    "json_safe",
    "price_for",
]

log = logging.getLogger("claude_web.usage")
Status = Literal["ok", "error", "aborted"]
UsageRecorder = Callable[["UsageRecord"], None]


def compute_cost(
    model: str | None,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    cache_creation_1h_input_tokens: int = 0,
    web_search_requests: int = 0,
    web_fetch_requests: int = 0,
    pricing: Mapping[str, ModelPrice] | None = None,
    batch: bool = False,
) -> Decimal | None:
    """Cost in USD as a ``Decimal``; ``None`` for a model the pricing table does not know (never a guess).

    ``cache_creation_input_tokens`` is every cache write; ``cache_creation_1h_input_tokens`` the 1-hour share of
    it. The total of :func:`claude_web.pricing.compute_cost_breakdown`, which gives the parts.

    >>> compute_cost("claude-haiku-4-5", input_tokens=1_000_000, output_tokens=100_000)
    Decimal('1.50000000')
    """
    counts = UsageCounts(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_input_tokens=cache_creation_input_tokens,
        cache_creation_1h_input_tokens=cache_creation_1h_input_tokens,
        cache_read_input_tokens=cache_read_input_tokens,
        web_search_requests=web_search_requests,
        web_fetch_requests=web_fetch_requests,
    )
    breakdown = compute_cost_breakdown(model, counts, pricing=pricing, batch=batch)
    return None if breakdown is None else breakdown.total


_COST_PARTS = ("cost_input", "cost_output", "cost_cache_write", "cost_cache_read", "cost_tools")
_TOKEN_COUNTS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass
class UsageRecord:
    """What one upstream call cost and how it went.

    ``cache_creation_input_tokens`` counts every cache write and ``cache_creation_1h_input_tokens`` the 1-hour
    share of it. ``cost`` is the total and ``cost_input`` ... ``cost_tools`` its parts (see
    :class:`claude_web.pricing.CostBreakdown`); all are ``None`` when the model has no price. ``estimated`` marks
    counts that were not reported by the API (e.g. a stream cut short).
    """

    operation: str
    model: str | None
    status: Status = "ok"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    cost: Decimal | None = None
    cost_input: Decimal | None = None
    cost_output: Decimal | None = None
    cost_cache_write: Decimal | None = None
    cost_cache_read: Decimal | None = None
    cost_tools: Decimal | None = None
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

    @property
    def cost_breakdown(self) -> CostBreakdown | None:
        """The cost parts as one :class:`~claude_web.pricing.CostBreakdown` (``None`` when unpriced)."""
        i, o, w, r, t = (getattr(self, name) for name in _COST_PARTS)
        if self.cost is None or None in (i, o, w, r, t):
            return None
        return CostBreakdown(input=i, output=o, cache_write=w, cache_read=r, tools=t, total=self.cost)

    def update_usage(self, usage: Any) -> None:
        """Take the counts of a ``Usage`` / ``MessageDeltaUsage`` model or dict; counts it lacks are left as
        they are (a ``message_delta`` usage carries only some of them)."""
        for name in _TOKEN_COUNTS:
            value = _get(usage, name)
            if isinstance(value, int):
                setattr(self, name, value)
        split = _get(usage, "cache_creation")
        if split is not None:
            one_hour = _get(split, "ephemeral_1h_input_tokens")
            if isinstance(one_hour, int):
                self.cache_creation_1h_input_tokens = one_hour
        tools = _get(usage, "server_tool_use")
        if tools is not None:
            for name in ("web_search_requests", "web_fetch_requests"):
                value = _get(tools, name)
                if isinstance(value, int):
                    setattr(self, name, value)

    def apply_pricing(
        self, pricing: Mapping[str, ModelPrice] | None = None, *, batch: bool = False
    ) -> CostBreakdown | None:
        """Price the counts (``pricing`` default: the default table; ``batch=True``: batch rates) and set ``cost``
        and its parts; all ``None`` when the model has no price."""
        breakdown = compute_cost_breakdown(self.model, UsageCounts.of(self), pricing=pricing, batch=batch)
        self.cost = None if breakdown is None else breakdown.total
        for name in _COST_PARTS:
            setattr(self, name, None if breakdown is None else getattr(breakdown, name.removeprefix("cost_")))
        return breakdown

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (costs as strings, time as ISO 8601)."""
        data = asdict(self)
        for name in ("cost", *_COST_PARTS):
            data[name] = format_cost(getattr(self, name))
        data["created_at"] = self.created_at.isoformat()
        return data


def json_safe(value: Any) -> Any:
    """``value`` as JSON can hold it, for a ledger's ``context`` column or a job's parameters: keys become
    strings, tuples lists, and any other value its ``str()``.

    >>> json_safe({"user_id": 7, "tags": ("a", "b"), "when": Decimal("1.5")})
    {'user_id': 7, 'tags': ['a', 'b'], 'when': '1.5'}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


class UsageTracker:
    """Builds and emits the single record of one call; ``finish`` is idempotent (the first call wins)."""

    __slots__ = (
        "_done",
        "_message_content",
        "_pricing",
        "_recorder",
        "_started",
        "call",
        "collector",
        "record",
        "response_id",
        "stop_reason",
    )

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
        # what the span needs beyond the record (see claude_web.otel): None until the answer says
        self.response_id: str | None = None
        self.stop_reason: str | None = None
        # (claude_web.otel's CallTelemetry and OutputCollector; not imported here: the telemetry imports this module)
        self.call: Any = None  # the call's span and metrics while OpenTelemetry is live
        self.collector: Any = None  # a stream's content, when content capture is on
        self._message_content: Any = None

    def attach(self, call: Any) -> None:
        """Tie the call's telemetry to this record: it ends when :meth:`finish` does."""
        self.call = call
        self.collector = call.collector if call is not None else None

    @property
    def done(self) -> bool:
        return self._done

    def first_token(self) -> None:
        if self.record.time_to_first_token_ms is None:
            self.record.time_to_first_token_ms = elapsed = (time.perf_counter() - self._started) * 1000.0
            if self.call is not None:
                self.call.first_token(elapsed)

    def set_message(self, message: Any) -> None:
        """Take what a finished (non-streamed) answer says: counts, model, id, stop reason."""
        usage = getattr(message, "usage", None)
        if usage is not None:
            self.set_usage(usage, model=getattr(message, "model", None))
        message_id = getattr(message, "id", None)
        self.response_id = message_id if isinstance(message_id, str) else None
        stop_reason = getattr(message, "stop_reason", None)
        self.stop_reason = stop_reason if isinstance(stop_reason, str) else None
        if self.call is not None:
            self._message_content = getattr(message, "content", None)

    def retry(
        self, number: int, delay: float, *, status: int | None = None, error: BaseException | None = None
    ) -> None:
        """The send loop retries (``number``: 1 for the first retry) in ``delay`` seconds; shown on the span."""
        if self.call is not None:
            self.call.retry(number, delay, status, error)

    def set_usage(self, usage: Any, *, model: str | None = None) -> None:
        """Take token counts from a ``Usage`` model or dict (missing counts are left as they are)."""
        if model:
            self.record.model = model
        self.record.update_usage(usage)

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
        rec.apply_pricing(self._pricing)
        if self.call is not None:
            try:
                self.call.end(rec, self.response_id, self.stop_reason, self._message_content)
            except Exception:  # telemetry must never break the caller's request either
                log.exception("ending the OpenTelemetry span of usage record %s failed", rec.id)
        try:
            self._recorder(rec)
        except Exception:  # a recorder must never break the caller's request
            log.exception("usage recorder %r failed; the call itself is unaffected", self._recorder)
        return rec
