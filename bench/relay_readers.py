"""Idle job readers must not hold up active ones: the Django ASGI jobs events endpoint under one uvicorn worker.

    python bench/relay_readers.py [--idle 1000] [--active 10] [--pacing 0.05] [--events 100] [--reader loop|thread]

``--idle`` browsers read the events of queued jobs that never run (each waits on Redis, heartbeats only), then
``--active`` browsers read jobs to which this script publishes one event every ``--pacing`` seconds (as a worker
would, straight to Redis). For each active reader the gaps between its events' arrivals are measured; the goal is
a largest gap of at most 2x the pacing. ``--reader thread`` runs the server with the reader the endpoint had before
(each event pulled through the default thread pool) for comparison. Needs Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from claude_web.relay import RedisRelay, relay_from_url  # noqa: E402

OWNER = "user:bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def start_server(args: argparse.Namespace, prefix: str, gc_log: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT), env.get("PYTHONPATH", "")]),
            "BENCH_REDIS_URL": args.redis_url,
            "BENCH_PREFIX": prefix,
            "BENCH_HEARTBEAT": str(args.heartbeat),
            "BENCH_READER": args.reader,
            "BENCH_GC_LOG": gc_log,
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [sys.executable, "-m", "uvicorn", "_relay_app:application", "--port", str(port), "--workers", "1"]
    cmd += ["--loop", "asyncio", "--http", "h11", "--log-level", "warning", "--backlog", "4096"]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT / "bench"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/not-a-job-id-000000000000/", headers={"X-User": OWNER}, timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


async def read(
    http: httpx.AsyncClient,
    url: str,
    opened: asyncio.Event,
    arrivals: list[float] | None,
    counts: dict[str, int],
    first_byte: asyncio.Event | None = None,
) -> None:
    """One browser: read the stream; ``arrivals`` gets the time of each event (active readers)."""
    async with http.stream("GET", url, headers={"X-User": OWNER}) as response:
        opened.set()  # the server answered (status and headers)
        if response.status_code != 200:
            counts["errors"] += 1
            return
        async for line in response.aiter_lines():
            if first_byte is not None:
                first_byte.set()
            if line.startswith(":"):
                counts["comments"] += 1
            elif line.startswith("event: ") and arrivals is not None:
                arrivals.append(time.monotonic())
                if line == "event: done":
                    return


def _gc_pauses(gc_log: str) -> list[tuple[float, float]]:
    """The server's full collections so far: (when it ended, wall clock; how long it took, ms)."""
    if not Path(gc_log).exists():
        return []
    return [tuple(float(part) for part in line.split()) for line in Path(gc_log).read_text().splitlines()]  # type: ignore[misc]


def publish(relay: RedisRelay, jobs: list[str], pacing: float, events: int, started: threading.Event) -> None:
    started.set()
    tick = time.monotonic()
    for n in range(events):
        for job in jobs:
            relay.publish(job, "text", {"text": f"{n} "})
        tick += pacing
        time.sleep(max(0.0, tick - time.monotonic()))
    for job in jobs:
        relay.finish(job, "done", {"stop_reason": "end_turn"})


