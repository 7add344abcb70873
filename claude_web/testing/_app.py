"""The fake Anthropic API itself: a pure request handler with no I/O.

``FakeApp.handle`` takes a parsed HTTP request and returns a :class:`FakeResponse`. The loopback socket server
and the httpx transports both wrap it, so they behave identically. Streaming responses are an iterator of
*actions* (see ``_events``): ``bytes`` to send, ``Sleep`` to wait, or ``DROP`` to abort the connection. The app
routes and keeps the reply queue and the request log; batches, files and the prompt cache are its parts.
"""

from __future__ import annotations

import binascii
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ._answers import default_reply
from ._batches import Batches
from ._cache import PromptCache
from ._catalog import MODELS, find_model
from ._events import stream_events, with_faults
from ._files import Files
from ._http import (
    APIError,
    FakeResponse,
    RecordedRequest,
    api_headers,
    error_response,
    json_body,
    json_response,
    page,
)
from ._replies import DelayReply, ErrorReply, MessageReply, Reply, ResetReply, reply_from_json
from ._tokens import CappedOutput, build_usage, cap_output, estimate_input_tokens, output_tokens
from ._validation import require_model_and_messages, validate_create
from ._wire import dumps

__all__ = ["FakeApp"]

logger = logging.getLogger("claude_web.testing")


