"""The retry rules of the Messages API, in one place: which failures are worth another try, and how long to wait.

Pure functions, no I/O: the client's send loops call them, and so can anyone who retries at a coarser grain
(e.g. a background job that runs a whole call again), with their own backoff.

Retryable: connection errors and timeouts, and the statuses 408 (request timeout), 409 (lock conflict), 429 (rate
limit) and every 5xx (529 overloaded included). The API may say otherwise with ``x-should-retry: true|false``,
which wins over the status.

>>> should_retry_status(529)
True
>>> should_retry_status(400, {"x-should-retry": "true"})
True
>>> should_retry_status(503, {"x-should-retry": "false"})
False

The wait: the API's ``retry-after-ms`` (milliseconds) or ``retry-after`` (seconds, or an HTTP date) when it is
above zero and at most ``max_retry_after`` (60 s by default); otherwise exponential backoff from ``initial_delay``
(0.5 s), doubling per retry, capped at ``max_delay`` (8 s), less up to 25 % jitter.

>>> retry_delay(0, {"retry-after-ms": "1500"})
1.5
>>> retry_delay(2, None, jitter=lambda: 0.0)   # 0.5 * 2**2, no jitter
2.0
>>> retry_delay(10, None, jitter=lambda: 1.0)  # capped at 8, then the full 25 % jitter
6.0
>>> retry_delay(3, None, initial_delay=1.0, max_delay=60.0, jitter=lambda: 0.0)  # a slower policy
8.0
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY
from ._exceptions import APIConnectionError, APIStatusError, RetryableError

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "RETRYABLE_STATUSES",
    "backoff_delay",
    "retry_after_seconds",
    "retry_delay",
    "retry_delay_for",
    "should_retry_error",
    "should_retry_status",
]

RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""Retryable 4xx statuses; every status >= 500 is retryable too."""

Jitter = Callable[[], float]
"""Returns a number in [0, 1); each delay is shortened by up to 25 % of it (``random.random`` by default)."""


def should_retry_status(status: int, headers: Mapping[str, str] | None = None) -> bool:
    """Whether an answer with HTTP ``status`` (and these response ``headers``) should be tried again.

    >>> [should_retry_status(s) for s in (400, 401, 408, 409, 429, 500, 529)]
    [False, False, True, True, True, True, True]
    """
    if headers is not None:
        decision = headers.get("x-should-retry")
        if decision == "true":
            return True
        if decision == "false":
            return False
    return status in RETRYABLE_STATUSES or status >= 500


def should_retry_error(exc: BaseException) -> bool:
    """Whether an exception raised by an attempt is worth another one.

    Connection errors and timeouts (ours or httpx's) and :class:`~claude_web.RetryableError` are; an
    :class:`~claude_web.APIStatusError` is when its status is (an in-stream ``error`` event counts with the status
    of its error type). A wrapped failure (``raise Other(...) from err``) is judged by its ``__cause__`` chain.

    >>> import httpx
    >>> should_retry_error(httpx.ConnectError("refused")), should_retry_error(ValueError("bug"))
    (True, False)
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, APIStatusError):
            return should_retry_status(current.status_code, current.response.headers)
        if isinstance(current, (APIConnectionError, RetryableError, httpx.TransportError)):
            return True
        current = current.__cause__
    return False


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time) -> float | None:
    """The wait the server asked for, in seconds: ``retry-after-ms``, else ``retry-after`` as seconds or as an
    HTTP date (relative to ``now()``); ``None`` when neither is present or readable. Not range-checked.

    >>> retry_after_seconds({"retry-after-ms": "250"}), retry_after_seconds({"retry-after": "2"})
    (0.25, 2.0)
    >>> retry_after_seconds({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, now=lambda: 4.0)
    6.0
    >>> retry_after_seconds({"retry-after": "soon"}) is None
    True
    """
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - now())


def backoff_delay(
    retries_taken: int,
    *,
    initial_delay: float = INITIAL_RETRY_DELAY,
    max_delay: float = MAX_RETRY_DELAY,
    jitter: Jitter = random.random,
) -> float:
    """Exponential backoff for retry number ``retries_taken + 1``: ``initial_delay * 2**retries_taken``, capped at
    ``max_delay``, then shortened by up to 25 % (``jitter()`` in [0, 1)).

    >>> [backoff_delay(n, jitter=lambda: 0.0) for n in range(6)]
    [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    """
    delay = min(initial_delay * (2.0 ** min(retries_taken, 1000)), max_delay)
    return max(delay * (1.0 - 0.25 * jitter()), 0.0)


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    initial_delay: float = INITIAL_RETRY_DELAY,
    max_delay: float = MAX_RETRY_DELAY,
    max_retry_after: float = MAX_RETRY_AFTER,
    allow_immediate: bool = False,
    jitter: Jitter = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """Seconds to wait before retry number ``retries_taken + 1`` of a call answered with ``headers`` (``None``
    for a connection error): the server's ``retry-after`` when it is in (0, ``max_retry_after``], else
    :func:`backoff_delay`. ``allow_immediate=True`` also honours a ``retry-after`` of 0 (retry at once).

    >>> retry_delay(0, {"retry-after": "600"}, jitter=lambda: 0.0)   # not believed: backoff
    0.5
    >>> retry_delay(0, {"retry-after": "0"}, jitter=lambda: 0.0), retry_delay(0, {"retry-after": "0"}, allow_immediate=True)
    (0.5, 0.0)
    """
    after = retry_after_seconds(headers, now=now)
    if after is not None and after <= max_retry_after and (after > 0 or (allow_immediate and after == 0)):
        return after
    return backoff_delay(retries_taken, initial_delay=initial_delay, max_delay=max_delay, jitter=jitter)


def retry_delay_for(
    exc: BaseException,
    retries_taken: int,
    *,
    initial_delay: float = INITIAL_RETRY_DELAY,
    max_delay: float = MAX_RETRY_DELAY,
    max_retry_after: float = MAX_RETRY_AFTER,
    allow_immediate: bool = False,
    jitter: Jitter = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """:func:`retry_delay` for a failed call's exception: the headers come from its ``response`` (if it has one).

    >>> retry_delay_for(ValueError("no response"), 1, jitter=lambda: 0.0)
    1.0
    """
    response = getattr(exc, "response", None)
    headers = response.headers if isinstance(response, httpx.Response) else None
    return retry_delay(
        retries_taken,
        headers,
        initial_delay=initial_delay,
        max_delay=max_delay,
        max_retry_after=max_retry_after,
        allow_immediate=allow_immediate,
        jitter=jitter,
        now=now,
    )
