"""One upstream call's telemetry: its client span and its metric points, opened and closed with its usage record.

:class:`~claude_web.usage.UsageTracker` holds a :class:`CallTelemetry` while OpenTelemetry is live (see
:mod:`._state`) and ``None`` otherwise. The span starts with the tracker and ends in ``finish`` (idempotent, so
span and record stay one to one), just before the record goes to the recorder: the record's context then carries
``trace_id`` and ``span_id``, and the span carries ``claude_web.usage.record_id``. Metric points are recorded with
the span as the current context, so an SDK that keeps exemplars ties them to the same trace and span.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _content
from ._state import TelemetryState, current

if TYPE_CHECKING:
    from ..usage import UsageRecord

__all__ = [
    "PARENT_KEY",
    "RECORD_ID",
    "CallTelemetry",
    "deactivate",
    "operation_name",
    "provider_name",
    "record_span",
    "start_call",
]

log = logging.getLogger("claude_web.otel")

RECORD_ID = "claude_web.usage.record_id"
"""The span attribute holding :attr:`UsageRecord.id <claude_web.usage.UsageRecord.id>` (the ledger's
``record_id`` in Django, ``id`` in Flask)."""

PARENT_KEY = "_otel_parent"
"""A usage-context key holding a propagation carrier (``{"traceparent": ...}``): the parent of the call's span
when no span is current where the call starts (a WSGI body iterated after its view returned). The span's start
consumes it; it never reaches a record."""

_OPERATIONS = {"messages.count_tokens": "count_tokens", "beta.messages.count_tokens": "count_tokens"}
_PROVIDERS = {"anthropic": "anthropic", "bedrock": "aws.bedrock", "vertex": "gcp.vertex_ai"}
_CONTEXT_ATTRIBUTES = (
    ("alias", "claude_web.alias"),
    ("job_id", "claude_web.job_id"),
    ("attempt", "claude_web.attempt"),
    ("request_id", "claude_web.web_request_id"),
)
_REQUEST_ATTRIBUTES = (
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("top_k", "gen_ai.request.top_k"),
)


def operation_name(operation: str) -> str:
    """``gen_ai.operation.name`` of a usage record's ``operation``: ``chat`` for Messages calls; ``count_tokens``
    and ``batches.create`` keep names of their own (the conventions define none for them)."""
    if operation.startswith("batches."):
        return operation
    return _OPERATIONS.get(operation, "chat")


def provider_name(backend: str) -> str:
    """``gen_ai.provider.name`` / ``gen_ai.system`` of a client backend (``anthropic``, ``aws.bedrock``,
    ``gcp.vertex_ai``)."""
    return _PROVIDERS.get(backend, backend)


class _API:
    """The few OpenTelemetry API functions a call uses, looked up once (an import statement per call costs)."""

    def __init__(self) -> None:
        from opentelemetry import context, propagate, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.attach = context.attach
        self.detach = context.detach
        self.in_context = trace.set_span_in_context
        self.current_span = trace.get_current_span
        self.extract = propagate.extract
        self.client = SpanKind.CLIENT
        self.status = Status
        self.error = StatusCode.ERROR


_API_LOADED: _API | None = None


def _api() -> _API:
    global _API_LOADED
    if _API_LOADED is None:
        _API_LOADED = _API()
    return _API_LOADED


def _parent_context(api: _API, record: UsageRecord) -> Any:
    """``None`` (the current context), or when no span is current, the one carried in the usage context."""
    carrier = record.context.pop(PARENT_KEY, None)
    if not isinstance(carrier, Mapping) or api.current_span().get_span_context().is_valid:
        return None
    return api.extract(dict(carrier))


def _link_ids(record: UsageRecord, span: Any) -> None:
    context = span.get_span_context()
    if context.is_valid:
        record.context["trace_id"] = format(context.trace_id, "032x")
        record.context["span_id"] = format(context.span_id, "016x")


class _Shape:
    """What the calls of one operation, model, backend and endpoint share, built once: the span's name, the
    attributes the metrics and the span start from, and the key naming the provider. Never changed after it is
    built (calls copy what they add to)."""

    __slots__ = ("attributes", "metric_attributes", "name", "span_attributes", "system_key")

    def __init__(self, record: UsageRecord, server: tuple[str, int | None] | None, latest: bool) -> None:
        operation = operation_name(record.operation)
        self.system_key = system_key = "gen_ai.provider.name" if latest else "gen_ai.system"
        attributes: dict[str, Any] = {"gen_ai.operation.name": operation, system_key: provider_name(record.backend)}
        if record.model:
            attributes["gen_ai.request.model"] = record.model
        # the metrics' dimensions: the endpoint, constant for a client, is left to the span (every dimension
        # costs on each of a call's metric points)
        self.metric_attributes = dict(attributes)
        if server is not None:
            attributes["server.address"] = server[0]
            if server[1] is not None:
                attributes["server.port"] = server[1]
        self.attributes = attributes
        self.span_attributes = {**attributes, "claude_web.operation": record.operation}
        self.name = f"{operation} {record.model}" if record.model else operation


_SHAPES: dict[tuple[Any, ...], _Shape] = {}
_MAX_SHAPES = 512  # distinct (operation, model, backend, endpoint, conventions); past it the cache starts over


def _shape(record: UsageRecord, server: tuple[str, int | None] | None, latest: bool) -> _Shape:
    key = (record.operation, record.model, record.backend, server, latest)
    shape = _SHAPES.get(key)
    if shape is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        shape = _SHAPES[key] = _Shape(record, server, latest)
    return shape


class CallTelemetry:
    """The span and metric attributes of one call; built by :func:`start_call`."""

    __slots__ = ("collector", "metric_attributes", "retries", "shape", "span", "state", "stream", "synthetic")

    def __init__(self, state: TelemetryState, shape: _Shape, stream: bool) -> None:
        self.state = state
        self.shape = shape
        # the metrics' dimensions (a copy: the end adds the response model and error type)
        self.metric_attributes = dict(shape.metric_attributes) if state.instruments else {}
        self.span: Any = None
        self.stream = stream
        self.retries = 0
        self.collector: _content.OutputCollector | None = None
        self.synthetic = False  # no client call behind the record: no duration to report

    # -- while the call runs ----------------------------------------------------------------------------------
    def activate(self) -> Any:
        """Make the span current (so HTTP client spans nest under it); returns what :meth:`deactivate` takes."""
        if self.span is None:
            return None
        api = _api()
        return api.attach(api.in_context(self.span))

    def first_token(self, elapsed_ms: float) -> None:
        if self.span is not None:
            self.span.add_event("claude_web.first_token", {"claude_web.time_to_first_token_ms": elapsed_ms})

    def retry(self, number: int, delay: float, status: int | None, error: BaseException | None) -> None:
        """Retry ``number`` (1 for the first) after ``delay`` seconds, because of ``status`` or ``error``."""
        self.retries = number
        if self.span is None:
            return
        attributes: dict[str, Any] = {"claude_web.retry.number": number, "claude_web.retry.delay_s": delay}
        if status is not None:
            attributes["http.response.status_code"] = status
        if error is not None:
            attributes["error.type"] = type(error).__name__
        self.span.add_event("claude_web.retry", attributes)

    # -- the end ----------------------------------------------------------------------------------------------
    def end(self, record: UsageRecord, response_id: str | None, stop_reason: str | None, content: Any) -> None:
        """Close the span and record the metric points (``content``: a finished message's blocks, if captured)."""
        input_total = record.input_tokens + record.cache_creation_input_tokens + record.cache_read_input_tokens
        error_type = (record.error_type or "_OTHER") if record.status == "error" else None
        span = self.span
        if span is not None:
            self._end_span(span, record, response_id, stop_reason, content, input_total, error_type)
        instruments = self.state.instruments
        if instruments is None:
            return
        metric_attributes = self.metric_attributes
        if response_id is not None and record.model:
            metric_attributes["gen_ai.response.model"] = record.model
        if error_type is not None:
            metric_attributes["error.type"] = error_type
        token = self.activate()
        try:
            if not self.synthetic:
                instruments.duration.record(record.latency_ms / 1000.0, metric_attributes)
            if record.status == "ok" or input_total or record.output_tokens:
                instruments.token_usage.record(input_total, {**metric_attributes, "gen_ai.token.type": "input"})
                instruments.token_usage.record(
                    record.output_tokens, {**metric_attributes, "gen_ai.token.type": "output"}
                )
            if self.stream and record.time_to_first_token_ms is not None:
                instruments.time_to_first_chunk.record(record.time_to_first_token_ms / 1000.0, metric_attributes)
            if record.cost:
                instruments.cost.add(float(record.cost), metric_attributes)
        finally:
            deactivate(token)

    def _end_span(
        self,
        span: Any,
        record: UsageRecord,
        response_id: str | None,
        stop_reason: str | None,
        content: Any,
        input_total: int,
        error_type: str | None,
    ) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.usage.input_tokens": input_total,
            "gen_ai.usage.output_tokens": record.output_tokens,
        }
        # what is usually nothing is left out (absent means 0, ok or false): every attribute costs the SDK's checks
        if record.status != "ok":
            attributes["claude_web.usage.status"] = record.status
        if record.cache_creation_input_tokens:
            attributes["gen_ai.usage.cache_creation.input_tokens"] = record.cache_creation_input_tokens
        if record.cache_read_input_tokens:
            attributes["gen_ai.usage.cache_read.input_tokens"] = record.cache_read_input_tokens
        if record.estimated:
            attributes["claude_web.usage.estimated"] = True
        if self.retries:
            attributes["claude_web.retry.count"] = self.retries
        if response_id is not None:
            attributes["gen_ai.response.id"] = response_id
            if record.model:
                attributes["gen_ai.response.model"] = record.model
        if stop_reason:
            attributes["gen_ai.response.finish_reasons"] = [stop_reason]
        if record.cost is not None:
            attributes["claude_web.usage.cost"] = float(record.cost)
        if record.request_id:
            attributes["claude_web.upstream.request_id"] = record.request_id
        if error_type is not None:
            attributes["error.type"] = error_type
        capture = self.state.capture_content and (content is not None or self.collector is not None)
        if capture:
            parts = _content.output_parts(content) if content is not None else self.collector.parts()  # type: ignore[union-attr]
            captured = _content.output_attributes(parts, stop_reason, self.state.latest)
            if self.state.latest:
                attributes.update(captured)
            else:
                system_key = self.shape.system_key
                span.add_event("gen_ai.choice", {system_key: self.shape.attributes[system_key], **captured})
        span.set_attributes(attributes)
        if error_type is not None:
            api = _api()
            span.set_status(api.status(api.error, error_type))
        span.end()


