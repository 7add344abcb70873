"""Prices: one table of per-model list prices, and the cost of one call split into its parts.

Every price is a ``Decimal`` in USD per million tokens (server tools: USD per 1,000 uses). A table maps model-id
prefixes to a :class:`ModelPrice`; the longest matching prefix wins, and a model no key matches has no price: its
cost is ``None``, never a guess. Each entry carries the date its numbers were checked (``as_of``) and where they
come from (``source``).

What a call costs (the rules of Anthropic's public pricing page, checked on the date in :data:`DEFAULT_AS_OF`):

- ``input``: ``usage.input_tokens`` (the uncached input) at the input rate.
- ``output``: ``usage.output_tokens`` at the output rate.
- ``cache_write``: cache writes by lifetime, ``usage.cache_creation.ephemeral_5m_input_tokens`` at the 5-minute
  rate (1.25x input) and ``ephemeral_1h_input_tokens`` at the 1-hour rate (2x input). A usage without the
  ``cache_creation`` split counts every write (``cache_creation_input_tokens``) as a 5-minute write.
- ``cache_read``: ``usage.cache_read_input_tokens`` at the cache-hit rate (0.1x input).
- ``tools``: server tools priced per use, ``usage.server_tool_use.web_search_requests`` at $10 per 1,000
  searches. Web fetch costs nothing beyond the tokens of the fetched content (its unit price is 0, settable).
- Long context: on a model with a long-context tier (Claude Sonnet 4 and 4.5 with the 1M-token context window),
  a request whose prompt (``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``; output does
  not count) is *more than* the threshold (200,000 tokens) has **all** its tokens billed at the long-context
  rates ($6 input, $22.50 output per MTok), and the cache multipliers apply on top of the long-context input
  rate. A prompt of exactly 200,000 tokens is billed at the standard rates.
- Batch: Message Batches results cost half (``batch_discount`` 0.5) of every token part, in either tier. The
  per-use price of server tools is not discounted.

Rounding: each part is rounded half-to-even to 1e-8 USD (the 8 decimal places of the ledger columns), and the
total is the sum of the rounded parts, so the stored parts always add up to the stored total.

>>> from claude_web.pricing import compute_cost_breakdown
>>> cost = compute_cost_breakdown(
...     "claude-haiku-4-5",
...     {"input_tokens": 1000, "output_tokens": 200, "cache_creation_input_tokens": 100,
...      "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 100}},
... )
>>> cost.input, cost.output, cost.cache_write, cost.total
(Decimal('0.00100000'), Decimal('0.00100000'), Decimal('0.00020000'), Decimal('0.00220000'))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "COST_QUANTUM",
    "DEFAULT_AS_OF",
    "DEFAULT_PRICING",
    "DEFAULT_SOURCE",
    "CostBreakdown",
    "LongContextPrice",
    "ModelPrice",
    "PriceTable",
    "PricingError",
    "Rates",
    "UsageCounts",
    "compute_cost_breakdown",
    "format_cost",
    "money",
    "price_for",
]

MTOK = Decimal(1_000_000)
#: Costs are rounded to this (1e-8 USD), half to even.
COST_QUANTUM = Decimal("0.00000001")
_THOUSAND = Decimal(1000)

# the public multipliers of the base input rate
WRITE_5M_MULTIPLIER = Decimal("1.25")
WRITE_1H_MULTIPLIER = Decimal("2")
READ_MULTIPLIER = Decimal("0.1")

_PRICE_EXAMPLE = "{'input': '3', 'output': '15', 'cache_write': '3.75', 'cache_read': '0.3'}"
_LONG_EXAMPLE = "{'threshold': 200000, 'input': '6', 'output': '22.5'}"
_REQUIRED = ("input", "output", "cache_write", "cache_read")
_OPTIONAL = ("cache_write_1h", "long_context", "batch_discount", "web_search_per_1k", "web_fetch_per_1k")
_PRICE_KEYS = (*_REQUIRED, *_OPTIONAL, "as_of", "source")
_LONG_KEYS = ("threshold", "input", "output", "cache_write", "cache_write_1h", "cache_read")
_SETTINGS_KEYS = ("MODELS", "INCLUDE_DEFAULTS")


def money(value: Decimal) -> Decimal:
    """``value`` rounded to :data:`COST_QUANTUM`, half to even."""
    return value.quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN)


def format_cost(value: Decimal | None) -> str | None:
    """A cost as a plain decimal string (``'0.00000000'``, never ``'0E-8'``); ``None`` stays ``None``.

    >>> format_cost(Decimal("0E-8")), format_cost(Decimal("0.0102871")), format_cost(None)
    ('0.00000000', '0.0102871', None)
    """
    return None if value is None else format(value, "f")


class PricingError(ValueError):
    """A price setting is wrong. ``key`` names it (e.g. ``PRICING['MODELS']['m']['input']``); ``example`` shows a
    value that would do."""

    def __init__(self, key: str, problem: str, example: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key = key
        self.problem = problem
        self.example = example


def _decimal(value: Any, key: str, example: str = "'3.00'") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise PricingError(key, f"must be a number, not {value!r}", f"{key} = {example}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PricingError(key, f"must be a number, not {value!r}", f"{key} = {example}") from None
    if not result.is_finite() or result < 0:
        raise PricingError(key, f"must be a non-negative number, not {value!r}", f"{key} = {example}")
    return result


def _mapping(value: Any, key: str, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PricingError(key, f"must be a dict, not {type(value).__name__}", f"{key} = {example}")
    return value


def _known(data: Mapping[str, Any], known: tuple[str, ...], key: str, example: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise PricingError(
            key,
            f"has unknown key(s) {', '.join(repr(k) for k in unknown)}; known keys: "
            f"{', '.join(repr(k) for k in known)}",
            f"{key} = {example}",
        )


@dataclass(frozen=True)
class Rates:
    """The USD-per-million-token rates of one tier (standard or long context), with nothing left to derive."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


