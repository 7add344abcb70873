"""Raw and streamed response wrappers behind ``with_raw_response`` and ``with_streaming_response``.

>>> response = client.messages.with_raw_response.create(model=..., max_tokens=..., messages=...)
>>> response.headers["request-id"], response.parse().content
>>> with client.messages.with_streaming_response.create(...) as response:
...     for line in response.iter_lines(): ...
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar, cast

import anyio
import httpx

from ._request_options import RESPONSE_MODE_HEADER

__all__ = [
    "APIResponse",
    "AsyncAPIResponse",
    "AsyncBinaryAPIResponse",
    "AsyncStreamedBinaryAPIResponse",
    "BinaryAPIResponse",
    "StreamedBinaryAPIResponse",
    "AsyncResponseContextManager",
    "AsyncStreamedAPIResponse",
    "ResponseContextManager",
    "StreamedAPIResponse",
    "to_raw_response_wrapper",
    "to_streamed_response_wrapper",
]

_T = TypeVar("_T")
_R = TypeVar("_R")


class _ResponseInfo:
    """What every wrapper exposes about the HTTP exchange."""

    def __init__(self, response: httpx.Response, parse: Callable[[], Any], *, retries_taken: int = 0) -> None:
        self.http_response = response
        self._parse_fn = parse
        self._parsed: Any = _UNPARSED
        self.retries_taken = retries_taken
        self._on_close: Callable[[], None] | None = None  # ends the call's usage record if parse() never did
        self._exhausted = False  # the whole body was read (by read() or a finished iter_*)

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def http_request(self) -> httpx.Request:
        return self.http_response.request

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_request.method

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def elapsed(self) -> datetime.timedelta:
        return self.http_response.elapsed

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    @property
    def request_id(self) -> str | None:
        value: str | None = self.http_response.headers.get("request-id")
        return value

    @property
    def workspace_id(self) -> str | None:
        value: str | None = self.http_response.headers.get("anthropic-workspace-id")
        return value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.method} {self.url}>"


_UNPARSED = object()


class APIResponse(_ResponseInfo, Generic[_R]):
    """A response that was read in full (or, for ``stream=True`` calls, is open for ``parse()`` to stream)."""

    def parse(self) -> _R:
        """The object the plain method would have returned (cached)."""
        if self._parsed is _UNPARSED:
            self._parsed = self._parse_fn()
        return cast(_R, self._parsed)

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def json(self) -> Any:
        return json.loads(self.http_response.content)


class AsyncAPIResponse(APIResponse[_R]):
    """The async twin; ``parse()`` is awaitable so ``await response.parse()`` works as in ``anthropic``."""

    async def parse(self) -> _R:  # type: ignore[override]
        return super().parse()


class StreamedAPIResponse(_ResponseInfo, Generic[_R]):
    """An open response: read it with ``iter_bytes/iter_text/iter_lines`` or ``read/text/json/parse``."""

    def read(self) -> bytes:
        content = self.http_response.read()
        self._exhausted = True
        return content

    def text(self) -> str:
        self.read()
        return self.http_response.text

    def json(self) -> Any:
        return json.loads(self.read())

    def parse(self) -> _R:
        """The parsed object; a non-stream body is read first, a stream is handed over open."""
        if self._parsed is _UNPARSED:
            if not self.http_response.is_stream_consumed and not _is_stream_parse(self):
                self.read()
            self._parsed = self._parse_fn()
        return cast(_R, self._parsed)

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from self.http_response.iter_bytes(chunk_size)
        self._exhausted = True

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        yield from self.http_response.iter_text(chunk_size)
        self._exhausted = True

    def iter_lines(self) -> Iterator[str]:
        yield from self.http_response.iter_lines()
        self._exhausted = True

    def close(self) -> None:
        self.http_response.close()
        if self._on_close is not None:
            self._on_close()


class AsyncStreamedAPIResponse(_ResponseInfo, Generic[_R]):
    async def read(self) -> bytes:
        content = await self.http_response.aread()
        self._exhausted = True
        return content

    async def text(self) -> str:
        await self.read()
        return self.http_response.text

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def parse(self) -> _R:
        if self._parsed is _UNPARSED:
            if not self.http_response.is_stream_consumed and not _is_stream_parse(self):
                await self.read()
            self._parsed = self._parse_fn()
        return cast(_R, self._parsed)

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        async for chunk in self.http_response.aiter_bytes(chunk_size):
            yield chunk
        self._exhausted = True

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        async for chunk in self.http_response.aiter_text(chunk_size):
            yield chunk
        self._exhausted = True

    async def iter_lines(self) -> AsyncIterator[str]:
        async for line in self.http_response.aiter_lines():
            yield line
        self._exhausted = True

    async def close(self) -> None:
        await self.http_response.aclose()
        if self._on_close is not None:
            self._on_close()


class BinaryAPIResponse(_ResponseInfo):
    """A binary body (``client.beta.files.download(...)``), read in full: ``read()``, ``write_to_file(path)``.

    >>> client.beta.files.download(file_id).write_to_file("report.pdf")
    """

    streamed: ClassVar[type[Any]]  # what ``with_streaming_response`` hands over instead (set below)

    def parse(self) -> bytes:
        """The body's bytes (the same as :meth:`read`)."""
        return self.read()

    def read(self) -> bytes:
        return self.http_response.read()

    def text(self) -> str:
        self.read()
        return self.http_response.text

    def json(self) -> Any:
        return json.loads(self.read())

    def close(self) -> None:
        self.http_response.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from self.http_response.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        yield from self.http_response.iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        yield from self.http_response.iter_lines()

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the body to ``file`` (a path), chunk by chunk."""
        with open(file, mode="wb") as out:
            for chunk in self.http_response.iter_bytes():
                out.write(chunk)


class AsyncBinaryAPIResponse(_ResponseInfo):
    """The async twin of :class:`BinaryAPIResponse`: ``await response.read()``, ``await write_to_file(path)``."""

    streamed: ClassVar[type[Any]]

    async def parse(self) -> bytes:
        return await self.read()

    async def read(self) -> bytes:
        return await self.http_response.aread()

    async def text(self) -> str:
        await self.read()
        return self.http_response.text

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def close(self) -> None:
        await self.http_response.aclose()

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        async for chunk in self.http_response.aiter_bytes(chunk_size):
            yield chunk

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        async for chunk in self.http_response.aiter_text(chunk_size):
            yield chunk

    async def iter_lines(self) -> AsyncIterator[str]:
        async for line in self.http_response.aiter_lines():
            yield line

    async def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the body to ``file`` (a path) without blocking the event loop."""
        path = anyio.Path(file)
        async with await path.open(mode="wb") as out:
            async for chunk in self.http_response.aiter_bytes():
                await out.write(chunk)


