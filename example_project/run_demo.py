"""One command for the whole demo: ``python example_project/run_demo.py [--port 8000]``.

Without ``ANTHROPIC_API_KEY`` it starts FakeClaude (``demo_fake.py``: paced streamed answers, calculator tool
calls) on a free loopback port; with the key the site talks to the real API. Then it migrates the SQLite database
(``example_project/db.sqlite3``, or ``DEMO_DATABASE``), creates the demo user, starts the Django site under
uvicorn (ASGI) and prints the URL and the login. Ctrl-C (or SIGTERM) stops everything it started.

Background jobs (the long-task page) run in threads of the web process by default; with ``--redis-url`` (or
``DEMO_REDIS_URL``) they go through Celery and the Redis relay, and a Celery worker is started too.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from claude_web.web.checks import redis_reachable

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
DEMO_USER = ("demo", "demo-pass-123")
FAKE_BANNER = "FakeClaude listening on "


class DemoError(RuntimeError):
    """The demo could not start; the message says why and what to do."""


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"the web server exited with status {process.returncode} before it was ready")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise DemoError(f"the web server did not listen on {host}:{port} within {timeout:.0f} s")


def _environment(fake_url: str | None, python_path: list[Path]) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "demo_site.settings"
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in python_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    if fake_url:
        env["CLAUDE_WEB_FAKE_URL"] = fake_url
    return env


def _start_fake(host: str, port: int, pace: float) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, str(HERE / "demo_fake.py"), "--host", host, "--port", str(port), "--pace", str(pace)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=str(HERE), env=_environment(None, [CHECKOUT, HERE])
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith(FAKE_BANNER):
        process.kill()
        raise DemoError(f"FakeClaude did not start (it printed {line!r})")
    return process, line[len(FAKE_BANNER) :]


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "manage.py"), *args], env=env, cwd=str(HERE), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DemoError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def _stop(processes: list[subprocess.Popen[bytes] | subprocess.Popen[str]]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 8
    for process in reversed(processes):
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_demo.py", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address of the web server (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port of the web server (default 8000)")
    parser.add_argument("--fake-port", type=int, default=0, help="FakeClaude's port (default: a free one)")
    parser.add_argument(
        "--pace", type=float, default=0.06, help="FakeClaude: seconds between streamed events (default 0.06)"
    )
    parser.add_argument("--fake", action="store_true", help="use FakeClaude even when ANTHROPIC_API_KEY is set")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("DEMO_REDIS_URL") or None,
        help="run background jobs on Celery with this Redis (default: in-process threads)",
    )
    args = parser.parse_args(argv)

    stop_requested = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    processes: list[subprocess.Popen[bytes] | subprocess.Popen[str]] = []
    try:
        if not _port_free(args.host, args.port):
            raise DemoError(f"port {args.port} on {args.host} is in use; pick another with --port")
        use_fake = args.fake or not os.environ.get("ANTHROPIC_API_KEY")
        fake_url = None
        if use_fake:
            fake, fake_url = _start_fake("127.0.0.1", args.fake_port, args.pace)
            processes.append(fake)
        env = _environment(fake_url, [CHECKOUT, HERE])
        if use_fake:
            env.pop("ANTHROPIC_API_KEY", None)
        if args.redis_url:
            why = redis_reachable(args.redis_url)
            if why is not None:
                raise DemoError(
                    f"Redis at {args.redis_url.rsplit('@', 1)[-1]} cannot be reached ({why}): start it, or leave "
                    "out --redis-url to run the long tasks in-process"
                )
            env["DEMO_REDIS_URL"] = args.redis_url
        else:
            env.pop("DEMO_REDIS_URL", None)
        _manage(env, "migrate", "--noinput")
        _manage(env, "demo_user", "--username", DEMO_USER[0], "--password", DEMO_USER[1], "--staff")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "demo_site.asgi:application",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--app-dir",
                str(HERE),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "3",
            ],
            env=env,
            cwd=str(HERE),
        )
        processes.append(server)
        if args.redis_url:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "demo_site.celery",
                    "--quiet",
                    "worker",
                    "--pool",
                    "threads",
                    "--queues",
                    "claude_web_demo",
                    "--concurrency",
                    "4",
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env=env,
                cwd=str(HERE),
            )
            processes.append(worker)
        _wait_for_port(args.host, args.port, server, timeout=30)
        url = f"http://{args.host}:{args.port}/"
        which = (
            f"FakeClaude at {fake_url} (offline; set ANTHROPIC_API_KEY to use the real API)"
            if use_fake
            else "the real Anthropic API (ANTHROPIC_API_KEY is set)"
        )
        jobs = f"Celery worker + Redis relay at {args.redis_url}" if args.redis_url else "in-process threads"
        print(
            f"\nclaude-web demo running at {url}\n"
            f"  log in as: {DEMO_USER[0]} / {DEMO_USER[1]}\n"
            f"  Claude:    {which}\n"
            f"  Jobs:      {jobs}\n"
            f"  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stop_requested:
            for process in processes:
                if process.poll() is not None:
                    raise DemoError(f"{' '.join(map(str, process.args[:3]))} exited with status {process.returncode}")
            time.sleep(0.3)
        print("claude-web demo: stopping…", flush=True)
        return 0
    except DemoError as exc:
        print(f"claude-web demo: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop(processes)


if __name__ == "__main__":
    raise SystemExit(main())
