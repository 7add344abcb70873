"""claude-web benchmark: one FakeClaude in its own process, each client measured in its own process.

    python bench/run.py [--quick] [--no-latest] [--json out.json]
    python bench/run.py --otel [--quick]      the OpenTelemetry overhead table (bench/otel_overhead.py)

Measures, for claude_web, anthropic==0.125.0 (this venv), the latest anthropic (bench/.venv-latest, created
on first use if PyPI has it) and the floor (raw httpx + json.loads):
  - non-streaming calls/s and client CPU ms per call
  - import time
  - events/s (client CPU) of a 20,000-delta text stream via stream=True and via messages.stream().text_stream
  - time to accumulate a tool input streamed as 1k / 5k / 10k input_json_delta chunks
  - 100 concurrent async streams of 500 deltas: wall time and errors
Prints a Markdown table (the README's is pasted from it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORKER = str(ROOT / "bench" / "_worker.py")
LATEST_VENV = ROOT / "bench" / ".venv-latest"

sys.path.insert(0, str(ROOT))
from claude_web.testing import text, tool_use  # noqa: E402


def start_fake() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_web.testing", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise RuntimeError(f"FakeClaude did not start: {line!r}")
    return proc, line[line.index("http://") :].split()[0]


def queue(base_url: str, *replies: Any) -> None:
    httpx.post(f"{base_url}/_fake/queue", json=[r.to_json() for r in replies]).raise_for_status()


def reset(base_url: str) -> None:
    httpx.post(f"{base_url}/_fake/reset").raise_for_status()


def latest_python(enabled: bool) -> tuple[str | None, str]:
    """The python of a venv holding the newest anthropic from PyPI, and its version (or why there is none)."""
    if not enabled:
        return None, "skipped (--no-latest)"
    py = LATEST_VENV / "bin" / "python"
    if not py.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(LATEST_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            return None, f"venv failed: {made.stderr.strip()[:200]}"
        inst = subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--upgrade", "anthropic", "httpx"], capture_output=True, text=True
        )
        if inst.returncode != 0:
            return None, f"not installable here: {inst.stderr.strip().splitlines()[-1][:200]}"
    ver = subprocess.run(
        [str(py), "-c", "import anthropic; print(anthropic.__version__)"], capture_output=True, text=True
    )
    if ver.returncode != 0:
        return None, f"import failed: {ver.stderr.strip()[-200:]}"
    return str(py), ver.stdout.strip()


def run_worker(python: str, lib: str, scenario: str, base_url: str, n: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) if lib in ("claude_web", "floor") else "")
    out = subprocess.run(
        [python, WORKER, lib, scenario, base_url, str(n)], capture_output=True, text=True, env=env, timeout=900
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def import_time(python: str, module: str, lib: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT) if lib == "claude_web" else "")
    times = []
    for _ in range(5):
        out = subprocess.run(
            [python, "-c", f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"],
            capture_output=True,
            text=True,
            env=env,
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument("--no-latest", action="store_true", help="do not create/use the latest-anthropic venv")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--otel", action="store_true", help="only the OpenTelemetry overhead table (otel_overhead.py)")
    args = parser.parse_args()
    if args.otel:
        extra = (["--quick"] if args.quick else []) + (["--json", args.json] if args.json else [])
        raise SystemExit(subprocess.run([sys.executable, str(ROOT / "bench" / "otel_overhead.py"), *extra]).returncode)
    n_calls = 300 if args.quick else 3000
    deltas = 2000 if args.quick else 20_000

    latest_py, latest_version = latest_python(not args.no_latest)
    libs: list[tuple[str, str, str]] = [
        ("claude_web", sys.executable, "claude_web"),
        ("anthropic 0.125.0", sys.executable, "anthropic"),
    ]
    if latest_py:
        libs.append((f"anthropic {latest_version} (latest)", latest_py, "anthropic"))
    floor = ("floor (httpx + json.loads)", sys.executable, "floor")

    proc, base_url = start_fake()
    results: dict[str, Any] = {"latest": latest_version}
    try:
        for name, py, lib in [*libs, floor]:
            reset(base_url)
            results.setdefault(name, {})["create"] = run_worker(py, lib, "create", base_url, n_calls)
            if lib != "floor":
                results[name]["import_s"] = import_time(py, "claude_web" if lib == "claude_web" else "anthropic", lib)
            else:
                results[name]["import_s"] = import_time(py, "httpx, pydantic", "floor")
            for scenario in ("stream_events", "text_stream"):
                if lib == "floor" and scenario == "text_stream":
                    continue
                reset(base_url)
                queue(base_url, text("warm up " * 10, chunks=20), text("x" * deltas, chunks=deltas))
                results[name][scenario] = run_worker(py, lib, scenario, base_url, 0)
            if lib != "floor":
                for chunks in (1000, 5000, 10_000):
                    reset(base_url)
                    payload = {"items": [{"i": i, "v": "abcdefgh"} for i in range(chunks)]}
                    queue(
                        base_url, tool_use("save", {"w": [1, 2]}, chunks=10), tool_use("save", payload, chunks=chunks)
                    )
                    results[name][f"tool_{chunks}"] = run_worker(py, lib, "tool_final", base_url, 0)
            reset(base_url)
            queue(base_url, *(text("y" * 500, chunks=500) for _ in range(100)))
            results[name]["concurrent"] = run_worker(py, lib, "concurrent", base_url, 100)
    finally:
        proc.terminate()
        proc.wait(10)
    print_table(results, [n for n, _, _ in libs] + [floor[0]])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _fmt(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "n/a"


def print_table(results: dict[str, Any], names: list[str]) -> None:
    rows = [
        ("non-streaming calls/s", lambda r: r["create"].get("calls_per_s"), ".0f"),
        ("client CPU ms / call", lambda r: r["create"].get("cpu_ms_per_call"), ".3f"),
        ("import time s", lambda r: r.get("import_s"), ".3f"),
        ("stream=True events/s (CPU)", lambda r: r.get("stream_events", {}).get("events_per_s_cpu"), ".0f"),
        ("text_stream events/s (CPU)", lambda r: r.get("text_stream", {}).get("events_per_s_cpu"), ".0f"),
        ("tool input 1k chunks, s", lambda r: r.get("tool_1000", {}).get("wall_s"), ".3f"),
        ("tool input 5k chunks, s", lambda r: r.get("tool_5000", {}).get("wall_s"), ".3f"),
        ("tool input 10k chunks, s", lambda r: r.get("tool_10000", {}).get("wall_s"), ".3f"),
        ("100 async streams x500: wall s", lambda r: r.get("concurrent", {}).get("wall_s"), ".2f"),
        ("100 async streams x500: errors", lambda r: r.get("concurrent", {}).get("errors"), "d"),
    ]
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, get, spec in rows:
        cells = []
        for name in names:
            try:
                cells.append(_fmt(get(results[name]), spec))
            except (KeyError, TypeError, AttributeError):
                cells.append("n/a")
        print(f"| {label} | " + " | ".join(cells) + " |")
    ours, official, floor = results.get(names[0], {}), results.get(names[1], {}), results.get(names[-1], {})
    try:
        print()
        print(
            f"calls/s vs official: {ours['create']['calls_per_s'] / official['create']['calls_per_s']:.2f}x "
            f"(target >= 1.5x)"
        )
        print(
            f"CPU/call vs floor: {ours['create']['cpu_ms_per_call'] / floor['create']['cpu_ms_per_call']:.2f}x "
            f"(target <= 1.25x)"
        )
        print(
            f"stream=True vs floor: {ours['stream_events']['events_per_s_cpu'] / floor['stream_events']['events_per_s_cpu']:.2f}x "
            f"(target >= 0.9x)"
        )
        print(
            f"text_stream vs official: {ours['text_stream']['events_per_s_cpu'] / official['text_stream']['events_per_s_cpu']:.2f}x "
            f"(target >= 2.5x)"
        )
        t1, t10 = ours["tool_1000"]["wall_s"], ours["tool_10000"]["wall_s"]
        print(
            f"tool 10k / (10 x 1k): {t10 / (10 * t1):.2f} (target <= 2); "
            f"vs official 10k: {official['tool_10000']['wall_s'] / t10:.1f}x faster (target >= 10x)"
        )
        print(
            f"concurrent wall vs floor: {ours['concurrent']['wall_s'] / floor['concurrent']['wall_s']:.2f}x "
            f"(target <= 1.5x), errors {ours['concurrent']['errors']}"
        )
    except (KeyError, TypeError, ZeroDivisionError) as exc:
        print(f"(ratios unavailable: {exc!r})")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\n(bench took {time.perf_counter() - t0:.0f} s)")
