"""Two Flask web processes on one Redis: a browser that loses its connection to one resumes on the other."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cw_helpers import HERE, PARAMS, Workers, parse_sse

from claude_web.testing import text

pytestmark = pytest.mark.needs_redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def web(workers: Workers) -> Iterator[list[str]]:
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = _free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "cw_web_app.py", str(port)],
                    cwd=str(HERE),
                    env=workers.env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"{url}/ai/jobs/xxxxxxxxxxxxxxxxxxxxxxxx/", headers={"X-User": "probe"}, timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


def _read_sse(url: str, user: str, last_event_id: str | None = None, stop_after: int | None = None) -> list[Any]:
    headers = {"X-User": user, "Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    out: list[Any] = []
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        buffer = ""
        for chunk in response.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                out += parse_sse([block + "\n\n"])
                if stop_after is not None and len(out) >= stop_after:
                    return out  # closing the response drops the connection, as a browser would
                if out and out[-1][1] in ("done", "error", "cancelled"):
                    return out
    return out


def test_reconnecting_to_the_other_web_process_resumes_exactly(web: list[str], fake: Any) -> None:
    fake.clear()
    answer = " ".join(f"part{i}" for i in range(30))
    fake.queue(text(answer, chunks=30, event_delay=0.03))
    first, second = web
    started = httpx.post(
        f"{first}/ai/jobs/", json={"kind": "stream", "params": PARAMS}, headers={"X-User": "alice"}, timeout=10
    )
    assert started.status_code == 202
    events_path = started.json()["events_url"]
    head = _read_sse(first + events_path, "alice", stop_after=6)
    tail = _read_sse(second + events_path, "alice", last_event_id=head[-1][0])
    assert tail[-1][1] == "done"
    whole = _read_sse(second + events_path, "alice")
    assert [e[0] for e in head + tail] == [e[0] for e in whole]
    assert "".join(e[2]["text"] for e in head + tail if e[1] == "text") == answer
    for url in web:
        for path in (events_path, started.json()["status_url"]):
            assert httpx.get(url + path, headers={"X-User": "mallory"}, timeout=10).status_code == 404
        assert (
            httpx.post(url + started.json()["cancel_url"], headers={"X-User": "mallory"}, timeout=10).status_code == 404
        )
    status = httpx.get(second + started.json()["status_url"], headers={"X-User": "alice"}, timeout=10).json()
    assert status["state"] == "done"
