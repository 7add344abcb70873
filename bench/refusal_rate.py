"""How fast a full uvicorn worker refuses new streams: Django's async chat view behind the capacity gate or not.

    python bench/refusal_rate.py [--requests 2000] [--concurrency 50] [--no-gate]

``STREAMING["MAX_STREAMS"]`` is 1 and one stream holds the slot; then ``--requests`` new streams, ``--concurrency``
at a time, must all get the 503 + ``Retry-After``. Reports refusals per second, their p50/p99 latency and the
server's CPU per refusal. Without the gate each refusal goes through Django's ASGI handler (a thread of its own
per request, signals); with it (``claude_web_django.asgi.get_asgi_application()``) it is answered at the ASGI level.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _crowd import BODY, ROOT, ProcessWatch, free_port, pct, start_fake, stop, wait_port

from claude_web.testing import text


async def storm(url: str, requests: int, concurrency: int) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency + 10)) as http:
        async with http.stream("POST", url, json=BODY) as holder:  # takes the one slot for the whole run
            assert holder.status_code == 200, holder.status_code

            async def one() -> None:
                async with gate:
                    sent = time.perf_counter()
                    response = await http.post(url, json=BODY)
                    if response.status_code == 503 and response.headers.get("retry-after"):
                        latencies.append(time.perf_counter() - sent)
                    codes[response.status_code] = codes.get(response.status_code, 0) + 1

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(requests)))
            return latencies, codes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--no-gate", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}")
    fake_proc, fake_url, fake = start_fake(env)
    server: subprocess.Popen[str] | None = None
    try:
        denv = dict(
            env,
            BENCH_FAKE_URL=fake_url,
            BENCH_DB=str(Path(tempfile.mkdtemp(prefix="cw-bench-")) / "bench.sqlite3"),
            BENCH_MAX_STREAMS="1",
            DJANGO_SETTINGS_MODULE="",
        )
        if args.no_gate:
            denv["BENCH_NO_GATE"] = "1"
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
            [sys.executable, "-m", "uvicorn", "_django_app:application", "--port", str(port)]
            + ["--log-level", "warning", "--no-access-log", "--app-dir", str(ROOT / "bench")],
            env=denv,
            cwd=ROOT,
            text=True,
        )
        wait_port(port)
        fake.queue(text("held " * 200, chunks=200, event_delay=1.0))
        watch = ProcessWatch(server.pid)
        latencies, codes, wall = asyncio.run(storm(f"http://127.0.0.1:{port}/achat/", args.requests, args.concurrency))
        cpu = watch.finish()["cpu_s"]
        print(
            f"full uvicorn worker, Django AsyncChatStreamView{' without' if args.no_gate else ' behind'} the capacity "
            f"gate: {args.requests} new streams, {args.concurrency} at a time: {args.requests / wall:.0f} refusals/s, "
            f"answers {codes}, 503 in p50 {pct(latencies, 0.5) * 1000:.1f} ms, p99 {pct(latencies, 0.99) * 1000:.1f}"
            f" ms; server CPU {cpu / args.requests * 1000:.2f} ms per refusal"
        )
    finally:
        stop(server, fake_proc)


if __name__ == "__main__":
    main()
