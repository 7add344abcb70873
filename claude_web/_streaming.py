"""``Stream`` / ``AsyncStream``: an open SSE response turned into typed Messages API events.

>>> with client.messages.create(model=..., max_tokens=..., messages=..., stream=True) as stream:
...     for event in stream:
...         if event.type == "content_block_delta": ...

``ping`` is skipped (unless :meth:`Stream.include_pings` asks for it), event names this library does not know are
skipped (as ``anthropic`` does), an event whose data has no ``type`` takes its ``event:`` name, an ``error``
event raises the matching :class:`~claude_web.APIStatusError` subclass, and a stream that breaks (connection
drop, cut mid-event, malformed data) raises an :class:`~claude_web.APIError` subclass naming the problem.
Every stream ends its usage record exactly once: ``ok`` at ``message_stop``, ``error`` on any failure,
``aborted`` when closed early. A stream that ends before its ``message_delta`` (which carries the final output
token count) records an estimate of the output it did receive, marked ``estimated=True``: the characters of the
text, thinking and tool-input JSON deltas that arrived, divided by 4 and rounded up (about 4 characters per token
in English text and JSON), and never less than the ``message_start`` count.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from typing_extensions import Self

from ._exceptions import (
    STATUS_BY_ERROR_TYPE,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    status_error_class,
)
from ._results import upstream_request_id
from ._sse import ServerSentEvent, SSEDecoder
from .types._events import PingEvent
from .types._parsing import event_validators, parse_stream_event_json

if TYPE_CHECKING:
    from .usage import UsageTracker

__all__ = ["AsyncStream", "Stream"]

_PING = PingEvent(type="ping")

_T = TypeVar("_T")


class _StreamCore:
    """The I/O-free half shared by both stream classes: event decoding, errors, usage bookkeeping."""

    response: httpx.Response
    _usage: UsageTracker | None
    _finished: bool

    def _init_core(self, response: httpx.Response, client: Any, usage: UsageTracker | None) -> None:
        self.response = response
        self._usage = usage
        make_decoder = getattr(client, "_make_sse_decoder", None)
        self._decoder = make_decoder() if make_decoder is not None else SSEDecoder()
        self._finished = False
        self._saw_stop = False
        self._saw_start = False
        self._saw_delta_usage = False  # a message_delta reported the output tokens: the count is exact
        self._received_chars = 0  # characters of text / thinking / tool JSON received, for an estimate
        self._yield_pings = False  # include_pings() turns it on
        self._interrupted = False  # interrupt() from another thread

    def include_pings(self) -> Self:
        """Also yield Claude's keep-alive ``ping`` events (``PingEvent``, ``type == "ping"``) when iterating, and
        return the stream. Call it before iterating; by default pings are skipped, as in ``anthropic``.

        >>> for event in client.messages.create(..., stream=True).include_pings():
        ...     if event.type == "ping": send_heartbeat()
        """
        self._yield_pings = True
        return self

    def interrupt(self) -> None:
        """Stop the stream from another thread while one is blocked reading it (a server that reads upstream on
        one thread and writes to the browser on another, when the browser has gone).

        Thread-safe: the usage record will say ``aborted``, and the connection is shut down so the reading thread
        wakes at once; its iteration then just ends (close the stream from that thread as usual). A connection
        without a socket (a custom transport) is not cut: the iteration ends at the next event.
        """
        self._interrupted = True
        stream = self.response.extensions.get("network_stream")
        get_extra_info = getattr(stream, "get_extra_info", None)
        sock = get_extra_info("socket") if get_extra_info is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("request-id")
        return value

    def _record_request_id(self) -> str | None:
        """The upstream request id for usage records: ``request-id``, or Bedrock's ``x-amzn-requestid``."""
        return upstream_request_id(self.response.headers)

    def _track(self, usage: UsageTracker, name: str | None, event: Any) -> None:
        collector = usage.collector  # the answer's content for the span, only when content capture is on
        if collector is not None:
            collector.feed(name, event)
        if name == "content_block_delta":
            usage.first_token()
            delta = event.delta
            kind = delta.type
            if kind == "text_delta":
                self._received_chars += len(delta.text)
            elif kind == "input_json_delta":
                self._received_chars += len(delta.partial_json)
            elif kind == "thinking_delta":
                self._received_chars += len(delta.thinking)
        elif name == "message_start":
            message = event.message
            usage.set_usage(message.usage, model=message.model)
            usage.response_id = message.id
            self._saw_start = True
        elif name == "message_delta":
            usage.stop_reason = event.delta.stop_reason
            if event.usage is not None:
                usage.set_usage(event.usage)
                self._saw_delta_usage = True
        elif name == "message_stop":
            self._saw_stop = True
            usage.finish("ok", request_id=self._record_request_id())

    def _without_type(self, sse: ServerSentEvent, exc: ValueError) -> Any:
        """The event of a ``data`` that failed to validate because it has no ``type``: it takes the SSE event name,
        as ``anthropic`` does. Any other failure is a malformed event."""
        try:
            data = json.loads(sse.data)
        except ValueError:
            raise self._malformed(sse, exc) from exc
        if not isinstance(data, dict) or "type" in data:
            raise self._malformed(sse, exc) from exc
        data["type"] = sse.event
        try:
            return parse_stream_event_json(json.dumps(data), sse.event)
        except ValueError as again:
            raise self._malformed(sse, again) from again

    def _estimate_output(self, usage: UsageTracker) -> None:
        """A stream that ends early: the output tokens of what arrived (see the module), unless known exactly."""
        record = usage.record
        if self._saw_delta_usage or not self._saw_start:
            return
        estimate = -(-self._received_chars // 4)  # characters / 4, rounded up
        record.output_tokens = max(record.output_tokens, estimate)
        record.estimated = True

    def _malformed(self, sse: ServerSentEvent, exc: Exception) -> APIError:
        data = sse.data if len(sse.data) <= 200 else sse.data[:200] + "..."
        return APIResponseValidationError(
            self.response,
            sse.data,
            message=f"Malformed {sse.event!r} event in the stream ({exc.__class__.__name__}): {data!r}",
        )

    def _stream_error(self, sse: ServerSentEvent) -> APIStatusError:
        body: object = sse.data
        try:
            body = json.loads(sse.data)
            message = f"{body}"
        except ValueError:
            message = sse.data or f"Error code: {self.response.status_code}"
        error_type = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error_type = body["error"].get("type")
        status = STATUS_BY_ERROR_TYPE.get(error_type or "", 500)
        err = status_error_class(status)(message, response=self.response, body=body)
        err.status_code = status
        return err

    def _transport_error(self, exc: Exception) -> APIError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(self.response.request)
        return APIConnectionError(
            message=f"The stream broke before it was complete ({exc.__class__.__name__}: {exc})",
            request=self.response.request,
        )

    def _at_eof(self) -> None:
        if self._decoder.pending:
            raise APIConnectionError(
                message="The stream was cut in the middle of an event (no blank line after the last field).",
                request=self.response.request,
            )
        if not self._saw_stop:
            raise APIConnectionError(
                message="The stream ended before its message_stop event: the connection was closed early.",
                request=self.response.request,
            )

    def _end_usage(self, error: BaseException | None) -> None:
        usage = self._usage
        if usage is None or usage.done:
            return
        if not self._saw_stop:
            self._estimate_output(usage)
        if error is not None and not self._interrupted:
            usage.finish("error", error=error, request_id=self._record_request_id())
        elif self._saw_stop:
            usage.finish("ok", request_id=self._record_request_id())
        else:
            usage.finish("aborted", request_id=self._record_request_id())


class Stream(_StreamCore, Generic[_T]):
    """Iterate the typed events of a ``stream=True`` call; close it (or use ``with``) to release the connection."""

    def __init__(
        self, *, cast_to: Any, response: httpx.Response, client: Any, usage: UsageTracker | None = None
    ) -> None:
        self._cast_to = cast_to
        self._client = client
        self._init_core(response, client, usage)
        self._iterator = self.__stream__()

    def __next__(self) -> _T:
        return self._iterator.__next__()

    def __iter__(self) -> Iterator[_T]:
        return self._iterator

    def __stream__(self) -> Generator[_T, None, None]:
        # the per-event path of _decode, inlined: this loop runs once per token
        validators = event_validators()
        feed = self._decoder.feed
        usage = self._usage
        try:
            try:
                for chunk in self.response.iter_bytes():
                    for sse in feed(chunk):
                        validate = validators.get(sse.event)  # type: ignore[arg-type]
                        if validate is None:
                            if sse.event == "error":
                                raise self._stream_error(sse)
                            if sse.event == "ping" and self._yield_pings:
                                yield _PING  # type: ignore[misc]
                            continue  # ping, and event names this library does not know
                        try:
                            event = validate(sse.data)
                        except ValueError as exc:
                            event = self._without_type(sse, exc)
                        if usage is not None:
                            self._track(usage, sse.event, event)
                        elif sse.event == "message_stop":
                            self._saw_stop = True
                        if self._interrupted:
                            return
                        yield event
            except httpx.HTTPError as exc:
                if self._interrupted:
                    return  # cut by interrupt(): an early end, not an error
                raise self._transport_error(exc) from exc
            if not self._interrupted:
                self._at_eof()
        except APIError as exc:
            self._end_usage(exc)
            raise
        finally:
            self.response.close()
            self._end_usage(None)

    def close(self) -> None:
        """Stop reading and release the connection; the usage record says ``aborted`` if the stream was not done."""
        self._iterator.close()
        self.response.close()
        self._end_usage(None)

    def __enter__(self) -> Stream[_T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncStream(_StreamCore, Generic[_T]):
    """The async twin of :class:`Stream`: ``async for event in stream``."""

    def __init__(
        self, *, cast_to: Any, response: httpx.Response, client: Any, usage: UsageTracker | None = None
    ) -> None:
        self._cast_to = cast_to
        self._client = client
        self._init_core(response, client, usage)
        self._iterator = self.__stream__()

    async def __anext__(self) -> _T:
        return await self._iterator.__anext__()

    async def __aiter__(self) -> AsyncIterator[_T]:
        async for event in self._iterator:
            yield event

    async def __stream__(self) -> AsyncGenerator[_T, None]:
        validators = event_validators()
        feed = self._decoder.feed
        usage = self._usage
        try:
            try:
                async for chunk in self.response.aiter_bytes():
                    for sse in feed(chunk):
                        validate = validators.get(sse.event)  # type: ignore[arg-type]
                        if validate is None:
                            if sse.event == "error":
                                raise self._stream_error(sse)
                            if sse.event == "ping" and self._yield_pings:
                                yield _PING  # type: ignore[misc]
                            continue
                        try:
                            event = validate(sse.data)
                        except ValueError as exc:
                            event = self._without_type(sse, exc)
                        if usage is not None:
                            self._track(usage, sse.event, event)
                        elif sse.event == "message_stop":
                            self._saw_stop = True
                        yield event
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from exc
            self._at_eof()
        except APIError as exc:
            self._end_usage(exc)
            raise
        finally:
            await self.response.aclose()
            self._end_usage(None)

    async def close(self) -> None:
        """Stop reading and release the connection; the usage record says ``aborted`` if the stream was not done."""
        await self._iterator.aclose()
        await self.response.aclose()
        self._end_usage(None)

    async def __aenter__(self) -> AsyncStream[_T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
