"""What one API call is made of: ``FinalRequestOptions``, the per-call keyword options every resource method
takes, the response-mode marker of ``with_raw_response`` / ``with_streaming_response``, and httpx defaults."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import httpx
import pydantic

from ._constants import (
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_TIMEOUT,
    NONSTREAMING_DEFAULT_SECONDS,
    NONSTREAMING_MAX_SECONDS,
    NONSTREAMING_TOKENS_PER_HOUR,
)
from ._files import encode_base64_source, is_file_input
from ._types import NOT_GIVEN, NotGiven, Omit

__all__ = [
    "RESPONSE_MODE_HEADER",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "FinalRequestOptions",
    "ResponseMode",
    "encode_json_body",
    "is_given",
    "json_default",
    "make_request_options",
    "nonstreaming_timeout",
    "options_from_mapping",
    "response_mode",
    "strip_not_given",
    "to_timeout",
]

# Private marker headers, stripped before sending: they tell the client to hand back a raw or a
# streamed response wrapper instead of the parsed object (``with_raw_response`` / ``with_streaming_response``).
RESPONSE_MODE_HEADER = "x-claude-web-response-mode"
ResponseMode = Literal["parsed", "raw", "stream"]


@dataclass
class FinalRequestOptions:
    """Everything one API call needs; immutable in practice (``replace`` makes variants)."""

    method: str
    url: str
    params: Mapping[str, object] | None = None
    headers: Mapping[str, str | Omit] | None = None
    max_retries: int | NotGiven = NOT_GIVEN
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN
    json_data: Any = None
    content: bytes | None = None
    files: Mapping[str, Any] | None = None
    """Multipart file fields (``{"file": to_httpx_file(...)}``); the JSON body, if any, goes as form fields."""
    extra_json: Mapping[str, Any] | None = None
    # usage accounting: what the call is, for the record (None: not an accountable call)
    usage_operation: str | None = None
    usage_model: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


def make_request_options(
    *,
    extra_headers: Mapping[str, str | Omit] | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    query: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The per-call options every resource method accepts, as keyword arguments for ``FinalRequestOptions``."""
    opts: dict[str, Any] = {}
    if extra_headers:
        opts["headers"] = extra_headers
    params: dict[str, object] = {}
    if query:
        params.update({k: v for k, v in query.items() if is_given(v)})
    if extra_query:
        params.update(extra_query)
    if params:
        opts["params"] = params
    if extra_body:
        opts["extra_json"] = extra_body
    if not isinstance(timeout, NotGiven):
        opts["timeout"] = timeout
    return opts


def is_given(value: object) -> bool:
    """False for the "leave it out" markers: ``NOT_GIVEN`` / ``not_given`` and ``omit``."""
    return not isinstance(value, (NotGiven, Omit))


def strip_not_given(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without the arguments left out (``NOT_GIVEN``, ``not_given`` or ``omit``)."""
    return {k: v for k, v in body.items() if not isinstance(v, (NotGiven, Omit))}


def to_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


class _DefaultsMixin:
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("limits", DEFAULT_CONNECTION_LIMITS)
        kwargs.setdefault("follow_redirects", True)
        super().__init__(**kwargs)


class DefaultHttpxClient(_DefaultsMixin, httpx.Client):
    """An ``httpx.Client`` with this library's defaults (timeouts, pool limits, redirects)."""


class DefaultAsyncHttpxClient(_DefaultsMixin, httpx.AsyncClient):
    """An ``httpx.AsyncClient`` with this library's defaults (timeouts, pool limits, redirects)."""


def response_mode(options: FinalRequestOptions) -> tuple[ResponseMode, FinalRequestOptions]:
    headers = options.headers
    if not headers or RESPONSE_MODE_HEADER not in headers:
        return "parsed", options
    mode = cast(ResponseMode, headers[RESPONSE_MODE_HEADER])
    rest = {k: v for k, v in headers.items() if k != RESPONSE_MODE_HEADER}
    return mode, replace(options, headers=rest)


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default``: models, dates, and any other iterable (a generator of blocks) as a list."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_unset=True, by_alias=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _Rewrite(Exception):
    """A left-out argument or a file input deep in a body: it must be rewritten before it can be sent."""


def encode_json_body(data: Any) -> bytes:
    """A request body as compact JSON, as ``anthropic`` sends it: ``omit`` / ``NOT_GIVEN`` values at any depth are
    left out, the file input of a base64 source (``{"type": "base64", "data": Path(...)}``) is read and encoded,
    and any iterable (a generator of content blocks) is sent as a list.

    The common body is dumped in one pass; only one that contains an ``omit`` or a file input is walked.

    >>> import io
    >>> from claude_web import omit
    >>> encode_json_body({"a": 1, "b": omit, "c": (x for x in "xy"), "d": {"type": "base64", "data": io.BytesIO(b"hi")}})
    b'{"a":1,"c":["x","y"],"d":{"type":"base64","data":"aGk="}}'
    """
    consumed: dict[int, list[Any]] = {}  # iterators turned into lists in the first pass, for the second

    def first_pass(value: Any) -> Any:
        if isinstance(value, (NotGiven, Omit)) or is_file_input(value):
            raise _Rewrite
        converted = json_default(value)
        if isinstance(converted, list) and not isinstance(value, (list, tuple, set, frozenset)):
            consumed[id(value)] = converted
        return converted

    try:
        return _dumps(data, first_pass)
    except _Rewrite:
        return _dumps(_rewrite(data, consumed), json_default)


def _dumps(data: Any, default: Callable[[Any], Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=default).encode()


def _rewrite(value: Any, consumed: dict[int, list[Any]]) -> Any:
    """A copy of ``value`` with left-out entries dropped and base64 file inputs encoded (the input is not changed)."""
    if isinstance(value, Mapping):
        out = {k: _rewrite(v, consumed) for k, v in value.items() if not isinstance(v, (NotGiven, Omit))}
        return encode_base64_source(out)
    if isinstance(value, (list, tuple)):
        return [_rewrite(v, consumed) for v in value if not isinstance(v, (NotGiven, Omit))]
    if isinstance(value, (str, bytes, bytearray, pydantic.BaseModel)) or is_file_input(value):
        return value
    if isinstance(value, Iterable):
        items = consumed.get(id(value))
        return [_rewrite(v, consumed) for v in (list(value) if items is None else items)]
    return value


def options_from_mapping(options: Mapping[str, Any]) -> dict[str, Any]:
    """``RequestOptions`` (headers, params, timeout, max_retries, extra_json) to ``FinalRequestOptions`` fields."""
    known = {"headers", "params", "timeout", "max_retries", "extra_json"}
    unknown = set(options) - known - {"idempotency_key"}
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in options.items() if k in known}


def nonstreaming_timeout(max_tokens: int, max_nonstreaming_tokens: int | None) -> httpx.Timeout:
    """The timeout of a non-streaming ``create`` without an explicit one; ``ValueError`` when it should stream."""
    expected = NONSTREAMING_MAX_SECONDS * max_tokens / NONSTREAMING_TOKENS_PER_HOUR
    if expected > NONSTREAMING_DEFAULT_SECONDS or (max_nonstreaming_tokens and max_tokens > max_nonstreaming_tokens):
        raise ValueError(
            "Streaming is required for operations that may take longer than 10 minutes: pass stream=True or use "
            "client.messages.stream(...), or set an explicit timeout= to take responsibility for long calls."
        )
    return httpx.Timeout(NONSTREAMING_DEFAULT_SECONDS, connect=5.0)
