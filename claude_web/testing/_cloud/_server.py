"""The loopback server and request log that FakeBedrock and FakeVertex share: a threaded HTTP/1.1 server whose
requests a subclass translates (``_route``) and forwards to the FakeClaude app in-process (``_send_upstream``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx

from .._fake import FakeClaude
from .._http import RecordedRequest
from .._server import TrackedConnections

__all__ = ["PASSED_HEADERS", "CloudReply", "CloudServer"]

PASSED_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry", "request-id")
"""Upstream response headers a platform passes on to its client."""


@dataclass
class CloudReply:
    """What a platform fake answers: a body, or ``chunks`` to stream."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: Iterator[bytes] | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: this is a test server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            reply = self.server.owner._handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the fake: answer 500 rather than hang the client
            reply = CloudReply(
                500,
                [("content-type", "application/json")],
                json.dumps({"message": f"fake server error: {type(exc).__name__}: {exc}"}).encode(),
            )
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.chunks is None:
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for chunk in reply.chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
        except Exception:  # the upstream stream broke (e.g. a scripted drop): cut the connection, no end chunk
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _HTTPServer(TrackedConnections, ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: CloudServer) -> None:
        self.owner = owner
        self.init_tracking()
        super().__init__(address, _Handler)


class CloudServer:
    """The loopback server and request log both fakes share; subclasses translate requests in ``_route``."""

    _name = "fake"

    def __init__(self, fake: FakeClaude, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self._address = (host, port)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._upstream_client: httpx.Client | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    @property
    def _upstream(self) -> httpx.Client:
        """The in-process client to the FakeClaude app (no socket), opened by ``start()``."""
        client = self._upstream_client
        if client is None:
            client = self._upstream_client = httpx.Client(
                transport=self.fake.transport(), base_url="http://fakeclaude.invalid", timeout=30.0
            )
        return client

    def start(self) -> Any:
        if self._server is None:
            server = _HTTPServer(self._address, self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"{type(self).__name__}:{server.server_address[1]}",
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
        if self._upstream_client is not None:
            self._upstream_client.close()
            self._upstream_client = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use it as a context manager or start() it")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        host = self._address[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- what was received ----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (a copy); ``path`` is the raw request path, still percent-encoded."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        found = self.requests
        if not found:
            raise AssertionError(f"{type(self).__name__} has not received any request yet")
        return found[-1]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> CloudReply:
        path, _, qs = target.partition("?")
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        with self._lock:
            self._requests.append(RecordedRequest(method, path, query, headers, body, time.time()))
        return self._route(method, target, path, headers, body)

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> CloudReply:
        raise NotImplementedError

    def _send_upstream(self, path: str, payload: dict[str, Any], beta: str | None) -> httpx.Response:
        headers = {
            "x-api-key": f"{self._name}-upstream",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        }
        if beta:
            headers["anthropic-beta"] = beta
        request = self._upstream.build_request("POST", path, content=json.dumps(payload).encode(), headers=headers)
        return self._upstream.send(request, stream=True)

    def __repr__(self) -> str:
        where = self.origin if self._server is not None else "not running"
        return f"<{type(self).__name__} {where}>"
