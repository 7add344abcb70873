"""Django streaming view overhead and capacity, over real sockets (FakeClaude in its own process).

    python bench/django_stream.py [--events 200] [--delay 0.005] [--concurrent 2000] [--max-streams N]
                                  [--burst 200] [--burst-rate 50] [--stream-events 30] [--stream-delay 3] [--ramp 60]
                                  [--gc-threshold N] [--no-gate] [--lag] [--skip-latency] [--skip-capacity]

1. Added latency: one FakeClaude stream of N events paced ``--delay`` apart, read (a) straight from FakeClaude
   with httpx and (b) through ``AsyncChatStreamView`` under uvicorn. For each event, the arrival time since the
   request was sent is compared between (b) and (a); the p50/p95 difference is the latency the view adds per
   event, and the first-byte difference is the added time to first byte.
2. Capacity: ``--concurrent`` browser streams against ONE uvicorn process (``STREAMING["MAX_STREAMS"]`` =
   ``--max-streams``, default ``--concurrent``; the app is ``claude_web_django.asgi.get_asgi_application()``, with
   the capacity gate, unless ``--no-gate``), started evenly over ``--ramp`` seconds (0: all at once), each
   ``--stream-events`` text deltas; FakeClaude paces every event ``--stream-delay`` s apart, so that all streams
   are open together. Once the server is full, a ``--burst`` of more streams (``--burst-rate`` per second, from
   another process) must get a fast 503 + ``Retry-After``. Reports errors, wall time, p50/p95 time to first byte
   and first token, the 503 latency, server CPU per delivered text event, the server's peak RSS and threads.
   Browser timeouts are a real client's (see ``bench/_crowd.py``). ``--gc-threshold`` runs the server with
   ``gc.freeze()`` and ``gc.set_threshold(N, 20, 100)`` (see the README); ``--lag`` prints its event-loop lag.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _crowd import (
    ROOT,
    ProcessWatch,
    free_port,
    queue_replies,
    report,
    run_crowd,
    start_fake,
    stop,
    wait_port,
)

from claude_web.testing import text

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "bench"}]}


def arrivals(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[float, float, list[float]]:
    """Wall-clock (``time.time()``) stamps: request sent, first byte, and each SSE event carrying a token."""
    t0 = time.time()
    first = 0.0
    times: list[float] = []
    with client.stream(method, url, **kwargs) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            now = time.time()
            if not first:
                first = now
            if line in ("event: content_block_delta", "event: text"):
                times.append(now)
    return t0, first, times


def latency(fake: Any, fake_url: str, view: str, events: int, delay: float) -> None:
    reply = text(" ".join(f"w{i}" for i in range(events)), chunks=events, event_delay=delay)
    with httpx.Client(timeout=60) as http:
        # warm up both paths once
        fake.queue(text("warm up", chunks=3))
        arrivals(http, "POST", f"{fake_url}/v1/messages", json={**BODY, "stream": True}, headers=HEADERS)
        fake.queue(text("warm up", chunks=3))
        arrivals(http, "POST", view, json={"messages": BODY["messages"]})
        diffs: list[float] = []
        first_token: list[float] = []
        first_byte: list[float] = []
        for _ in range(5):
            fake.queue(reply)
            d_sent, d_first, direct = arrivals(
                http, "POST", f"{fake_url}/v1/messages", json={**BODY, "stream": True}, headers=HEADERS
            )
            d_up = fake.last_request.received_at
            fake.queue(reply)
            v_sent, v_first, via = arrivals(http, "POST", view, json={"messages": BODY["messages"]})
            v_up = fake.last_request.received_at
            n = min(len(direct), len(via))
            # each event's delay after FakeClaude received the upstream request, through the view vs direct:
            # what the view adds per event, without its one-off work before it calls upstream
            diffs += [((via[i] - v_up) - (direct[i] - d_up)) * 1000 for i in range(n)]
            first_token.append(((via[0] - v_sent) - (direct[0] - d_sent)) * 1000)
            first_byte.append(((v_first - v_sent) - (d_first - d_sent)) * 1000)
    diffs.sort()
    p50 = statistics.median(diffs)
    p95 = diffs[int(len(diffs) * 0.95)]
    print(f"events per stream: {events}, paced {delay * 1000:.1f} ms; 5 runs")
    print(f"added latency per event through the Django view: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p50 <= 1 ms)")
    print(
        f"added time to first byte: median {statistics.median(first_byte):.2f} ms (target <= 5 ms); "
        f"added time to first token: median {statistics.median(first_token):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200, help="latency run: events per stream")
    parser.add_argument("--delay", type=float, default=0.005, help="latency run: seconds between events")
    parser.add_argument("--concurrent", type=int, default=2000, help="capacity run: streams at once")
    parser.add_argument("--max-streams", type=int, default=None, help="STREAMING MAX_STREAMS (default --concurrent)")
    parser.add_argument("--burst", type=int, default=200, help="requests beyond capacity once the server is full")
    parser.add_argument("--burst-rate", type=float, default=50.0, help="burst requests per second (0: all at once)")
    parser.add_argument("--stream-events", type=int, default=30, help="capacity run: text deltas per stream")
    parser.add_argument("--stream-delay", type=float, default=3.0, help="capacity run: seconds between events")
    parser.add_argument("--ramp", type=float, default=60.0, help="capacity run: seconds over which streams start")
    parser.add_argument("--gc-threshold", type=int, default=None, help="the server's gc threshold0 (default: 700)")
    parser.add_argument("--lag", action="store_true", help="print the server's event-loop lag every 5 s")
    parser.add_argument("--no-gate", action="store_true", help="plain Django ASGI app, no claude-web capacity gate")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-capacity", action="store_true")
    args = parser.parse_args()
    capacity = args.max_streams or args.concurrent

    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}")
    fake_proc, fake_url, fake = start_fake(env)
    server: subprocess.Popen[str] | None = None
    tmp = tempfile.mkdtemp(prefix="cw-bench-")
    try:
        db = str(Path(tmp) / "bench.sqlite3")
        denv = dict(
            env, BENCH_FAKE_URL=fake_url, BENCH_DB=db, BENCH_MAX_STREAMS=str(capacity), DJANGO_SETTINGS_MODULE=""
        )
        if args.lag:
            denv["BENCH_LAG"] = "1"
        if args.no_gate:
            denv["BENCH_NO_GATE"] = "1"
        if args.gc_threshold:
            denv["BENCH_GC_THRESHOLD"] = str(args.gc_threshold)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import _django_app; from django.core.management import call_command;"
                " call_command('migrate', verbosity=0)",
            ],
            env=denv,
            cwd=ROOT / "bench",
            check=True,
        )
        port = free_port()
        # one worker; the default h11 parser (no uvloop/httptools installed); a listen backlog for the crowd
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "_django_app:application", "--port", str(port)]
            + ["--log-level", "warning", "--no-access-log", "--app-dir", str(ROOT / "bench"), "--backlog", "4096"],
            env=denv,
            cwd=ROOT,
            text=True,
        )
        wait_port(port)
        view = f"http://127.0.0.1:{port}/achat/"
        if not args.skip_latency:
            latency(fake, fake_url, view, args.events, args.delay)

        if args.skip_capacity:
            return
        fake.clear()
        queue_replies(fake, args.concurrent + args.burst, args.stream_events, args.stream_delay)
        watch = ProcessWatch(server.pid)
        crowd, wall = asyncio.run(run_crowd(view, args.concurrent, args.burst, capacity, args.ramp, args.burst_rate))
        print(
            report(
                f"ASGI: Django AsyncChatStreamView{' (no capacity gate)' if args.no_gate else ''}, one uvicorn worker, "
                f"MAX_STREAMS {capacity}; {args.concurrent} "
                f"streams started over {args.ramp:.0f} s, each {args.stream_events} deltas paced "
                f"{args.stream_delay * 1000:.0f} ms; burst at {args.burst_rate:.0f}/s",
                args.concurrent,
                crowd,
                wall,
                watch.finish(),
                args.burst,
                args.stream_events,
                args.stream_delay,
            )
        )
    finally:
        stop(server, fake_proc)


if __name__ == "__main__":
    main()
