"""The fake Anthropic API itself: a pure request handler with no I/O.

``FakeApp.handle`` takes a parsed HTTP request and returns a :class:`FakeResponse`. The loopback socket server
and the httpx transports both wrap it, so they behave identically. Streaming responses are an iterator of
*actions*: ``bytes`` to send, :class:`Sleep` to wait, or :data:`DROP` to abort the connection.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ._answers import default_reply
from ._events import Action, stream_events, with_faults
from ._replies import (
    DelayReply,
    ErrorReply,
    MessageReply,
    Reply,
    ResetReply,
    default_error_type,
    random_id,
    reply_from_json,
)
from ._tokens import CappedOutput, build_usage, cap_output, estimate_input_tokens, output_tokens
from ._wire import dumps, iso

__all__ = ["FakeApp", "FakeResponse", "RecordedRequest"]

logger = logging.getLogger("claude_web.testing")

ORGANIZATION_ID = "5c1f2f0e-6b7a-4c43-9d8e-fa4e0c0de001"


@dataclass(frozen=True)
class RecordedRequest:
    """One request FakeClaude received (control calls under ``/_fake/`` are not recorded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: float = 0.0

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body": base64.b64encode(self.body).decode("ascii"),
            "received_at": self.received_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedRequest:
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            query={str(k): str(v) for k, v in (data.get("query") or {}).items()},
            headers={str(k).lower(): str(v) for k, v in (data.get("headers") or {}).items()},
            body=base64.b64decode(data.get("body") or ""),
            received_at=float(data.get("received_at") or 0.0),
        )


@dataclass
class FakeResponse:
    """What the fake API answers. ``events`` is set for streams (then ``body`` is None)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None = None
    events: Iterator[Action] | None = None
    delay: float = 0.0
    reset: bool = False
    on_abort: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def is_stream(self) -> bool:
        return self.events is not None


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or default_error_type(status)


# -- models ------------------------------------------------------------------------------------------------------

_MODELS: list[tuple[str, str, str]] = [
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
    ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
    ("claude-3-5-sonnet-20241022", "Claude Sonnet 3.5 (New)", "2024-10-22T00:00:00Z"),
    ("claude-3-5-sonnet-20240620", "Claude Sonnet 3.5 (Old)", "2024-06-20T00:00:00Z"),
    ("claude-3-haiku-20240307", "Claude Haiku 3", "2024-03-07T00:00:00Z"),
    ("claude-3-opus-20240229", "Claude Opus 3", "2024-02-29T00:00:00Z"),
    ("claude-3-sonnet-20240229", "Claude Sonnet 3", "2024-02-29T00:00:00Z"),
    ("claude-2.1", "Claude 2.1", "2023-11-21T00:00:00Z"),
    ("claude-instant-1.2", "Claude Instant 1.2", "2023-08-09T00:00:00Z"),
    ("claude-2.0", "Claude 2.0", "2023-07-11T00:00:00Z"),
    ("claude-instant-1.1-100k", "Claude Instant 1.1 (100k)", "2023-06-01T00:00:00Z"),
    ("claude-instant-1.1", "Claude Instant 1.1", "2023-06-01T00:00:00Z"),
    ("claude-1.3-100k", "Claude 1.3 (100k)", "2023-05-11T00:00:00Z"),
    ("claude-1.3", "Claude 1.3", "2023-04-18T00:00:00Z"),
    ("claude-instant-1.0", "Claude Instant 1.0", "2023-03-14T00:00:00Z"),
    ("claude-1.2", "Claude 1.2", "2023-03-14T00:00:00Z"),
    ("claude-1.0", "Claude 1.0", "2023-03-14T00:00:00Z"),
    ("claude-v1-100k", "Claude v1 (100k)", "2023-03-01T00:00:00Z"),
    ("claude-instant-v1", "Claude Instant v1", "2023-03-01T00:00:00Z"),
]
MODELS: list[dict[str, Any]] = [
    {"type": "model", "id": model_id, "display_name": name, "created_at": created}
    for model_id, name, created in _MODELS
]


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """The API's cursor page over ``items`` (already newest first) for ``limit``/``after_id``/``before_id``."""
    raw_limit = query.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise _HTTPError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise _HTTPError(400, "limit: Input should be greater than or equal to 1 and less than or equal to 1000")
    ids = [item["id"] for item in items]
    after_id, before_id = query.get("after_id"), query.get("before_id")
    if after_id and before_id:
        raise _HTTPError(400, "Only one of after_id and before_id may be given")
    if before_id:
        end = ids.index(before_id) if before_id in ids else len(ids)
        start = max(0, end - limit)
        data = items[start:end]
        has_more = start > 0
    else:
        start = ids.index(after_id) + 1 if after_id and after_id in ids else (len(ids) if after_id else 0)
        data = items[start : start + limit]
        has_more = start + limit < len(items)
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


# -- the app ---------------------------------------------------------------------------------------------------


