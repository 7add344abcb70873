"""The AI SDK protocol in the one SSE writer, and the ``useChat`` endpoints on conversations, framework-free: the
writer's frames, ids, heartbeats and endings per protocol; ``?protocol=``; chat ids as conversations; regenerate;
stored conversations as UI messages; all through the neutral handlers on FakeClaude and a memory store.
(``tests/aisdk/test_aisdk_live.py`` reads the same endpoints with the real ``ai`` client under live servers.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from claude_web.relay import RelayEvent
from claude_web.testing import text
from claude_web.web.aisdk import DONE_FRAME, UIMessageStreamProtocol
from claude_web.web.aisdk_history import ui_messages
from claude_web.web.conversations import ChatMessage, MemoryConversationStore
from claude_web.web.errors import RequestError
from claude_web.web.handlers import (
    ChatOptions,
    aisdk_chat,
    aisdk_resume,
    aisdk_stop,
    chat_stream,
    conversation_detail,
    conversation_events,
    conversation_post,
)
from claude_web.web.handlers.common import protocol_name
from claude_web.web.http import Principal, WebRequest
from claude_web.web.protocols import stream_protocol
from claude_web.web.runtime import WebRuntime
from claude_web.web.settings import parse_settings
from claude_web.web.sse import StreamProtocol, awrite_events, sse_headers, write_events

MODEL = "claude-haiku-4-5"


def chunks_of(body: bytes) -> list[dict[str, Any]]:
    """The JSON chunks of a UI message stream body (comments, ids and ``[DONE]`` left out)."""
    out = []
    for frame in body.decode().split("\n\n"):
        for line in frame.split("\n"):
            if line.startswith("data: ") and line != "data: [DONE]":
                out.append(json.loads(line[6:]))
    return out


# -- the writer -------------------------------------------------------------------------------------------------


def test_the_writer_speaks_each_protocol() -> None:
    events = [
        ("start", {"id": "msg_1", "model": MODEL}),
        ("text", {"text": "Hi"}),
        ("done", {"stop_reason": "end_turn"}),
    ]
    ours = b"".join(write_events(events, retry=1000))
    assert b'event: text\nid: 2\ndata: {"text":"Hi"}' in ours and b"[DONE]" not in ours
    body = b"".join(write_events(events, retry=1000, protocol="ai-sdk"))
    assert body.startswith(b": stream open\nretry: 1000\n\n") and body.endswith(b"\n\n" + DONE_FRAME)
    assert b"event:" not in body
    types = [c["type"] for c in chunks_of(body)]
    assert types == ["start", "start-step", "text-start", "text-delta", "text-end", "message-metadata"] + [
        "finish-step",
        "finish",
    ]
    # the last chunk of each event carries the event's id (ours: 1, 2, 3), the closing chunks none
    assert b'id: 1\ndata: {"type":"start-step"}' in body and b'id: 2\ndata: {"type":"text-delta"' in body
    assert body.count(b"id: ") == 3


def test_relay_events_keep_their_ids_and_heartbeats_are_comments() -> None:
    events = [
        RelayEvent("5-0", "start", {"id": "m", "model": MODEL}),
        RelayEvent("5-1", "", {}),  # a relay heartbeat
        RelayEvent("6-0", "text", {"text": "x"}),
    ]
    body = b"".join(write_events(events, heartbeat=0.000001, protocol=UIMessageStreamProtocol(message_id="turn-7")))
    assert b": heartbeat\n\n" in body and b"id: 5-0\n" in body and b"id: 6-0\n" in body
    assert chunks_of(body)[0] == {"type": "start", "messageId": "turn-7", "messageMetadata": {"model": MODEL}}


def boom() -> Iterator[tuple[str, dict[str, Any]]]:
    yield ("text", {"text": "Half"})
    raise RuntimeError("the source broke")


def test_a_failing_source_ends_the_ai_sdk_stream_with_an_error_and_breaks_ours(caplog: Any) -> None:
    body = b"".join(write_events(boom(), protocol="ai-sdk"))
    chunks = chunks_of(body)
    assert [c["type"] for c in chunks[-3:]] == ["error", "finish-step", "finish"]
    assert "the source broke" not in body.decode() and body.endswith(DONE_FRAME)
    assert "the event source of a UI message stream failed" in caplog.text
    with pytest.raises(RuntimeError, match="the source broke"):
        b"".join(write_events(boom()))


def test_the_async_writer_speaks_the_protocol_too() -> None:
    async def source() -> AsyncIterator[tuple[str, dict[str, Any]]]:
        yield ("start", {"id": "m", "model": MODEL})
        yield ("cancelled", {"reason": "cancelled"})

    async def read() -> bytes:
        return b"".join([frame async for frame in awrite_events(source(), protocol="ai-sdk")])

    body = asyncio.run(read())
    assert [c["type"] for c in chunks_of(body)][-3:] == ["finish-step", "abort", "finish"] and body.endswith(DONE_FRAME)


def test_protocol_names_headers_and_refusals() -> None:
    assert isinstance(stream_protocol(None), StreamProtocol) and not stream_protocol("events").replay
    proto = stream_protocol("ai-sdk", message_id="t")
    assert proto.replay and stream_protocol(proto) is proto
    assert sse_headers("r1", protocol=proto)["x-vercel-ai-ui-message-stream"] == "v1"
    assert "x-vercel-ai-ui-message-stream" not in sse_headers("r1", protocol=stream_protocol())
    with pytest.raises(ValueError, match="unknown stream protocol 'sse'"):
        stream_protocol("sse")
    request = WebRequest("GET", "/", query={"protocol": "ai-sdk"})
    assert protocol_name(request) == "ai-sdk" and protocol_name(WebRequest("GET", "/"), "ai-sdk") == "ai-sdk"
    with pytest.raises(RequestError) as caught:
        protocol_name(WebRequest("GET", "/", query={"protocol": "vercel"}))
    assert caught.value.field == "protocol"


# -- endpoints on FakeClaude ------------------------------------------------------------------------------------


@pytest.fixture
def runtime(fake_claude: Any) -> Iterator[WebRuntime]:
    settings = parse_settings(
        {
            "CLIENTS": {
                "default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_claude.base_url, "max_retries": 0}}
            },
            "CHAT": {"MODELS": [MODEL], "DEFAULT_MODEL": MODEL},
            "ASSISTANTS": {"default": {"MODEL": MODEL}, "poet": {"MODEL": MODEL, "SYSTEM": "Rhyme."}},
            "CONVERSATIONS": {"CACHE": False},
        }
    )
    rt = WebRuntime(settings, conversation_store=MemoryConversationStore())
    yield rt
    rt.close()


def request(body: Any = None, *, user: int = 1, method: str = "POST", **query: str) -> WebRequest:
    raw = b"" if body is None else json.dumps(body).encode()
    return WebRequest(
        method, "/c/ai-sdk/", raw, content_type="application/json", principal=Principal(user_id=user), query=query
    )


def use_chat(chat_id: str, question: str = "Hi", **extra: Any) -> dict[str, Any]:
    message = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": question}]}
    return {"id": chat_id, "messages": [message], "trigger": "submit-message", **extra}


def deltas(body: bytes) -> str:
    return "".join(c["delta"] for c in chunks_of(body) if c["type"] == "text-delta")


def body_of(response: Any) -> bytes:
    assert response.status == 200, response.json
    return b"".join(response.stream)


def test_a_new_chat_id_becomes_my_conversation(runtime: WebRuntime, fake_claude: Any) -> None:
    fake_claude.queue(text("Hello there.", chunks=2))
    response = aisdk_chat(runtime, request(use_chat("chat-0001", assistant="poet")))
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    turn = response.headers["X-Conversation-Turn"]
    chunks = chunks_of(body_of(response))
    metadata = {"conversation_id": "chat-0001", "model": MODEL}
    assert chunks[0] == {"type": "start", "messageId": turn, "messageMetadata": metadata}
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "Hello there."
    assert chunks[-1]["finishReason"] == "stop" and chunks[-1]["messageMetadata"]["usage"]["output_tokens"] > 0
    conv = runtime.conversations.get("chat-0001", "user:1")
    assert conv.assistant == "poet" and conv.title == "Hi"
    assert fake_claude.last_request.json["system"] == "Rhyme."
    # somebody else's id, a malformed one, an unknown field, attachments: refused before any upstream call
    count = len(fake_claude.requests)
    assert aisdk_chat(runtime, request(use_chat("chat-0001"), user=2)).status == 404
    bad = aisdk_chat(runtime, request(use_chat("a/b")))
    assert bad.status == 400 and bad.json["error"]["field"] == "id"
    unknown = aisdk_chat(runtime, request(use_chat("chat-0002", model="x")))
    assert unknown.status == 400 and unknown.json["error"]["field"] == "model"
    files = use_chat("chat-0003")
    files["messages"][0]["parts"].append({"type": "file", "mediaType": "image/png", "url": "data:image/png;base64,"})
    assert aisdk_chat(runtime, request(files)).status == 400
    assert len(fake_claude.requests) == count


def test_resume_replays_the_answer_in_progress_and_stop_cancels_it(runtime: WebRuntime, fake_claude: Any) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    fake_claude.queue(text(words, chunks=40, event_delay=0.05))
    response = aisdk_chat(runtime, request(use_chat("chat-resume")))
    first = response.stream
    assert first is not None
    head = [next(first) for _ in range(6)]
    first.close()  # the browser went away: the answer goes on
    resumed = aisdk_resume(runtime, request(method="GET"), "chat-resume")
    assert resumed.status == 200
    frames = resumed.stream
    assert frames is not None
    again = [next(frames) for _ in range(6)]
    assert again == head  # from the first event again
    stop = aisdk_stop(runtime, request(), "chat-resume")
    assert stop.status == 202 and stop.json["state"] in ("cancelling", "cancelled")
    rest = chunks_of(b"".join(frames))
    assert [c["type"] for c in rest[-3:]] == ["finish-step", "abort", "finish"]
    assert fake_claude.wait_for_stream_abort(5)
    assert aisdk_resume(runtime, request(method="GET"), "chat-resume").status == 204
    assert aisdk_resume(runtime, request(method="GET"), "never-used-1").status == 204
    assert aisdk_resume(runtime, request(method="GET", user=2), "chat-resume").status == 404
    assert aisdk_stop(runtime, request(user=2), "chat-resume").status == 404


def test_regenerate_replaces_the_latest_answer(runtime: WebRuntime, fake_claude: Any) -> None:
    fake_claude.queue(text("First."), text("Second."), text("Third."))
    body_of(aisdk_chat(runtime, request(use_chat("chat-regen", "Why?"))))
    first = conversation_detail(runtime, request(method="GET", protocol="ai-sdk"), "chat-regen").json["messages"]
    old = first[1]["id"]
    again = use_chat("chat-regen", "ignored: the stored question is asked", trigger="regenerate-message")
    response = aisdk_chat(runtime, request({**again, "messageId": old}))
    new_turn = response.headers["X-Conversation-Turn"]
    assert deltas(body_of(response)) == "Second."
    assert fake_claude.last_request.json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Why?"}]}
    ]
    shown = conversation_detail(runtime, request(method="GET", protocol="ai-sdk"), "chat-regen").json["messages"]
    assert [(m["role"], m["parts"][-1]["text"]) for m in shown] == [("user", "Why?"), ("assistant", "Second.")]
    assert shown[1]["id"] == new_turn
    stale = aisdk_chat(runtime, request({**again, "messageId": old}))
    assert stale.status == 400 and stale.json["error"]["field"] == "messageId"
    stored = runtime.conversation_store.messages("chat-regen")
    assert [(m.role, m.status) for m in stored] == [
        ("user", "complete"),
        ("assistant", "error"),
        ("assistant", "complete"),
    ]
    # a new question afterwards sees only the latest answer in its history
    body_of(aisdk_chat(runtime, request(use_chat("chat-regen", "And?"))))
    assert [m["role"] for m in fake_claude.last_request.json["messages"]] == ["user", "assistant", "user"]
    assert fake_claude.last_request.json["messages"][1]["content"][0]["text"] == "Second."


def test_the_conversation_streams_and_the_chat_view_take_the_protocol(runtime: WebRuntime, fake_claude: Any) -> None:
    conv = runtime.conversations.create("user:1", 1)
    fake_claude.queue(text("Streamed as chunks."))
    post = conversation_post(runtime, request({"message": "Hi"}, protocol="ai-sdk"), conv.id)
    assert "x-vercel-ai-ui-message-stream" in post.headers
    body = body_of(post)
    assert body.endswith(DONE_FRAME)
    replay = conversation_events(
        runtime, WebRequest("GET", "/", principal=Principal(user_id=1), last_event_id="1-1"), conv.id, protocol="ai-sdk"
    )
    assert chunks_of(body_of(replay)) == chunks_of(body)  # Last-Event-ID is ignored: a replay
    ours = conversation_events(runtime, request(method="GET"), conv.id)
    assert b"event: text" in body_of(ours)
    fake_claude.queue(text("A bare chat."))
    chat = chat_stream(runtime, request(use_chat("ignored-id")), ChatOptions(protocol="ai-sdk"))
    assert deltas(body_of(chat)) == "A bare chat."
    assert fake_claude.last_request.json["messages"] == [{"role": "user", "content": "Hi"}]
    wrong = chat_stream(
        runtime, request({"messages": [{"role": "user", "content": "Hi"}]}), ChatOptions(protocol="ai-sdk")
    )
    assert wrong.status == 400 and wrong.json["error"]["field"] == "id"


# -- stored conversations as UI messages ------------------------------------------------------------------------


def test_ui_messages_of_stored_turns() -> None:
    tool_call = {"type": "tool_use", "id": "tu1", "name": "calc", "input": {"e": "1/0"}}
    failed = {"type": "tool_result", "tool_use_id": "tu1", "content": "division by zero", "is_error": True}
    stored = [
        ChatMessage(1, "c", "user", [{"type": "text", "text": "1/0?"}], job_id="t1"),
        ChatMessage(
            2, "c", "assistant", [{"type": "thinking", "thinking": "Hm.", "signature": "s"}, tool_call], job_id="t1"
        ),
        ChatMessage(3, "c", "user", [failed], job_id="t1"),
        ChatMessage(4, "c", "assistant", [{"type": "text", "text": "Undefined."}], job_id="t1", stop_reason="end_turn"),
        ChatMessage(5, "c", "user", [{"type": "text", "text": "Go on"}], job_id="t2"),
        ChatMessage(6, "c", "assistant", [{"type": "text", "text": "Failed"}], status="error", job_id="t2"),
        ChatMessage(7, "c", "assistant", [{"type": "text", "text": "Stopp"}], status="partial", job_id="t3"),
    ]
    out = ui_messages(stored)
    assert [m["id"] for m in out] == ["message-1", "t1", "message-5", "t3"]
    assert out[1]["parts"] == [
        {"type": "step-start"},
        {"type": "reasoning", "id": "reasoning-0", "text": "Hm.", "state": "done"},
        {
            "type": "tool-calc",
            "toolCallId": "tu1",
            "state": "output-error",
            "input": {"e": "1/0"},
            "errorText": "division by zero",
        },
        {"type": "step-start"},
        {"type": "text", "text": "Undefined.", "state": "done"},
    ]
    assert out[1]["metadata"]["stop_reason"] == "end_turn" and out[3]["metadata"]["stop_reason"] == "cancelled"
    assert ui_messages(stored, running="t3")[3]["metadata"]["stop_reason"] is None  # still being written
