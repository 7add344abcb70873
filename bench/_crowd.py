"""What the streaming benches share: FakeClaude in its own process, a crowd of browser streams, a burst beyond
capacity, the server's memory and threads, and the report.

A browser stream is a POST of a chat body read to its end as SSE, with the timeouts a real client would use:
connect 10 s, read 2 x the server's heartbeat interval (a healthy stream sends at least a heartbeat comment that
often), pool 10 s (the bench's own pool holds every stream, so it never waits).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from claude_web.testing import FakeClaude, RemoteFakeClaude, text  # noqa: E402

HEARTBEAT = 15.0
"""The bench apps' ``STREAMING["HEARTBEAT"]``."""
BODY = {"messages": [{"role": "user", "content": "bench"}]}
FIRST_DELTA_AFTER = 4
"""FakeClaude's paced stream: message_start, content_block_start and a ping come first, one pause before each."""


def browser_timeout() -> httpx.Timeout:
    return httpx.Timeout(connect=10.0, read=2 * HEARTBEAT, write=10.0, pool=10.0)


def start(cmd: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``cmd`` and wait for a line of its output containing ``ready`` (returned)."""
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


def start_fake(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, RemoteFakeClaude]:
    proc, line = start([sys.executable, "-m", "claude_web.testing", "--port", "0"], env, "listening on")
    url = line[line.index("http://") :].split()[0]
    return proc, url, FakeClaude.connect(url)


def queue_replies(fake: RemoteFakeClaude, count: int, events: int, delay: float) -> None:
    """``count`` scripted answers of ``events`` text deltas paced ``delay`` s apart (sent in batches)."""
    reply = text(" ".join(f"t{i}" for i in range(events)), chunks=events, event_delay=delay)
    for start_at in range(0, count, 500):
        fake.queue(*(reply for _ in range(min(500, count - start_at))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def stop(*procs: subprocess.Popen[Any] | None) -> None:
    for proc in procs:
        if proc is None or proc.poll() is not None:
            continue
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- the server process -----------------------------------------------------------------------------------------


def _status(pid: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class ProcessWatch:
    """Samples a process's thread count (peak) while the crowd runs; reads its peak RSS and CPU time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_threads = 0
        self._stop = threading.Event()
        self._cpu0 = self.cpu_seconds()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.peak_threads = max(self.peak_threads, int(_status(self.pid)["Threads"]))
            except (OSError, KeyError, ValueError):
                return

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def finish(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        status = _status(self.pid)
        return {
            "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
            "peak_threads": self.peak_threads,
            "cpu_s": self.cpu_seconds() - self._cpu0,
        }


# -- the browsers -----------------------------------------------------------------------------------------------


@dataclass
class Crowd:
    """What the browsers saw."""

    started: float = field(default_factory=time.perf_counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_byte: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    done: int = 0
    open: int = 0
    peak_open: int = 0
    refused: list[float] = field(default_factory=list)  # seconds to a complete 503 response
    admitted: int = 0  # burst requests that found a free slot after all
    burst_errors: Counter[str] = field(default_factory=Counter)
    client_lag: list[float] = field(default_factory=list)  # the crowd process's own event-loop lag


async def one_stream(http: httpx.AsyncClient, url: str, crowd: Crowd) -> None:
    sent = time.perf_counter()
    opened = False
    try:
        async with http.stream("POST", url, json=BODY) as response:
            if response.status_code != 200:
                crowd.errors[f"HTTP {response.status_code}"] += 1
                return
            got_token = False
            async for line in response.aiter_lines():
                if not opened:
                    opened = True
                    crowd.first_byte.append(time.perf_counter() - sent)
                    crowd.open += 1
                    crowd.peak_open = max(crowd.peak_open, crowd.open)
                if line == "event: text" and not got_token:
                    crowd.first_token.append(time.perf_counter() - sent)
                    got_token = True
                elif line == "event: done":
                    crowd.done += 1
                    break
                elif line == "event: error":
                    crowd.errors["error event"] += 1
                    return
            else:
                crowd.errors["no done event"] += 1
    except httpx.HTTPError as exc:
        crowd.errors[type(exc).__name__] += 1
    finally:
        if opened:
            crowd.open -= 1


async def one_refusal(http: httpx.AsyncClient, url: str, crowd: Crowd) -> None:
    sent = time.perf_counter()
    try:
        async with http.stream("POST", url, json=BODY) as response:
            if response.status_code == 503 and response.headers.get("retry-after"):
                await response.aread()
                crowd.refused.append(time.perf_counter() - sent)
            elif response.status_code == 200:
                crowd.admitted += 1  # a slot freed meanwhile: hang up at once
            else:
                crowd.burst_errors[f"HTTP {response.status_code}"] += 1
    except httpx.HTTPError as exc:
        crowd.burst_errors[type(exc).__name__] += 1


async def _later(delay: float, http: httpx.AsyncClient, url: str, crowd: Crowd) -> None:
    if delay > 0:
        await asyncio.sleep(delay)
    await one_stream(http, url, crowd)


async def refusals(url: str, burst: int, burst_rate: float) -> Crowd:
    """``burst`` new streams, ``burst_rate`` per second (0: all at once), expected to be refused."""
    crowd = Crowd()
    gap = 1 / burst_rate if burst_rate > 0 else 0.0
    limits = httpx.Limits(max_connections=burst + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=browser_timeout(), limits=limits) as http:

        async def later(delay: float) -> None:
            await asyncio.sleep(delay)
            await one_refusal(http, url, crowd)

        await asyncio.gather(*(later(i * gap) for i in range(burst)))
    return crowd


async def _refusals_elsewhere(url: str, burst: int, burst_rate: float, crowd: Crowd) -> None:
    """Run :func:`refusals` in a process of its own: the crowd's process is busy reading thousands of streams,
    and its own event-loop lag would be counted as the server's."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "refuse", url, str(burst), str(burst_rate), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    result = json.loads(out)
    crowd.refused = result["refused"]
    crowd.admitted = result["admitted"]
    crowd.burst_errors = Counter(result["errors"])


class LoopLag:
    """How late this process's event loop runs a timer (sampled every 0.1 s): the measuring side's own delay."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.1
            await asyncio.sleep(0.1)
            self.lags.append(max(0.0, loop.time() - due))

    def stop(self) -> list[float]:
        self._task.cancel()
        return self.lags


async def run_crowd(
    url: str, concurrent: int, burst: int, capacity: int | None, ramp: float = 0.0, burst_rate: float = 0.0
) -> tuple[Crowd, float]:
    """``concurrent`` streams, started evenly over ``ramp`` seconds (0: all at once); once ``capacity`` of them are
    open, ``burst`` more requests that should be refused, ``burst_rate`` per second (0: all at once), sent from
    another process. Returns what the browsers saw and the wall time."""
    crowd = Crowd()
    limits = httpx.Limits(max_connections=concurrent + 10, max_keepalive_connections=0)
    lag = LoopLag()
    async with httpx.AsyncClient(timeout=browser_timeout(), limits=limits) as http:
        t0 = time.perf_counter()
        step = ramp / concurrent if concurrent else 0.0
        streams = [asyncio.ensure_future(_later(i * step, http, url, crowd)) for i in range(concurrent)]
        if burst:
            target = capacity if capacity is not None else concurrent
            while crowd.open < target and not all(s.done() for s in streams):
                await asyncio.sleep(0.05)
            await _refusals_elsewhere(url, burst, burst_rate, crowd)
        await asyncio.gather(*streams)
        crowd.client_lag = lag.stop()
        return crowd, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(
    title: str,
    concurrent: int,
    crowd: Crowd,
    wall: float,
    server: dict[str, float],
    burst: int,
    events: int,
    delay: float,
) -> str:
    """The bench's lines. FakeClaude paces every event of a stream, so its own first text delta leaves
    ``FIRST_DELTA_AFTER * delay`` seconds after the request: the first-token line also shows the time added."""
    errors = sum(crowd.errors.values())
    delivered = crowd.done * events
    own = FIRST_DELTA_AFTER * delay * 1000
    lines = [
        f"{title}",
        f"  streams: {concurrent}, completed {crowd.done}, errors {errors} {dict(crowd.errors) or ''}".rstrip(),
        f"  peak streams open at once (browser side): {crowd.peak_open}; wall {wall:.1f} s; {delivered} text events,"
        f" server CPU {server['cpu_s'] / max(delivered, 1) * 1e6:.0f} us per event (everything included)",
        f"  time to first byte: p50 {pct(crowd.first_byte, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(crowd.first_byte, 0.95) * 1000:.0f} ms; first token: p50 {pct(crowd.first_token, 0.5) * 1000:.0f}"
        f" ms, p95 {pct(crowd.first_token, 0.95) * 1000:.0f} ms (FakeClaude sends it at {own:.0f} ms: "
        f"+{pct(crowd.first_token, 0.5) * 1000 - own:.0f} / +{pct(crowd.first_token, 0.95) * 1000 - own:.0f} ms)",
        f"  server: peak RSS {server['peak_rss_mb']:.0f} MB, peak threads {server['peak_threads']:.0f}, "
        f"CPU {server['cpu_s']:.1f} s; the browsers' own loop lag (counted in the times above): p50 "
        f"{pct(crowd.client_lag, 0.5) * 1000:.0f} ms, p99 {pct(crowd.client_lag, 0.99) * 1000:.0f} ms",
    ]
    if burst:
        lines.append(
            f"  burst of {burst} beyond capacity (another process): {len(crowd.refused)} got 503 + Retry-After in p50 "
            f"{pct(crowd.refused, 0.5) * 1000:.1f} ms, p99 {pct(crowd.refused, 0.99) * 1000:.1f} ms, "
            f"max {max(crowd.refused, default=float('nan')) * 1000:.1f} ms; admitted {crowd.admitted}; "
            f"errors {dict(crowd.burst_errors) or 0}"
        )
    return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


if __name__ == "__main__" and sys.argv[1:2] == ["refuse"]:
    _url, _burst, _rate = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    _seen = asyncio.run(refusals(_url, _burst, _rate))
    print(json.dumps({"refused": _seen.refused, "admitted": _seen.admitted, "errors": dict(_seen.burst_errors)}))