async def run(args: argparse.Namespace, relay: RedisRelay, url: str, pid: int, gc_log: str) -> dict[str, Any]:
    idle = [uuid.uuid4().hex for _ in range(args.idle)]
    active = [uuid.uuid4().hex for _ in range(args.active)]
    for job in idle:
        relay.create_job(job, {"owner": OWNER, "kind": "stream", "alias": "default"})
    for job in active:
        relay.create_job(job, {"owner": OWNER, "kind": "stream", "alias": "default"})
        relay.transition(job, ("queued",), "running")
    counts = {"errors": 0, "comments": 0}
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=None) as http:
        opened = [asyncio.Event() for _ in idle]
        streaming = [asyncio.Event() for _ in idle]
        t0 = time.monotonic()
        idle_tasks = [
            asyncio.ensure_future(read(http, f"/{job}/events/", ev, None, counts, first))
            for job, ev, first in zip(idle, opened, streaming, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in opened)), timeout=300)
        idle_open_s = time.monotonic() - t0
        # let every idle stream get going (its first bytes) before the measured part; the reader of before may
        # never send them (its pool threads are all taken): then go on after --settle seconds
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in streaming)), timeout=args.settle)
        idle_streaming = sum(ev.is_set() for ev in streaming)
        await asyncio.sleep(1.0)
        settle_pause = 0.0
        if not args.no_settle_gc:  # the full collection the idle readers' arrival calls for, before measuring
            mark = time.time()
            os.kill(pid, signal.SIGUSR1)
            await asyncio.sleep(2.0)
            settle_pause = max([ms for when, ms in _gc_pauses(gc_log) if when >= mark] or [0.0])
        if args.freeze_gc:
            os.kill(pid, signal.SIGUSR2)
            await asyncio.sleep(0.5)
        threads_idle = threads_of(pid)
        arrivals: list[list[float]] = [[] for _ in active]
        active_opened = [asyncio.Event() for _ in active]
        active_tasks = [
            asyncio.ensure_future(read(http, f"/{job}/events/", ev, times, counts))
            for job, ev, times in zip(active, active_opened, arrivals, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in active_opened)), timeout=120)
        lags: list[float] = []

        async def ticker() -> None:  # this process's own loop delay, to tell its stalls from the server's
            while True:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - before - 0.01)

        ticking = asyncio.ensure_future(ticker())
        started = threading.Event()
        publisher = threading.Thread(target=publish, args=(relay, active, args.pacing, args.events, started))
        publisher.start()
        started.wait()
        begun = time.monotonic()
        begun_wall = time.time()
        budget = args.events * args.pacing + args.grace
        _, late = await asyncio.wait(active_tasks, timeout=budget)
        ended = time.monotonic()
        ended_wall = time.time()
        publisher.join()
        ticking.cancel()
        threads_busy = threads_of(pid)
        for task in [*idle_tasks, *late]:
            task.cancel()
        await asyncio.gather(*idle_tasks, return_exceptions=True)
        for task in idle_tasks:
            if not task.cancelled() and task.exception() is not None:
                counts["errors"] += 1
    received = [len(times) for times in arrivals]
    for times in arrivals:
        times.insert(0, begun)  # the first gap: from the first publish to the first arrival
    for times in arrivals:  # a reader still waiting at the end: its last gap lasts until then
        if len(times) < args.events + 2:
            times.append(ended)
    gaps = [b - a for times in arrivals for a, b in itertools.pairwise(times)]
    largest = [max(b - a for a, b in itertools.pairwise(times)) for times in arrivals if len(times) > 1]
    pauses = [0.0] + [ms for when, ms in _gc_pauses(gc_log) if begun_wall <= when <= ended_wall + 1]
    return {
        "settle_gc_ms": settle_pause,
        "gc_pause_max_ms": max(pauses),
        "gc_pauses": len(pauses) - 1,
        "client_lag_max_ms": max(lags) * 1000 if lags else 0.0,
        "idle_open_s": idle_open_s,
        "idle_streaming": idle_streaming,
        "received": received,
        "gap_p50_ms": statistics.median(gaps) * 1000,
        "gap_p99_ms": sorted(gaps)[int(len(gaps) * 0.99)] * 1000,
        "largest_gap_ms": max(largest) * 1000,
        "largest_over_pacing": max(largest) / args.pacing,
        "errors": counts["errors"],
        "idle_comments": counts["comments"],
        "server_threads_idle": threads_idle,
        "server_threads_end": threads_busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--active", type=int, default=10)
    parser.add_argument("--pacing", type=float, default=0.05)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--heartbeat", type=float, default=5.0)
    parser.add_argument(
        "--no-settle-gc", action="store_true", help="measure without first letting the server collect its garbage"
    )
    parser.add_argument("--freeze-gc", action="store_true", help="gc.freeze() in the server once idle readers run")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for idle streams' first bytes")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds past the last publish to wait")
    parser.add_argument("--reader", choices=["loop", "thread"], default="loop")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    prefix = f"bench-readers-{uuid.uuid4().hex[:8]}"
    relay = relay_from_url(args.redis_url, prefix=prefix, ttl=120)
    gc_log = str(Path(tempfile.gettempdir()) / f"{prefix}-gc.log")
    proc, url = start_server(args, prefix, gc_log)
    try:
        result = asyncio.run(run(args, relay, url, proc.pid, gc_log))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still draining open streams
            proc.kill()
            proc.wait(timeout=10)
        for key in relay.redis.scan_iter(match=f"{prefix}*", count=1000):
            relay.redis.delete(key)
        relay.close()
    Path(gc_log).unlink(missing_ok=True)
    print(
        f"reader={args.reader} idle={args.idle} active={args.active} pacing={args.pacing * 1000:.0f} ms "
        f"events={args.events}"
    )
    print(
        f"  {args.idle} idle readers answered in {result['idle_open_s']:.1f} s, {result['idle_streaming']} of them "
        f"streaming; comment lines (open + heartbeats) received: {result['idle_comments']}; errors {result['errors']}"
    )
    print(
        f"  events received per active reader: {sorted(set(result['received']))} (expected {args.events + 1}, "
        f"within {args.grace:.0f} s of the last publish)"
    )
    print(
        f"  gap between events: p50 {result['gap_p50_ms']:.1f} ms, p99 {result['gap_p99_ms']:.1f} ms, "
        f"largest {result['largest_gap_ms']:.1f} ms = {result['largest_over_pacing']:.2f}x the pacing (goal <= 2x)"
    )
    if not args.no_settle_gc:
        print(
            f"  the server's full collection with the idle readers open (before measuring): {result['settle_gc_ms']:.0f} ms"
        )
    print(
        f"  server full-GC pauses while measuring: {result['gc_pauses']}, longest {result['gc_pause_max_ms']:.0f} ms"
        f"{' (gc.freeze() after the idle readers opened)' if args.freeze_gc else ''}; this client's own largest "
        f"event-loop delay: {result['client_lag_max_ms']:.1f} ms"
    )
    print(
        f"  server threads: {result['server_threads_idle']} with the idle readers open, "
        f"{result['server_threads_end']} at the end"
    )


if __name__ == "__main__":
    main()
