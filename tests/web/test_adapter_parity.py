"""Django and Flask answer alike: the same scenarios through live servers of both adapters, compared.

Three servers run in their own processes, configured with the same logical settings (Django's ``CLAUDE_WEB`` dict,
Flask's equivalent ``CLAUDE_WEB_*`` keys), pointing at one FakeClaude: Django under uvicorn (ASGI), Django under a
threaded WSGI server, Flask under the same WSGI server (``parity_server.py``). Each scenario sends identical
requests to each server, as a browser would (logged in with a password, Django's CSRF token sent), and asserts
that status, headers (all but the server's own, see ``parity_apps.IGNORED_HEADERS``), JSON bodies, SSE frames, the
request FakeClaude received and the usage rows each app stored are identical once random ids and timestamps are
replaced by placeholders. Flask is the reference every other server is compared with.

Three sets of servers: login required with jobs in threads of the web process; the same with jobs on Celery
workers and the Redis relay (one worker per server, its tasks registered through its adapter); visitors allowed
without login, with a quota.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from parity_apps import (
    Server,
    assert_same,
    browser,
    delete_keys,
    headers_that_matter,
    read_stream,
    renumber,
    scrub,
    sse_frames,
    start_servers,
    usage_tuple,
    wait_for_rows,
)
from parity_server import USERS

from claude_web.testing import error, text

KINDS = ["flask", "django-wsgi", "django-asgi"]
BODY_LIMIT = 4096
MODELS = ["claude-haiku-4-5", "claude-sonnet-4-5"]
CHAT = {"messages": [{"role": "user", "content": "Say the same thing everywhere"}], "max_tokens": 200}


def claude_web_settings(base_url: str) -> dict[str, Any]:
    """The logical settings every server gets (Django as ``CLAUDE_WEB``, Flask as ``CLAUDE_WEB_*`` keys)."""
    return {
        "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": base_url, "max_retries": 0}}},
        "CHAT": {"MODELS": MODELS, "DEFAULT_MODEL": MODELS[0], "MAX_TOKENS": 256, "LOGIN_REQUIRED": True},
        "STREAMING": {"HEARTBEAT": 30.0, "RETRY": 1500},
        "JOBS": {"HEARTBEAT": 30.0, "THREADS": 2},
    }


@pytest.fixture(scope="module")
def servers(fake_claude_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    tmp = tmp_path_factory.mktemp("parity")
    started = start_servers(KINDS, claude_web_settings(fake_claude_server.base_url), tmp, body_limit=BODY_LIMIT)
    try:
        yield started
    finally:
        for server in started:
            server.stop()


CHAT_REPLIES = {
    "answer": lambda: text("One answer, the same on every server.", chunks=4),
    "upstream overloaded": lambda: error(529),
    "broken mid-stream": lambda: text("This answer breaks off after a while.", chunks=6, error_after=3),
}


def test_chat_stream(servers: list[Server], fake_claude: Any) -> None:
    """The chat stream of a normal answer, an upstream error and an answer that breaks off: identical SSE frames,
    headers (the request id echoed), upstream request and usage row on every server and view."""
    results: dict[str, Any] = {}
    for server in servers:
        for path in server.chat_paths:
            with browser(server, "alice") as http:
                for case, reply in CHAT_REPLIES.items():
                    before = len(server.rows())
                    fake_claude.queue(reply())
                    rid = f"parity-chat-{case.replace(' ', '-')}"
                    with http.stream("POST", path, json=CHAT, headers={"X-Request-ID": rid}) as response:
                        body = read_stream(response)
                    rows = wait_for_rows(server, before + 1)[before:]
                    assert [row["context"]["path"] for row in rows] == [path]
                    results.setdefault(f"{server.kind} {path}", {})[case] = {
                        "status": response.status_code,
                        "headers": headers_that_matter(response),
                        "frames": sse_frames(body),
                        "upstream": fake_claude.requests[-1].json,
                        "rows": [usage_tuple(row, {path: "<chat path>"}) for row in rows],
                    }
    assert_same(results)
    first = results["flask /claude/chat"]
    answer = first["answer"]
    assert answer["status"] == 200
    assert answer["headers"]["content-type"].startswith("text/event-stream")
    assert answer["headers"]["x-request-id"] == "parity-chat-answer"
    names = [frame.get("event") for frame in answer["frames"]]
    assert names == [None, "start", "text", "text", "text", "text", "done"], answer["frames"]
    assert answer["frames"][-1]["data"]["cost"] == answer["rows"][0]["cost"]
    assert [f.get("event") for f in first["upstream overloaded"]["frames"]] == [None, "error"]
    assert first["broken mid-stream"]["frames"][-1]["event"] == "error"
    assert [case["rows"][0]["status"] for case in first.values()] == ["ok", "error", "error"]


def _json_answer(response: httpx.Response) -> dict[str, Any]:
    return {"status": response.status_code, "headers": headers_that_matter(response), "json": response.json()}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


OVERSIZE = json.dumps({"messages": [{"role": "user", "content": "x" * BODY_LIMIT}]}).encode()
BAD_CHAT_BODIES: dict[str, tuple[bytes, str | None]] = {
    "invalid JSON": (b'{"messages": [', "application/json"),
    "text/plain": (json.dumps(CHAT).encode(), "text/plain"),
    "form": (b"messages=hi", "application/x-www-form-urlencoded"),
    "no content type": (json.dumps(CHAT).encode(), None),
    "not an object": (b"[]", "application/json"),
    "unknown field": (json.dumps({**CHAT, "stream_options": {}}).encode(), "application/json"),
    "model not allowed": (json.dumps({**CHAT, "model": "claude-opus-4-1"}).encode(), "application/json"),
    "max_tokens over the cap": (json.dumps({**CHAT, "max_tokens": 257}).encode(), "application/json"),
    "no messages": (json.dumps({"messages": []}).encode(), "application/json"),
    "bad role": (json.dumps({"messages": [{"role": "system", "content": "x"}]}).encode(), "application/json"),
    "nested 100 deep": (json.dumps({"messages": _nested(100)}).encode(), "application/json"),
    "lone surrogate": (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', "application/json"),
    "over the size limit": (OVERSIZE, "application/json"),
}


def _post(http: httpx.Client, path: str, body: bytes, content_type: str | None) -> httpx.Response:
    headers = {"X-Request-ID": "parity-bad-1"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return http.post(path, content=body, headers=headers)


def test_bad_chat_bodies(servers: list[Server], fake_claude: Any) -> None:
    """Bodies the chat refuses get the same status and JSON error (type, field, message) everywhere."""
    results: dict[str, Any] = {}
    for server in servers:
        with browser(server, "alice") as http:
            for path in server.chat_paths:
                results[f"{server.kind} {path}"] = {
                    case: _json_answer(_post(http, path, body, ctype))
                    for case, (body, ctype) in BAD_CHAT_BODIES.items()
                }
    assert_same(results)
    first = next(iter(results.values()))
    statuses = {case: answer["status"] for case, answer in first.items()}
    assert statuses == {case: 415 if case in ("text/plain", "form", "no content type") else 400 for case in statuses}
    assert first["lone surrogate"]["json"]["error"]["field"] == "messages[0].content"
    assert first["over the size limit"]["json"]["error"]["field"] == "body"
    assert fake_claude.requests == []  # no bad body reached Claude


def test_anonymous_is_refused(servers: list[Server], fake_claude: Any) -> None:
    """Login is required (the default): every endpoint answers a visitor with the same 401 JSON."""
    chats: dict[str, Any] = {}
    results: dict[str, Any] = {}
    for server in servers:
        with browser(server) as http:
            for path in server.chat_paths:
                chats[f"{server.kind} {path}"] = _json_answer(http.post(path, json=CHAT))
            missing = f"{server.jobs_path}{'x' * 24}/"
            results[server.kind] = {
                "job start": _json_answer(http.post(server.jobs_path, json={"kind": "stream", "params": JOB})),
                "job status": _json_answer(http.get(missing)),
                "job events": _json_answer(http.get(f"{missing}events/")),
                "job cancel": _json_answer(http.post(f"{missing}cancel/")),
                "usage": _json_answer(http.get(server.usage_path)),
            }
    assert_same(chats)
    assert_same(results)
    assert {answer["status"] for answer in [*chats.values(), *results["flask"].values()]} == {401}
    assert fake_claude.requests == []


# -- jobs ----------------------------------------------------------------------------------------------------------

JOB = {"model": MODELS[0], "max_tokens": 100, "messages": [{"role": "user", "content": "A job, the same everywhere"}]}


def _start_job(http: httpx.Client, server: Server, ids: dict[str, str], params: dict[str, Any] = JOB) -> Any:
    response = http.post(server.jobs_path, json={"kind": "stream", "params": params})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    ids[job_id] = f"<job {len(ids) + 1}>"
    return response


def _events(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if "event" in frame]


def _id_key(event_id: str) -> tuple[int, int]:
    ms, seq = event_id.split("-")
    return int(ms), int(seq)


@pytest.fixture(scope="module")
def redis_servers(
    fake_claude_server: Any, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """The same servers with jobs on Celery and Redis: each registers the tasks through its adapter and runs a
    worker in a thread, on a key prefix and queue of its own."""
    settings = claude_web_settings(fake_claude_server.base_url)
    settings["JOBS"]["REDIS_URL"] = redis_url
    prefix = f"cwparity-{uuid.uuid4().hex[:10]}"
    tmp = tmp_path_factory.mktemp("redis")
    try:
        started = start_servers(KINDS, settings, tmp, body_limit=BODY_LIMIT, redis_prefix=prefix)
        try:
            yield started
        finally:
            for server in started:
                server.stop()
    finally:
        delete_keys(redis_url, prefix)


@pytest.fixture(params=["in-process", "redis"])
def job_servers(request: pytest.FixtureRequest) -> list[Server]:
    """Jobs in threads of the web process (no Redis URL), then on Celery workers with the Redis relay."""
    servers: list[Server] = request.getfixturevalue("servers" if request.param == "in-process" else "redis_servers")
    return servers


def test_job_lifecycle(job_servers: list[Server], fake_claude: Any) -> None:
    """Start (202), read the events while they come, hang up, resume from Last-Event-ID, read them all again,
    status; another user sees 404 everywhere; a bad Last-Event-ID is a 400."""
    results: dict[str, Any] = {}
    for server in job_servers:
        ids: dict[str, str] = {}
        before = len(server.rows())
        fake_claude.queue(text("Background answer in eight chunks for everyone.", chunks=8, event_delay=0.03))
        with browser(server, "alice") as http:
            started = _start_job(http, server, ids)
            body = started.json()
            with http.stream("GET", body["events_url"], headers={"X-Request-ID": "parity-ev-1"}) as response:
                head_raw = read_stream(response, stop_after=3)
                head = {"status": response.status_code, "headers": headers_that_matter(response)}
            head_frames = sse_frames(head_raw, ids)
            last_id = _events(head_frames)[-1]["id"]
            resumed = http.get(body["events_url"], headers={"Last-Event-ID": last_id, "X-Request-ID": "parity-ev-2"})
            whole = http.get(body["events_url"], headers={"X-Request-ID": "parity-ev-3"})
            by_query = http.get(body["events_url"], params={"last_event_id": last_id})
            status = http.get(body["status_url"])
            bad_id = http.get(body["events_url"], headers={"Last-Event-ID": "not-an-id"})
        with browser(server, "mallory") as other:
            foreign = {
                "status": _json_answer(other.get(body["status_url"])),
                "events": _json_answer(other.get(body["events_url"])),
                "cancel": _json_answer(other.post(body["cancel_url"])),
            }
        rows = wait_for_rows(server, before + 1)[before:]
        tail_frames = sse_frames(resumed.text, ids)
        whole_frames = sse_frames(whole.text, ids)
        # no gap, no duplicate: what came before the hang-up plus the resumed rest is the whole stream
        assert _events(head_frames) + _events(tail_frames) == _events(whole_frames), server.kind
        order = [frame["id"] for frame in _events(whole_frames)]
        head_frames, tail_frames, whole_frames = (renumber(f, order) for f in (head_frames, tail_frames, whole_frames))
        results[server.kind] = {
            "start": {**_json_answer(started), "json": scrub(body, ids)},
            "head": {**head, "frames": head_frames},
            "resumed": {"status": resumed.status_code, "headers": headers_that_matter(resumed), "frames": tail_frames},
            "whole": {"status": whole.status_code, "headers": headers_that_matter(whole), "frames": whole_frames},
            "by query": renumber(sse_frames(by_query.text, ids), order),
            "status": scrub(_json_answer(status), ids),
            "bad Last-Event-ID": _json_answer(bad_id),
            "other user": foreign,
            "rows": [usage_tuple(row, ids) for row in rows],
        }
    assert_same(results)
    first = results["flask"]
    assert first["start"]["status"] == 202
    assert sorted(first["start"]["json"]) == ["cancel_url", "events_url", "job_id", "kind", "state", "status_url"]
    assert first["start"]["json"]["events_url"] == "/claude/jobs/<job 1>/events/"
    names = [frame["event"] for frame in _events(first["whole"]["frames"])]
    assert names == ["start", *["text"] * 8, "done"]
    assert first["whole"]["frames"][0] == {"comment": "stream open", "retry": "1500"}
    assert first["by query"] == first["resumed"]["frames"]
    assert first["status"]["json"]["state"] == "done"
    assert first["bad Last-Event-ID"]["status"] == 400
    assert {answer["status"] for answer in first["other user"].values()} == {404}
    assert [row["status"] for row in first["rows"]] == ["ok"]


BAD_JOB_BODIES: dict[str, tuple[bytes, str | None]] = {
    "invalid JSON": (b"{", "application/json"),
    "text/plain": (json.dumps({"kind": "stream", "params": JOB}).encode(), "text/plain"),
    "unknown field": (json.dumps({"kind": "stream", "params": JOB, "priority": 1}).encode(), "application/json"),
    "unknown kind": (json.dumps({"kind": "later", "params": JOB}).encode(), "application/json"),
    "no params": (json.dumps({"kind": "stream"}).encode(), "application/json"),
    "model not allowed": (
        json.dumps({"kind": "stream", "params": {**JOB, "model": "claude-opus-4-1"}}).encode(),
        "application/json",
    ),
    "max_tokens over the cap": (
        json.dumps({"kind": "create", "params": {**JOB, "max_tokens": 1000}}).encode(),
        "application/json",
    ),
    "batch without requests": (json.dumps({"kind": "batch", "params": {}}).encode(), "application/json"),
    "unknown alias": (json.dumps({"kind": "stream", "params": JOB, "alias": "nope"}).encode(), "application/json"),
    "over the size limit": (
        json.dumps({"kind": "stream", "params": {**JOB, "system": "x" * BODY_LIMIT}}).encode(),
        "application/json",
    ),
}


def test_bad_job_bodies(servers: list[Server], fake_claude: Any) -> None:
    """Job bodies the start endpoint refuses: the same status and JSON error everywhere; nothing is enqueued."""
    results: dict[str, Any] = {}
    for server in servers:
        with browser(server, "alice") as http:
            results[server.kind] = {
                case: _json_answer(_post(http, server.jobs_path, body, ctype))
                for case, (body, ctype) in BAD_JOB_BODIES.items()
            }
    assert_same(results)
    assert all(answer["status"] in (400, 415) for answer in results["flask"].values()), results["flask"]
    assert fake_claude.requests == []


def _estimates_checked(result: dict[str, Any]) -> dict[str, Any]:
    """The output tokens (and so the cost) of a cancelled answer are estimated from what streamed before the cancel
    landed, which is timing: check they are a positive estimate, then leave them out of the comparison."""
    usages = [row for row in result["rows"]]
    for key in ("status", "cancel again"):
        usages += result[key]["json"].get("usage", [])
    for usage in usages:
        assert usage["status"] == "aborted" and usage["output_tokens"] >= 1, usage
        if "estimated" in usage:
            assert usage["estimated"] is True, usage
        usage["output_tokens"] = usage["cost"] = "<estimated>"
    return result


def test_job_cancel(job_servers: list[Server], fake_claude: Any) -> None:
    """Cancel a slow job mid-answer: it ends with a ``cancelled`` event, its status says so, usage ``aborted``.

    How many chunks stream before the cancel lands is timing; everything else must match."""
    results: dict[str, Any] = {}
    words = " ".join(f"w{i}" for i in range(100))
    for server in job_servers:
        ids: dict[str, str] = {}
        before = len(server.rows())
        fake_claude.queue(text(words, chunks=100, event_delay=0.05))
        with browser(server, "alice") as http:
            body = _start_job(http, server, ids).json()
            with http.stream("GET", body["events_url"]) as response:
                head = sse_frames(read_stream(response, stop_after=2), ids)
            cancel = http.post(body["cancel_url"])
            rest = http.get(body["events_url"], headers={"Last-Event-ID": _events(head)[-1]["id"]})
            status = http.get(body["status_url"])
            again = http.post(body["cancel_url"])
        assert fake_claude.wait_for_stream_abort(timeout=10.0), server.kind
        rows = wait_for_rows(server, before + 1)[before:]
        events = _events(head) + _events(sse_frames(rest.text, ids))
        order = [e["id"] for e in events]
        assert order == sorted(order, key=_id_key) and len(set(order)) == len(order), server.kind  # no duplicate
        assert {e["event"] for e in events[1:-1]} == {"text"} and len(events) < 102, server.kind
        head = renumber(head, order)
        cancelled = scrub(_json_answer(cancel), ids)
        # the runner checks the flag a few times a second: rarely it has already stopped when the answer is made
        state = cancelled["json"].pop("state")
        if state == "cancelled":
            cancelled["json"].pop("finished_at")
            cancelled["json"].pop("usage", None)
        else:
            assert state == "cancelling" and "finished_at" not in cancelled["json"], cancelled
        results[server.kind] = _estimates_checked(
            {
                "head": head,
                "last": {k: v for k, v in events[-1].items() if k != "id"},
                "rest": {"status": rest.status_code, "headers": headers_that_matter(rest)},
                "cancel": cancelled,
                "status": scrub(_json_answer(status), ids),
                "cancel again": scrub(_json_answer(again), ids),
                "rows": [usage_tuple(row, ids) for row in rows],
            }
        )
    assert_same(results)
    first = results["flask"]
    assert first["last"] == {"event": "cancelled", "data": {"reason": "cancelled"}}
    assert first["status"]["json"]["state"] == "cancelled"
    assert first["cancel again"]["json"]["state"] == "cancelled"
    assert [row["status"] for row in first["rows"]] == ["aborted"]


# -- usage ---------------------------------------------------------------------------------------------------------

REPORTS = {
    "default": {},
    "by status and alias": {"by": "status,alias"},
    "by model, last hour": {"by": "model", "since": "1h"},
    "until the past": {"by": "model", "until": "2000-01-01"},
    "bad group": {"by": "weekday"},
    "bad since": {"since": "last tuesday"},
}


def test_usage_report_and_rows(servers: list[Server], fake_claude: Any) -> None:
    """carol makes two calls on two models; her usage report and the stored rows are the same everywhere."""
    results: dict[str, Any] = {}
    for server in servers:
        before = len(server.rows())
        path = server.chat_paths[0]
        with browser(server, "carol") as http:
            for n, model in enumerate(MODELS):
                fake_claude.queue(text(f"Answer number {n} for the report.", chunks=2))
                with http.stream(
                    "POST", path, json={**CHAT, "model": model}, headers={"X-Request-ID": f"parity-report-{n}"}
                ) as response:
                    assert response.status_code == 200
                    response.read()
            rows = wait_for_rows(server, before + 2)[before:]
            reports = {name: _json_answer(http.get(server.usage_path, params=query)) for name, query in REPORTS.items()}
        results[server.kind] = {"reports": reports, "rows": [usage_tuple(row, {path: "<chat path>"}) for row in rows]}
    assert_same(results)
    first = results["flask"]
    assert first["reports"]["default"]["status"] == 200
    assert [row["model"] for row in first["reports"]["default"]["json"]["rows"]] == MODELS
    assert first["reports"]["default"]["json"]["total"]["requests"] == 2
    assert first["reports"]["until the past"]["json"]["rows"] == []
    assert first["reports"]["until the past"]["json"]["total"]["cost"] == "0.00000000"
    assert first["reports"]["bad group"]["status"] == first["reports"]["bad since"]["status"] == 400
    assert [row["context"]["user_id"] for row in first["rows"]] == [str(USERS["carol"])] * 2


def test_wrong_methods_and_unknown_jobs(servers: list[Server], fake_claude: Any) -> None:
    """A job id nobody has (well formed or not) is the same 404 JSON; a wrong method is a 405 everywhere (its body
    and ``Allow`` header are the framework's routing, not claude-web's: Flask adds OPTIONS and HEAD)."""
    results: dict[str, Any] = {}
    for server in servers:
        with browser(server, "alice") as http:
            missing = f"{server.jobs_path}{'x' * 24}/"
            results[server.kind] = {
                "unknown job": _json_answer(http.get(missing)),
                "unknown job events": _json_answer(http.get(f"{missing}events/")),
                "unknown job cancel": _json_answer(http.post(f"{missing}cancel/")),
                "malformed job id": _json_answer(http.get(f"{server.jobs_path}not-a-job!/")),
                "405": [
                    http.get(server.chat_paths[0]).status_code,
                    http.get(server.jobs_path).status_code,
                    http.get(f"{missing}cancel/").status_code,
                    http.post(missing).status_code,
                    http.post(server.usage_path).status_code,
                ],
            }
    assert_same(results)
    assert results["flask"]["unknown job"]["status"] == 404
    assert results["flask"]["405"] == [405] * 5


# -- anonymous visitors and quotas (a second configuration) --------------------------------------------------------


@pytest.fixture(scope="module")
def open_servers(fake_claude_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """Servers where visitors may chat without logging in, with a quota of 2 requests a minute (counted in each
    process's memory, so the servers do not share counters)."""
    settings = claude_web_settings(fake_claude_server.base_url)
    settings["CHAT"]["LOGIN_REQUIRED"] = False
    settings["QUOTAS"] = {"REQUESTS_PER_MINUTE": 2, "STORE": "memory"}
    started = start_servers(KINDS, settings, tmp_path_factory.mktemp("open"), body_limit=BODY_LIMIT)
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def _quota_answer(response: httpx.Response) -> dict[str, Any]:
    """A 429 with the seconds left in the window (timing) replaced; they must be a whole number of at most 60."""
    answer = _json_answer(response)
    seconds = answer["headers"].get("retry-after", "")
    assert seconds.isdigit() and 1 <= int(seconds) <= 60, answer
    error = dict(answer["json"]["error"])
    assert error["retry_after"] == int(seconds)
    message = error["message"].replace(seconds, "<n>")
    if "retry_at" in error:  # the moment to try again, to the second: timing too
        moment = datetime.fromisoformat(error["retry_at"])
        assert 0 <= (moment - datetime.now(timezone.utc)).total_seconds() <= 61, error
        message = re.sub(r"\d{2}:\d{2}(:\d{2})?", "<time>", message)
        error["retry_at"] = "<time>"
    return scrub(answer, {f" {seconds} seconds": " <n> seconds", seconds: "<n>"}) | {
        "json": {"error": {**error, "retry_after": "<n>", "message": message}}
    }


def _chat(http: httpx.Client, path: str, fake: Any, rid: str) -> dict[str, Any]:
    fake.queue(text("An answer for a visitor.", chunks=2))
    with http.stream("POST", path, json=CHAT, headers={"X-Request-ID": rid}) as response:
        body = read_stream(response) if response.status_code == 200 else None
        if body is None:
            response.read()
            return _quota_answer(response)
    return {"status": response.status_code, "headers": headers_that_matter(response), "frames": sse_frames(body)}


def test_anonymous_visitors_and_quota(open_servers: list[Server], fake_claude: Any) -> None:
    """Without LOGIN_REQUIRED a visitor chats (counted by address) and owns jobs through the session; another
    visitor gets 404 for them. A signed-in user is refused with 429 + Retry-After at the third request a minute."""
    results: dict[str, Any] = {}
    for server in open_servers:
        ids: dict[str, str] = {}
        path = server.chat_paths[0]
        before = len(server.rows())
        with browser(server) as visitor:
            chat = _chat(visitor, path, fake_claude, "parity-visitor")
            fake_claude.queue(text("A visitor's job.", chunks=3))
            started = _start_job(visitor, server, ids)
            events = sse_frames(visitor.get(started.json()["events_url"]).text, ids)
            status = scrub(_json_answer(visitor.get(started.json()["status_url"])), ids)
        with browser(server) as stranger:
            foreign = _json_answer(stranger.get(started.json()["status_url"]))
        with browser(server, "alice") as http:
            quota = [_chat(http, path, fake_claude, f"parity-quota-{n}") for n in range(3)]
        assert fake_claude.queued == 1  # the refused request never reached Claude: drop its reply
        fake_claude.clear()
        rows = wait_for_rows(server, before + 4)[before:]
        sessions = {row["context"]["owner"] for row in rows if str(row["context"]["owner"]).startswith("session:")}
        assert len(sessions) == 1, rows  # the visitor's job, owned by the visitor's session
        ids[sessions.pop()] = "session:<visitor>"
        results[server.kind] = {
            "chat": chat,
            "job start": {**_json_answer(started), "json": scrub(started.json(), ids)},
            "job events": events,
            "job status": status,
            "stranger": foreign,
            "quota": quota,
            "rows": [usage_tuple(row, {**ids, path: "<chat path>"}) for row in rows],
        }
    assert_same(results)
    first = results["flask"]
    assert first["chat"]["status"] == 200 and first["job start"]["status"] == 202
    assert first["stranger"]["status"] == 404
    assert [answer["status"] for answer in first["quota"]] == [200, 200, 429]
    assert first["quota"][2]["json"]["error"]["type"] == "quota_exceeded"
    visitor_chat = first["rows"][0]["context"]
    assert (visitor_chat["user_id"], visitor_chat["owner"], visitor_chat["quota_key"]) == (None, None, "ip:127.0.0.1")
    assert first["rows"][1]["context"]["owner"] == "session:<visitor>"