@dataclass(frozen=True)
class LongContextPrice:
    """Rates for a request whose prompt has more than ``threshold`` tokens (input, cache writes and cache reads
    together). Cache rates left out are the public multipliers of ``input`` (1.25x, 2x, 0.1x).

    >>> LongContextPrice(200_000, Decimal("6"), Decimal("22.50")).rates.cache_write_1h
    Decimal('12')
    """

    threshold: int
    input: Decimal
    output: Decimal
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    cache_read: Decimal | None = None

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold < 0:
            raise PricingError(
                "long_context.threshold", f"must be a token count, not {self.threshold!r}", _LONG_EXAMPLE
            )
        for name in ("input", "output", "cache_write", "cache_write_1h", "cache_read"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _decimal(value, f"long_context.{name}"))

    @property
    def rates(self) -> Rates:
        return Rates(
            input=self.input,
            output=self.output,
            cache_write=self.input * WRITE_5M_MULTIPLIER if self.cache_write is None else self.cache_write,
            cache_write_1h=self.input * WRITE_1H_MULTIPLIER if self.cache_write_1h is None else self.cache_write_1h,
            cache_read=self.input * READ_MULTIPLIER if self.cache_read is None else self.cache_read,
        )


@dataclass(frozen=True)
class UsageCounts:
    """The billable counts of one call, read from a ``Usage``, a ``MessageDeltaUsage``, a dict of either, or a
    :class:`~claude_web.usage.UsageRecord`. ``cache_creation_input_tokens`` is every cache write; the 1-hour share
    of it is ``cache_creation_1h_input_tokens`` and the rest were 5-minute writes.

    >>> UsageCounts.of({"input_tokens": 5, "output_tokens": 1, "server_tool_use": {"web_search_requests": 2}})
    UsageCounts(input_tokens=5, output_tokens=1, cache_creation_input_tokens=0, cache_creation_1h_input_tokens=0, \
cache_read_input_tokens=0, web_search_requests=2, web_fetch_requests=0)
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    @property
    def cache_creation_5m_input_tokens(self) -> int:
        return max(self.cache_creation_input_tokens - self.cache_creation_1h_input_tokens, 0)

    @property
    def prompt_tokens(self) -> int:
        """What the long-context threshold is compared with: uncached input, cache writes and cache reads."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @classmethod
    def of(cls, usage: Any) -> UsageCounts:
        """Read the counts of ``usage`` (missing or ``None`` counts are 0).

        With a ``cache_creation`` object the writes are split by it (and ``cache_creation_input_tokens`` is at
        least the sum of its two parts); without one, every write is a 5-minute write unless the usage carries a
        flat ``cache_creation_1h_input_tokens`` (a ``UsageRecord``). Server-tool counts come from
        ``server_tool_use`` or, failing that, from flat ``web_search_requests`` / ``web_fetch_requests``.
        """
        if isinstance(usage, UsageCounts):
            return usage
        writes = _count(usage, "cache_creation_input_tokens")
        split = _field(usage, "cache_creation")
        if split is not None:
            one_hour = _count(split, "ephemeral_1h_input_tokens")
            writes = max(writes, _count(split, "ephemeral_5m_input_tokens") + one_hour)
        else:
            one_hour = _count(usage, "cache_creation_1h_input_tokens")
        tools = _field(usage, "server_tool_use")
        source = usage if tools is None else tools
        return cls(
            input_tokens=_count(usage, "input_tokens"),
            output_tokens=_count(usage, "output_tokens"),
            cache_creation_input_tokens=writes,
            cache_creation_1h_input_tokens=min(one_hour, writes),
            cache_read_input_tokens=_count(usage, "cache_read_input_tokens"),
            web_search_requests=_count(source, "web_search_requests"),
            web_fetch_requests=_count(source, "web_fetch_requests"),
        )


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _count(obj: Any, name: str) -> int:
    value = _field(obj, name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True)
