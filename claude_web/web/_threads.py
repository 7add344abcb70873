"""A blocking iterator pulled on a thread of its own, so the thread that writes the response stays free to write
heartbeats on time (see :func:`claude_web.web.sse.write_events` with ``source_thread=True``).

>>> source = SourceThread(iter([1, 2]))
>>> [source.get(1.0), source.get(1.0), source.get(1.0) is END]
[1, 2, True]
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["END", "QUIET", "SourceThread"]

log = logging.getLogger("claude_web.web")

QUIET: Any = object()
"""What :meth:`SourceThread.get` returns when the source said nothing within the timeout."""
END: Any = object()
"""What :meth:`SourceThread.get` returns once the source is exhausted."""

_names = itertools.count(1)


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class SourceThread:
    """Pulls ``source`` on a daemon thread (started by the first :meth:`get`) into a small queue.

    :meth:`stop` (from the consuming thread) asks the thread to stop; it closes ``source`` on its own thread
    (a generator can only be closed by the thread running it), then calls ``thread_done``.
    """

    def __init__(
        self, source: Iterable[Any], *, thread_done: Callable[[], None] | None = None, maxsize: int = 256
    ) -> None:
        self._source = source
        self._thread_done = thread_done
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, timeout: float) -> Any:
        """The next item, :data:`QUIET` after ``timeout`` seconds without one, or :data:`END`; an exception of
        the source is raised here."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"claude-web-source-{next(_names)}", daemon=True)
            self._thread.start()
        try:
            item = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return QUIET
        if isinstance(item, _Raised):
            raise item.error
        return item

    def stop(self, interrupt: Callable[[], None] | None = None) -> None:
        """Stop pulling; ``interrupt`` (thread-safe) wakes a source blocked in a read."""
        self._stopped.set()
        if self._thread is None:  # never started: close the source here
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
            return
        if interrupt is not None and self._thread.is_alive():
            try:
                interrupt()
            except Exception:
                log.exception("interrupting a stream's source failed")

    def _put(self, item: Any) -> None:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        iterator: Iterator[Any] = iter(self._source)
        try:
            for item in iterator:
                if self._stopped.is_set():
                    break
                self._put(item)
        except BaseException as exc:  # handed to the consumer, which raises it on its thread
            if not self._stopped.is_set():
                self._put(_Raised(exc))
        finally:
            close = getattr(iterator, "close", None)
            try:
                if close is not None:
                    close()
            except Exception:
                log.exception("closing a stream's source failed")
            self._put(END)
            if self._thread_done is not None:
                try:
                    self._thread_done()
                except Exception:
                    log.exception("cleaning up a stream's source thread failed")
