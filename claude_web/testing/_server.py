"""FakeClaude: the fake API on a threaded loopback HTTP/1.1 server, plus httpx transports serving the same app
in-process, and RemoteFakeClaude to control a server running in another process."""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

from ._app import DROP, FakeApp, FakeResponse, RecordedRequest, Sleep
from ._replies import Reply, error

__all__ = ["AsyncFakeTransport", "FakeClaude", "FakeTransport", "RemoteFakeClaude"]

_MAX_LINE = 65536
_MAX_HEAD = 1 << 20
_COALESCE = 16384


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _abort_socket(sock: socket.socket) -> None:
    """Close with SO_LINGER 0 so the peer sees a reset instead of an orderly end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Aborted(Exception):
    """The connection was aborted on purpose (reset / drop): stop serving it."""


class _Reader:
    """Buffered reads from a socket, with as few system calls and Python-level steps as possible."""

    __slots__ = ("buf", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def until(self, marker: bytes, limit: int) -> bytes | None:
        """Everything up to ``marker`` (consumed, not returned); None at EOF or past ``limit`` bytes."""
        pos = self.buf.find(marker)
        while pos < 0:
            if len(self.buf) > limit or not self.fill():
                return None
            pos = self.buf.find(marker, max(0, len(self.buf) - 65536 - len(marker)))
        out, self.buf = self.buf[:pos], self.buf[pos + len(marker) :]
        return out

    def exactly(self, size: int) -> bytes | None:
        while len(self.buf) < size:
            if not self.fill():
                return None
        out, self.buf = self.buf[:size], self.buf[size:]
        return out


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        self.server.track(sock, True)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = _Reader(sock)
            while self._serve_one(sock, reader):
                pass
        except (_Aborted, OSError, ValueError):
            pass
        finally:
            self.server.track(sock, False)

    def finish(self) -> None:
        pass

    def _serve_one(self, sock: socket.socket, reader: _Reader) -> bool:
        while reader.buf[:2] == b"\r\n":  # tolerate stray CRLFs between requests
            reader.buf = reader.buf[2:]
        raw_head = reader.until(b"\r\n\r\n", _MAX_HEAD)
        if raw_head is None:
            if len(reader.buf) > _MAX_HEAD:
                sock.sendall(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            return False
        lines = raw_head.lstrip(b"\r\n").decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body: bytes | None
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked(reader)
        else:
            length = int(headers.get("content-length", "0") or "0")
            body = reader.exactly(length) if length > 0 else b""
        if body is None:
            return False
        path, _, qs = target.partition("?")
        if path.startswith(("http://", "https://")):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        if "%" in path:
            path = unquote(path)
        response = self.server.app.handle(method, path, query, headers, body)
        keep_alive = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        return self._send(sock, response, keep_alive)

    @staticmethod
    def _read_chunked(reader: _Reader) -> bytes | None:
        out = bytearray()
        while True:
            size_line = reader.until(b"\r\n", _MAX_LINE)
            if size_line is None:
                return None
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = reader.until(b"\r\n", _MAX_LINE)
                    if trailer is None:
                        return None
                    if not trailer:
                        return bytes(out)
            data = reader.exactly(size + 2)
            if data is None:
                return None
            out += data[:size]

    def _send(self, sock: socket.socket, response: FakeResponse, keep_alive: bool) -> bool:
        if response.delay > 0:
            time.sleep(response.delay)
        if response.reset:
            _abort_socket(sock)
            raise _Aborted
        head = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if response.events is None:
            body = response.body or b""
            head.append(f"content-length: {len(body)}")
            if not keep_alive:
                head.append("connection: close")
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            return keep_alive
        head.append("transfer-encoding: chunked")
        if not keep_alive:
            head.append("connection: close")
        pending = bytearray(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        try:
            for action in response.events:
                if isinstance(action, bytes):
                    pending += b"%x\r\n%s\r\n" % (len(action), action)
                    if len(pending) >= _COALESCE:
                        sock.sendall(pending)
                        pending.clear()
                    continue
                if pending:
                    sock.sendall(pending)
                    pending.clear()
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                elif action is DROP:
                    _abort_socket(sock)
                    raise _Aborted
            pending += b"0\r\n\r\n"
            sock.sendall(pending)
        except _Aborted:
            raise
        except OSError:
            if response.on_abort is not None:
                response.on_abort()
            raise _Aborted from None
        return keep_alive


class TrackedConnections:
    """Mixin for the fakes' threaded servers: remembers open client sockets so ``stop()`` can cut them, and stays
    quiet when a client goes away (normal for a fake server)."""

    _open: set[socket.socket]
    _open_lock: threading.Lock

    def init_tracking(self) -> None:
        self._open = set()
        self._open_lock = threading.Lock()

    def track(self, sock: socket.socket, opened: bool) -> None:
        with self._open_lock:
            if opened:
                self._open.add(sock)
            else:
                self._open.discard(sock)

    def close_connections(self) -> None:
        with self._open_lock:
            socks = list(self._open)
            self._open.clear()
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Server(TrackedConnections, socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: FakeApp) -> None:
        self.app = app
        self.init_tracking()
        super().__init__(address, _Handler)


# -- httpx transports --------------------------------------------------------------------------------------------


def _request_parts(request: httpx.Request) -> tuple[str, str, dict[str, str], dict[str, str]]:
    query = {k: v for k, v in request.url.params.multi_items()}
    headers: dict[str, str] = {}
    for name, value in request.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return request.method, request.url.path, query, headers


class _SyncEvents(httpx.SyncByteStream):
    def __init__(self, response: FakeResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._done = False
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        assert self._response.events is not None
        for action in self._response.events:
            if isinstance(action, bytes):
                yield action
            elif isinstance(action, Sleep):
                time.sleep(action.seconds)
            elif action is DROP:
                self._done = True
                raise httpx.ReadError("FakeClaude dropped the connection mid-stream", request=self._request)
        self._done = True

    def close(self) -> None:
        if not self._done and not self._closed and self._response.on_abort is not None:
            self._response.on_abort()
        self._closed = True


class _AsyncEvents(httpx.AsyncByteStream):
    def __init__(self, response: FakeResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import anyio

        assert self._response.events is not None
        for action in self._response.events:
            if isinstance(action, bytes):
                yield action
            elif isinstance(action, Sleep):
                await anyio.sleep(action.seconds)
            elif action is DROP:
                self._done = True
                raise httpx.ReadError("FakeClaude dropped the connection mid-stream", request=self._request)
        self._done = True

    async def aclose(self) -> None:
        if not self._done and not self._closed and self._response.on_abort is not None:
            self._response.on_abort()
        self._closed = True


def _to_httpx(
    response: FakeResponse, request: httpx.Request, stream: httpx.SyncByteStream | httpx.AsyncByteStream | None
) -> httpx.Response:
    if stream is not None:
        return httpx.Response(response.status, headers=response.headers, stream=stream, request=request)
    return httpx.Response(response.status, headers=response.headers, content=response.body or b"", request=request)


def _reset_error(request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


class FakeTransport(httpx.BaseTransport):
    """An httpx transport answering from a FakeApp in-process (no socket)."""

    def __init__(self, app: FakeApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method, path, query, headers = _request_parts(request)
        response = self.app.handle(method, path, query, headers, request.read())
        if response.delay > 0:
            time.sleep(response.delay)
        if response.reset:
            raise _reset_error(request)
        stream = _SyncEvents(response, request) if response.events is not None else None
        return _to_httpx(response, request, stream)


class AsyncFakeTransport(httpx.AsyncBaseTransport):
    """An async httpx transport answering from a FakeApp in-process (no socket)."""

    def __init__(self, app: FakeApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import anyio

        method, path, query, headers = _request_parts(request)
        response = self.app.handle(method, path, query, headers, await request.aread())
        if response.delay > 0:
            await anyio.sleep(response.delay)
        if response.reset:
            raise _reset_error(request)
        stream = _AsyncEvents(response, request) if response.events is not None else None
        return _to_httpx(response, request, stream)


# -- FakeClaude ----------------------------------------------------------------------------------------------------


class FakeClaude:
    """A fake Anthropic Messages API on a loopback socket.

    ::

        with FakeClaude() as fake:
            fake.queue(text("Hi!"), error(529))
            client = Anthropic(api_key="test", base_url=fake.base_url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = FakeApp()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeClaude:
        if self._server is not None:
            return self
        server = _Server(self._address, self.app)
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
        """Forget requests, queued replies and batches; reset counters."""
        self.app.clear()

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
