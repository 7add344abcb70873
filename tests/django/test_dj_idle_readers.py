"""Idle job readers do not hold up an active one on Django's ASGI jobs endpoint (uvicorn, a live socket), with the
Redis relay and the memory relay: the readers wait on the event loop, not in the loop's thread pool (which has a
handful of threads; 40 idle readers used to take them all and stall every other reader)."""

from __future__ import annotations

import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_dj_live import UvicornThread, logged_in

from claude_web.jobs import JobService
from claude_web.relay import Relay
from claude_web_django import jobs

pytestmark = pytest.mark.django_db(transaction=True)

IDLE = 40
PACING = 0.05
EVENTS = 20


@pytest.fixture(scope="module")
def asgi() -> Iterator[UvicornThread]:
    with UvicornThread() as server:
        yield server


@pytest.fixture
def service(claude_web_settings: Any, settings: Any, relay: Relay, no_executor: Any) -> Iterator[JobService]:
    from cw_testproject.urls import urlpatterns
    from django.urls import include, path

    module = types.ModuleType("cwdj_idle_urls")
    module.urlpatterns = [*urlpatterns, path("jobs/", include("claude_web_django.jobs"))]  # type: ignore[attr-defined]
    sys.modules["cwdj_idle_urls"] = module
    settings.ROOT_URLCONF = "cwdj_idle_urls"
    made = JobService(relay, no_executor, heartbeat=2.0)
    jobs.set_job_service(made)
    yield made
    jobs.set_job_service(None)


def _idle_reader(http: httpx.Client, url: str, answered: threading.Event, stop: threading.Event) -> None:
    try:
        with http.stream("GET", url, timeout=30) as response:
            answered.set()
            for _ in response.iter_raw():
                if stop.is_set():
                    return
    except httpx.HTTPError:
        pass  # closed by the test's end
    finally:
        answered.set()


def test_idle_readers_do_not_stall_an_active_one(
    asgi: UvicornThread, service: JobService, relay: Relay, user: Any, fake_claude: Any
) -> None:
    owner = {"owner": f"user:{user.pk}", "kind": "stream", "alias": "default"}
    idle = [uuid.uuid4().hex for _ in range(IDLE)]
    for job in idle:
        relay.create_job(job, owner)
    active = uuid.uuid4().hex
    relay.create_job(active, owner)
    relay.transition(active, ("queued",), "running")
    stop = threading.Event()
    with (
        logged_in(asgi.url, user) as browser,
        httpx.Client(base_url=asgi.url, cookies=browser.cookies, limits=httpx.Limits(max_connections=None)) as http,
    ):
        answered = [threading.Event() for _ in idle]
        readers = [
            threading.Thread(target=_idle_reader, args=(http, f"/jobs/{job}/events/", ev, stop), daemon=True)
            for job, ev in zip(idle, answered, strict=True)
        ]
        for reader in readers:
            reader.start()
        assert all(ev.wait(20) for ev in answered)
        time.sleep(0.5)  # every idle reader is waiting for its job now

        arrivals: list[float] = []

        def publish() -> None:
            for n in range(EVENTS):
                time.sleep(PACING)
                relay.publish(active, "text", {"text": str(n)})
            relay.finish(active, "done", {"stop_reason": "end_turn"})

        with http.stream("GET", f"/jobs/{active}/events/", timeout=30) as response:
            assert response.status_code == 200
            publisher = threading.Thread(target=publish)
            started = time.monotonic()
            publisher.start()
            for line in response.iter_lines():
                if line.startswith("event: "):
                    arrivals.append(time.monotonic())
                    if line == "event: done":
                        break
                if time.monotonic() - started > 20:
                    break
            publisher.join()
        stop.set()
    gaps = [b - a for a, b in zip([started, *arrivals], arrivals, strict=False)]
    assert len(arrivals) == EVENTS + 1, f"{len(arrivals)} events in {time.monotonic() - started:.1f} s"
    assert max(gaps) < 0.5, [round(g, 3) for g in gaps]
