"""The worst case of a call before it is made: the tokens and the cost a reservation must hold.

Tokens: the prompt (counted by the API's ``count_tokens``, or estimated here) plus ``max_tokens`` (thinking
included: it is part of ``max_tokens``). Cost, priced with the app's table (:mod:`claude_web.pricing`) at the
worst that can apply:

- the tier: the long-context rates when the prompt passes the model's threshold;
- every prompt token at the highest input-side rate the request can be billed at: the input rate, or, when the
  request marks anything with ``cache_control``, the 5-minute (or, with ``"ttl": "1h"``, the 1-hour) cache-write
  rate (cache reads only ever cost less);
- every possible output token at the output rate;
- server tools at their unit price times ``max_uses`` (:data:`DEFAULT_MAX_USES` when the tool sets none);
- Message Batches at the batch rate, summed over the batch's requests.

The estimate of a prompt (no API call) counts a token for every 3 characters of text and tool definitions, plus
the per-message overhead, 1,600 tokens per image (the API's resizing bound) and a token per 3 bytes of a
document. A reservation watch (:class:`~claude_web.web.budgets.Watch`) corrects it when ``message_start``
reports the real prompt.

>>> from claude_web.pricing import DEFAULT_PRICING
>>> worst = worst_case({"model": "claude-haiku-4-5", "max_tokens": 100,
...                     "messages": [{"role": "user", "content": "Hello there"}]}, DEFAULT_PRICING)
>>> worst.tokens, worst.cost   # 18 prompt tokens + 100; (18 x $1 + 100 x $5) / MTok in units of 1e-8 USD
(118, 51800)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...pricing import MTOK, ModelPrice, price_for
from ._plan import cost_units

__all__ = ["DEFAULT_MAX_USES", "WorstCase", "estimate_prompt_tokens", "worst_case", "worst_case_of"]

DEFAULT_MAX_USES = 10
"""Uses of a server tool a reservation assumes when the tool sets no ``max_uses``."""
IMAGE_TOKENS = 1600
CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD = 4
REQUEST_OVERHEAD = 10


@dataclass(frozen=True)
class WorstCase:
    """What a reservation holds: ``tokens``, ``cost`` in units of 1e-8 USD, the ``prompt`` tokens it assumed, and
    whether the model has a price (``priced``; an unpriced model's cost is 0 and a cost budget refuses it)."""

    tokens: int
    cost: int
    prompt: int
    priced: bool = True

    def __add__(self, other: WorstCase) -> WorstCase:
        return WorstCase(
            self.tokens + other.tokens, self.cost + other.cost, self.prompt + other.prompt, self.priced and other.priced
        )


def _text_chars(value: Any) -> tuple[int, int]:
    """(characters, fixed tokens) of one content value: a string, a block, or a list of them."""
    if isinstance(value, str):
        return len(value), 0
    if isinstance(value, list):
        chars = fixed = 0
        for item in value:
            c, f = _text_chars(item)
            chars, fixed = chars + c, fixed + f
        return chars, fixed
    if not isinstance(value, Mapping):
        return 0, 0
    kind = value.get("type")
    if kind == "image":
        return 0, IMAGE_TOKENS
    if kind == "document":
        source = value.get("source")
        if isinstance(source, Mapping):
            data = source.get("data")
            if source.get("type") == "base64" and isinstance(data, str):
                return 0, math.ceil(len(data) * 3 / 4 / CHARS_PER_TOKEN)
            if source.get("type") in ("text", "content"):
                return _text_chars(data if data is not None else source.get("content"))
        return 0, IMAGE_TOKENS  # a URL or file id: at least a page's worth
    chars = fixed = 0
    for name in ("text", "thinking", "content"):
        if name in value:
            c, f = _text_chars(value[name])
            chars, fixed = chars + c, fixed + f
    if kind in ("tool_use", "server_tool_use") and "input" in value:
        chars += len(json.dumps(value["input"], separators=(",", ":"), default=str))
    return chars, fixed


def estimate_prompt_tokens(params: Mapping[str, Any]) -> int:
    """An estimate of a Messages request's prompt tokens without asking the API (on the high side for text).

    >>> estimate_prompt_tokens({"messages": [{"role": "user", "content": "x" * 30}]})
    24
    """
    chars, fixed = _text_chars(params.get("system"))
    tools = params.get("tools")
    if isinstance(tools, list):
        chars += sum(len(json.dumps(tool, separators=(",", ":"), default=str)) for tool in tools)
    messages = params.get("messages")
    count = 0
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping):
                c, f = _text_chars(message.get("content"))
                chars, fixed, count = chars + c, fixed + f, count + 1
    return math.ceil(chars / CHARS_PER_TOKEN) + fixed + MESSAGE_OVERHEAD * count + REQUEST_OVERHEAD


