"""httpx transports that answer from a FakeApp in-process, with no socket: the same answers, streams and faults
as the loopback server (a reset or a drop becomes the httpx error a real socket would give).

::

    client = httpx.Client(transport=fake.transport(), base_url="http://fake")
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx

from ._app import FakeApp
from ._events import DROP, Sleep
from ._http import FakeResponse

__all__ = ["AsyncFakeTransport", "FakeTransport"]


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
