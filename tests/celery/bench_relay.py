"""Relay benchmark: ``python tests/celery/bench_relay.py [--redis redis://127.0.0.1:6379/15] [--events 2000]``.

Latency: a publisher (a separate process, like a worker) appends events stamped with ``time.time()``; the reader
is an HTTP SSE client of a real Flask web process serving the jobs blueprint; latency is arrival minus stamp.
Throughput: events per second one reader drains from a job's stream through the same SSE endpoint.
Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent)]

from claude_web.relay import relay_from_url  # noqa: E402


def _publish(redis_url: str, prefix: str, job_id: str, count: int, interval: float) -> None:
    relay = relay_from_url(redis_url, prefix=prefix)
    for i in range(count):
        relay.publish(job_id, "text", {"text": "x" * 8, "i": i, "t": time.time()})
        if interval:
            time.sleep(interval)
    relay.finish(job_id, "done", {"t": time.time()})
    relay.close()


def _read(url: str, owner: str) -> list[tuple[float, dict[str, object]]]:
    out: list[tuple[float, dict[str, object]]] = []
    with httpx.stream("GET", url, headers={"X-User": owner}, timeout=60) as response:
        buffer = ""
        for chunk in response.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
                if data:
                    out.append((time.time(), json.loads(data[0])))
                if "event: done" in block:
                    return out
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    prefix = f"cwbench-{uuid.uuid4().hex[:8]}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "CW_TEST_REDIS_URL": args.redis,
        "CW_TEST_PREFIX": prefix,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent.parent)]),
    }
    web = subprocess.Popen(
        [sys.executable, "cw_web_app.py", str(port)],
        cwd=str(HERE),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    relay = relay_from_url(args.redis, prefix=prefix)
    try:
        base = f"http://127.0.0.1:{port}/ai/jobs"
        for _ in range(100):
            try:
                httpx.get(f"{base}/xxxxxxxxxxxxxxxxxxxxxxxx/", headers={"X-User": "b"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # latency: paced events, like tokens arriving from upstream
        job = "bench-latency-" + uuid.uuid4().hex[:12]
        relay.create_job(job, {"owner": "b", "kind": "stream"})
        reader = multiprocessing.Pool(1)
        pending = reader.apply_async(_read, (f"{base}/{job}/events/", "b"))
        time.sleep(0.5)
        _publish(args.redis, prefix, job, min(args.events, 1000), 0.002)
        got = pending.get(timeout=120)
        lat = sorted((arrival - float(data["t"])) * 1000 for arrival, data in got)  # type: ignore[arg-type]
        p50 = statistics.median(lat)
        p99 = lat[int(len(lat) * 0.99) - 1]
        print(f"latency over {len(lat)} events: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat[-1]:.2f} ms")
        # throughput: a backlog drained by one reader
        job = "bench-throughput-" + uuid.uuid4().hex[:12]
        relay.create_job(job, {"owner": "b", "kind": "stream"})
        _publish(args.redis, prefix, job, args.events * 10, 0)
        start = time.perf_counter()
        got = _read(f"{base}/{job}/events/", "b")
        elapsed = time.perf_counter() - start
        print(f"throughput: {len(got)} events in {elapsed:.2f} s = {len(got) / elapsed:,.0f} events/s per reader")
        job = "bench-publish-" + uuid.uuid4().hex[:12]
        relay.create_job(job, {"owner": "b", "kind": "stream"})
        start = time.perf_counter()
        for i in range(args.events):
            relay.publish(job, "text", {"text": "x", "i": i})
            relay.is_cancelled(job)
        elapsed = time.perf_counter() - start
        print(f"worker side publish + cancel check: {elapsed / args.events * 1e6:.0f} us per event")
        reader.close()
    finally:
        web.kill()
        keys = list(relay.redis.scan_iter(match=f"{prefix}*"))
        if keys:
            relay.redis.delete(*keys)
        relay.close()


if __name__ == "__main__":
    main()
