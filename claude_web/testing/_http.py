"""The HTTP shapes FakeClaude's app speaks in: the request it records, the response it answers, the API's error and
its cursor pages (no I/O)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._events import Action
from ._multipart import FormPart, parse_form, summarise_form
from ._replies import default_error_type, random_id
from ._wire import dumps

__all__ = [
    "ORGANIZATION_ID",
    "APIError",
    "FakeResponse",
    "RecordedRequest",
    "api_headers",
    "error_response",
    "json_body",
    "json_response",
    "page",
]

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

    @property
    def form(self) -> list[FormPart] | None:
        """The parts of a ``multipart/form-data`` body (a Files upload), or None for any other body."""
        return parse_form(self.headers.get("content-type", ""), self.body)

    def summary(self) -> str:
        """The body in a few words: a form as its fields and files (no file bytes), JSON or text cut short."""
        form = self.form
        if form is not None:
            return "multipart: " + summarise_form(form)
        if not self.body:
            return "no body"
        text = self.body[:200].decode("utf-8", "replace")
        return text + (f"... ({len(self.body)} bytes)" if len(self.body) > 200 else "")

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} {self.summary()}>"

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


class APIError(Exception):
    """Raised by a route to answer with the API's error body (``type`` defaults from the status)."""

    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or default_error_type(status)


def api_headers(content_type: str = "application/json") -> list[tuple[str, str]]:
    """The headers every API answer carries: content type, a fresh ``request-id``, the organization id."""
    return [
        ("content-type", content_type),
        ("request-id", random_id("req_")),
        ("anthropic-organization-id", ORGANIZATION_ID),
    ]


def json_response(status: int, payload: Any) -> FakeResponse:
    """A JSON answer with the API's headers."""
    return FakeResponse(status, api_headers(), dumps(payload).encode())


def error_response(
    status: int, message: str, error_type: str | None = None, extra_headers: dict[str, str] | None = None
) -> FakeResponse:
    """The API's error answer: ``{"type": "error", "error": {...}, "request_id": ...}``."""
    headers = api_headers()
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


def json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        raise APIError(400, "There was an error parsing the body of your request: invalid JSON") from None
    if not isinstance(payload, dict):
        raise APIError(400, "The request body must be a JSON object")
    return payload


def page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """The API's cursor page over ``items`` (already newest first) for ``limit``/``after_id``/``before_id``."""
    raw_limit = query.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise APIError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise APIError(400, "limit: Input should be greater than or equal to 1 and less than or equal to 1000")
    ids = [item["id"] for item in items]
    after_id, before_id = query.get("after_id"), query.get("before_id")
    if after_id and before_id:
        raise APIError(400, "Only one of after_id and before_id may be given")
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
