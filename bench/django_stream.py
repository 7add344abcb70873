"""Django streaming view overhead and concurrency, over real sockets.

    python bench/django_stream.py [--events 200] [--delay 0.005] [--concurrent 500]

1. Added latency: one FakeClaude stream of N events paced ``--delay`` apart, read (a) straight from FakeClaude
   with httpx and (b) through ``AsyncChatStreamView`` under uvicorn. For each event, the arrival time since the
   request was sent is compared between (b) and (a); the p50/p95 difference is the latency the view adds per
   event, and the first-byte difference is the added time to first byte.
2. ``--concurrent`` browser streams at once against one uvicorn process: errors and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from claude_web.testing import FakeClaude, RemoteFakeClaude, text  # noqa: E402

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "bench"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(cmd: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if ready in line:
            return proc, line
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"{cmd[:3]} did not start")


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


async def one_stream(http: httpx.AsyncClient, url: str, errors: list[str]) -> None:
    try:
        async with http.stream("POST", url, json={"messages": BODY["messages"]}) as response:
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}")
                return
            done = False
            async for line in response.aiter_lines():
                if line == "event: done":
                    done = True
                elif line == "event: error":
                    errors.append("error event")
            if not done:
                errors.append("no done event")
    except httpx.HTTPError as exc:
        errors.append(type(exc).__name__)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.005)
    parser.add_argument("--concurrent", type=int, default=500)
    args = parser.parse_args()

    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}")
    fake_proc, line = start([sys.executable, "-m", "claude_web.testing", "--port", "0"], env, "listening on")
    fake: RemoteFakeClaude | None = None
    server: subprocess.Popen[str] | None = None
    tmp = tempfile.mkdtemp(prefix="cw-bench-")
    try:
        fake_url = line[line.index("http://") :].split()[0]
        fake = FakeClaude.connect(fake_url)
        db = str(Path(tmp) / "bench.sqlite3")
        denv = dict(env, BENCH_FAKE_URL=fake_url, BENCH_DB=db, DJANGO_SETTINGS_MODULE="")
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
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "_django_app:application",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--app-dir",
                str(ROOT / "bench"),
                "--backlog",
                "2048",
            ],
            env=denv,
            cwd=ROOT,
            text=True,
        )
        _wait_port(port)
        view = f"http://127.0.0.1:{port}/achat/"
        reply = text(" ".join(f"w{i}" for i in range(args.events)), chunks=args.events, event_delay=args.delay)

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
        print(f"events per stream: {args.events}, paced {args.delay * 1000:.1f} ms; 5 runs")
        print(
            f"added latency per event through the Django view: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p50 <= 1 ms)"
        )
        print(
            f"added time to first byte: median {statistics.median(first_byte):.2f} ms (target <= 5 ms); "
            f"added time to first token: median {statistics.median(first_token):.2f} ms"
        )

        fake.clear()
        fake.queue(
            *(text(" ".join(f"t{i}" for i in range(50)), chunks=50, event_delay=0.02) for _ in range(args.concurrent))
        )
        errors: list[str] = []

        async def crowd() -> float:
            limits = httpx.Limits(max_connections=args.concurrent + 10, max_keepalive_connections=0)
            async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=30), limits=limits) as http_async:
                t0 = time.perf_counter()
                await asyncio.gather(*(one_stream(http_async, view, errors) for _ in range(args.concurrent)))
                return time.perf_counter() - t0

        wall = asyncio.run(crowd())
        print(
            f"{args.concurrent} concurrent streams on one uvicorn process: {len(errors)} errors "
            f"({sorted(set(errors))[:3]}), wall {wall:.1f} s, server peak RSS {peak_rss_mb(server.pid):.0f} MB"
        )
    finally:
        for proc in (server, fake_proc):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


if __name__ == "__main__":
    main()
