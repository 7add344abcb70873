"""Blinker signals the extension sends. Receivers get the app as ``sender``.

- ``usage_recorded(app, record=UsageRecord)``: once per upstream call (ok, error or aborted), after storage.
- ``quota_exceeded(app, key=str, error=QuotaExceeded)``: a request refused with 429 before any upstream call.

>>> from claude_web_flask import usage_recorded
>>> @usage_recorded.connect
... def bill(app, record):
...     print(record.model, record.total_tokens, record.cost, record.context.get("user"))

Receivers run in the thread that finished the call (for a streamed response: while the response body is being
sent), possibly without a request context; an exception in a receiver is logged, never raised into the call.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["quota_exceeded", "usage_recorded"]

_signals = Namespace()

usage_recorded = _signals.signal("claude-web-usage-recorded", doc="One upstream call finished; kwargs: record.")
quota_exceeded = _signals.signal("claude-web-quota-exceeded", doc="A request was refused; kwargs: key, error.")
