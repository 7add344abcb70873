"""Is OpenTelemetry here, and wired to something? Asked once, cached, and asked again at most once a second.

The client's hot path calls :func:`current`: when nothing is configured it costs one attribute read (and, while
the answer may still change, one clock read); ``opentelemetry`` itself is imported on the first call, never at
``import claude_web``. A tracer provider or meter provider counts as configured when it is not the API's proxy or
no-op one (``opentelemetry-api`` alone, with no SDK set up, is off).

Conventions (see the README's "OpenTelemetry" section): ``OTEL_SEMCONV_STABILITY_OPT_IN`` containing
``gen_ai_latest_experimental`` selects the latest experimental GenAI conventions (``gen_ai.provider.name``, content
as ``gen_ai.input.messages`` / ``gen_ai.output.messages``); otherwise the v1.36.0 ones (``gen_ai.system``, content
as the ``gen_ai.*.message`` / ``gen_ai.choice`` events). Content is recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` opts in (or :func:`claude_web.otel.configure` says so).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from .._version import __version__

__all__ = ["STATE", "UNSET", "Instruments", "TelemetryState", "current"]

SCOPE = "claude_web"
RECHECK_SECONDS = 1.0
"""While nothing (or only one of traces and metrics) is configured, how often the providers are looked at again:
a provider installed after the first call is picked up within this long."""

LATEST_OPT_IN = "gen_ai_latest_experimental"
SCHEMA_V1_36 = "https://opentelemetry.io/schemas/1.36.0"

# bucket boundaries the GenAI metric conventions give for their histograms
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_CAPTURE_ON = {"true", "1", "yes", "on", "span_only", "event_only", "span_and_event"}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""``configure`` argument not given: keep what was there (for providers: the global one)."""


class Instruments:
    """The meters' instruments: the GenAI client metrics and claude-web's own."""

    __slots__ = ("cost", "duration", "quota_refusals", "relay_lag", "time_to_first_chunk", "token_usage")

    def __init__(self, meter: Any) -> None:
        self.token_usage = _histogram(
            meter, "gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.", TOKEN_BUCKETS
        )
        self.duration = _histogram(
            meter, "gen_ai.client.operation.duration", "s", "GenAI operation duration.", DURATION_BUCKETS
        )
        self.time_to_first_chunk = _histogram(
            meter,
            "gen_ai.client.operation.time_to_first_chunk",
            "s",
            "Time from sending a streaming request to receiving its first content chunk.",
            DURATION_BUCKETS,
        )
        self.cost = meter.create_counter(
            "claude_web.usage.cost", unit="{USD}", description="What upstream calls cost, in US dollars."
        )
        self.quota_refusals = meter.create_counter(
            "claude_web.quota.refusals", unit="{refusal}", description="Requests refused by a quota limit."
        )
        self.relay_lag = _histogram(
            meter,
            "claude_web.relay.lag",
            "s",
            "Time from a job event's publication in the relay to its delivery to a browser.",
            LAG_BUCKETS,
        )


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: tuple[float, ...]) -> Any:
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
        )
    except TypeError:  # an API older than the bucket advisory
        return meter.create_histogram(name, unit=unit, description=description)


class TelemetryState:
    """The cached answer. ``active``: a tracer or the instruments are live; ``complete``: both are (nothing left
    to look for). ``tracer`` / ``instruments`` are ``None`` when their side is off."""

    __slots__ = (
        "_capture_override",
        "_latest_override",
        "_lock",
        "_meter_provider",
        "_tracer_provider",
        "_built_from",
        "active",
        "capture_content",
        "complete",
        "installed",
        "instruments",
        "latest",
        "next_check",
        "tracer",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracer_provider: Any = UNSET
        self._meter_provider: Any = UNSET
        self._capture_override: bool | None = None
        self._latest_override: bool | None = None
        self.reset()

    def reset(self) -> None:
        self.active = False
        self.complete = False
        self.installed = True  # not known until the first look; False once the import failed
        self.next_check = 0.0
        self.tracer: Any = None
        self.instruments: Instruments | None = None
        self.latest = False
        self.capture_content = False
        self._built_from: tuple[Any, Any] = (None, None)  # (provider, schema) the tracer / instruments came from

    def configure(
        self,
        *,
        tracer_provider: Any = UNSET,
        meter_provider: Any = UNSET,
        capture_content: bool | None | _Unset = UNSET,
        latest_conventions: bool | None | _Unset = UNSET,
    ) -> None:
        with self._lock:
            if tracer_provider is not UNSET:
                self._tracer_provider = tracer_provider
            if meter_provider is not UNSET:
                self._meter_provider = meter_provider
            if capture_content is not UNSET:
                self._capture_override = capture_content  # type: ignore[assignment]
            if latest_conventions is not UNSET:
                self._latest_override = latest_conventions  # type: ignore[assignment]
        self.refresh()

    def use_globals(self) -> None:
        """Forget every ``configure`` choice: the global providers and the environment decide again."""
        with self._lock:
            self._tracer_provider = self._meter_provider = UNSET
            self._capture_override = self._latest_override = None
        self.refresh()

    def refresh(self, environ: Mapping[str, str] | None = None) -> bool:
        """Look at the providers and the environment now; ``True`` when something is live."""
        env = os.environ if environ is None else environ
        with self._lock:
            try:
                from opentelemetry import metrics, trace
            except ImportError:
                self.reset()
                self.installed = False
                return False
            tracer_provider = trace.get_tracer_provider() if self._tracer_provider is UNSET else self._tracer_provider
            meter_provider = metrics.get_meter_provider() if self._meter_provider is UNSET else self._meter_provider
            latest = self._latest_override
            if latest is None:
                opt_in = {part.strip() for part in env.get("OTEL_SEMCONV_STABILITY_OPT_IN", "").split(",")}
                latest = LATEST_OPT_IN in opt_in
            capture = self._capture_override
            if capture is None:
                capture = (
                    env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").strip().lower() in _CAPTURE_ON
                )
            schema = None if latest else SCHEMA_V1_36
            tracer = None
            if tracer_provider is not None and not _is_noop(tracer_provider):
                tracer = self.tracer if self._built_from[0] == (tracer_provider, schema) else None
                tracer = tracer or tracer_provider.get_tracer(SCOPE, __version__, schema_url=schema)
            instruments = None
            if meter_provider is not None and not _is_noop(meter_provider):
                instruments = self.instruments if self._built_from[1] == (meter_provider, schema) else None
                instruments = instruments or Instruments(
                    meter_provider.get_meter(SCOPE, __version__, schema_url=schema)
                )
            self._built_from = ((tracer_provider, schema), (meter_provider, schema))
            self.tracer, self.instruments = tracer, instruments
            self.latest, self.capture_content = latest, capture
            self.active = tracer is not None or instruments is not None
            self.complete = tracer is not None and instruments is not None
            self.installed = True
            self.next_check = time.monotonic() + RECHECK_SECONDS
            return self.active


_NOOP_PROVIDERS = {"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider", "NoOpMeterProvider"}


def _is_noop(provider: Any) -> bool:
    """The API's stand-ins (what ``get_*_provider()`` returns before an SDK is set up) record nothing."""
    return type(provider).__name__ in _NOOP_PROVIDERS and type(provider).__module__.startswith("opentelemetry.")


STATE = TelemetryState()


def current() -> TelemetryState | None:
    """The live state, or ``None`` when nothing records (the hot path's only question)."""
    state = STATE
    if state.complete:
        return state
    if state.installed and time.monotonic() >= state.next_check:
        state.refresh()
    return state if state.active else None
