"""OpenTelemetry for claude-web: one GenAI client span and the GenAI client metrics per upstream call, and one
trace from the browser's request through a background job and every SSE resume.

Install the extra (``pip install "claude-web[otel]"``: ``opentelemetry-api`` only) and set up an SDK the usual
way; claude-web uses the global tracer and meter providers. Nothing is recorded, and the client pays one
attribute check per call, while no provider is set (``opentelemetry-api`` alone is a no-op) or the API is not
installed.

>>> from opentelemetry import trace
>>> from opentelemetry.sdk.trace import TracerProvider
>>> trace.set_tracer_provider(TracerProvider())          # plus your exporter
>>> client = claude_web.Anthropic()                       # every call now has a "chat <model>" span

Each span carries ``claude_web.usage.record_id`` (the :class:`~claude_web.usage.UsageRecord` id: Django's
``TokenUsage.record_id``, Flask's ``id``), and each record's ``context`` carries the span's ``trace_id`` and
``span_id``, so the ledger row and the trace point at each other. Environment:

- ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``: the latest experimental GenAI conventions
  instead of v1.36.0 (``gen_ai.provider.name`` instead of ``gen_ai.system``; content as attributes).
- ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (or ``SPAN_ONLY`` / ``SPAN_AND_EVENT``): record
  prompts and answers. Off by default: they may hold personal data.

:func:`configure` sets providers or the content choice in code (tests, or a provider of claude-web's own).
"""

from __future__ import annotations

from typing import Any

from ._calls import PARENT_KEY, RECORD_ID, operation_name, provider_name, record_span
from ._jobs import TRACE_FIELD, carrier, quota_refused, with_parent
from ._state import STATE, UNSET, current

__all__ = [
    "PARENT_KEY",
    "RECORD_ID",
    "TRACE_FIELD",
    "carrier",
    "configure",
    "enabled",
    "operation_name",
    "provider_name",
    "quota_refused",
    "record_span",
    "refresh",
    "reset",
    "with_parent",
]


def configure(
    *,
    tracer_provider: Any = UNSET,
    meter_provider: Any = UNSET,
    capture_content: bool | None = UNSET,
    latest_conventions: bool | None = UNSET,
) -> None:
    """Choose in code what the global providers and the environment would otherwise decide.

    ``tracer_provider`` / ``meter_provider``: a provider of claude-web's own (``None``: none, so that side is
    off). ``capture_content``: record prompts and answers (``None``: as the environment says).
    ``latest_conventions``: the latest experimental GenAI conventions (``None``: as
    ``OTEL_SEMCONV_STABILITY_OPT_IN`` says). Arguments left out keep their current choice.

    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> configure(tracer_provider=TracerProvider(), capture_content=True)
    """
    STATE.configure(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        capture_content=capture_content,
        latest_conventions=latest_conventions,
    )


def reset() -> None:
    """Forget every :func:`configure` choice: the global providers and the environment decide again."""
    STATE.use_globals()


def refresh() -> bool:
    """Look at the providers and the environment now (they are otherwise looked at again at most once a second
    until both traces and metrics are on); ``True`` when something records."""
    return STATE.refresh()


def enabled() -> bool:
    """Whether calls are traced or measured right now."""
    return current() is not None
