"""Trace context across the web/worker boundary, and the web layer's own metrics.

A job is one trace. ``JobService.start`` opens a ``job.submit {kind}`` span (a child of the browser request's
span, when there is one), stores its propagation carrier in the job's relay fields (:data:`TRACE_FIELD`) and
sends it in the Celery task's headers. The worker restores it (headers first, then the job's field) around a
``job.run {kind}`` span per attempt, under which the upstream call's span nests. Every SSE connection to the
job's events (the first and every resume, on any web process) is a ``job.events {kind}`` span in the job's trace,
linked to the request that made it. While a reader delivers events from a Redis relay, ``claude_web.relay.lag``
records how long each event waited (its stream id holds the time it was published).

Every function here is a no-op (returning its input, an empty dict or a shared null context) while nothing
records.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from ._calls import PARENT_KEY
from ._state import TelemetryState, current

__all__ = [
    "TRACE_FIELD",
    "carrier",
    "quota_refused",
    "restored",
    "running",
    "submitting",
    "watched",
    "with_parent",
]

TRACE_FIELD = "trace_context"
"""The job field holding the job's propagation carrier (JSON), e.g. ``{"traceparent": "00-..."}``."""

_NULL = contextlib.nullcontext(None)


def carrier() -> dict[str, str]:
    """The current context as a propagation carrier (``{}`` when nothing records or no span is current)."""
    state = current()
    if state is None or state.tracer is None:
        return {}
    from opentelemetry import propagate, trace

    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    out: dict[str, str] = {}
    propagate.inject(out)
    return out


def with_parent(context: dict[str, Any] | None) -> dict[str, Any] | None:
    """``context`` (a usage context) plus the current span's carrier under :data:`PARENT_KEY`, for a client made
    later, where the current span may be gone (e.g. an ASGI body); ``context`` itself when there is none."""
    parent = carrier()
    if not parent:
        return context
    return {**(context or {}), PARENT_KEY: parent}


def _from_fields(fields: Mapping[str, str] | None) -> Any:
    """The context stored in a job's fields, or ``None``."""
    raw = (fields or {}).get(TRACE_FIELD)
    if not raw:
        return None
    try:
        stored = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(stored, dict):
        return None
    from opentelemetry import propagate, trace

    context = propagate.extract({str(k): str(v) for k, v in stored.items()})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def _job_attributes(job_id: str, kind: str) -> dict[str, Any]:
    return {"claude_web.job.id": job_id, "claude_web.job.kind": kind}


@contextlib.contextmanager
def _span(state: TelemetryState, name: str, kind: Any, context: Any, attributes: dict[str, Any]) -> Iterator[Any]:
    """A span made current for the block; an exception other than a job retry marks it as an error."""
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = state.tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
        try:
            yield span
        except BaseException as exc:
            countdown = getattr(exc, "countdown", None)
            if type(exc).__name__ == "RetryJob" and isinstance(countdown, (int, float)):
                span.set_attribute("claude_web.job.retry_in_s", float(countdown))
            else:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def submitting(kind: str, job_id: str, mode: str) -> contextlib.AbstractContextManager[dict[str, str] | None]:
    """Around enqueueing a job: a ``job.submit`` span, current for the block; yields the carrier to store in
    the job's fields (``None`` when nothing records)."""
    state = current()
    if state is None or state.tracer is None:
        return _NULL
    return _submitting(state, kind, job_id, mode)


@contextlib.contextmanager
def _submitting(state: TelemetryState, kind: str, job_id: str, mode: str) -> Iterator[dict[str, str]]:
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    attributes = {**_job_attributes(job_id, kind), "claude_web.job.executor": mode}
    with _span(state, f"job.submit {kind}", SpanKind.PRODUCER, None, attributes):
        out: dict[str, str] = {}
        propagate.inject(out)
        yield out


class _RequestGetter:
    """Reads propagation fields from a Celery task request: custom message headers become its attributes
    (protocol 2); a ``headers`` mapping is looked at too."""

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = getattr(carrier, key, None)
        if not isinstance(value, str):
            headers = getattr(carrier, "headers", None)
            value = headers.get(key) if isinstance(headers, Mapping) else None
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Any) -> list[str]:
        return []


def restored(task_request: Any) -> contextlib.AbstractContextManager[Any]:
    """In a Celery task: the trace context its headers carried, made current for the block."""
    state = current()
    if state is None or state.tracer is None:
        return _NULL
    return _restored(task_request)


