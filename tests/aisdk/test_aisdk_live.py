"""The AI SDK endpoints under live servers, read by the real client: ``read_stream.mjs`` (the ``ai`` package's
``DefaultChatTransport`` and ``readUIMessageStream`` under Node) against Django under uvicorn (ASGI) and Flask under
werkzeug's threaded WSGI server (``tests/web/parity_server.py``), each logged in with a password (Django's CSRF
token sent as ``X-CSRFToken``), each answering from one FakeClaude with a registered server-run tool.

For each server: the UI message the client assembles equals the upstream answer (text, reasoning from
``thinking(...)``, the tool call's input and the output the tool gave the API), its metadata has the usage and cost
of the usage rows; a resume after a cut replays the answer with no gap and no duplicate; Stop closes the upstream
call within one event and the usage row says ``aborted``; another user's chat is a 404; ``regenerate-message``
answers the question again; the chat view and the job events speak the protocol with ``?protocol=ai-sdk``.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_client import StreamReading, read_stream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from parity_apps import Server, browser, start_servers, wait_for_rows

from claude_web.testing import text, thinking, tool_use

KINDS = ["django-asgi", "flask"]
MODEL = "claude-haiku-4-5"
PREFIX = "/claude/conversations/ai-sdk/"
SETTINGS_BASE: dict[str, Any] = {
    "CHAT": {"MODELS": [MODEL], "DEFAULT_MODEL": MODEL, "MAX_TOKENS": 256, "LOGIN_REQUIRED": True},
    "STREAMING": {"HEARTBEAT": 30.0},
    "JOBS": {"HEARTBEAT": 30.0, "THREADS": 2},
    "ASSISTANTS": {
        "default": {
            "MODEL": MODEL,
            "SYSTEM": "Use the weather tool for the weather.",
            "TOOLS": ["parity_tools.weather"],
            "MAX_TOKENS": 256,
            "MAX_ITERATIONS": 3,
        }
    },
    "CONVERSATIONS": {"DEFAULT_ASSISTANT": "default"},
}


@pytest.fixture(scope="module")
def servers(fake_claude_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    client = {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude_server.base_url, "max_retries": 0}}
    settings = {**SETTINGS_BASE, "CLIENTS": {"default": client}}
    tmp = tmp_path_factory.mktemp("aisdk-live")
    started = start_servers(KINDS, settings, tmp, body_limit=1_000_000)
    for server in started:
        server.log = tmp / f"{server.kind}.log"  # type: ignore[attr-defined]  # where start_servers sends its output
    try:
        yield {server.kind: server for server in started}
    finally:
        for server in started:
            server.stop()


@pytest.fixture(params=KINDS)
def server(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Server:
    return servers[request.param]


class Session:
    """A logged-in user on one server: cookies and the CSRF header for the Node reader, httpx for the rest."""

    def __init__(self, server: Server, http: httpx.Client) -> None:
        self.server = server
        self.http = http
        self.cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        token = http.headers.get("X-CSRFToken")
        self.headers = {"X-CSRFToken": token} if token else {}

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def read(self, path: str = PREFIX, **options: Any) -> StreamReading:
        return read_stream(self.url(path), cookie=self.cookie, headers=self.headers, **options)

    def stored(self, chat_id: str) -> dict[str, Any]:
        response = self.http.get(f"/claude/conversations/{chat_id}/", params={"protocol": "ai-sdk"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def session(server: Server, user: str = "alice") -> Iterator[Session]:
    with browser(server, user) as http:
        yield Session(server, http)


@pytest.fixture
def alice(server: Server) -> Iterator[Session]:
    yield from session(server)


def chat_id() -> str:
    return uuid.uuid4().hex[:16]


def text_of(message: dict[str, Any]) -> str:
    return "".join(part["text"] for part in message["parts"] if part["type"] == "text")


def sent(request: Any) -> list[dict[str, Any]]:
    """The ``messages`` FakeClaude received, without the prompt-cache breakpoints the server places."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "cache_control"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    messages: list[dict[str, Any]] = strip(request.json["messages"])
    return messages


def assert_clean(reading: StreamReading) -> None:
    assert reading.protocol_errors == [], reading.protocol_errors
    assert reading.errors == [], reading.errors