def _cache_marks(value: Any, found: set[str]) -> None:
    if isinstance(value, Mapping):
        mark = value.get("cache_control")
        if isinstance(mark, Mapping):
            found.add("1h" if mark.get("ttl") == "1h" else "5m")
        for item in value.values():
            if isinstance(item, (Mapping, list)):
                _cache_marks(item, found)
    elif isinstance(value, list):
        for item in value:
            _cache_marks(item, found)


def _server_tool_cost(params: Mapping[str, Any], price: ModelPrice) -> Decimal:
    tools = params.get("tools")
    total = Decimal(0)
    if not isinstance(tools, list):
        return total
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        kind = str(tool.get("type") or "")
        uses = tool.get("max_uses")
        count = uses if isinstance(uses, int) and not isinstance(uses, bool) and uses > 0 else DEFAULT_MAX_USES
        if kind.startswith("web_search"):
            total += count * price.web_search_per_1k / 1000
        elif kind.startswith("web_fetch"):
            total += count * price.web_fetch_per_1k / 1000
    return total


def worst_case(
    params: Mapping[str, Any],
    pricing: Mapping[str, ModelPrice] | None,
    *,
    prompt: int | None = None,
    batch: bool = False,
) -> WorstCase:
    """The worst case of one Messages request; ``prompt`` is its prompt tokens when known (else estimated)."""
    tokens_in = estimate_prompt_tokens(params) if prompt is None else max(0, int(prompt))
    max_tokens = params.get("max_tokens")
    out = max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 else 0
    model = params.get("model")
    price = price_for(model if isinstance(model, str) else None, pricing)
    if price is None:
        return WorstCase(tokens_in + out, 0, tokens_in, priced=False)
    rates = price.rates_for(tokens_in)
    marks: set[str] = set()
    _cache_marks({k: params.get(k) for k in ("system", "messages", "tools", "cache_control")}, marks)
    input_rate = rates.input
    if marks:
        input_rate = max(input_rate, rates.cache_write)
    if "1h" in marks:
        input_rate = max(input_rate, rates.cache_write_1h)
    factor = (1 - price.batch_discount) if batch else Decimal(1)
    cost = (tokens_in * input_rate + out * rates.output) * factor / MTOK + _server_tool_cost(params, price)
    return WorstCase(tokens_in + out, cost_units(cost), tokens_in)


def worst_case_of(
    params: Mapping[str, Any], pricing: Mapping[str, ModelPrice] | None, *, prompt: int | None = None
) -> WorstCase:
    """The worst case of a chat call or a job's parameters: a batch (``{"requests": [...]}``) is the sum of its
    requests at the batch rate."""
    requests = params.get("requests")
    if isinstance(requests, list) and "messages" not in params:
        total = WorstCase(0, 0, 0)
        for item in requests:
            inner = item.get("params") if isinstance(item, Mapping) else None
            if isinstance(inner, Mapping):
                total = total + worst_case(inner, pricing, batch=True)
        return total
    return worst_case(params, pricing, prompt=prompt)
