"""The loopback socket server FakeClaude runs on: threaded HTTP/1.1 with keep-alive, chunked streams, and the
socket-level faults (reset, mid-stream drop) carried out for real.

Each connection has its thread, but paced streams (events with a delay between them) are sent by one pacer thread
per server once their first pause comes: thousands of stream threads each waking up between events spent more CPU
fighting over the GIL (mostly in the kernel) than sending. The connection's thread waits, idle, until its stream
is done.
"""

from __future__ import annotations

import heapq
import itertools
import selectors
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from ._app import FakeApp
from ._events import DROP, Sleep
from ._http import FakeResponse

__all__ = ["LoopbackServer", "TrackedConnections"]

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
    server: LoopbackServer

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
        events = iter(response.events)
        try:
            for action in events:
                if isinstance(action, bytes):
                    pending += b"%x\r\n%s\r\n" % (len(action), action)
                    if len(pending) >= _COALESCE:
                        sock.sendall(pending)
                        pending.clear()
                    continue
                if pending:
                    sock.sendall(pending)
                    pending.clear()
                if isinstance(action, Sleep):  # the rest is paced: the pacer sends it, this thread waits
                    self.server.pacer.send_rest(sock, events, action.seconds, response.on_abort)
                    return keep_alive
                if action is DROP:
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


class _PacedStream:
    """The rest of one stream, sent by the pacer without ever blocking it (the socket is non-blocking meanwhile)."""

    __slots__ = ("aborted", "done", "events", "finished", "on_abort", "pending", "sock", "watched")

    def __init__(self, sock: socket.socket, events: Iterator[Any], on_abort: Callable[[], None] | None) -> None:
        self.sock = sock
        self.events = events
        self.on_abort = on_abort
        self.pending = bytearray()
        self.finished = False  # every action taken, the end of the body queued
        self.aborted = False
        self.watched = False  # registered with the pacer's selector (to notice a client that hangs up)
        self.done = threading.Event()

    def _flush(self) -> bool:
        """Send what the socket takes now; ``False`` when something is left (the client reads slowly)."""
        try:
            sent = self.sock.send(self.pending)
        except BlockingIOError:
            sent = 0
        del self.pending[:sent]
        return not self.pending

    def step(self) -> float | None:
        """Send what is due; the seconds until the next step, or ``None`` when the stream is over."""
        try:
            if self.pending and not self._flush():
                return _RETRY_SEND
            if self.finished:
                return None
            for action in self.events:
                if isinstance(action, bytes):
                    self.pending += b"%x\r\n%s\r\n" % (len(action), action)
                elif isinstance(action, Sleep):
                    self._flush()
                    return action.seconds
                elif action is DROP:
                    self.aborted = True
                    _abort_socket(self.sock)
                    return None
            self.pending += b"0\r\n\r\n"
            self.finished = True
            return None if self._flush() else _RETRY_SEND
        except OSError:
            self.aborted = True
            if self.on_abort is not None:
                self.on_abort()
            return None


_RETRY_SEND = 0.005


class _Pacer:
    """One thread that sends the paced part of every stream of a server, each step at its due time, and notices a
    client that hangs up meanwhile (as a real server notices one that leaves while the model is still thinking): it
    waits on one selector over every paced socket, so thousands of quiet streams cost no thread wake-ups."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _PacedStream]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._joining: list[_PacedStream] = []
        self._thread: threading.Thread | None = None
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)

    def send_rest(
        self, sock: socket.socket, events: Iterator[Any], pause: float, on_abort: Callable[[], None] | None
    ) -> None:
        """Send the rest of a stream after ``pause`` seconds; returns when it is sent, raises ``_Aborted`` when
        the stream was dropped or the client went away."""
        job = _PacedStream(sock, events, on_abort)
        sock.setblocking(False)
        with self._lock:
            heapq.heappush(self._due, (time.monotonic() + pause, next(self._order), job))
            self._joining.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fake-claude-pacer", daemon=True)
                self._thread.start()
        self._wake()
        job.done.wait()
        if job.aborted:
            raise _Aborted
        sock.setblocking(True)

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass  # already awake, or shutting down

    def _run(self) -> None:
        while True:
            with self._lock:
                joining, self._joining = self._joining, []
                timeout = max(0.0, self._due[0][0] - time.monotonic()) if self._due else None
            for job in joining:
                if not job.done.is_set():
                    try:
                        self._selector.register(job.sock, selectors.EVENT_READ, job)
                        job.watched = True
                    except (KeyError, ValueError, OSError):
                        pass
            for key, _ in self._selector.select(timeout):
                if key.data is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                    continue
                self._readable(key.data)
            now = time.monotonic()
            while True:
                with self._lock:
                    if not self._due or self._due[0][0] > now:
                        break
                    _, _, job = heapq.heappop(self._due)
                if job.done.is_set():
                    continue  # it ended while waiting (the client went away)
                try:
                    wait = job.step()
                except Exception:  # a broken stream must not stop the others
                    job.aborted = True
                    wait = None
                if wait is None:
                    self._end(job)
                    continue
                with self._lock:
                    heapq.heappush(self._due, (time.monotonic() + wait, next(self._order), job))

    def _readable(self, job: _PacedStream) -> None:
        """A paced socket is readable: the client closed it (end the stream as aborted) or pipelined its next
        request (stop watching; it waits for this stream)."""
        try:
            peeked = job.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            peeked = b""
        if peeked:
            self._unwatch(job)
            return
        job.aborted = True
        if job.on_abort is not None:
            try:
                job.on_abort()
            except Exception:
                pass
        self._end(job)

    def _unwatch(self, job: _PacedStream) -> None:
        if job.watched:
            job.watched = False
            try:
                self._selector.unregister(job.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _end(self, job: _PacedStream) -> None:
        self._unwatch(job)
        job.done.set()


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


class LoopbackServer(TrackedConnections, socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The threaded TCP server answering every connection from ``app``."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # the listen backlog: thousands of streams may connect at once (bench/django_stream.py opens 2000); with 1024 the
    # kernel dropped SYNs (ListenOverflows) and the retransmits 1 s, 3 s later ran into 5 s connect timeouts. The
    # kernel caps it at net.core.somaxconn.
    request_queue_size = 4096

    def __init__(self, address: tuple[str, int], app: FakeApp) -> None:
        self.app = app
        self.pacer = _Pacer()
        self.init_tracking()
        super().__init__(address, _Handler)