class FakeApp:
    """State and routing of the fake API. Thread-safe; ``handle`` does no I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._aborted = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._batches: dict[str, dict[str, Any]] = {}
        self._streams_aborted = 0
        self._generation = 0
        self.batch_polls_until_end = 1
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

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._batches.clear()
            self._streams_aborted = 0
            self._generation += 1
            self.batch_polls_until_end = 1

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

    # -- responses -----------------------------------------------------------------------------------------------

    @staticmethod
    def _headers(content_type: str = "application/json") -> list[tuple[str, str]]:
        return [
            ("content-type", content_type),
            ("request-id", random_id("req_")),
            ("anthropic-organization-id", ORGANIZATION_ID),
        ]

    def _json(self, status: int, payload: Any) -> FakeResponse:
        return FakeResponse(status, self._headers(), dumps(payload).encode())

    def _error(
        self, status: int, message: str, error_type: str | None = None, extra_headers: dict[str, str] | None = None
    ) -> FakeResponse:
        headers = self._headers()
        request_id = headers[1][1]
        body = {
            "type": "error",
            "error": {"type": error_type or default_error_type(status), "message": message},
            "request_id": request_id,
        }
        if extra_headers:
            names = {k.lower() for k in extra_headers}
            headers = [h for h in headers if h[0] not in names] + list(extra_headers.items())
        return FakeResponse(status, headers, dumps(body).encode())

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
            response = self._error(forced.status, forced.message, forced.type, forced.headers)
        else:
            try:
                response = self._route(method, path, query, headers, body, forced)
            except _HTTPError as exc:
                response = self._error(exc.status, exc.message, exc.error_type)
            except Exception as exc:  # a bug in the fake: answer like the API would, and log it
                logger.exception("FakeClaude failed to answer %s %s", method, path)
                response = self._error(500, f"FakeClaude internal error: {type(exc).__name__}: {exc}", "api_error")
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
            raise _HTTPError(404, "Not Found")
        if not headers.get("x-api-key") and not headers.get("authorization", "").lower().startswith("bearer "):
            raise _HTTPError(401, "x-api-key header is required")
        if not headers.get("anthropic-version"):
            raise _HTTPError(400, "anthropic-version: header is required")
        parts = path.rstrip("/").split("/")[2:]  # after "", "v1"
        if parts == ["messages"] and method == "POST":
            return self._messages(headers, body, forced)
        if parts == ["messages", "count_tokens"] and method == "POST":
            payload = self._json_body(body)
            self._require_model_and_messages(payload)
            return self._json(200, {"input_tokens": estimate_input_tokens(payload)})
        if parts == ["models"] and method == "GET":
            return self._json(200, _page(MODELS, query))
        if len(parts) == 2 and parts[0] == "models" and method == "GET":
            return self._json(200, self._model(parts[1]))
        if parts[:2] == ["messages", "batches"]:
            return self._batches_route(method, parts[2:], query, headers, body)
        raise _HTTPError(404, "Not Found")

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            raise _HTTPError(400, "There was an error parsing the body of your request: invalid JSON") from None
        if not isinstance(payload, dict):
            raise _HTTPError(400, "The request body must be a JSON object")
        return payload

    @staticmethod
    def _require_model_and_messages(payload: dict[str, Any], prefix: str = "") -> None:
        if "model" not in payload:
            raise _HTTPError(400, f"{prefix}model: Field required")
        if not isinstance(payload["model"], str) or not payload["model"]:
            raise _HTTPError(400, f"{prefix}model: Input should be a valid string")
        if "messages" not in payload:
            raise _HTTPError(400, f"{prefix}messages: Field required")
        messages = payload["messages"]
        if not isinstance(messages, list):
            raise _HTTPError(400, f"{prefix}messages: Input should be a valid list")
        if not messages:
            raise _HTTPError(400, f"{prefix}messages: at least one message is required")
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict):
                raise _HTTPError(400, f"{prefix}messages.{i}: Input should be a valid dictionary")
            if msg.get("role") not in ("user", "assistant"):
                raise _HTTPError(400, f"{prefix}messages.{i}.role: Input should be 'user' or 'assistant'")
            if "content" not in msg:
                raise _HTTPError(400, f"{prefix}messages.{i}.content: Field required")

    def _validate_create(self, payload: dict[str, Any], prefix: str = "") -> None:
        self._require_model_and_messages(payload, prefix)
        if "max_tokens" not in payload:
            raise _HTTPError(400, f"{prefix}max_tokens: Field required")
        max_tokens = payload["max_tokens"]
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            raise _HTTPError(400, f"{prefix}max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise _HTTPError(400, f"{prefix}max_tokens: Input should be greater than or equal to 1")
        if "stream" in payload and not isinstance(payload["stream"], bool):
            raise _HTTPError(400, f"{prefix}stream: Input should be a valid boolean")

    def _messages(self, headers: dict[str, str], body: bytes, forced: MessageReply | None) -> FakeResponse:
        payload = self._json_body(body)
        self._validate_create(payload)
        reply = forced if forced is not None else self._pop_message()
        message, reply = self.build_message(payload, reply)
        if payload.get("stream") is True:
            partial_json = self._capped(payload, reply).partial_json  # tool input text cut off mid-way, if any
            events = with_faults(stream_events(message, reply.chunks, reply.pings, partial_json), reply)
            stream_headers = self._headers("text/event-stream; charset=utf-8")
            stream_headers.append(("cache-control", "no-cache"))
            return FakeResponse(200, stream_headers, None, events=events, on_abort=self._abort_callback())
        return FakeResponse(200, self._headers(), dumps(message).encode())

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        for model in MODELS:
            if model["id"] == model_id:
                return model
        for model in MODELS:  # an alias such as "claude-sonnet-4-5" resolves to its newest snapshot
            if model["id"].startswith(model_id + "-20"):
                return model
        raise _HTTPError(404, f"model: {model_id}")

    # -- batches -------------------------------------------------------------------------------------------------

    def _batch_view(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _end_batch(self, batch: dict[str, Any]) -> None:
        n = len(batch["_requests"])
        canceled = batch["processing_status"] == "canceling"
        batch["processing_status"] = "ended"
        batch["request_counts"] = {
            "processing": 0,
            "succeeded": 0 if canceled else n,
            "errored": 0,
            "canceled": n if canceled else 0,
            "expired": 0,
        }
        batch["ended_at"] = iso(datetime.now(timezone.utc))
        batch["results_url"] = f"{batch['_base']}/v1/messages/batches/{batch['id']}/results"

    def _batches_route(
        self, method: str, rest: list[str], query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> FakeResponse:
        if not rest:
            if method == "POST":
                return self._json(200, self._create_batch(headers, body))
            if method == "GET":
                with self._lock:
                    items = [self._batch_view(b) for b in reversed(self._batches.values())]
                return self._json(200, _page(items, query))
            raise _HTTPError(404, "Not Found")
        batch_id = rest[0]
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                raise _HTTPError(404, f"message_batch: {batch_id} not found")
            if len(rest) == 1 and method == "GET":
                batch["_polls"] += 1
                if batch["processing_status"] != "ended" and batch["_polls"] >= self.batch_polls_until_end:
                    self._end_batch(batch)
                return self._json(200, self._batch_view(batch))
            if len(rest) == 1 and method == "DELETE":
                if batch["processing_status"] != "ended":
                    raise _HTTPError(
                        400,
                        f"Message batch {batch_id} cannot be deleted while it is being processed; "
                        "cancel it first and wait for it to end.",
                    )
                del self._batches[batch_id]
                return self._json(200, {"id": batch_id, "type": "message_batch_deleted"})
            if rest[1:] == ["cancel"] and method == "POST":
                if batch["processing_status"] == "in_progress":
                    batch["processing_status"] = "canceling"
                    batch["cancel_initiated_at"] = iso(datetime.now(timezone.utc))
                return self._json(200, self._batch_view(batch))
            if rest[1:] == ["results"] and method == "GET":
                if batch["processing_status"] != "ended":
                    raise _HTTPError(400, f"Message batch {batch_id} has not ended yet; results are not available.")
                requests = list(batch["_requests"])
                canceled = batch["request_counts"]["canceled"] > 0
            else:
                raise _HTTPError(404, "Not Found")
        lines = []
        for item in requests:
            if canceled:
                result: dict[str, Any] = {"type": "canceled"}
            else:
                message, _ = self.build_message(item["params"], None)
                result = {"type": "succeeded", "message": message}
            lines.append(dumps({"custom_id": item["custom_id"], "result": result}))
        return FakeResponse(200, self._headers("application/x-jsonl"), ("\n".join(lines) + "\n").encode())

    def _create_batch(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        payload = self._json_body(body)
        requests = payload.get("requests")
        if not isinstance(requests, list):
            raise _HTTPError(
                400, "requests: Field required" if requests is None else "requests: Input should be a valid list"
            )
        if not requests:
            raise _HTTPError(400, "requests: List should have at least 1 item after validation, not 0")
        seen: set[str] = set()
        for i, item in enumerate(requests):
            if not isinstance(item, dict) or not isinstance(item.get("custom_id"), str):
                raise _HTTPError(400, f"requests.{i}.custom_id: Field required")
            if item["custom_id"] in seen:
                raise _HTTPError(400, f"requests.{i}.custom_id: duplicate custom_id {item['custom_id']!r}")
            seen.add(item["custom_id"])
            params = item.get("params")
            if not isinstance(params, dict):
                raise _HTTPError(400, f"requests.{i}.params: Field required")
            self._validate_create(params, f"requests.{i}.params.")
        now = datetime.now(timezone.utc)
        batch: dict[str, Any] = {
            "id": random_id("msgbatch_"),
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
            "ended_at": None,
            "created_at": iso(now),
            "expires_at": iso(now + timedelta(hours=24)),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
            "_requests": [{"custom_id": r["custom_id"], "params": r["params"]} for r in requests],
            "_polls": 0,
            "_base": "http://" + headers.get("host", "127.0.0.1"),
        }
        with self._lock:
            self._batches[batch["id"]] = batch
        return self._batch_view(batch)

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
                return FakeResponse(200, plain, b'{"ok":true}')
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return FakeResponse(400, plain, dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        return FakeResponse(404, plain, b'{"error":"unknown control route"}')
