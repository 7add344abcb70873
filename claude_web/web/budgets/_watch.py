"""The per-event check of a streamed call: cheap on every event, a store call only when something changed.

A :class:`Watch` is called with each upstream stream event. It does no I/O, except:

- at ``message_start``, when the real prompt (reported in its usage) makes the worst case larger than what was
  reserved (an estimated prompt was short, or a job's retry needs its full hold back): it tops the hold up;
- every third of the reservation's TTL: it renews the hold, so a long stream never loses it, while the hold of a
  process that died expires within the TTL.

When the budget can no longer cover the call (the top-up is refused, or a counter's settled use reached its
limit through calls that were never admitted), ``QUOTAS["ON_EXHAUSTED"]`` decides: ``finish`` lets the answer
complete (logged), ``stop`` makes the watch return ``True``: the caller closes the upstream stream and ends with
``stop_reason`` ``budget`` (the usage record carries it too).

>>> watch = runtime.watch(client.usage_context, params)
>>> for event in stream:
...     if watch is not None and watch(event):
...         stream.close()
...         break
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ._estimate import WorstCase, worst_case_of
from ._plan import cost_units, is_held, plan

__all__ = ["Watch"]

log = logging.getLogger("claude_web.budgets")


def _reserved(context: Mapping[str, Any]) -> WorstCase | None:
    found = context.get("reserved")
    if not isinstance(found, Mapping):
        return None
    try:
        from decimal import Decimal

        return WorstCase(int(found.get("tokens") or 0), cost_units(Decimal(str(found.get("cost") or 0))), 0)
    except (ArithmeticError, ValueError, TypeError):
        return None


class Watch:
    """Call it with each stream event; ``True`` means: stop the stream now (the budget ran out, policy ``stop``)."""

    __slots__ = (
        "_budgets", "_job", "_lines", "_need", "_next", "_params", "_reserved", "_ttl", "_warned", "res_id", "stopped",
    )  # fmt: skip

    def __init__(self, budgets: Any, res_id: str, context: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        # ``budgets`` is the app's :class:`~claude_web.web.budgets.Budgets` (not imported: it imports this module)
        self._budgets = budgets
        self.res_id = res_id
        self._params = params
        self._job = is_held(res_id)
        key = context.get("quota_key") or context.get("owner")
        alias = context.get("alias")
        scopes = budgets.scopes(key if isinstance(key, str) else None, alias if isinstance(alias, str) else None)
        self._lines = plan(budgets.prefix, scopes, budgets.clock(), windows=False).lines
        settings = budgets.settings
        self._ttl = settings.job_reservation_ttl if self._job else settings.reservation_ttl
        self._reserved = _reserved(context)
        self._need = self._reserved
        self._next = time.monotonic() + self._ttl / 3
        self._warned = False
        self.stopped = False

    def __call__(self, event: Any) -> bool:
        if self.stopped:
            return True
        if getattr(event, "type", None) == "message_start":
            return self._started(event)
        if time.monotonic() >= self._next:
            return self._check()
        return False

    def _started(self, event: Any) -> bool:
        usage = getattr(getattr(event, "message", None), "usage", None)
        if usage is None:
            return False
        prompt = sum(
            int(getattr(usage, name, 0) or 0)
            for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        need = worst_case_of(self._params, self._budgets.pricing, prompt=prompt)
        reserved = self._reserved
        if reserved is not None and need.tokens <= reserved.tokens and need.cost <= reserved.cost and not self._job:
            return False
        if reserved is not None:
            need = WorstCase(max(need.tokens, reserved.tokens), max(need.cost, reserved.cost), need.prompt)
        self._need = need
        return self._check()

    def _check(self) -> bool:
        self._next = time.monotonic() + self._ttl / 3
        need = self._need
        if need is None or not self._lines:
            return False
        try:
            outcome = self._budgets._ensure(self.res_id, self._lines, need, self._ttl)
        except Exception:
            log.warning("renewing budget reservation %s failed; the answer goes on", self.res_id, exc_info=True)
            return False
        if outcome.status == "gone" or (outcome.ok and not outcome.exhausted):
            return False
        return self._exhausted()

    def _exhausted(self) -> bool:
        if self._budgets.settings.on_exhausted != "stop":
            if not self._warned:
                self._warned = True
                log.warning(
                    "budget ran out during the answer of reservation %s; finishing it (ON_EXHAUSTED)", self.res_id
                )
            return False
        log.info("budget ran out during the answer of reservation %s; stopping it (ON_EXHAUSTED 'stop')", self.res_id)
        self._budgets._stop(self.res_id)
        self.stopped = True
        return True
