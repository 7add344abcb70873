"""Live servers for the overshoot tests: FakeClaude in its own process, a fresh PostgreSQL database, and four web
processes of one app (Django under uvicorn, or Flask under werkzeug's threaded WSGI server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake(event_delay: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_web.testing", "--port", "0", "--event-delay", str(event_delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("FakeClaude listening on "), line
    return proc, line.rsplit(" ", 1)[1]


class Database:
    """A PostgreSQL database made for one test and dropped after it."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.admin = dsn
        self.name = f"cwbudget_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(dsn)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", "", ""))
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.name}")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            return list(conn.execute(sql).fetchall())

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class WebProcesses:
    """``count`` processes of the ``django`` or ``flask`` app on free ports."""

    def __init__(self, framework: str, env: dict[str, str], count: int = 4) -> None:
        self.framework = framework
        self.env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        self._prepare()
        for _ in range(count):
            port = free_port()
            self.procs.append(subprocess.Popen(self._command(port), cwd=HERE, env=self.env, start_new_session=True))
            self.urls.append(f"http://127.0.0.1:{port}")
        for url in self.urls:
            self._wait(url)

    def _prepare(self) -> None:
        if self.framework == "django":
            command = [sys.executable, "-m", "django", "migrate", "-v", "0", "--settings", "budget_apps.dj_settings"]
        else:
            command = [sys.executable, "-m", "budget_apps.flask_app", "init"]
        subprocess.run(command, cwd=HERE, env=self.env, check=True, timeout=180)

    def _command(self, port: int) -> list[str]:
        if self.framework == "django":
            return [
                sys.executable, "-m", "uvicorn", "budget_apps.dj_asgi:application", "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        return [sys.executable, "-m", "budget_apps.flask_app", str(port)]

    def chat_path(self, n: int) -> str:
        if self.framework == "django":
            return "/claude/achat/" if n % 2 else "/claude/chat/"  # the async and the sync view
        return "/claude/chat"

    @staticmethod
    def _wait(url: str) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/nothing-here", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def kill(self, index: int) -> None:
        """``kill -9`` one web process."""
        proc = self.procs[index]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@dataclass
class Call:
    server: int
    status: int = 0
    events: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    started: float = 0.0
    first_byte: float = 0.0
    ended: float = 0.0
    broken: bool = False
    message: str = ""

    @property
    def admitted(self) -> bool:
        return self.status == 200

    @property
    def done(self) -> bool:
        return bool(self.events) and self.events[-1] == "done"


async def _one(client: httpx.AsyncClient, web: WebProcesses, n: int, body: dict[str, Any], call: Call) -> Call:
    call.started = time.monotonic()
    try:
        async with client.stream("POST", web.urls[call.server] + web.chat_path(n), json=body) as response:
            call.status = response.status_code
            call.first_byte = time.monotonic()
            if response.status_code != 200:
                payload = json.loads(await response.aread())
                call.message = payload["error"]["message"]
                return call
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    call.events.append(line[7:])
                elif line.startswith("data: ") and call.events and call.events[-1] == "done":
                    call.stop_reason = json.loads(line[6:]).get("stop_reason")
    except httpx.HTTPError:
        call.broken = True  # the web process was killed mid-answer
    finally:
        call.ended = time.monotonic()
    return call


@dataclass
class Kill:
    victim: int = -1
    at: float = 0.0


async def _many(web: WebProcesses, body: dict[str, Any], count: int, kill: int | None) -> tuple[list[Call], Kill]:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    calls = [Call(server=n % len(web.urls)) for n in range(count)]
    killed = Kill()
    async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=30), limits=limits) as client:
        tasks = [asyncio.create_task(_one(client, web, n, body, calls[n])) for n in range(count)]
        if kill is not None:
            deadline = time.monotonic() + 60
            while sum(1 for c in calls if c.admitted) < kill and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            streaming = [
                sum(1 for c in calls if c.server == s and c.admitted and not c.done) for s in range(len(web.urls))
            ]
            killed.victim = streaming.index(max(streaming))  # the process with the most answers in flight
            web.kill(killed.victim)
            killed.at = time.monotonic()
        await asyncio.gather(*tasks)
    return calls, killed


def fire(web: WebProcesses, body: dict[str, Any], count: int) -> list[Call]:
    """``count`` concurrent streamed chat calls spread over the processes."""
    return asyncio.run(_many(web, body, count, None))[0]


def fire_and_kill(web: WebProcesses, body: dict[str, Any], count: int, *, in_flight: int) -> tuple[list[Call], Kill]:
    """As :func:`fire`, with a ``kill -9`` of the process with the most answers in flight once ``in_flight``
    answers have started streaming (which one, and when: ``time.monotonic()``)."""
    return asyncio.run(_many(web, body, count, in_flight))


def most_at_once(calls: list[Call]) -> int:
    """The most admitted calls whose streams were open at the same moment."""
    marks = sorted([(c.first_byte, 1) for c in calls if c.admitted] + [(c.ended, -1) for c in calls if c.admitted])
    best = current = 0
    for _, step in marks:
        current += step
        best = max(best, current)
    return best