class StreamedBinaryAPIResponse(StreamedAPIResponse[bytes]):
    """``with client.beta.files.with_streaming_response.download(file_id) as response:`` an open binary body."""

    def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Stream the body into ``file`` (a path) as it arrives."""
        with open(file, mode="wb") as out:
            for chunk in self.iter_bytes(chunk_size):
                out.write(chunk)


class AsyncStreamedBinaryAPIResponse(AsyncStreamedAPIResponse[bytes]):
    async def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Stream the body into ``file`` (a path) as it arrives, without blocking the event loop."""
        path = anyio.Path(file)
        async with await path.open(mode="wb") as out:
            async for chunk in self.iter_bytes(chunk_size):
                await out.write(chunk)


BinaryAPIResponse.streamed = StreamedBinaryAPIResponse
AsyncBinaryAPIResponse.streamed = AsyncStreamedBinaryAPIResponse
BINARY_RESPONSES = (BinaryAPIResponse, AsyncBinaryAPIResponse)


def _is_stream_parse(wrapper: _ResponseInfo) -> bool:
    return "text/event-stream" in wrapper.headers.get("content-type", "")


class ResponseContextManager(Generic[_R]):
    """``with client.messages.with_streaming_response.create(...) as response:`` (the call is made on enter)."""

    def __init__(self, make: Callable[[], StreamedAPIResponse[_R]]) -> None:
        self._make = make
        self._response: StreamedAPIResponse[_R] | None = None

    def __enter__(self) -> StreamedAPIResponse[_R]:
        self._response = self._make()
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


class AsyncResponseContextManager(Generic[_R]):
    def __init__(self, make: Callable[[], Awaitable[AsyncStreamedAPIResponse[_R]]]) -> None:
        self._make = make
        self._response: AsyncStreamedAPIResponse[_R] | None = None

    async def __aenter__(self) -> AsyncStreamedAPIResponse[_R]:
        self._response = await self._make()
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.close()


def _with_mode(kwargs: dict[str, Any], mode: str) -> dict[str, Any]:
    headers = dict(kwargs.get("extra_headers") or {})
    headers[RESPONSE_MODE_HEADER] = mode
    kwargs["extra_headers"] = headers
    return kwargs


def to_raw_response_wrapper(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a resource method so it returns an :class:`APIResponse` instead of the parsed object."""

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **_with_mode(kwargs, "raw"))

    return wrapped


def to_streamed_response_wrapper(func: Callable[..., Any], *, is_async: bool = False) -> Callable[..., Any]:
    """Wrap a resource method so it returns a context manager around an open :class:`StreamedAPIResponse`."""

    if is_async:

        @functools.wraps(func)
        def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            return AsyncResponseContextManager(lambda: func(*args, **_with_mode(kwargs, "stream")))

        return wrapped_async

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return ResponseContextManager(lambda: func(*args, **_with_mode(kwargs, "stream")))

    return wrapped