class FakeApp:
    """State and routing of the fake API. Thread-safe; ``handle`` does no I/O.

    ``cache_min_tokens`` overrides the documented minimum cacheable prompt length of every model; ``clock``
    (monotonic seconds) drives the prompt cache's TTLs.
    """

    def __init__(self, cache_min_tokens: int | None = None, clock: Callable[[], float] | None = None) -> None:
        self._lock = threading.Lock()
        self._aborted = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._streams_aborted = 0
        self._generation = 0
        self.batches = Batches(lambda params: self.build_message(params, None)[0])
        self.cache = PromptCache(cache_min_tokens, clock)
        self.files = Files()
        self._cache_min_tokens = cache_min_tokens
        # seconds between the events of a default (unscripted) streamed reply: a demo sets it so that a page
        # visibly fills in token by token; tests script their own pacing per reply
        self.default_event_delay = 0.0

    # -- state ---------------------------------------------------------------------------------------------------

    def queue(self, *replies: Reply) -> None:
        for reply in replies:
            if not isinstance(reply, (MessageReply, ErrorReply, ResetReply, DelayReply)):
                raise TypeError(f"not a FakeClaude reply: {reply!r} (use text(), tool_use(), error(), ...)")
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def streams_aborted(self) -> int:
        with self._lock:
            return self._streams_aborted

    @property
    def batch_polls_until_end(self) -> int:
        return self.batches.polls_until_end

    @batch_polls_until_end.setter
    def batch_polls_until_end(self, value: int) -> None:
        self.batches.polls_until_end = value

    def clear(self) -> None:
        """Forget requests, queued replies, batches, files and the prompt cache; reset counters and settings."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._streams_aborted = 0
            self._generation += 1
        self.batches.clear()
        self.files.clear()
        self.cache.clear()
        self.cache.min_tokens = self._cache_min_tokens

    def wait_for_stream_abort(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._aborted:
            while self._streams_aborted == 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._aborted.wait(left)
            return True

    def _abort_callback(self) -> Callable[[], None]:
        generation = self._generation

        def aborted() -> None:
            with self._aborted:
                if self._generation == generation:
                    self._streams_aborted += 1
                    self._aborted.notify_all()

        return aborted

    def _pop_fault(self) -> Reply | None:
        with self._lock:
            if self._queue and not isinstance(self._queue[0], MessageReply):
                return self._queue.popleft()
            return None

    def _pop_message(self) -> MessageReply | None:
        with self._lock:
            if self._queue and isinstance(self._queue[0], MessageReply):
                head = self._queue.popleft()
                assert isinstance(head, MessageReply)
                return head
            return None

    # -- answers -------------------------------------------------------------------------------------------------

    def build_message(self, body: dict[str, Any], reply: MessageReply | None) -> tuple[dict[str, Any], MessageReply]:
        """The message JSON a request gets, from a scripted reply or the default answer."""
        if reply is None:
            reply = default_reply(body)
            reply.event_delay = self.default_event_delay
        capped = self._capped(body, reply)
        usage = build_usage(estimate_input_tokens(body), capped.tokens, reply.usage)
        message = {
            "id": reply.message_id,
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": capped.content,
            "stop_reason": "max_tokens" if capped.cut else reply.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        return message, reply

    @staticmethod
    def _capped(body: dict[str, Any], reply: MessageReply) -> CappedOutput:
        """The reply's blocks, cut at the request's ``max_tokens`` like the API stops generating."""
        content = [dict(block) for block in reply.content]
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1:
            return cap_output(content, max_tokens)
        return CappedOutput(content, output_tokens(content), False)

    # -- entry point ---------------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> FakeResponse:
        """Answer one request. ``headers`` must have lower-cased names; ``path`` has no query string."""
        method = method.upper()
        if path.startswith("/_fake/"):
            return self._control(method, path, body)
        recorded = RecordedRequest(method, path, dict(query), dict(headers), body, time.time())
        with self._lock:
            self._requests.append(recorded)
        pause = 0.0
        forced: Reply | None = self._pop_fault()
        while isinstance(forced, DelayReply):
            pause += forced.seconds
            forced = forced.then
        if isinstance(forced, ResetReply):
            return FakeResponse(0, [], None, delay=pause, reset=True)
        if isinstance(forced, ErrorReply):
            response = error_response(forced.status, forced.message, forced.type, forced.headers)
        else:
            try:
                response = self._route(method, path, query, headers, body, forced)
            except APIError as exc:
                response = error_response(exc.status, exc.message, exc.error_type)
            except Exception as exc:  # a bug in the fake: answer like the API would, and log it
                logger.exception("FakeClaude failed to answer %s %s", method, path)
                response = error_response(500, f"FakeClaude internal error: {type(exc).__name__}: {exc}", "api_error")
        response.delay = pause
        return response

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        forced: MessageReply | None,
    ) -> FakeResponse:
        if not path.startswith("/v1/"):
            raise APIError(404, "Not Found")
        if not headers.get("x-api-key") and not headers.get("authorization", "").lower().startswith("bearer "):
            raise APIError(401, "x-api-key header is required")
        if not headers.get("anthropic-version"):
            raise APIError(400, "anthropic-version: header is required")
        parts = path.rstrip("/").split("/")[2:]  # after "", "v1"
        if parts == ["messages"] and method == "POST":
            return self._messages(headers, body, forced)
        if parts == ["messages", "count_tokens"] and method == "POST":
            payload = json_body(body)
            require_model_and_messages(payload)
            self.files.check_references(payload, headers)
            return json_response(200, {"input_tokens": estimate_input_tokens(payload)})
        if parts == ["models"] and method == "GET":
            return json_response(200, page(MODELS, query))
        if len(parts) == 2 and parts[0] == "models" and method == "GET":
            return json_response(200, find_model(parts[1]))
        if parts[:1] == ["files"]:
            return self.files.route(method, parts[1:], query, headers, body)
        if parts[:2] == ["messages", "batches"]:
            return self.batches.route(method, parts[2:], query, headers, body)
        raise APIError(404, "Not Found")

    def _messages(self, headers: dict[str, str], body: bytes, forced: MessageReply | None) -> FakeResponse:
        payload = json_body(body)
        validate_create(payload)
        self.files.check_references(payload, headers)
        reply = forced if forced is not None else self._pop_message()
        message, reply = self.build_message(payload, reply)
        cached = self.cache.account(payload)  # the prompt cache splits the input tokens (a scripted usage wins)
        message["usage"].update({k: v for k, v in cached.items() if k not in (reply.usage or {})})
        if payload.get("stream") is True:
            partial_json = self._capped(payload, reply).partial_json  # tool input text cut off mid-way, if any
            events = with_faults(stream_events(message, reply.chunks, reply.pings, partial_json), reply)
            stream_headers = api_headers("text/event-stream; charset=utf-8")
            stream_headers.append(("cache-control", "no-cache"))
            return FakeResponse(200, stream_headers, None, events=events, on_abort=self._abort_callback())
        return json_response(200, message)

    # -- control API ---------------------------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> FakeResponse:
        plain = [("content-type", "application/json")]
        try:
            if path == "/_fake/queue" and method == "POST":
                data = json.loads(body or b"[]")
                items = data if isinstance(data, list) else [data]
                replies = [reply_from_json(item) for item in items]
                self.queue(*replies)
                return FakeResponse(200, plain, dumps({"queued": len(replies)}).encode())
            if path == "/_fake/reset" and method == "POST":
                self.clear()
                return FakeResponse(200, plain, b'{"ok":true}')
            if path == "/_fake/requests" and method == "GET":
                return FakeResponse(200, plain, dumps([r.to_json() for r in self.requests]).encode())
            if path == "/_fake/state" and method == "GET":
                with self._lock:
                    state = {
                        "queued": len(self._queue),
                        "requests": len(self._requests),
                        "streams_aborted": self._streams_aborted,
                        "batch_polls_until_end": self.batch_polls_until_end,
                    }
                return FakeResponse(200, plain, dumps(state).encode())
            if path == "/_fake/config" and method == "POST":
                data = json.loads(body or b"{}")
                if "batch_polls_until_end" in data:
                    self.batch_polls_until_end = int(data["batch_polls_until_end"])
                if "default_event_delay" in data:
                    self.default_event_delay = float(data["default_event_delay"])
                if "cache_min_tokens" in data:
                    value = data["cache_min_tokens"]
                    self.cache.min_tokens = None if value is None else int(value)
                return FakeResponse(200, plain, b'{"ok":true}')
            if path == "/_fake/advance" and method == "POST":
                self.cache.advance(float(json.loads(body or b"{}")["seconds"]))
                return FakeResponse(200, plain, b'{"ok":true}')
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return FakeResponse(400, plain, dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        return FakeResponse(404, plain, b'{"error":"unknown control route"}')
