"""Real WSGI servers in subprocesses serving ``wsgi_apps`` (gunicorn ``gthread``, werkzeug, Django's
``runserver``), with the usage rows they write."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from claude_web.testing import FakeClaude

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS: dict[str, Callable[[int], list[str]]] = {
    "gunicorn-gthread-flask": lambda port: [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "4", "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi_apps:flask_app()",
    ],
    "gunicorn-gthread-django": lambda port: [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "4", "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi_apps:django_app()",
    ],
    "werkzeug-flask": lambda port: [
        sys.executable, "-c",
        f"import wsgi_apps; wsgi_apps.flask_app().run(host='127.0.0.1', port={port}, threaded=True)",
    ],
    "runserver-django": lambda port: [
        sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}",
    ],
}  # fmt: skip


class Server:
    """One server (a key of :data:`SERVERS`) for ``fake``; ``settings`` adds ``CW_*`` settings of ``wsgi_apps``."""

    def __init__(self, name: str, fake: FakeClaude, tmp: Path, heartbeat: float = 0.5, **settings: str) -> None:
        self.name = name
        self.django = name.endswith("django")
        self.usage = tmp / ("usage.sqlite3" if self.django else "usage.jsonl")
        self.port = _free_port()
        self.path = "/claude/chat/" if self.django else "/claude/chat"
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")]),
                "CW_FAKE_URL": fake.base_url,
                "CW_HEARTBEAT": str(heartbeat),
                "CW_USAGE": str(self.usage),
                "DJANGO_SETTINGS_MODULE": "wsgi_apps",
                **settings,
            }
        )
        env.pop("ANTHROPIC_API_KEY", None)
        if self.django:
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=HERE, env=env, check=True, timeout=120
            )
        self.log = open(tmp / f"{name}.log", "wb")
        self.proc = subprocess.Popen(
            SERVERS[name](self.port), cwd=HERE, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} did not start:\n{(tmp / f'{name}.log').read_text()}") from None
                time.sleep(0.1)

    def statuses(self) -> list[str]:
        if self.django:
            with sqlite3.connect(self.usage) as db:
                return [row[0] for row in db.execute("select status from claude_web_tokenusage order by id")]
        if not self.usage.exists():
            return []
        return [json.loads(line)["status"] for line in self.usage.read_text().splitlines() if line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()
