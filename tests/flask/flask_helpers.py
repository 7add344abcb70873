"""Helpers for the Flask tests: a real WSGI server in a thread, recorded usage, an SSE parser."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from claude_web.usage import UsageRecord
from claude_web_flask import ClaudeWeb


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1 (a free port) serving ``app`` until ``stop``."""

    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="flask-live-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@dataclass
class Recorded:
    """Usage records an app emitted through the ``usage_recorded`` signal."""

    records: list[UsageRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sender: Any, record: UsageRecord, **_: Any) -> None:
        with self._lock:
            self.records.append(record)

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[UsageRecord]:
        """Wait until at least ``count`` records arrived, then a little longer to catch extra ones."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.records) < count:
            time.sleep(0.01)
        time.sleep(0.1)
        return list(self.records)


@dataclass
class AppUnderTest:
    app: Flask
    claude: ClaudeWeb
    usage: Recorded


def parse_sse(raw: str) -> list[dict[str, Any]]:
    """SSE text to ``[{"event", "data", "id"}]`` (comments as ``{"comment": text}``)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in raw.replace("\r\n", "\n").split("\n"):
        if not line:
            if current:
                if "data" in current:
                    current["data"] = json.loads(current["data"])
                events.append(current)
                current = {}
            continue
        if line.startswith(":"):
            events.append({"comment": line[1:].strip()})
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            current["data"] = current["data"] + "\n" + value if "data" in current else value
        else:
            current[name] = value
    return events


def chat_body(text: str = "Hi", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def post_stream(
    url: str, body: Any, *, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[httpx.Response, list[tuple[float, str]]]:
    """POST and read the body as it arrives: (response, [(arrival time, chunk text)])."""
    chunks: list[tuple[float, str]] = []
    with httpx.Client(timeout=timeout) as client, client.stream("POST", url, json=body, headers=headers) as resp:
        for chunk in resp.iter_text():
            chunks.append((time.monotonic(), chunk))
    return resp, chunks
