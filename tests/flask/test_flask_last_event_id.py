"""``Last-Event-ID`` on the Flask jobs blueprint over a live werkzeug server, with both relays (the same rules as
the Django endpoint: tests/django/test_dj_last_event_id.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask_helpers import LiveServer

from claude_web.jobs import JobService
from claude_web.relay import Relay
from claude_web_flask.jobs import create_jobs_blueprint

OWNER = "user:flask-reader"
MAX_ID_PART = 2**64 - 1


@pytest.fixture
def server(relay: Relay, serve: Callable[[Flask], LiveServer], no_executor: Any) -> Iterator[LiveServer]:
    service = JobService(relay, no_executor, heartbeat=10.0)
    app = Flask("last_event_id")
    app.register_blueprint(create_jobs_blueprint(service=service, owner=lambda: OWNER), url_prefix="/jobs")
    yield serve(app)


def _job(relay: Relay, texts: int, *, finished: bool) -> tuple[str, list[str]]:
    job_id = uuid.uuid4().hex
    relay.create_job(job_id, {"owner": OWNER, "kind": "stream", "alias": "default"})
    relay.transition(job_id, ("queued",), "running")
    ids = [relay.publish(job_id, "text", {"text": f"t{i}"}) for i in range(texts)]
    if finished:
        ids.append(str(relay.finish(job_id, "done", {"stop_reason": "end_turn"})))
    return job_id, ids


def _names(url: str, last: str) -> tuple[float, list[str]]:
    started = time.monotonic()
    response = httpx.get(url, headers={"Last-Event-ID": last}, timeout=5.0)
    assert response.status_code == 200, response.text
    names = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
    return time.monotonic() - started, names


def test_flask_last_event_id_rules(server: LiveServer, relay: Relay) -> None:
    running, published = _job(relay, 2, finished=False)
    for bad in ("99999999999999999999-0", "0-99999999999999999999", "１-０", "1", "$"):
        response = httpx.get(f"{server.url}/jobs/{running}/events/", params={"last_event_id": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["field"] == "Last-Event-ID"
    ms, seq = published[-1].split("-")
    for beyond in (f"{ms}-{int(seq) + 1}", f"{int(ms) + 1}-0"):
        response = httpx.get(f"{server.url}/jobs/{running}/events/", headers={"Last-Event-ID": beyond}, timeout=5)
        assert response.status_code == 400, beyond
        assert "beyond" in response.json()["error"]["message"]

    finished, ids = _job(relay, 3, finished=True)
    ms, seq = ids[-1].split("-")
    for last in (ids[-1], f"{ms}-{int(seq) + 5}", f"{int(ms) + 1}-0", f"{MAX_ID_PART}-{MAX_ID_PART}"):
        took, names = _names(f"{server.url}/jobs/{finished}/events/", last)
        assert names == ["done"], last
        assert took < 2.0, last
    _, names = _names(f"{server.url}/jobs/{finished}/events/", ids[0])
    assert names == ["text", "text", "done"]
