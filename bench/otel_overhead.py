"""What OpenTelemetry costs the client: CPU per call, side by side, in one run.

    python bench/otel_overhead.py [--quick] [--rounds R] [--calls N]     (also: python bench/run.py --otel)

One FakeClaude in its own process; each measurement in a fresh client process, the modes interleaved round by
round (so a noisy neighbour hits them all alike), the median of the rounds reported. Modes:

- ``without``: ``opentelemetry`` not importable (as if the ``otel`` extra were not installed);
- ``api, no-op provider``: ``opentelemetry-api`` with the API's no-op tracer and meter providers set;
- ``sdk traces, batch``: the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` whose exporter drops spans;
- ``sdk traces + metrics``: the same plus a ``MeterProvider`` with a periodic reader whose exporter drops points.

Every client has a usage recorder (as the web layer's do), so the span is the only difference. Scenarios: a
non-streaming ``messages.create`` and a ``messages.stream`` of the fake's default answer (35 events), client CPU
per call in ms.

The speed of these shared virtual machines drifts by tens of percent from one second to the next, more than the
SDK's cost, so a second table measures the SDK modes side by side in one process: the client's telemetry is
switched off and on (``claude_web.otel.configure``) every few calls, and each on block is compared with the off
block next to it (see :func:`paired_worker`). Off there is the path of an installed API with nothing configured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("without", "api, no-op provider", "sdk traces, batch", "sdk traces + metrics")
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "bench"}]}


# -- the measured process --------------------------------------------------------------------------------------
def _sdk_providers(mode: str) -> tuple[Any, Any]:
    """The SDK's tracer provider (a batch processor whose exporter drops spans) and, for ``sdk traces +
    metrics``, a meter provider (a periodic reader whose exporter drops points; else ``None``)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class DropSpans(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    if mode != "sdk traces + metrics":
        return tracer_provider, None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, PeriodicExportingMetricReader

    class DropPoints(MetricExporter):
        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            return None

    reader = PeriodicExportingMetricReader(DropPoints(), export_interval_millis=5_000)
    return tracer_provider, MeterProvider(metric_readers=[reader])


def _setup(mode: str) -> None:
    """The process-wide OpenTelemetry setup of ``mode`` (global providers, as an app's startup would set)."""
    if mode == "without":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
        return
    from opentelemetry import metrics, trace

    if mode == "api, no-op provider":
        trace.set_tracer_provider(trace.NoOpTracerProvider())
        metrics.set_meter_provider(metrics.NoOpMeterProvider())
        return
    tracer_provider, meter_provider = _sdk_providers(mode)
    trace.set_tracer_provider(tracer_provider)
    if meter_provider is not None:
        metrics.set_meter_provider(meter_provider)


def _caller(scenario: str, client: Any) -> Any:
    if scenario == "create":

        def call() -> None:
            client.messages.create(**BODY)
    else:

        def call() -> None:
            with client.messages.stream(**BODY) as stream:
                for _ in stream:
                    pass

    return call


def worker(mode: str, scenario: str, base_url: str, n: int) -> None:
    _setup(mode)
    import claude_web

    client = claude_web.Anthropic(api_key="bench-key", base_url=base_url, max_retries=0, usage_recorder=lambda r: None)
    call = _caller(scenario, client)
    for _ in range(max(20, n // 20)):  # warm up: pool, lazy imports, the first look at the providers
        call()
    enabled = claude_web.otel.enabled()
    cpu0 = time.process_time()
    for _ in range(n):
        call()
    cpu = time.process_time() - cpu0
    print(json.dumps({"cpu_ms_per_call": cpu * 1000 / n, "otel_enabled": enabled}))


def paired_worker(mode: str, scenario: str, base_url: str, pairs: int, block: int) -> None:
    """One process, telemetry switched off and on block by block (``claude_web.otel.configure``), in the order
    off-on-on-off, on-off-off-on, ... so a drift of the machine's speed hits both sides alike; prints the CPU of
    each block. An on block ends with the tracer provider's ``force_flush``, so the export of its spans is counted
    in it (the batch processor would otherwise do part of that work during the next block)."""
    import claude_web

    tracer_provider, meter_provider = _sdk_providers(mode)
    client = claude_web.Anthropic(api_key="bench-key", base_url=base_url, max_retries=0, usage_recorder=lambda r: None)
    call = _caller(scenario, client)

    def switch(on: bool) -> None:
        if on:
            claude_web.otel.configure(tracer_provider=tracer_provider, meter_provider=meter_provider)
        else:
            claude_web.otel.configure(tracer_provider=None, meter_provider=None)
        if claude_web.otel.enabled() is not on:
            raise RuntimeError(f"telemetry did not switch {'on' if on else 'off'}")

    def run_block(on: bool) -> float:
        switch(on)
        cpu0 = time.process_time()
        for _ in range(block):
            call()
        if on:
            tracer_provider.force_flush()
        return (time.process_time() - cpu0) * 1000 / block

    for on in (True, False):  # warm up both paths
        switch(on)
        for _ in range(max(20, block // 2)):
            call()
    off: list[float] = []
    on: list[float] = []
    for i in range(pairs):
        order = (False, True) if i % 2 == 0 else (True, False)
        for state in order:
            (on if state else off).append(run_block(state))
    print(json.dumps({"off": off, "on": on}))


# -- the driver ---------------------------------------------------------------------------------------------
def _measure(mode: str, scenario: str, base_url: str, n: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", mode, scenario, base_url, str(n)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode}/{scenario} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(rounds: int, calls: int, stream_calls: int) -> dict[str, dict[str, list[float]]]:
    from bench.run import start_fake

    proc, base_url = start_fake()
    out: dict[str, dict[str, list[float]]] = {s: {m: [] for m in MODES} for s in ("create", "stream")}
    try:
        import httpx

        httpx.post(f"{base_url}/_fake/reset").raise_for_status()
        for r in range(rounds):
            order = MODES if r % 2 == 0 else tuple(reversed(MODES))
            for scenario, n in (("create", calls), ("stream", stream_calls)):
                for mode in order:
                    result = _measure(mode, scenario, base_url, n)
                    expected = mode.startswith("sdk")
                    if result["otel_enabled"] is not expected:
                        raise RuntimeError(f"{mode}: telemetry enabled={result['otel_enabled']}")
                    out[scenario][mode].append(result["cpu_ms_per_call"])
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(10)
    return out


PAIRED_MODES = ("sdk traces, batch", "sdk traces + metrics")


def run_paired(pairs: int, block: int, stream_block: int) -> dict[str, dict[str, dict[str, list[float]]]]:
    """The in-process side by side of :func:`paired_worker`: for each SDK mode and scenario, the CPU of each
    off and on block."""
    from bench.run import start_fake

    proc, base_url = start_fake()
    out: dict[str, dict[str, dict[str, list[float]]]] = {s: {} for s in ("create", "stream")}
    try:
        for scenario, size in (("create", block), ("stream", stream_block)):
            for mode in PAIRED_MODES:
                args = ["--paired", mode, scenario, base_url, str(pairs), str(size)]
                done = subprocess.run(
                    [sys.executable, __file__, *args], capture_output=True, text=True, timeout=1800, cwd=ROOT
                )
                if done.returncode != 0:
                    raise RuntimeError(f"paired {mode}/{scenario} failed: {done.stderr.strip()[-500:]}")
                out[scenario][mode] = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"paired {mode} / {scenario} done", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def paired_table(results: dict[str, dict[str, dict[str, list[float]]]], block: int, stream_block: int) -> str:
    lines = [
        "| in one process, OTel off vs on block by block | "
        + " | ".join(f"{m}: median of on/off (middle half)" for m in PAIRED_MODES)
        + " |"
    ]
    lines.append("|---|" + "---|" * len(PAIRED_MODES))
    for scenario, label in (
        ("create", f"messages.create (blocks of {block})"),
        ("stream", f"messages.stream, 35 events (blocks of {stream_block})"),
    ):
        cells = []
        for mode in PAIRED_MODES:
            blocks = results[scenario][mode]
            ratios = [on / off - 1 for on, off in zip(blocks["on"], blocks["off"], strict=True)]
            low, _, high = statistics.quantiles(ratios, n=4)
            off_ms = statistics.median(blocks["off"])
            on_ms = statistics.median(blocks["on"])
            cells.append(
                f"{statistics.median(ratios) * 100:+.1f} % ({low * 100:+.1f}..{high * 100:+.1f}; "
                f"{off_ms:.3f} -> {on_ms:.3f} ms)"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(results: dict[str, dict[str, list[float]]]) -> str:
    lines = ["| client CPU ms / call (median of rounds) | " + " | ".join(MODES) + " |"]
    lines.append("|---|" + "---|" * len(MODES))
    for scenario, label in (("create", "messages.create"), ("stream", "messages.stream (35 events)")):
        medians = {m: statistics.median(v) for m, v in results[scenario].items()}
        base = medians["without"]
        cells = [f"{medians[m]:.3f} ({(medians[m] / base - 1) * 100:+.1f} %)" for m in MODES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--paired":
        paired_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--pairs", type=int, default=None, help="off/on block pairs of the in-process table")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 7)
    calls = args.calls or (300 if args.quick else 2000)
    pairs = args.pairs or (20 if args.quick else 300)
    block, stream_block = 20, 4
    results = run(rounds, calls, max(50, calls // 10))
    paired = run_paired(pairs, block, stream_block)
    print(table(results))
    print()
    print(paired_table(paired, block, stream_block))
    if args.json:
        Path(args.json).write_text(json.dumps({"processes": results, "paired": paired}, indent=2))


if __name__ == "__main__":
    main()
