"""The Django views and the Flask blueprint for jobs: status codes, SSE, ownership (IDOR -> 404)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import django
import pytest
from cw_helpers import PARAMS, TEST_KEY, parse_sse
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.urls import resolve

from claude_web import Anthropic
from claude_web.jobs import JobsConfig, JobService
from claude_web.testing import text
from claude_web_django import jobs as django_jobs


@pytest.fixture
def service(clean_fake: Any) -> Iterator[JobService]:
    def factory(alias: str) -> Anthropic:
        if alias != "default":
            raise KeyError(alias)
        return Anthropic(api_key=TEST_KEY, base_url=clean_fake.base_url)

    config = JobsConfig(client_factory=factory)
    svc = JobService.from_config(config)
    yield svc
    svc.close()


# -- Django ---------------------------------------------------------------------------------------------------


def _user(pk: int | None) -> Any:
    return SimpleNamespace(pk=pk, is_authenticated=pk is not None)


def _call(method: str, path: str, user: int | None, body: Any = None, **headers: str) -> Any:
    factory = RequestFactory()
    if method == "post":
        request = factory.post(path, data=json.dumps(body or {}), content_type="application/json", headers=headers)
    else:
        request = factory.get(path, headers=headers)
    request.user = _user(user)
    match = resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


@pytest.fixture(scope="module")
def django_settings() -> None:
    """Minimal settings when nothing configured Django yet (alone); otherwise the tests layer over what is there."""
    if not settings.configured:
        settings.configure(
            SECRET_KEY="jobs-tests", ROOT_URLCONF="cw_django_urls", ALLOWED_HOSTS=["*"], INSTALLED_APPS=[], USE_TZ=True
        )
        django.setup()


@pytest.fixture
def django_service(django_settings: None, service: JobService) -> Iterator[JobService]:
    with override_settings(ROOT_URLCONF="cw_django_urls"):
        django_jobs.set_job_service(service)
        yield service
        django_jobs.set_job_service(None)


def test_django_start_events_status_and_idor(django_service: JobService, clean_fake: Any) -> None:
    clean_fake.queue(text("hello from a job", chunks=4))
    started = _call("post", "/ai/jobs/", 1, {"kind": "stream", "params": PARAMS})
    assert started.status_code == 202
    data = json.loads(started.content)
    job_id = data["job_id"]
    assert data["events_url"] == f"/ai/jobs/{job_id}/events/"
    events = _call("get", data["events_url"], 1)
    assert events.status_code == 200 and events["Content-Type"].startswith("text/event-stream")
    assert events["X-Accel-Buffering"] == "no"
    parsed = parse_sse(events.streaming_content)
    assert parsed[-1][1] == "done"
    assert "".join(p[2]["text"] for p in parsed if p[1] == "text") == "hello from a job"
    resumed = parse_sse(_call("get", data["events_url"], 1, **{"Last-Event-ID": parsed[1][0]}).streaming_content)
    assert [p[0] for p in resumed] == [p[0] for p in parsed[2:]]
    assert json.loads(_call("get", data["status_url"], 1).content)["state"] == "done"
    for method, url in (("get", data["status_url"]), ("get", data["events_url"]), ("post", data["cancel_url"])):
        response = _call(method, url, 2)
        assert response.status_code == 404, (method, url)
        assert "hello" not in response.content.decode()
    assert _call("get", "/ai/jobs/not-a-real-job-id-0000/", 1).status_code == 404


def test_django_bad_requests(django_service: JobService) -> None:
    anonymous = _call("post", "/ai/jobs/", None, {"kind": "stream", "params": PARAMS})
    assert anonymous.status_code == 401  # jobs follow CHAT["LOGIN_REQUIRED"] (on by default), as chat does
    assert json.loads(anonymous.content)["error"]["type"] == "authentication_required"
    bad = _call("post", "/ai/jobs/", 1, {"kind": "stream", "params": {**PARAMS, "max_tokens": -1}})
    assert bad.status_code == 400
    assert json.loads(bad.content)["error"]["field"] == "params.max_tokens"
    unknown_alias = _call("post", "/ai/jobs/", 1, {"kind": "stream", "params": PARAMS, "alias": "x"})
    assert unknown_alias.status_code == 400 and json.loads(unknown_alias.content)["error"]["field"] == "alias"
    assert _call("post", "/ai/jobs/", 1, {"kind": "stream", "params": PARAMS, "key": "x"}).status_code == 400
    job = django_service.start("stream", PARAMS, owner="user:1")
    bad_id = _call("get", f"/ai/jobs/{job.id}/events/", 1, **{"Last-Event-ID": "garbage"})
    assert bad_id.status_code == 400
    assert _call("get", "/ai/jobs/", 1).status_code == 405


def test_django_cancel(django_service: JobService, clean_fake: Any) -> None:
    clean_fake.queue(text("x " * 100, chunks=100, event_delay=0.3))  # 30 s: the cancel lands long before the end
    data = json.loads(_call("post", "/ai/jobs/", 7, {"kind": "stream", "params": PARAMS}).content)
    cancelled = _call("post", data["cancel_url"], 7)
    assert cancelled.status_code == 202
    parsed = parse_sse(_call("get", data["events_url"], 7).streaming_content)
    assert parsed[-1][1] == "cancelled"
    assert json.loads(_call("get", data["status_url"], 7).content)["state"] == "cancelled"


# -- Flask ----------------------------------------------------------------------------------------------------


@pytest.fixture
def flask_app(service: JobService) -> Any:
    from flask import Flask

    from claude_web_flask.jobs import create_jobs_blueprint

    app = Flask(__name__)
    app.secret_key = "jobs-tests"
    app.config["CLAUDE_WEB_CHAT_LOGIN_REQUIRED"] = False  # anonymous visitors own jobs through their session
    app.register_blueprint(create_jobs_blueprint(service=service), url_prefix="/ai/jobs")
    return app


def test_flask_start_events_status_and_idor(flask_app: Any, clean_fake: Any) -> None:
    clean_fake.queue(text("flask answer", chunks=3))
    alice = flask_app.test_client()
    mallory = flask_app.test_client()  # another browser: another session, another owner
    started = alice.post("/ai/jobs/", json={"kind": "stream", "params": PARAMS})
    assert started.status_code == 202
    data = started.get_json()
    events = alice.get(data["events_url"])
    assert events.status_code == 200 and events.mimetype == "text/event-stream"
    parsed = parse_sse([events.get_data()])
    assert parsed[-1][1] == "done"
    assert "".join(p[2]["text"] for p in parsed if p[1] == "text") == "flask answer"
    resumed = parse_sse([alice.get(data["events_url"], headers={"Last-Event-ID": parsed[0][0]}).get_data()])
    assert [p[0] for p in resumed] == [p[0] for p in parsed[1:]]
    assert alice.get(data["status_url"]).get_json()["state"] == "done"
    for call, url in (
        (mallory.get, data["status_url"]),
        (mallory.get, data["events_url"]),
        (mallory.post, data["cancel_url"]),
    ):
        response = call(url)
        assert response.status_code == 404
        assert b"flask answer" not in response.get_data()


def test_flask_bad_requests(flask_app: Any) -> None:
    client = flask_app.test_client()
    assert client.post("/ai/jobs/", data="nope", content_type="application/json").status_code == 400
    response = client.post("/ai/jobs/", json={"kind": "stream", "params": PARAMS, "alias": "nope"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "alias"
    response = client.post("/ai/jobs/", json={"kind": "stream", "params": {**PARAMS, "messages": "hi"}})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "params.messages"
    assert client.get("/ai/jobs/zzzzzzzzzzzzzzzzzzzzzzzz/").status_code == 404


def test_django_events_stream_under_asgi_before_the_job_ends(django_service: JobService, clean_fake: Any) -> None:
    import asyncio
    import time

    from django.test import AsyncRequestFactory

    clean_fake.queue(text("slow " * 40, chunks=40, event_delay=0.05))
    job = django_service.start("stream", PARAMS, owner="user:5")
    request = AsyncRequestFactory().get(f"/ai/jobs/{job.id}/events/")
    request.user = _user(5)
    request.resolver_match = resolve(request.path_info)
    response = django_jobs.job_events(request, job.id)
    assert response.is_async

    async def first_text() -> float:
        started = time.monotonic()
        buffer = ""
        async for chunk in response:
            buffer += chunk.decode()
            if "event: text" in buffer:
                return time.monotonic() - started
        raise AssertionError("no text event")

    assert asyncio.run(first_text()) < 1.0  # the whole answer takes 2 s: frames are not buffered to the end
    django_service.cancel(job.id, "user:5")