@contextlib.contextmanager
def _restored(task_request: Any) -> Iterator[Any]:
    from opentelemetry import context, propagate, trace

    extracted = propagate.extract(task_request, getter=_RequestGetter())  # type: ignore[arg-type]
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        yield None
        return
    token = context.attach(extracted)
    try:
        yield extracted
    finally:
        context.detach(token)


def running(
    job_id: str, kind: str, retries: int, job_fields: Callable[[], Mapping[str, str] | None]
) -> contextlib.AbstractContextManager[Any]:
    """Around one attempt of a job in a worker: a ``job.run`` span, current for the block. Its parent is the
    current context (restored from the task's headers) or else the one stored in the job's fields."""
    state = current()
    if state is None or state.tracer is None:
        return _NULL
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    parent = None
    if not trace.get_current_span().get_span_context().is_valid:
        parent = _from_fields(job_fields())
    attributes = {**_job_attributes(job_id, kind), "claude_web.job.retries": retries}
    return _span(state, f"job.run {kind}", SpanKind.CONSUMER, parent, attributes)


def watched(
    events: Iterator[Any], job_fields: Callable[[], Mapping[str, str] | None], last_event_id: str | None
) -> Iterator[Any]:
    """A job's event stream as one browser connection reads it: a ``job.events`` span in the job's trace, linked
    to the current (request) span, and the relay lag of each event. ``events`` itself when nothing records."""
    state = current()
    if state is None:
        return events
    return _watch(_Reading(state, job_fields, last_event_id), events)


def awatched(
    events: AsyncIterator[Any], job_fields: Callable[[], Mapping[str, str] | None], last_event_id: str | None
) -> AsyncIterator[Any]:
    """The async twin of :func:`watched` (the ASGI readers of the relay)."""
    state = current()
    if state is None:
        return events
    return _awatch(_Reading(state, job_fields, last_event_id), events)


class _Reading:
    """One browser connection's reading of a job: its span and what it delivered."""

    def __init__(
        self, state: TelemetryState, job_fields: Callable[[], Mapping[str, str] | None], last_event_id: str | None
    ) -> None:
        self.span: Any = None
        self.lag = state.instruments.relay_lag if state.instruments is not None else None
        self.delivered = 0
        self.last = ""
        if state.tracer is None:
            return
        from opentelemetry import trace
        from opentelemetry.trace import Link, SpanKind

        here = trace.get_current_span().get_span_context()
        fields = job_fields() or {}
        kind = fields.get("kind", "")
        attributes: dict[str, Any] = {"claude_web.job.kind": kind, "claude_web.job.resumed": bool(last_event_id)}
        if last_event_id:
            attributes["claude_web.job.last_event_id"] = last_event_id
        self.span = state.tracer.start_span(
            f"job.events {kind}".rstrip(),
            context=_from_fields(fields),
            kind=SpanKind.SERVER,
            attributes=attributes,
            links=[Link(here)] if here.is_valid else None,
        )

    def note(self, event: Any) -> None:
        event_id = getattr(event, "id", "")
        if event_id:
            self.delivered += 1
            self.last = getattr(event, "event", "")
            if self.lag is not None:
                published_ms = _published_ms(event_id)
                if published_ms:
                    self.lag.record(max(0.0, time.time() - published_ms / 1000.0))

    def end(self) -> None:
        if self.span is not None:
            self.span.set_attributes(
                {"claude_web.job.events_delivered": self.delivered, "claude_web.job.last_event": self.last}
            )
            self.span.end()


def _watch(reading: _Reading, events: Iterator[Any]) -> Iterator[Any]:
    try:
        for event in events:
            reading.note(event)
            yield event
    finally:
        reading.end()


async def _awatch(reading: _Reading, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        async for event in events:
            reading.note(event)
            yield event
    finally:
        reading.end()
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def _published_ms(event_id: str) -> int:
    """The publication time of a Redis stream entry id (``<ms>-<seq>``); 0 for ids without one (memory relay)."""
    head, _, _ = event_id.partition("-")
    return int(head) if head.isdigit() else 0


def quota_refused(limit: str) -> None:
    """Count a request refused by the quota ``limit`` (``requests_per_minute``, ``tokens_per_day``...)."""
    state = current()
    if state is not None and state.instruments is not None:
        state.instruments.quota_refusals.add(1, {"claude_web.quota.limit": limit})
