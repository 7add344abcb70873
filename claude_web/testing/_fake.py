"""FakeClaude, the fake API served on a loopback socket (or through in-process transports), and RemoteFakeClaude to
control one running in another process through its ``/_fake/`` control API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from ._app import FakeApp
from ._http import RecordedRequest
from ._replies import Reply, error
from ._server import LoopbackServer
from ._transports import AsyncFakeTransport, FakeTransport

__all__ = ["FakeClaude", "RemoteFakeClaude"]


class FakeClaude:
    """A fake Anthropic Messages API on a loopback socket.

    ``cache_min_tokens`` sets the minimum cacheable prompt length for every model (default: the documented value per
    model); ``clock`` (monotonic seconds) drives prompt cache TTLs, which :meth:`advance_time` also moves.

    ::

        with FakeClaude() as fake:
            fake.queue(text("Hi!"), error(529))
            client = Anthropic(api_key="test", base_url=fake.base_url)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cache_min_tokens: int | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.app = FakeApp(cache_min_tokens=cache_min_tokens, clock=clock)
        self._address = (host, port)
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeClaude:
        if self._server is not None:
            return self
        server = LoopbackServer(self._address, self.app)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"FakeClaude:{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(5)

    def __enter__(self) -> FakeClaude:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def host(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeClaude is not running: use `with FakeClaude() as fake:` or fake.start()")
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeClaude is not running: use `with FakeClaude() as fake:` or fake.start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash, no /v1)."""
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- scripting -------------------------------------------------------------------------------------------------

    def queue(self, *replies: Reply) -> None:
        """Script the next replies, first in first out. Message replies answer POST /v1/messages; errors, resets
        and delays apply to the next request on any route."""
        self.app.queue(*replies)

    def fail_next(self, n: int, status: int = 529, headers: dict[str, str] | None = None) -> None:
        """Queue ``n`` error(status) replies."""
        self.app.queue(*(error(status, headers=headers) for _ in range(n)))

    @property
    def batch_polls_until_end(self) -> int:
        """How many retrieves a batch needs before it ends (default 1; reset by clear())."""
        return self.app.batch_polls_until_end

    @batch_polls_until_end.setter
    def batch_polls_until_end(self, value: int) -> None:
        self.app.batch_polls_until_end = value

    @property
    def default_event_delay(self) -> float:
        """Seconds between the events of unscripted streamed replies (0 by default; a demo paces its pages)."""
        return self.app.default_event_delay

    @default_event_delay.setter
    def default_event_delay(self, value: float) -> None:
        self.app.default_event_delay = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (a copy), except /_fake/ control calls."""
        return self.app.requests

    @property
    def last_request(self) -> RecordedRequest:
        found = self.app.requests
        if not found:
            raise AssertionError("FakeClaude has not received any request yet")
        return found[-1]

    @property
    def queued(self) -> int:
        """Scripted replies not consumed yet."""
        return self.app.queued

    def clear(self) -> None:
        """Forget requests, queued replies, batches, files and the prompt cache; reset counters and settings."""
        self.app.clear()

    # -- files -------------------------------------------------------------------------------------------------------

    def add_file(
        self, data: bytes, filename: str, mime_type: str | None = None, *, downloadable: bool = True
    ) -> dict[str, Any]:
        """Store a file as if a tool had created it (downloadable by default, unlike uploads); answer its metadata.

        >>> fake = FakeClaude()
        >>> fake.add_file(b"a,b\\n1,2\\n", "table.csv")["mime_type"]
        'text/csv'
        """
        return self.app.files.add(data, filename, mime_type, downloadable).metadata()

    # -- prompt cache ------------------------------------------------------------------------------------------------

    @property
    def cache_min_tokens(self) -> int | None:
        """The minimum cacheable prompt length for every model (None: the documented one per model); clear()
        restores the constructor's value."""
        return self.app.cache.min_tokens

    @cache_min_tokens.setter
    def cache_min_tokens(self, value: int | None) -> None:
        self.app.cache.min_tokens = value

    def advance_time(self, seconds: float) -> None:
        """Move the prompt cache's clock forward, so entries reach their TTL without waiting.

        >>> fake = FakeClaude()
        >>> fake.advance_time(301)  # every 5-minute entry written before has expired
        """
        self.app.cache.advance(seconds)

    @property
    def streams_aborted(self) -> int:
        """SSE streams whose client went away before the stream ended."""
        return self.app.streams_aborted

    def wait_for_stream_abort(self, timeout: float = 5.0) -> bool:
        """True as soon as a stream was aborted by its client; False after ``timeout`` seconds without one."""
        return self.app.wait_for_stream_abort(timeout)

    # -- transports --------------------------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport serving the same fake in-process (no socket needed)."""
        return FakeTransport(self.app)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An async httpx transport serving the same fake in-process (no socket needed)."""
        return AsyncFakeTransport(self.app)

    @staticmethod
    def connect(base_url: str) -> RemoteFakeClaude:
        """Control a FakeClaude running in another process (e.g. ``python -m claude_web.testing``)."""
        return RemoteFakeClaude(base_url)

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not running"
        return f"<FakeClaude {where}>"


class RemoteFakeClaude:
    """Controls a FakeClaude in another process through its /_fake/ control API."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def queue(self, *replies: Reply) -> None:
        response = self._http.post("/_fake/queue", json=[r.to_json() for r in replies])
        response.raise_for_status()

    def fail_next(self, n: int, status: int = 529, headers: dict[str, str] | None = None) -> None:
        self.queue(*(error(status, headers=headers) for _ in range(n)))

    def clear(self) -> None:
        self._http.post("/_fake/reset").raise_for_status()

    def advance_time(self, seconds: float) -> None:
        """Move the remote prompt cache's clock forward."""
        self._http.post("/_fake/advance", json={"seconds": seconds}).raise_for_status()

    def set_cache_min_tokens(self, value: int | None) -> None:
        """Set the remote minimum cacheable prompt length (None: the documented one per model)."""
        self._http.post("/_fake/config", json={"cache_min_tokens": value}).raise_for_status()

    @property
    def requests(self) -> list[RecordedRequest]:
        response = self._http.get("/_fake/requests")
        response.raise_for_status()
        return [RecordedRequest.from_json(item) for item in response.json()]

    @property
    def last_request(self) -> RecordedRequest:
        found = self.requests
        if not found:
            raise AssertionError("FakeClaude has not received any request yet")
        return found[-1]

    def _state(self) -> dict[str, Any]:
        response = self._http.get("/_fake/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    @property
    def streams_aborted(self) -> int:
        return int(self._state()["streams_aborted"])

    @property
    def queued(self) -> int:
        return int(self._state()["queued"])

    @property
    def batch_polls_until_end(self) -> int:
        return int(self._state()["batch_polls_until_end"])

    @batch_polls_until_end.setter
    def batch_polls_until_end(self, value: int) -> None:
        self._http.post("/_fake/config", json={"batch_polls_until_end": value}).raise_for_status()

    def set_default_event_delay(self, seconds: float) -> None:
        """Pace the unscripted streamed replies of the remote server."""
        self._http.post("/_fake/config", json={"default_event_delay": seconds}).raise_for_status()

    def wait_for_stream_abort(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.streams_aborted > 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteFakeClaude:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RemoteFakeClaude {self.base_url}>"
