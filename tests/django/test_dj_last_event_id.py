"""``Last-Event-ID`` on the jobs events endpoint, over live servers (Django's WSGI server and uvicorn), with the
Redis relay and with the memory relay.

Every malformed id (out of the Redis stream id range, non-ASCII digits) is a 400 naming the header before any
stream starts; the memory relay compares ids as Redis does (milliseconds first); an id at or beyond the end of a
finished job ends the stream at once with the job's final event; an id beyond what a running job has published is
a 400.
"""

from __future__ import annotations

import sys
import time
import types
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_dj_live import UvicornThread, logged_in, read_events

from claude_web.jobs import JobService
from claude_web.relay import Relay
from claude_web_django import jobs

pytestmark = pytest.mark.django_db(transaction=True)

MAX_ID_PART = 2**64 - 1  # the largest part of a Redis stream id
HEARTBEAT = 10.0  # long, so that a stream held open shows up as a read timeout below
BAD_IDS = [
    "99999999999999999999-0",  # 20 digits, above 2**64 - 1
    f"0-{MAX_ID_PART + 1}",
    "0-99999999999999999999",
    "１-０",  # fullwidth digits: \d would take them
    "١٢-٣",  # Arabic-Indic digits
    "12",
    "-1-0",
    "1-2-3",
    "$",
]


@pytest.fixture(scope="module")
def asgi() -> Iterator[UvicornThread]:
    with UvicornThread() as server:
        yield server


@pytest.fixture(params=["wsgi", "asgi"])
def base_url(request: pytest.FixtureRequest) -> str:
    if request.param == "wsgi":
        return str(request.getfixturevalue("live_server").url)
    return request.getfixturevalue("asgi").url


@pytest.fixture
def service(claude_web_settings: Any, settings: Any, relay: Relay, no_executor: Any) -> Iterator[JobService]:
    from cw_testproject.urls import urlpatterns
    from django.urls import include, path

    module = types.ModuleType("cwdj_lastid_urls")
    module.urlpatterns = [*urlpatterns, path("jobs/", include("claude_web_django.jobs"))]  # type: ignore[attr-defined]
    sys.modules["cwdj_lastid_urls"] = module
    settings.ROOT_URLCONF = "cwdj_lastid_urls"
    made = JobService(relay, no_executor, heartbeat=HEARTBEAT)
    jobs.set_job_service(made)
    yield made
    jobs.set_job_service(None)


def _job(relay: Relay, owner: str, texts: int, *, finished: bool) -> tuple[str, list[str]]:
    job_id = uuid.uuid4().hex
    relay.create_job(job_id, {"owner": owner, "kind": "stream", "alias": "default"})
    relay.transition(job_id, ("queued",), "running")
    ids = [relay.publish(job_id, "text", {"text": f"t{i}"}) for i in range(texts)]
    if finished:
        final = relay.finish(job_id, "done", {"stop_reason": "end_turn"})
        assert final is not None
        ids.append(final)
    return job_id, ids


def _after(event_id: str, steps: int = 1) -> str:
    ms, seq = event_id.split("-")
    return f"{ms}-{int(seq) + steps}"


def _events(http: httpx.Client, job_id: str, last: str | None) -> tuple[float, list[tuple[str, Any]]]:
    headers = {"Last-Event-ID": last} if last is not None else {}
    started = time.monotonic()
    with http.stream("GET", f"/jobs/{job_id}/events/", headers=headers, timeout=5.0) as response:
        assert response.status_code == 200, response.read()
        events = [(name, data) for _, name, data in read_events(response) if name != "comment"]
    return time.monotonic() - started, events


def test_malformed_ids_are_refused_before_the_stream(
    base_url: str, service: JobService, relay: Relay, user: Any, fake_claude: Any
) -> None:
    job_id, _ = _job(relay, f"user:{user.pk}", 2, finished=False)
    with logged_in(base_url, user) as http:
        for bad in BAD_IDS:
            response = http.get(f"/jobs/{job_id}/events/", headers={"Last-Event-ID": bad.encode()})
            assert response.status_code == 400, (bad, response.text)
            error = response.json()["error"]
            assert error["type"] == "invalid_request" and error["field"] == "Last-Event-ID", bad
            via_query = http.get(f"/jobs/{job_id}/events/", params={"last_event_id": bad})
            assert via_query.status_code == 400, bad
    assert relay.get_job(job_id) is not None  # still there, still readable


def test_finished_job_ends_at_once_with_its_final_event(
    base_url: str, service: JobService, relay: Relay, user: Any, fake_claude: Any
) -> None:
    job_id, ids = _job(relay, f"user:{user.pk}", 3, finished=True)
    with logged_in(base_url, user) as http:
        took, everything = _events(http, job_id, None)
        assert [name for name, _ in everything] == ["text", "text", "text", "done"]
        assert took < 2.0
        took, resumed = _events(http, job_id, ids[0])
        assert [data.get("text") for _, data in resumed] == ["t1", "t2", None]
        for last in (ids[-1], _after(ids[-1]), f"{MAX_ID_PART}-{MAX_ID_PART}", f"{int(ids[-1].split('-')[0]) + 1}-0"):
            took, events = _events(http, job_id, last)
            assert events == [("done", {"stop_reason": "end_turn"})], last
            assert took < 2.0, (last, took)  # not held open until the job's keys expire


def test_memory_relay_compares_the_milliseconds_too(
    base_url: str, service: JobService, relay: Relay, user: Any, fake_claude: Any
) -> None:
    """``1-0`` comes after every ``0-n`` id, as in Redis: the memory relay must not read it as ``0-0``."""
    job_id, ids = _job(relay, f"user:{user.pk}", 3, finished=True)
    later = f"{int(ids[-1].split('-')[0]) + 1}-0"
    with logged_in(base_url, user) as http:
        _, events = _events(http, job_id, later)
    assert [name for name, _ in events] == ["done"]


def test_running_job_refuses_an_id_beyond_what_was_published(
    base_url: str, service: JobService, relay: Relay, user: Any, fake_claude: Any
) -> None:
    job_id, ids = _job(relay, f"user:{user.pk}", 2, finished=False)
    with logged_in(base_url, user) as http:
        for beyond in (_after(ids[-1]), f"{int(ids[-1].split('-')[0]) + 1}-0", f"{MAX_ID_PART}-0"):
            response = http.get(f"/jobs/{job_id}/events/", headers={"Last-Event-ID": beyond}, timeout=5.0)
            assert response.status_code == 400, (beyond, response.text)
            assert response.json()["error"]["field"] == "Last-Event-ID"
        queued = uuid.uuid4().hex
        relay.create_job(queued, {"owner": f"user:{user.pk}", "kind": "stream", "alias": "default"})
        assert http.get(f"/jobs/{queued}/events/", headers={"Last-Event-ID": "0-1"}).status_code == 400
        # the last id it did publish is fine: the stream waits for what comes next
        with http.stream("GET", f"/jobs/{job_id}/events/", headers={"Last-Event-ID": ids[-1]}) as response:
            assert response.status_code == 200
            relay.publish(job_id, "text", {"text": "later"})
            relay.finish(job_id, "done", {"stop_reason": "end_turn"})
            events = [(name, data) for _, name, data in read_events(response) if name != "comment"]
    assert events == [("text", {"text": "later"}), ("done", {"stop_reason": "end_turn"})]
