"""Conversations with Celery workers: the turn runs in a real worker process (its tools and store there), its
events travel through the Redis relay, and the same endpoints answer as in-process: resume, Stop, 409."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cw_helpers import HERE, Workers, cleanup_prefix, parse_sse, wait_for

from claude_web.testing import text, tool_use

pytestmark = pytest.mark.needs_redis


@pytest.fixture(scope="module")
def conv(redis_url: str, fake: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Workers]]:
    prefix = f"cwtest-{uuid.uuid4().hex[:12]}"
    tmp = tmp_path_factory.mktemp("conv")
    db = str(Path(tmp) / "conversations.sqlite3")
    env = {"CW_CONV_DB": db, "CW_CONV_FAKE_URL": fake.base_url}
    saved = {k: os.environ.get(k) for k in ("CW_TEST_REDIS_URL", "CW_TEST_PREFIX")}
    os.environ.update({"CW_TEST_REDIS_URL": redis_url, "CW_TEST_PREFIX": prefix})
    sys.path.insert(0, str(HERE))
    import cw_conv_app

    module = importlib.reload(cw_conv_app)  # the web side sends to this prefix's queue
    pool = Workers(redis_url, prefix, fake.base_url, tmp, module="cw_conv_app", **env)
    app = module.make_flask(db, fake.base_url)
    try:
        pool.start("c1")
        yield app, pool
    finally:
        pool.stop()
        app.extensions["claude_web"].runtime.close()
        cleanup_prefix(redis_url, prefix)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _call(app: Any, method: str, path: str, body: Any = None, user: str = "7", **headers: str) -> Any:
    client = app.test_client()
    return client.open(path, method=method, json=body, headers={"X-Test-User": user, **headers})


def test_a_turn_with_a_tool_runs_in_the_worker_and_resumes(conv: tuple[Any, Workers], fake: Any) -> None:
    app, _ = conv
    fake.clear()
    cid = _call(app, "POST", "/conversations/", {}).get_json()["conversation"]["id"]
    fake.queue(tool_use("double", {"number": 21}, id="toolu_w"), text("It is 42.", chunks=3))
    reply = _call(app, "POST", f"/conversations/{cid}/messages/", {"message": "Double 21"})
    assert reply.status_code == 200
    events = parse_sse([reply.get_data()])
    names = [name for _, name, _ in events]
    assert names.count("done") == 2 and names[-1] == "done"
    result = next(data for _, name, data in events if name == "tool_result")
    assert result == {"tool_use_id": "toolu_w", "name": "double", "content": "42", "is_error": False}
    assert all("-" in event_id for event_id, _, _ in events)  # Redis stream ids: the relay carried them
    again = _call(app, "GET", f"/conversations/{cid}/events/", **{"Last-Event-ID": events[1][0]})
    resumed = parse_sse([again.get_data()])
    assert resumed == events[2:]
    detail = _call(app, "GET", f"/conversations/{cid}/").get_json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    rows = list(app.extensions["claude_web"].usage_store.rows())
    assert len(rows) == 2 and {r["context"]["job_kind"] for r in rows} == {"conversation"}
    assert int(detail["conversation"]["usage"]["output_tokens"]) == sum(r["output_tokens"] for r in rows)
    assert _call(app, "GET", f"/conversations/{cid}/", user="8").status_code == 404


def test_stop_reaches_the_worker_and_a_second_post_is_409(conv: tuple[Any, Workers], fake: Any) -> None:
    app, _ = conv
    fake.clear()
    cid = _call(app, "POST", "/conversations/", {}).get_json()["conversation"]["id"]
    fake.queue(text(" ".join(f"w{i}" for i in range(300)), chunks=150, event_delay=0.05))
    got: dict[str, Any] = {}
    reader = threading.Thread(
        target=lambda: got.setdefault(
            "r", _call(app, "POST", f"/conversations/{cid}/messages/", {"message": "Go"}).get_data()
        )
    )
    reader.start()
    wait_for(lambda: len(fake.requests) == 1)
    wait_for(lambda: _call(app, "GET", f"/conversations/{cid}/").get_json()["active_turn"] is not None)
    time.sleep(0.5)  # some of the answer has streamed
    busy = _call(app, "POST", f"/conversations/{cid}/messages/", {"message": "Again"})
    assert busy.status_code == 409
    assert _call(app, "POST", f"/conversations/{cid}/stop/").status_code == 202
    reader.join(20)
    names = [name for _, name, _ in parse_sse([got["r"]])]
    assert names[-1] == "cancelled"
    assert fake.wait_for_stream_abort(5)
    detail = _call(app, "GET", f"/conversations/{cid}/").get_json()
    assert [m["status"] for m in detail["messages"]] == ["complete", "partial"]
    rows = [r for r in app.extensions["claude_web"].usage_store.rows() if r["context"].get("conversation_id") == cid]
    assert [r["status"] for r in rows] == ["aborted"]
