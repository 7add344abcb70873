"""Stream bodies that give their capacity slot back however they end, and the per-process stream cap.

A slot is taken when a stream response is built and given back exactly once: when the body ends (normally or with
an error), when the server closes it (``close()``/``aclose()``; Django calls ``close()`` on every response, also
after the browser went away or when the body was never started), or, as a last resort, when the body object is
garbage-collected without any of these (a server that dropped it).

>>> slots = StreamSlots(1)
>>> body = GuardedBody(iter([b"a", b"b"]), slots.release); slots.acquire()
>>> list(body), slots.used
([b'a', b'b'], 0)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .errors import ServiceUnavailable

__all__ = ["AsyncGuardedBody", "GuardedBody", "StreamSlots"]

log = logging.getLogger("claude_web.web")

RETRY_AFTER = 2
"""Seconds a browser refused for capacity is told to wait (``Retry-After``)."""


class StreamSlots:
    """A per-process cap on concurrent streams: beyond it a new stream gets a fast 503 with ``Retry-After``.

    ``limit`` ``None`` means no cap (``used`` is still counted).
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<StreamSlots used={self._used} limit={self.limit}>"

    @property
    def used(self) -> int:
        return self._used

    @property
    def full(self) -> bool:
        """True when a new stream would be refused now."""
        return self.limit is not None and self._used >= self.limit

    def refusal(self) -> ServiceUnavailable:
        """The 503 (``too_many_streams``, ``Retry-After``) a stream gets when the process is full."""
        return ServiceUnavailable(
            "too_many_streams",
            "The server is answering as many streams as it can. Please try again.",
            retry_after=RETRY_AFTER,
        )

    def check(self) -> None:
        """Raise the refusal if the process is full now, without taking a slot (a cheap early answer)."""
        if self.full:
            raise self.refusal()

    def acquire(self) -> None:
        """Take a slot, or raise :class:`ServiceUnavailable` (``too_many_streams``) at once when none is free."""
        with self._lock:
            if self.limit is not None and self._used >= self.limit:
                raise self.refusal()
            self._used += 1

    def release(self) -> None:
        with self._lock:
            self._used = max(0, self._used - 1)


class _Once:
    __slots__ = ("_done", "_lock", "_release")

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._done = False
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._done

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._release()


class GuardedBody:
    """A sync body that calls ``release`` exactly once: at its end, on error, on ``close()`` even if the server
    never started it, or when it is garbage-collected unclosed."""

    def __init__(self, body: Iterator[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release = _Once(release)

    def __iter__(self) -> GuardedBody:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._body)
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._release()

    def __del__(self) -> None:
        release = getattr(self, "_release", None)
        if release is not None:
            release()


_closing: set[asyncio.Task[None]] = set()  # closes scheduled from another thread, kept until they are done


class AsyncGuardedBody:
    """The async twin of :class:`GuardedBody`.

    It also has a sync ``close()`` (Django calls it from a worker thread at the end of every response): the slot is
    given back at once and, if the body had started, it is closed on its own event loop, which closes the upstream
    stream.
    """

    def __init__(self, body: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release = _Once(release)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished = False

    def __aiter__(self) -> AsyncGuardedBody:
        return self

    async def __anext__(self) -> bytes:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        try:
            return await self._body.__anext__()
        except BaseException:
            self._finished = True  # ended, failed or cancelled: an async generator cannot go on after that
            self._release()
            raise

    async def aclose(self) -> None:
        self._finished = True
        try:
            aclose = getattr(self._body, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self._release()

    def close(self) -> None:
        """Give the slot back now; close a started body on its loop (from any thread)."""
        self._release()
        loop, self._loop = self._loop, None
        if self._finished or loop is None or loop.is_closed():
            return  # never started: nothing upstream was opened
        self._finished = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        try:
            if running is loop:
                _schedule_close(self._body)
            else:
                loop.call_soon_threadsafe(_schedule_close, self._body)
        except RuntimeError:  # the loop closed meanwhile: its shutdown closed the body
            pass

    def __del__(self) -> None:
        release = getattr(self, "_release", None)
        if release is not None:
            release()


def _schedule_close(body: Any) -> None:
    """On the body's loop: close it in a task of its own (never from inside its own iteration)."""
    aclose = getattr(body, "aclose", None)
    if aclose is None:
        return
    task = asyncio.get_running_loop().create_task(_quiet(aclose()))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def _quiet(closing: Any) -> None:
    try:
        await closing
    except RuntimeError:  # "already running": whoever iterates it is closing it
        pass
    except Exception:
        log.debug("closing a stream body failed", exc_info=True)
