"""What OpenTelemetry costs the client: CPU per call, side by side, in one run.

    python bench/otel_overhead.py [--quick] [--rounds R] [--calls N] [--only-instructions | --no-instructions]
                                                                      (also: python bench/run.py --otel)

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

A third table counts instructions instead of seconds (``valgrind --tool=callgrind``, every mode, both scenarios;
see :func:`run_instructions`): the count repeats exactly from run to run, so it shows what a change to the
telemetry path saves even when the timings cannot. ``--only-instructions`` prints just that table.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("without", "api, no-op provider", "sdk traces, batch", "sdk traces + metrics")
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "bench"}]}


# -- the measured process --------------------------------------------------------------------------------------
def _sdk_providers(mode: str, export_interval_ms: int = 5_000) -> tuple[Any, Any]:
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

    reader = PeriodicExportingMetricReader(DropPoints(), export_interval_millis=export_interval_ms)
    return tracer_provider, MeterProvider(metric_readers=[reader])


def _setup(mode: str, export_interval_ms: int = 5_000) -> tuple[Any, Any]:
    """The process-wide OpenTelemetry setup of ``mode`` (global providers, as an app's startup would set)."""
    if mode == "without":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
        return None, None
    from opentelemetry import metrics, trace

    if mode == "api, no-op provider":
        trace.set_tracer_provider(trace.NoOpTracerProvider())
        metrics.set_meter_provider(metrics.NoOpMeterProvider())
        return None, None
    tracer_provider, meter_provider = _sdk_providers(mode, export_interval_ms)
    trace.set_tracer_provider(tracer_provider)
    if meter_provider is not None:
        metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


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


def count_worker(mode: str, scenario: str, base_url: str, n: int) -> None:
    """The process :func:`run_instructions` runs under callgrind: a fixed warm-up, ``n`` calls, then every
    pending span and metric point exported, so their export is counted (the periodic metric export is left to
    that flush: under callgrind a wall-clock interval would fire once per few calls)."""
    tracer_provider, meter_provider = _setup(mode, export_interval_ms=3_600_000)
    import claude_web

    client = claude_web.Anthropic(api_key="bench-key", base_url=base_url, max_retries=0, usage_recorder=lambda r: None)
    call = _caller(scenario, client)
    for _ in range(COUNT_WARMUP):
        call()
    for _ in range(n):
        call()
    for provider in (tracer_provider, meter_provider):
        if provider is not None:
            provider.force_flush()


COUNT_WARMUP = 30
COUNT_CALLS = {"create": (20, 100), "stream": (10, 90)}  # two run lengths: their difference is per call


def _instructions(mode: str, scenario: str, base_url: str, n: int) -> int:
    """Instructions callgrind counts in the whole client process (every thread) for ``n`` calls."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--count",
            mode,
            scenario,
            base_url,
            str(n),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind {mode}/{scenario} failed: {done.stderr.strip()[-500:]}")
    return int(found.group(1))


def run_instructions() -> dict[str, dict[str, float]] | None:
    """Instructions per call of each mode and scenario: the count of a long run less that of a short one, over
    the calls between them. Unlike CPU time, the count repeats to the instruction whatever else the machine
    does (it leaves out how fast the instructions run: cache misses, which telemetry between two HTTP calls has
    more of). ``None`` without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    from bench.run import start_fake

    proc, base_url = start_fake()
    jobs = [(scenario, mode, n) for scenario, ns in COUNT_CALLS.items() for mode in MODES for n in ns]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = list(pool.map(lambda job: _instructions(job[1], job[0], base_url, job[2]), jobs))
    finally:
        proc.terminate()
        proc.wait(10)
    by_job = dict(zip(jobs, counts, strict=True))
    out: dict[str, dict[str, float]] = {}
    for scenario, (short, long) in COUNT_CALLS.items():
        out[scenario] = {
            m: (by_job[(scenario, m, long)] - by_job[(scenario, m, short)]) / (long - short) for m in MODES
        }
    return out


def instructions_table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| client instructions / call (callgrind) | " + " | ".join(MODES) + " |"]
    lines.append("|---|" + "---|" * len(MODES))
    for scenario, label in (("create", "messages.create"), ("stream", "messages.stream (35 events)")):
        base = results[scenario]["without"]
        cells = [
            f"{results[scenario][m] / 1000:,.0f}k ({(results[scenario][m] / base - 1) * 100:+.1f} %)" for m in MODES
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    if len(sys.argv) > 1 and sys.argv[1] == "--count":
        count_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
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
    parser.add_argument("--only-instructions", action="store_true", help="only the callgrind instruction table")
    parser.add_argument("--no-instructions", action="store_true", help="leave out the callgrind instruction table")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 7)
    calls = args.calls or (300 if args.quick else 2000)
    pairs = args.pairs or (20 if args.quick else 300)
    block, stream_block = 20, 4
    counted = None if args.no_instructions else run_instructions()
    if args.only_instructions:
        print(instructions_table(counted) if counted else "valgrind not found: no instruction counts")
        return
    results = run(rounds, calls, max(50, calls // 10))
    paired = run_paired(pairs, block, stream_block)
    print(table(results))
    print()
    print(paired_table(paired, block, stream_block))
    if counted:
        print()
        print(instructions_table(counted))
    elif not args.no_instructions:
        print("\nvalgrind not found: no instruction counts")
    if args.json:
        raw = {"processes": results, "paired": paired, "instructions": counted}
        Path(args.json).write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
