"""Run ``read_stream.mjs`` (the real ``ai`` client under Node) against a URL and return what it assembled.

    reading = read_stream("http://127.0.0.1:8000/api/chat", text="Hi", extra={"model": "claude-haiku-4-5"})
    assert reading.protocol_errors == [], reading.protocol_errors
    parts = reading.message["parts"]

The pinned packages are installed on first use (``install.sh``: ``npm ci`` when ``node_modules`` is missing or the
lockfile changed). Without ``node`` >= 20 or ``npm`` the calling test skips locally and fails under
``CLAUDE_WEB_REQUIRE_SERVICES=1`` (set by ``.ci/run``), the policy of ``tests/conftest.py`` for missing services.
Tests outside ``tests/aisdk`` import this module after ``sys.path.insert(0, str(AISDK_DIR))``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AISDK_DIR = Path(__file__).resolve().parent
SCRIPT = AISDK_DIR / "read_stream.mjs"
MIN_NODE = 20

_install_lock = threading.Lock()
_ready: list[str] = []  # the node executable, once checked and installed


def _missing(message: str) -> None:
    if os.environ.get("CLAUDE_WEB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (CLAUDE_WEB_REQUIRE_SERVICES=1: missing services are failures)")
    pytest.skip(f"{message}; install Node.js >= {MIN_NODE} with npm, or run `make test` through .ci/run")


def require_node() -> str:
    """The ``node`` executable, with the harness's packages installed; skips or fails the test without them."""
    if _ready:
        return _ready[0]
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node and npm are needed for the AI SDK conformance tests")
    assert node is not None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < MIN_NODE:
        _missing(f"node {version or '(unknown version)'} is too old for the AI SDK conformance tests")
    with _install_lock:
        done = subprocess.run(
            ["bash", str(AISDK_DIR / "install.sh")], capture_output=True, text=True, check=False, timeout=600
        )
    if done.returncode != 0:
        pytest.fail(f"installing the AI SDK harness packages failed:\n{done.stdout}\n{done.stderr}")
    _ready.append(node)
    return node


@dataclass
class StreamReading:
    """What ``read_stream.mjs`` printed, plus its exit code and stderr."""

    returncode: int
    result: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""

    @property
    def status(self) -> int | None:
        """The HTTP status of the response (``None`` if there was none)."""
        status = self.result.get("status")
        return None if status is None else int(status)

    @property
    def headers(self) -> dict[str, str]:
        """The response headers, names lower-cased."""
        return dict(self.result.get("headers", {}))

    @property
    def message(self) -> dict[str, Any] | None:
        """The UIMessage the client assembled (``None`` if it never got one)."""
        return self.result.get("message")

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return list(self.result.get("chunks", []))

    @property
    def chunk_types(self) -> list[str]:
        return [chunk["type"] for chunk in self.chunks]

    @property
    def errors(self) -> list[str]:
        """The ``errorText`` of each ``error`` chunk."""
        return list(self.result.get("errors", []))

    @property
    def stop(self) -> dict[str, Any] | None:
        """``{"status", "sentAt", "answeredAt"}`` of the Stop request (``stop_url``), or ``None``."""
        stop = self.result.get("stop")
        return dict(stop) if stop else None

    @property
    def protocol_errors(self) -> list[str]:
        return list(self.result.get("protocolErrors", []))


def read_stream(
    url: str,
    *,
    text: str | None = None,
    chat_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    body: Any = None,
    method: str = "POST",
    resume: bool = False,
    headers: Mapping[str, str] | None = None,
    cookie: str | None = None,
    abort_after: int | None = None,
    stop_url: str | None = None,
    stop_after: int | None = None,
    timeout: float = 60.0,
) -> StreamReading:
    """Run the reader; the arguments are its command-line options (see ``read_stream.mjs``).

    Raises ``AssertionError`` with the reader's stderr when it could not run at all (exit code 1).
    """
    node = require_node()
    args = [node, str(SCRIPT), url, "--method", "GET" if resume else method]
    if text is not None:
        args += ["--text", text]
    if chat_id is not None:
        args += ["--chat-id", chat_id]
    if extra is not None:
        args += ["--extra", json.dumps(extra)]
    if body is not None:
        args += ["--body", json.dumps(body)]
    for name, value in (headers or {}).items():
        args += ["--header", f"{name}: {value}"]
    if cookie is not None:
        args += ["--cookie", cookie]
    if abort_after is not None:
        args += ["--abort-after", str(abort_after)]
    if stop_url is not None:
        args += ["--stop-url", stop_url, "--stop-after", str(stop_after)]
    args += ["--timeout-ms", str(int(timeout * 1000))]
    done = subprocess.run(args, capture_output=True, text=True, cwd=AISDK_DIR, timeout=timeout + 30, check=False)
    if done.returncode not in (0, 2) or not done.stdout.strip():
        raise AssertionError(f"read_stream.mjs failed (exit {done.returncode}):\n{done.stderr}")
    return StreamReading(done.returncode, json.loads(done.stdout), done.stderr)