class CostBreakdown:
    """What one call cost, in USD, by part; every part is rounded to 1e-8 and ``total`` is their sum.

    ``cache_write`` holds 5-minute and 1-hour writes together; ``tools`` is server-tool use (web search).
    """

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal
    tools: Decimal
    total: Decimal

    def to_dict(self) -> dict[str, str]:
        """The parts as strings (JSON-friendly, exact)."""
        return {f.name: format(getattr(self, f.name), "f") for f in fields(self)}


@dataclass(frozen=True)
class ModelPrice:
    """The list prices of one model: USD per million tokens, server tools per 1,000 uses.

    The first four are the standard tier; ``cache_write`` is the 5-minute write. Left out, ``cache_write_1h`` is
    2x ``input``. ``long_context`` is the tier above a prompt-size threshold (``None``: the model has none).
    ``batch_discount`` is the share taken off token parts for Message Batches results (0.5: half price).
    Numbers may be given as ``Decimal``, ``int``, ``str`` or ``float`` (read through ``str``); ``as_of`` as a
    ``date`` or an ISO date string.

    >>> price = ModelPrice.of(3, 15, 3.75, 0.30)
    >>> price.cache_write_1h, price.batch_discount, price.web_search_per_1k
    (Decimal('6'), Decimal('0.5'), Decimal('10'))
    """

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal
    cache_write_1h: Decimal | None = None  # filled in on creation: 2x input when left out
    long_context: LongContextPrice | None = None
    batch_discount: Decimal = Decimal("0.5")
    web_search_per_1k: Decimal = Decimal("10")
    web_fetch_per_1k: Decimal = Decimal("0")
    as_of: date | None = None
    source: str = ""

    def __post_init__(self) -> None:
        for name in (*_REQUIRED, "batch_discount", "web_search_per_1k", "web_fetch_per_1k"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        if self.cache_write_1h is None:
            object.__setattr__(self, "cache_write_1h", self.input * WRITE_1H_MULTIPLIER)
        else:
            object.__setattr__(self, "cache_write_1h", _decimal(self.cache_write_1h, "cache_write_1h"))
        if self.batch_discount > 1:
            raise PricingError("batch_discount", f"must be between 0 and 1, not {self.batch_discount}", "'0.5'")
        if isinstance(self.as_of, str):
            object.__setattr__(self, "as_of", _date(self.as_of, "as_of"))

    @classmethod
    def of(
        cls,
        input: str | float | Decimal,
        output: str | float | Decimal,
        cache_write: str | float | Decimal,
        cache_read: str | float | Decimal,
        **extra: Any,
    ) -> ModelPrice:
        """Build from plain numbers (read through ``str``, so ``0.3`` is exactly ``Decimal('0.3')``)."""
        return cls(
            _decimal(input, "input"),
            _decimal(output, "output"),
            _decimal(cache_write, "cache_write"),
            _decimal(cache_read, "cache_read"),
            **extra,
        )

    @property
    def rates(self) -> Rates:
        """The standard-tier rates."""
        write_1h = self.input * WRITE_1H_MULTIPLIER if self.cache_write_1h is None else self.cache_write_1h
        return Rates(self.input, self.output, self.cache_write, write_1h, self.cache_read)

    def is_long_context(self, prompt_tokens: int) -> bool:
        """Whether a prompt of ``prompt_tokens`` (input + cache writes + cache reads) is in the long-context tier."""
        return self.long_context is not None and prompt_tokens > self.long_context.threshold

    def rates_for(self, prompt_tokens: int) -> Rates:
        """The rates every token of a request with this prompt size is billed at."""
        if self.long_context is not None and prompt_tokens > self.long_context.threshold:
            return self.long_context.rates
        return self.rates

    def cost(self, usage: Any, *, batch: bool = False) -> CostBreakdown:
        """The cost of ``usage`` (anything :meth:`UsageCounts.of` reads) at these prices."""
        counts = UsageCounts.of(usage)
        rates = self.rates_for(counts.prompt_tokens)
        factor = (1 - self.batch_discount) if batch else Decimal(1)
        writes = (
            counts.cache_creation_5m_input_tokens * rates.cache_write
            + counts.cache_creation_1h_input_tokens * rates.cache_write_1h
        )
        parts = (
            money(counts.input_tokens * rates.input * factor / MTOK),
            money(counts.output_tokens * rates.output * factor / MTOK),
            money(writes * factor / MTOK),
            money(counts.cache_read_input_tokens * rates.cache_read * factor / MTOK),
            money(
                (
                    counts.web_search_requests * self.web_search_per_1k
                    + counts.web_fetch_requests * self.web_fetch_per_1k
                )
                / _THOUSAND
            ),
        )
        return CostBreakdown(*parts, total=sum(parts, Decimal(0)))

    @classmethod
    def from_setting(cls, value: Any, key: str) -> ModelPrice:
        """Parse one settings entry (a ``ModelPrice`` passes through); ``key`` names it in errors."""
        if isinstance(value, ModelPrice):
            return value
        data = _mapping(value, key, _PRICE_EXAMPLE)
        _known(data, _PRICE_KEYS, key, _PRICE_EXAMPLE)
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise PricingError(
                key,
                f"lacks {', '.join(repr(k) for k in missing)} (USD per million tokens)",
                f"{key} = {_PRICE_EXAMPLE}",
            )
        extra: dict[str, Any] = {}
        for name in ("cache_write_1h", "batch_discount", "web_search_per_1k", "web_fetch_per_1k"):
            if data.get(name) is not None:
                extra[name] = _decimal(data[name], f"{key}[{name!r}]")
        if extra.get("batch_discount", 0) > 1:
            raise PricingError(
                f"{key}['batch_discount']", "must be between 0 and 1", f"{key}['batch_discount'] = '0.5'"
            )
        if data.get("long_context") is not None:
            extra["long_context"] = _long_context(data["long_context"], f"{key}['long_context']")
        if data.get("as_of") is not None:
            extra["as_of"] = _date(data["as_of"], f"{key}['as_of']")
        if data.get("source") is not None:
            extra["source"] = str(data["source"])
        input, output, write, read = (_decimal(data[k], f"{key}[{k!r}]") for k in _REQUIRED)
        return cls(input, output, write, read, **extra)


def _long_context(value: Any, key: str) -> LongContextPrice:
    if isinstance(value, LongContextPrice):
        return value
    data = _mapping(value, key, _LONG_EXAMPLE)
    _known(data, _LONG_KEYS, key, _LONG_EXAMPLE)
    missing = [k for k in ("threshold", "input", "output") if k not in data]
    if missing:
        raise PricingError(key, f"lacks {', '.join(repr(k) for k in missing)}", f"{key} = {_LONG_EXAMPLE}")
    threshold = data["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise PricingError(
            f"{key}['threshold']", f"must be a number of tokens, not {threshold!r}", f"{key}['threshold'] = 200000"
        )
    rates = {k: _decimal(data[k], f"{key}[{k!r}]") for k in _LONG_KEYS[1:] if data.get(k) is not None}
    return LongContextPrice(threshold, **rates)


def _date(value: Any, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PricingError(key, f"must be an ISO date, not {value!r}", f"{key} = '2026-11-30'") from None


class PriceTable(Mapping[str, ModelPrice]):
    """An immutable mapping of model-id prefix -> :class:`ModelPrice`; :meth:`lookup` takes the longest prefix.

    Pass one (or any ``Mapping[str, ModelPrice]``) as a client's ``pricing=``.

    >>> table = PriceTable.from_settings({"MODELS": {"my-model": {"input": "1", "output": "2",
    ...                                   "cache_write": "1.25", "cache_read": "0.1"}}})
    >>> table.lookup("my-model-v2").output, table.lookup("claude-haiku-4-5-20251001").input
    (Decimal('2'), Decimal('1'))
    >>> table.lookup("gpt-4") is None
    True
    """

    __slots__ = ("_by_length", "_prices")

    def __init__(self, prices: Mapping[str, ModelPrice] | Iterable[tuple[str, ModelPrice]] = ()) -> None:
        items = prices.items() if isinstance(prices, Mapping) else prices
        self._prices: dict[str, ModelPrice] = {}
        for prefix, price in items:
            if not isinstance(price, ModelPrice):
                raise TypeError(f"the price of {prefix!r} must be a ModelPrice, not {type(price).__name__}")
            self._prices[str(prefix)] = price
        self._by_length = sorted(self._prices, key=len, reverse=True)

    def __getitem__(self, prefix: str) -> ModelPrice:
        return self._prices[prefix]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __len__(self) -> int:
        return len(self._prices)

    def __repr__(self) -> str:
        return f"PriceTable({sorted(self._prices)!r})"

    def lookup(self, model: str | None) -> ModelPrice | None:
        """The price of ``model``: an exact key, else the longest key ``model`` starts with, else ``None``."""
        if not model:
            return None
        exact = self._prices.get(model)
        if exact is not None:
            return exact
        for prefix in self._by_length:
            if model.startswith(prefix):
                return self._prices[prefix]
        return None

    def merged(self, overrides: Mapping[str, ModelPrice]) -> PriceTable:
        """A new table: this one with ``overrides`` added (an override replaces the whole entry of its key)."""
        return PriceTable({**self._prices, **overrides})

    def cost(self, model: str | None, usage: Any, *, batch: bool = False) -> CostBreakdown | None:
        """The cost of ``usage`` on ``model``, or ``None`` when no key matches."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage, batch=batch)

    @classmethod
    def from_models(cls, models: Any, *, include_defaults: bool = True, name: str = "MODELS") -> PriceTable:
        """Parse ``{prefix: {"input": ..., ...} | ModelPrice}``, merged over :data:`DEFAULT_PRICING` unless
        ``include_defaults`` is false. ``name`` is how errors name the mapping (e.g. ``"CLAUDE_WEB_PRICING"``)."""
        example = f"{{'my-model': {_PRICE_EXAMPLE}}}"
        data = _mapping({} if models is None else models, name, example)
        parsed = {str(prefix): ModelPrice.from_setting(value, f"{name}[{prefix!r}]") for prefix, value in data.items()}
        return DEFAULT_PRICING.merged(parsed) if include_defaults else cls(parsed)

    @classmethod
    def from_settings(cls, settings: Any, *, include_defaults: bool = True, name: str = "PRICING") -> PriceTable:
        """Parse the settings shape ``{"MODELS": {prefix: price}, "INCLUDE_DEFAULTS": bool}`` (both optional;
        ``include_defaults`` is used when the ``INCLUDE_DEFAULTS`` key is absent). Errors name the key."""
        example = f"{{'MODELS': {{'my-model': {_PRICE_EXAMPLE}}}}}"
        data = _mapping({} if settings is None else settings, name, example)
        _known(data, _SETTINGS_KEYS, name, example)
        include = data.get("INCLUDE_DEFAULTS", include_defaults)
        if not isinstance(include, bool):
            key = f"{name}['INCLUDE_DEFAULTS']"
            raise PricingError(key, f"must be True or False, not {include!r}", f"{key} = True")
        return cls.from_models(data.get("MODELS"), include_defaults=include, name=f"{name}['MODELS']")


def price_for(model: str | None, pricing: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of ``model`` in ``pricing`` (default: :data:`DEFAULT_PRICING`) by longest matching prefix, or
    ``None`` when the table does not know it."""
    table = DEFAULT_PRICING if pricing is None else pricing
    if isinstance(table, PriceTable):
        return table.lookup(model)
    if not model:
        return None
    exact = table.get(model)
    if exact is not None:
        return exact
    best = max((prefix for prefix in table if model.startswith(prefix)), key=len, default=None)
    return None if best is None else table[best]


def compute_cost_breakdown(
    model: str | None, usage: Any, *, pricing: Mapping[str, ModelPrice] | None = None, batch: bool = False
) -> CostBreakdown | None:
    """The cost of one call by part, or ``None`` for a model the table does not know (never a guess).

    ``usage`` is a ``Usage`` / ``MessageDeltaUsage`` model, a dict of one, a ``UsageRecord`` or
    :class:`UsageCounts`; ``batch=True`` prices a Message Batches result.
    """
    price = price_for(model, pricing)
    return None if price is None else price.cost(usage, batch=batch)


# ---------------------------------------------------------------------------------------------------------------
# the default table: public list prices (USD per MTok) of the Claude API

#: When the numbers below were last checked against :data:`DEFAULT_SOURCE`.
DEFAULT_AS_OF = date(2026, 11, 30)
#: Where they come from: the model pricing table (base input, 5m and 1h cache writes, cache hits, output), the
#: long context pricing section, batch processing (50%) and the web search ($10 / 1,000) and web fetch (tokens
#: only) tool pricing.
DEFAULT_SOURCE = "https://platform.claude.com/docs/en/about-claude/pricing"


def _list_price(
    input: str, output: str, write_5m: str, write_1h: str, read: str, long_context: LongContextPrice | None = None
) -> ModelPrice:
    return ModelPrice.of(
        input,
        output,
        write_5m,
        read,
        cache_write_1h=Decimal(write_1h),
        long_context=long_context,
        as_of=DEFAULT_AS_OF,
        source=DEFAULT_SOURCE,
    )


# Sonnet 4 and 4.5 with the 1M-token context window (beta header context-1m-2025-08-07): past 200K prompt tokens
# input is $6 and output $22.50; the cache multipliers apply on top ($7.50, $12, $0.60).
_SONNET_LONG = LongContextPrice(200_000, Decimal("6"), Decimal("22.50"))
_OPUS_4 = _list_price("15", "75", "18.75", "30", "1.50")
_SONNET_4 = _list_price("3", "15", "3.75", "6", "0.30", _SONNET_LONG)

# Keys are precise on purpose: "claude-opus-4" alone would also match claude-opus-4-7 and price a newer model
# at an older model's rates. Dated ids, aliases and Vertex ids (model@date) each have a key.
DEFAULT_PRICING: PriceTable = PriceTable(
    {
        "claude-opus-4-5": _list_price("5", "25", "6.25", "10", "0.50"),
        "claude-opus-4-1": _list_price("15", "75", "18.75", "30", "1.50"),
        "claude-opus-4-0": _OPUS_4,
        "claude-opus-4-20250514": _OPUS_4,
        "claude-opus-4@": _OPUS_4,
        "claude-sonnet-4-5": _list_price("3", "15", "3.75", "6", "0.30", _SONNET_LONG),
        "claude-sonnet-4-0": _SONNET_4,
        "claude-sonnet-4-20250514": _SONNET_4,
        "claude-sonnet-4@": _SONNET_4,
        "claude-3-7-sonnet": _list_price("3", "15", "3.75", "6", "0.30"),
        "claude-haiku-4-5": _list_price("1", "5", "1.25", "2", "0.10"),
        "claude-3-5-haiku": _list_price("0.80", "4", "1", "1.6", "0.08"),
        "claude-3-haiku": _list_price("0.25", "1.25", "0.30", "0.50", "0.03"),
    }
)