def start_call(
    state: TelemetryState,
    record: UsageRecord,
    body: Any,
    server: tuple[str, int | None] | None,
    *,
    start_time: int | None = None,
) -> CallTelemetry | None:
    """Open the telemetry of the call ``record`` accounts for (``body``: its JSON request body, if any);
    ``None`` (logged) if that fails: telemetry never breaks a call."""
    try:
        return _start_call(state, record, body, server, start_time)
    except Exception:
        record.context.pop(PARENT_KEY, None)
        log.exception("could not start the OpenTelemetry span of usage record %s", record.id)
        return None


def _start_call(
    state: TelemetryState,
    record: UsageRecord,
    body: Any,
    server: tuple[str, int | None] | None,
    start_time: int | None,
) -> CallTelemetry:
    shape = _shape(record, server, state.latest)
    if not isinstance(body, Mapping):
        body = {}
    call = CallTelemetry(state, shape, stream=body.get("stream") is True)
    tracer = state.tracer
    context = record.context
    if tracer is None:
        if context:
            context.pop(PARENT_KEY, None)
        return call
    span_attributes = shape.span_attributes.copy()
    get = body.get
    for key, name in _REQUEST_ATTRIBUTES:
        value = get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            span_attributes[name] = value
    stops = get("stop_sequences")
    if isinstance(stops, list) and all(isinstance(s, str) for s in stops):
        span_attributes["gen_ai.request.stop_sequences"] = stops
    output_config = get("output_config")
    if isinstance(output_config, Mapping) and output_config.get("format"):
        span_attributes["gen_ai.output.type"] = "json"
    span_attributes[RECORD_ID] = record.id
    api = _api()
    parent = None
    if context:  # a bare client's calls have no context: nothing to carry
        for key, attribute in _CONTEXT_ATTRIBUTES:
            value = context.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                span_attributes[attribute] = value
        parent = _parent_context(api, record)
    span = tracer.start_span(
        shape.name, context=parent, kind=api.client, attributes=span_attributes, start_time=start_time
    )
    call.span = span
    _link_ids(record, span)
    if state.capture_content:
        if state.latest:
            span.set_attributes(_content.input_attributes(body))
        else:
            system = {shape.system_key: shape.attributes[shape.system_key]}
            for event, event_attributes in _content.input_events(body):
                span.add_event(event, {**system, **event_attributes})
        call.collector = _content.OutputCollector() if call.stream else None
    return call


def deactivate(token: Any) -> None:
    """Undo :meth:`CallTelemetry.activate`."""
    if token is not None:
        _api().detach(token)


def record_span(record: UsageRecord) -> None:
    """A span for a record no client call made (a job attempt lost with its worker, a batch result): it starts
    at the record's ``created_at`` and ends now, with the record's counts; its ids go into the record's context."""
    state = current()
    if state is None or "span_id" in record.context:
        return
    start = int(record.created_at.timestamp() * 1e9)
    call = start_call(state, record, None, None, start_time=start)
    if call is None:
        return
    call.synthetic = True
    if call.span is not None:
        call.span.set_attribute("claude_web.usage.synthetic", True)
    call.end(record, None, None, None)
