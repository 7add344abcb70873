"""Shared fixtures: real services (Redis, PostgreSQL) with a clear policy when one is missing.

Locally a missing service skips the tests that need it; with ``CLAUDE_WEB_REQUIRE_SERVICES=1`` (set by
``.ci/run``) it fails them instead, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

REDIS_URL = os.environ.get("CLAUDE_WEB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_DSN = os.environ.get("CLAUDE_WEB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (CLAUDE_WEB_REQUIRE_SERVICES=1: missing services are failures)")
    pytest.skip(f"{message}; start it, or run `make test` through .ci/run")


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_DSN


class OTelHarness:
    """An OpenTelemetry SDK of claude-web's own for one test: spans in memory, metrics in a reader."""

    def __init__(self) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("tests")

    def spans(self, prefix: str = "") -> list:  # type: ignore[type-arg]
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def call_spans(self) -> list:  # type: ignore[type-arg]
        """The spans of upstream calls (those carrying a usage record id)."""
        return [s for s in self.exporter.get_finished_spans() if "claude_web.usage.record_id" in (s.attributes or {})]

    def metrics(self) -> dict:  # type: ignore[type-arg]
        """Metric name -> data points, from one collection (exemplars are handed out once per collection)."""
        data = self.reader.get_metrics_data()
        out: dict = {}  # type: ignore[type-arg]
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out

    def points(self, name: str) -> list:  # type: ignore[type-arg]
        return list(self.metrics().get(name, []))


@pytest.fixture
def otel():  # type: ignore[no-untyped-def]
    """claude-web's telemetry wired to an in-memory SDK for the test (the process's global providers stay unset)."""
    from claude_web import otel as cw_otel

    harness = OTelHarness()
    cw_otel.configure(
        tracer_provider=harness.tracer_provider,
        meter_provider=harness.meter_provider,
        capture_content=None,
        latest_conventions=None,
    )
    yield harness
    cw_otel.reset()
    harness.tracer_provider.shutdown()
    harness.meter_provider.shutdown()


class _NoExecutor:
    """A job executor that runs nothing: for tests that create jobs and feed the relay themselves."""

    mode = "test"

    def submit(self, *args: object) -> None:
        raise AssertionError("the test feeds the relay itself; no job is started through the endpoint")


@pytest.fixture
def no_executor() -> _NoExecutor:
    return _NoExecutor()


@pytest.fixture(params=["memory", "redis"])
def relay(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Each relay in turn, as ``relay`` (memory, then Redis under a prefix of its own, its keys deleted afterwards), for tests
    that publish a job's events themselves and read them through an endpoint."""
    import uuid

    from claude_web.relay import MemoryRelay, relay_from_url

    if request.param == "memory":
        yield MemoryRelay()
        return
    prefix = f"cwtest-{uuid.uuid4().hex[:12]}"
    made = relay_from_url(request.getfixturevalue("redis_url"), prefix=prefix, ttl=60)
    try:
        yield made
    finally:
        for key in made.redis.scan_iter(match=f"{prefix}*"):
            made.redis.delete(key)
        made.close()
