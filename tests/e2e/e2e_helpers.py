"""Helpers of the browser end-to-end tests: start and stop the demo (``example_project/run_demo.py``: FakeClaude,
the Django site under uvicorn, optionally a Celery worker) on free ports, log in, sample text, take screenshots.

Without ``/usr/bin/chromium`` (or the ``playwright`` package) the tests skip locally and fail when
``CLAUDE_WEB_REQUIRE_SERVICES=1``, like the Redis and PostgreSQL tests (see ``tests/conftest.py``).
Screenshots go to ``artifacts/e2e/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from claude_web.testing import FakeClaude, RemoteFakeClaude

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_project"
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("CLAUDE_WEB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_USER = ("demo", "demo-pass-123")
READY = re.compile(r"claude-web demo running at (http://\S+)")
FAKE = re.compile(r"FakeClaude at (http://\S+)")
START_TIMEOUT = 60.0


def _missing(message: str) -> None:
    if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (CLAUDE_WEB_REQUIRE_SERVICES=1: missing services are failures)")
    pytest.skip(f"{message}; install Debian's chromium (apt-get install chromium) to run the browser tests")


def require_browser() -> None:
    """Skip (locally) or fail (``CLAUDE_WEB_REQUIRE_SERVICES=1``) when Chromium or Playwright is missing."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoServer:
    """The running demo: its URL, FakeClaude's URL and control client, and the process's output."""

    base_url: str
    fake_url: str
    fake: RemoteFakeClaude
    process: subprocess.Popen[str]
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` against the demo's database (e.g. to add a user)."""
        result = subprocess.run(
            [sys.executable, str(EXAMPLE / "manage.py"), *args],
            env=self.env,
            cwd=str(EXAMPLE),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def _pump(stream: Any, sink: list[str], ready: threading.Event, pattern: re.Pattern[str]) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        if pattern.search(line):
            ready.set()
    ready.set()  # EOF: the process ended (the caller reports it)


def start_process(
    command: list[str], env: dict[str, str], ready: re.Pattern[str], timeout: float = START_TIMEOUT
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``command`` in its own session and wait until a line of its output matches ``ready``."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=str(ROOT),
        start_new_session=True,
    )
    output: list[str] = []
    seen = threading.Event()
    threading.Thread(target=_pump, args=(process.stdout, output, seen, ready), daemon=True).start()
    if not seen.wait(timeout) or process.poll() is not None:
        stop_process(process)
        pytest.fail(f"{command[1]} did not start:\n" + "\n".join(output[-40:]))
    return process, output


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGTERM (run_demo.py then stops FakeClaude, uvicorn and the worker itself); SIGKILL the group if stuck."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the group is this process and its children
            process.wait(5)


@contextlib.contextmanager
def running_demo(workdir: Path, *extra_args: str) -> Iterator[DemoServer]:
    """``run_demo.py`` on free ports with its database in ``workdir``; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "DEMO_REDIS_URL")}
    env["DEMO_DATABASE"] = str(workdir / "db.sqlite3")
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        str(EXAMPLE / "run_demo.py"),
        "--port",
        str(free_port()),
        "--fake-port",
        str(free_port()),
        "--pace",
        "0.05",
        *extra_args,
    ]
    process, output = start_process(command, env, READY)
    try:
        text = "\n".join(output)
        base, fake = READY.search(text), FAKE.search(text)
        assert base and fake, text
        manage_env = dict(env, DJANGO_SETTINGS_MODULE="demo_site.settings", CLAUDE_WEB_FAKE_URL=fake.group(1))
        with FakeClaude.connect(fake.group(1)) as control:
            yield DemoServer(base.group(1), fake.group(1), control, process, manage_env, output)
    finally:
        stop_process(process)


def log_in(
    page: Any, server: DemoServer, username: str = DEMO_USER[0], password: str = DEMO_USER[1], path: str = "/chat/"
) -> None:
    page.goto(server.url(path))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-button")
    page.wait_for_url(re.compile(re.escape(path.split("?")[0])))


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as ``artifacts/e2e/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sample_lengths(
    page: Any, selector_js: str, done_js: str, *, timeout: float = 20.0, interval: float = 0.02
) -> list[int]:
    """Text lengths returned by ``selector_js`` sampled every ``interval`` s until ``done_js`` is true."""
    lengths: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lengths.append(int(page.evaluate(selector_js)))
        if page.evaluate(done_js):
            lengths.append(int(page.evaluate(selector_js)))
            return lengths
        time.sleep(interval)
    raise AssertionError(f"not finished within {timeout} s; lengths seen: {lengths[-10:]}")
