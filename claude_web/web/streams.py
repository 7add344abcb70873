"""Stream bodies that give their capacity slot back however they end, and the per-process stream cap."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator

from .errors import ServiceUnavailable

__all__ = ["AsyncGuardedBody", "GuardedBody", "StreamSlots"]


class StreamSlots:
    """A per-process cap on concurrent streams: beyond it a new stream gets a fast 503 with ``Retry-After``."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def acquire(self) -> None:
        """Take a slot, or raise :class:`ServiceUnavailable` (``too_many_streams``) at once when none is free."""
        with self._lock:
            if self.limit is not None and self._used >= self.limit:
                raise ServiceUnavailable(
                    "too_many_streams",
                    "The server is answering as many streams as it can. Please try again.",
                    retry_after=2,
                )
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

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._release()


class GuardedBody:
    """A sync body that calls ``release`` exactly once: at its end, on error, or on ``close()`` even if the
    server never started it."""

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


class AsyncGuardedBody:
    """The async twin of :class:`GuardedBody`."""

    def __init__(self, body: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release = _Once(release)

    def __aiter__(self) -> AsyncGuardedBody:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._body.__anext__()
        except BaseException:
            self._release()
            raise

    async def aclose(self) -> None:
        try:
            aclose = getattr(self._body, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self._release()
