"""Chat streams under a threaded WSGI server, Django or Flask (FakeClaude in its own process).

    python bench/wsgi_stream.py --framework django|flask [--server gthread] [--threads 200] [--max-streams 190]
                                [--concurrent 190] [--burst 200] [--burst-rate 50] [--stream-events 30]
                                [--stream-delay 1.0] [--ramp 5]

One gunicorn ``gthread`` worker with ``--threads`` threads. Under WSGI a stream holds a thread until it ends, so a
worker's honest capacity is its thread count: ``STREAMING["MAX_STREAMS"]`` (``--max-streams``) must stay below it,
so that free threads are left to answer the 503s (and every other request). ``--concurrent`` streams start over
``--ramp`` seconds; once the worker is at ``MAX_STREAMS``, ``--burst`` more streams arrive at ``--burst-rate`` per
second and must get a fast 503 + ``Retry-After``. Reports errors, p50/p95 time to first byte and first token, the
503 latency, server CPU per delivered event and the worker's peak RSS and threads. Browser timeouts are a real
client's (see ``bench/_crowd.py``).
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

from _crowd import (
    ROOT,
    ProcessWatch,
    children,
    free_port,
    queue_replies,
    report,
    run_crowd,
    start_fake,
    stop,
    wait_port,
)

APPS = {"django": ("_django_app:wsgi_application", "/chat/"), "flask": ("_flask_app:app", "/chat")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", choices=sorted(APPS), required=True)
    parser.add_argument("--server", choices=["gthread"], default="gthread", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=200, help="threads of the one gunicorn worker")
    parser.add_argument("--max-streams", type=int, default=None, help="STREAMING MAX_STREAMS (default threads - 10)")
    parser.add_argument("--concurrent", type=int, default=None, help="streams (default --max-streams)")
    parser.add_argument("--burst", type=int, default=200, help="requests beyond capacity once the worker is full")
    parser.add_argument("--burst-rate", type=float, default=50.0, help="burst requests per second (0: all at once)")
    parser.add_argument("--stream-events", type=int, default=30, help="text deltas per stream")
    parser.add_argument("--stream-delay", type=float, default=1.0, help="seconds between deltas")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the streams start")
    args = parser.parse_args()
    capacity = args.max_streams or max(1, args.threads - 10)
    concurrent = args.concurrent or capacity
    target, path = APPS[args.framework]

    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}")
    fake_proc, fake_url, fake = start_fake(env)
    server: subprocess.Popen[bytes] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="cw-wsgi-bench-"))
    log = tmp / "gunicorn.log"
    try:
        senv = dict(
            env,
            BENCH_FAKE_URL=fake_url,
            BENCH_DB=str(tmp / "bench.sqlite3"),
            BENCH_USAGE_LOG=str(tmp / "usage.jsonl"),
            BENCH_MAX_STREAMS=str(capacity),
            DJANGO_SETTINGS_MODULE="",
        )
        if args.framework == "django":
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import _django_app; from django.core.management import call_command;"
                    " call_command('migrate', verbosity=0)",
                ],
                env=senv,
                cwd=ROOT / "bench",
                check=True,
            )
        port = free_port()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", target, "--chdir", str(ROOT / "bench")]
                + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", args.server]
                + ["--threads", str(args.threads), "--backlog", "4096", "--timeout", "120"]
                + ["--worker-connections", str(concurrent + args.burst + 100), "--log-level", "warning"],
                env=senv,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_port(port)
        deadline = time.monotonic() + 30
        while not children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = children(server.pid)[0]
        url = f"http://127.0.0.1:{port}{path}"

        queue_replies(fake, concurrent + args.burst, args.stream_events, args.stream_delay)
        watch = ProcessWatch(worker)
        crowd, wall = asyncio.run(run_crowd(url, concurrent, args.burst, capacity, args.ramp, args.burst_rate))
        print(
            report(
                f"WSGI: {args.framework.capitalize()} chat view, one gunicorn {args.server} worker, {args.threads}"
                f" threads, MAX_STREAMS {capacity}; {concurrent} streams started over {args.ramp:.0f} s, each "
                f"{args.stream_events} deltas paced {args.stream_delay * 1000:.0f} ms; burst at "
                f"{args.burst_rate:.0f}/s",
                concurrent,
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
        tail = log.read_text(errors="replace").strip().splitlines()[-20:] if log.exists() else []
        if tail:
            print("gunicorn log (last lines):\n  " + "\n  ".join(tail))


if __name__ == "__main__":
    main()