def test_answer_with_a_tool_and_reasoning(alice: Session, fake_claude: Any) -> None:
    answer = "It is 4 °C and snowing in Oslo, so take a warm coat."
    reasoning = "The tool says 4 degrees and snow; a coat is the useful advice."
    fake_claude.queue(
        tool_use("weather", {"city": "Oslo"}, text="Let me check the forecast.", chunks=3),
        thinking(reasoning, answer, chunks=4),
    )
    cid = chat_id()
    reading = alice.read(chat_id=cid, text="What should I wear in Oslo today?")
    assert_clean(reading)
    assert reading.headers["x-vercel-ai-ui-message-stream"] == "v1"
    first, second = fake_claude.requests[-2:]
    assert sent(first) == [{"role": "user", "content": [{"type": "text", "text": "What should I wear in Oslo today?"}]}]
    (tool_call,) = [b for b in sent(second)[-2]["content"] if b["type"] == "tool_use"]
    (tool_result,) = sent(second)[-1]["content"]
    assert tool_call["input"] == {"city": "Oslo"} and tool_result["tool_use_id"] == tool_call["id"]
    message = reading.message
    assert message is not None and message["role"] == "assistant"
    assert message["parts"] == [
        {"type": "step-start"},
        {"type": "text", "text": "Let me check the forecast.", "state": "done"},
        {
            "type": "tool-weather",
            "toolCallId": tool_call["id"],
            "state": "output-available",
            "input": {"city": "Oslo"},
            "output": tool_result["content"],  # exactly what the tool gave the API
        },
        {"type": "step-start"},
        {"type": "reasoning", "id": "reasoning-0", "text": reasoning, "state": "done"},
        {"type": "text", "text": answer, "state": "done"},
    ]
    assert "Oslo" in str(tool_result["content"]) and "snow" in str(tool_result["content"])
    # one UI message for the turn: its id is the turn's, its metadata the turn's usage and cost, as the ledger says
    stored = alice.stored(cid)
    assert stored["conversation"]["id"] == cid
    assert message["id"] == stored["messages"][1]["id"]
    rows = [row for row in wait_for_rows(alice.server, 2) if row["context"].get("conversation_id") == cid]
    assert len(rows) == 2 and {row["status"] for row in rows} == {"ok"}
    metadata = message["metadata"]
    assert metadata["conversation_id"] == cid and metadata["model"] == MODEL
    assert metadata["stop_reason"] == "end_turn"
    assert metadata["usage"]["input_tokens"] == sum(row["input_tokens"] for row in rows)
    assert metadata["usage"]["output_tokens"] == sum(row["output_tokens"] for row in rows)
    assert Decimal(metadata["cost"]) == sum(Decimal(row["cost"]) for row in rows) > 0
    # after a reload the page gets the same message from the stored conversation
    assert stored["messages"][0] == {
        "id": stored["messages"][0]["id"],
        "role": "user",
        "parts": [{"type": "text", "text": "What should I wear in Oslo today?"}],
    }
    assert stored["messages"][1]["parts"] == message["parts"]
    assert stored["active_turn"] is None
    # nothing to resume once the answer has ended
    assert alice.read(f"{PREFIX}{cid}/stream", resume=True).status == 204


def test_resume_after_a_cut_has_no_gap_and_no_duplicate(alice: Session, fake_claude: Any) -> None:
    full = " ".join(f"w{i:02d}" for i in range(60))
    fake_claude.queue(text(full, chunks=60, event_delay=0.05))
    cid = chat_id()
    cut = alice.read(chat_id=cid, text="Count slowly", abort_after=12)
    assert cut.result["aborted"] and cut.protocol_errors == []
    assert len(cut.chunks) == 12
    resumed = alice.read(f"{PREFIX}{cid}/stream", chat_id=cid, resume=True)
    assert_clean(resumed)
    assert resumed.status == 200 and resumed.result["request"]["method"] == "GET"
    assert resumed.message is not None and text_of(resumed.message) == full  # no gap, no duplicate
    assert resumed.chunks[:12] == cut.chunks  # a replay: the same chunks again, then the rest
    deltas = [c["delta"] for c in resumed.chunks if c["type"] == "text-delta"]
    assert "".join(deltas) == full and len(deltas) == 60
    assert len(fake_claude.requests) == 1  # the cut did not stop the answer, and the resume asked nothing new
    assert resumed.message["id"] == alice.stored(cid)["messages"][1]["id"]


