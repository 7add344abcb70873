"""What a finished HTTP exchange becomes: the parsed result (``cast_to``), and the end of the call's usage record
(``ok`` / ``error`` / ``aborted``, with the upstream request id). Shared by both send loops; no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pydantic

from . import _exceptions
from ._request_options import FinalRequestOptions
from .usage import UsageTracker

__all__ = [
    "end_interrupted",
    "finish_usage_error",
    "finish_usage_ok",
    "finish_usage_unparsed",
    "parse_response",
    "status_error",
    "upstream_request_id",
]


def status_error(response: httpx.Response) -> _exceptions.APIStatusError:
    """The ``APIStatusError`` subclass for a 4xx/5xx answer, with the API's message and body."""
    if response.is_closed and not response.is_stream_consumed:
        return _exceptions.make_status_error(f"Error code: {response.status_code}", body=None, response=response)
    text = response.text.strip()
    body: object = text
    try:
        body = json.loads(text)
        message = f"Error code: {response.status_code} - {body}"
    except ValueError:
        message = text or f"Error code: {response.status_code}"
    return _exceptions.make_status_error(message, body=body, response=response)


def upstream_request_id(headers: httpx.Headers) -> str | None:
    """The request id the platform sent: Anthropic's ``request-id`` or AWS's ``x-amzn-requestid`` (Bedrock)."""
    value: str | None = headers.get("request-id") or headers.get("x-amzn-requestid")
    return value


def parse_response(client: Any, cast_to: Any, response: httpx.Response, options: FinalRequestOptions) -> Any:
    """Turn a fully read response into ``cast_to`` (a model, ``str``, ``httpx.Response``, ``object``...)."""
    if cast_to is httpx.Response:
        return response
    if cast_to is type(None):
        return None
    if cast_to is str:
        return response.text
    if cast_to is bytes:
        return response.content
    content = response.content
    if cast_to is object or cast_to is dict or cast_to is Any:
        try:
            return json.loads(content) if content else None
        except ValueError as exc:
            raise _exceptions.APIResponseValidationError(
                response, response.text, message=f"Expected a JSON response body: {exc}"
            ) from exc
    if isinstance(cast_to, type) and issubclass(cast_to, pydantic.BaseModel):
        try:
            result = _json_validator(cast_to)(content)
        except pydantic.ValidationError as exc:
            raise _exceptions.APIResponseValidationError(
                response, _safe_body(response), message=_validation_message(cast_to, exc)
            ) from exc
        request_id = response.headers.get("request-id")
        if request_id is not None:
            object.__setattr__(result, "_request_id", request_id)  # a plain attribute, not a field
        set_context = getattr(result, "_set_page_context", None)
        if set_context is not None:
            set_context(client, options, cast_to)
        return result
    try:
        return pydantic.TypeAdapter(cast_to).validate_json(content)
    except pydantic.ValidationError as exc:
        raise _exceptions.APIResponseValidationError(
            response, _safe_body(response), message=_validation_message(cast_to, exc)
        ) from exc


def finish_usage_ok(tracker: UsageTracker | None, result: Any, response: httpx.Response) -> None:
    if tracker is None or tracker.done:
        return
    tracker.set_message(result)  # counts, model, id and stop reason of a message (a token count has none)
    tracker.finish("ok", request_id=upstream_request_id(response.headers))


def finish_usage_error(tracker: UsageTracker | None, error: BaseException) -> None:
    if tracker is None:
        return
    response = getattr(error, "response", None)
    request_id = upstream_request_id(response.headers) if isinstance(response, httpx.Response) else None
    tracker.finish("error", error=error, request_id=request_id)


_JSON_VALIDATORS: dict[type, Any] = {}


def _json_validator(model: type[pydantic.BaseModel]) -> Any:
    """``model``'s core ``validate_json`` (skipping ``model_validate_json``'s Python wrapper on every call)."""
    validate = _JSON_VALIDATORS.get(model)
    if validate is None:
        model.model_rebuild(force=True)  # our models defer building their schema until first use
        validate = _JSON_VALIDATORS[model] = model.__pydantic_validator__.validate_json
    return validate


def finish_usage_unparsed(
    tracker: UsageTracker | None, response: httpx.Response, *, stream: bool, complete: bool = True
) -> None:
    """End the usage record of a call handed over unparsed (``with_raw_response`` / ``with_streaming_response``):
    tokens from the JSON body when it was read, else none known; ``aborted`` if a body was left unread."""
    if tracker is None or tracker.done:
        return
    request_id = upstream_request_id(response.headers)
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = None
    if body is not None and not stream and complete:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("usage"), dict):
            model = data.get("model")
            tracker.set_usage(data["usage"], model=model if isinstance(model, str) else None)
            message_id, stop_reason = data.get("id"), data.get("stop_reason")
            tracker.response_id = message_id if isinstance(message_id, str) else None
            tracker.stop_reason = stop_reason if isinstance(stop_reason, str) else None
        tracker.finish("ok", request_id=request_id)
        return
    tracker.finish("ok" if complete else "aborted", request_id=request_id)


def end_interrupted(tracker: UsageTracker | None, exc: BaseException) -> None:
    """A call that ended by an exception the request loop did not record (task cancelled, KeyboardInterrupt,
    a bug) still gets its one usage record: ``aborted`` for cancellation and interrupts, ``error`` otherwise."""
    if tracker is None or tracker.done:
        return
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)) or type(exc).__name__ in ("CancelledError", "Cancelled"):
        tracker.finish("aborted")
    else:
        tracker.finish("error", error=exc)


def _safe_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


def _validation_message(cast_to: Any, exc: pydantic.ValidationError) -> str:
    name = getattr(cast_to, "__name__", str(cast_to))
    errors = exc.errors()
    first: Mapping[str, Any] = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"The API response could not be read as {name}: {first.get('msg', 'invalid')} at {where!r}"
