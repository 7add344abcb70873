"""OpenTelemetry for the demo, switched on by one environment variable (off by default).

- ``DEMO_OTEL=console``: spans and metrics printed to stdout (``opentelemetry-sdk``, in the dev extras).
- ``DEMO_OTEL=otlp``: sent over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default ``http://localhost:4318``),
  e.g. a local OpenTelemetry Collector, Jaeger or Grafana Tempo; needs
  ``pip install opentelemetry-exporter-otlp-proto-http``.

``OTEL_SERVICE_NAME`` names the service (default ``claude-web-demo``). When
``opentelemetry-instrumentation-django`` / ``-flask`` is installed the browser's requests get spans too, and the
Claude calls, jobs and SSE resumes join their traces. Prompts and answers are recorded only with
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("demo.telemetry")
_done: list[str] = []


def setup_telemetry(framework: str = "django", app: Any = None) -> str | None:
    """Install the SDK providers ``DEMO_OTEL`` asks for (once per process); returns the mode or ``None``."""
    mode = os.environ.get("DEMO_OTEL", "").strip().lower()
    if not mode or mode in ("0", "off", "none"):
        return None
    if _done:
        return _done[0]
    if mode not in ("console", "otlp"):
        raise RuntimeError(f"DEMO_OTEL must be 'console' or 'otlp', not {mode!r}")
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if mode == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        span_exporter: Any = ConsoleSpanExporter()
        metric_exporter: Any = ConsoleMetricExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise RuntimeError("DEMO_OTEL=otlp needs: pip install opentelemetry-exporter-otlp-proto-http") from exc
        span_exporter, metric_exporter = OTLPSpanExporter(), OTLPMetricExporter()
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "claude-web-demo")})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=15_000)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    _instrument_framework(framework, app)
    _done.append(mode)
    log.info("OpenTelemetry: exporting to %s", mode)
    return mode


def _instrument_framework(framework: str, app: Any) -> None:
    """Request spans from the framework's instrumentation, when that package is installed (optional)."""
    try:
        if framework == "django":
            from opentelemetry.instrumentation.django import DjangoInstrumentor

            DjangoInstrumentor().instrument()
        elif framework == "flask" and app is not None:
            from opentelemetry.instrumentation.flask import FlaskInstrumentor

            FlaskInstrumentor().instrument_app(app)
    except ImportError:
        log.info("OpenTelemetry: no request spans (pip install opentelemetry-instrumentation-%s)", framework)
