"""Helpers shared by the jobs tests (importable from test modules, unlike conftest)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TEST_KEY = "sk-ant-test-NEVER-LEAK-0123456789"
PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [{"role": "user", "content": "Hello"}]}


def cleanup_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def usage_rows(redis_url: str, prefix: str, job_id: str | None = None) -> list[dict[str, Any]]:
    """The usage records the worker's recorder pushed (``cw_worker_app.record_usage``)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        rows = [json.loads(raw) for raw in client.lrange(f"{prefix}:usage", 0, -1)]
    finally:
        client.close()
    if job_id is not None:
        rows = [r for r in rows if r["context"].get("job_id") == job_id]
    return rows


class Workers:
    """Starts ``celery worker`` processes for one prefix; ``stop()`` kills every one of them."""

    def __init__(
        self, redis_url: str, prefix: str, fake_url: str, tmp: Path, *, module: str = "cw_worker_app", **env: str
    ) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.fake_url = fake_url
        self.tmp = tmp
        self.module = module
        self.extra_env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        sys.path.insert(0, str(HERE))
        import cw_worker_app

        self.app = cw_worker_app.make_app(redis_url, prefix)
        self.config = cw_worker_app.jobs_config(redis_url, prefix)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")]),
                "CW_TEST_REDIS_URL": self.redis_url,
                "CW_TEST_PREFIX": self.prefix,
                "CLAUDE_WEB_CLIENTS": json.dumps(
                    {
                        "default": {"base_url": self.fake_url, "api_key_env": "CW_TEST_KEY"},
                        "other": {"base_url": self.fake_url, "api_key_env": "CW_TEST_KEY"},
                    }
                ),
                "CW_TEST_KEY": TEST_KEY,
                **self.extra_env,
            }
        )
        env.pop("ANTHROPIC_API_KEY", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # another test directory may have set it in this process
        return env

    def start(self, name: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"worker-{name}.log", "wb")  # closed by stop()
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            self.module,
            "worker",
            "--pool=prefork",
            "-c",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{self.prefix}@%h",
            "--loglevel=INFO",
        ]
        proc = subprocess.Popen(
            cmd, cwd=str(HERE), env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        self.wait_ready(name)
        return proc

    def wait_ready(self, name: str, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        node = f"{name}-{self.prefix}@"
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"worker {name} exited early:\n{self.log(name)}")
            replies = self.app.control.inspect(timeout=0.5).ping() or {}
            if any(key.startswith(node) for key in replies):
                return
        raise RuntimeError(f"worker {name} did not answer ping in {timeout}s:\n{self.log(name)}")

    def log(self, name: str, tail: int | None = 6000) -> str:
        text = (self.tmp / f"worker-{name}.log").read_text(errors="replace")
        return text if tail is None else text[-tail:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        self.procs.clear()
        self.app.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def parse_sse(frames: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """``(id, event, data)`` for each event of an SSE body (str or bytes chunks), comments skipped."""
    text = "".join(f.decode() if isinstance(f, bytes) else f for f in frames)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if "event" in fields:
            out.append((fields.get("id", ""), fields["event"], json.loads(fields.get("data") or "{}")))
    return out