def test_stop_closes_the_upstream_call_within_one_event(alice: Session, fake_claude: Any) -> None:
    full = " ".join(f"word{i:03d}" for i in range(200))
    fake_claude.queue(text(full, chunks=200, event_delay=0.15))
    cid = chat_id()
    reading = alice.read(
        chat_id=cid, text="Tell me a long story", stop_url=alice.url(f"{PREFIX}{cid}/stop"), stop_after=8
    )
    assert_clean(reading)
    stop = reading.stop
    assert stop is not None and stop["status"] == 202
    after = [c for c in reading.chunks[stop["answeredAt"] :] if c["type"] == "text-delta"]
    # the worker sees the cancel at its next upstream event and closes the call; at most one more event can have
    # been on its way to the browser when the Stop answer came back
    assert len(after) <= 2, after
    assert [c["type"] for c in reading.chunks[-3:]] == ["finish-step", "abort", "finish"]
    assert reading.chunks[-1]["messageMetadata"]["stop_reason"] == "cancelled"
    assert fake_claude.wait_for_stream_abort(10)
    assert reading.message is not None
    shown = text_of(reading.message)
    assert shown and full.startswith(shown) and len(shown) < len(full) // 2
    rows = [row for row in wait_for_rows(alice.server, 1) if row["context"].get("conversation_id") == cid]
    deadline = time.monotonic() + 10
    while not rows and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = [row for row in alice.server.rows() if row["context"].get("conversation_id") == cid]
    (row,) = rows
    assert row["status"] == "aborted"
    stored = alice.stored(cid)["messages"][1]
    assert stored["metadata"]["stop_reason"] == "cancelled" and full.startswith(text_of(stored))


def test_somebody_elses_chat_is_404_and_nothing_to_resume_is_204(
    alice: Session, server: Server, fake_claude: Any
) -> None:
    fake_claude.queue(text("Only for Alice."))
    cid = chat_id()
    assert_clean(alice.read(chat_id=cid, text="Hello"))
    for mallory in session(server, "mallory"):
        posted = mallory.read(chat_id=cid, text="Let me in")
        assert posted.status == 404 and posted.message is None
        assert mallory.read(f"{PREFIX}{cid}/stream", resume=True).status == 404
        assert mallory.http.post(f"{PREFIX}{cid}/stop").status_code == 404
        # a chat id nobody has used yet: nothing to resume (useChat resumes on mount), and no body at all
        assert mallory.read(f"{PREFIX}{chat_id()}/stream", resume=True).status == 204
        empty = mallory.http.get(f"{PREFIX}{chat_id()}/stream")
        assert empty.status_code == 204 and empty.content == b""
        bad = mallory.read(chat_id="short", text="Hi")
        assert bad.status == 400 and "chat id" in " ".join(bad.protocol_errors)
    assert len(fake_claude.requests) == 1
    anonymous = read_stream(server.url + PREFIX, chat_id=chat_id(), text="Hi")
    assert anonymous.status in (401, 403)  # Flask: login required; Django: the CSRF check comes first
    log = server.log.read_text()  # type: ignore[attr-defined]
    assert "LocalProtocolError" not in log, log  # a 204 with a body breaks uvicorn's HTTP framing


def test_regenerate_answers_the_latest_question_again(alice: Session, fake_claude: Any) -> None:
    fake_claude.queue(text("The first answer."), text("A better answer."))
    cid = chat_id()
    first = alice.read(chat_id=cid, text="Explain snow")
    assert_clean(first)
    assert first.message is not None
    body = {
        "id": cid,
        "trigger": "regenerate-message",
        "messageId": first.message["id"],
        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Explain snow"}]}],
    }
    again = alice.read(chat_id=cid, body=body)
    assert_clean(again)
    assert again.message is not None and text_of(again.message) == "A better answer."
    assert again.message["id"] != first.message["id"]
    assert sent(fake_claude.requests[-1]) == [{"role": "user", "content": [{"type": "text", "text": "Explain snow"}]}]
    stored = alice.stored(cid)["messages"]
    assert [(m["role"], text_of(m)) for m in stored] == [("user", "Explain snow"), ("assistant", "A better answer.")]
    wrong = alice.read(chat_id=cid, body={**body, "messageId": first.message["id"]})
    assert wrong.status == 400 and "latest answer" in " ".join(wrong.protocol_errors)


def test_chat_view_and_job_events_speak_the_protocol_on_request(alice: Session, fake_claude: Any) -> None:
    server = alice.server
    fake_claude.queue(text("A plain chat answer.", chunks=3))
    chat = alice.read(f"/claude/chat{server.slash}?protocol=ai-sdk", text="Hi", extra={"max_tokens": 64})
    assert_clean(chat)
    assert chat.message is not None and text_of(chat.message) == "A plain chat answer."
    assert sent(fake_claude.requests[-1]) == [{"role": "user", "content": "Hi"}]
    fake_claude.queue(text("A background answer.", chunks=3))
    started = alice.http.post(
        "/claude/jobs/", json={"kind": "stream", "params": {"messages": [{"role": "user", "content": "Go"}]}}
    )
    assert started.status_code == 202, started.text
    job = started.json()
    events = alice.read(f"{job['events_url']}?protocol=ai-sdk", resume=True)
    assert_clean(events)
    assert events.message is not None and events.message["id"] == job["job_id"]
    assert text_of(events.message) == "A background answer."
