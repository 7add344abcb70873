"""The translator against the real client: a stdlib HTTP server on a loopback port streams what
``claude_web.web.aisdk`` makes of scripted event sequences, and ``read_stream.mjs`` reads it with the ``ai`` package
(DefaultChatTransport + readUIMessageStream) under Node. Each test checks the UIMessage the client assembled
against what the events said, and the reader's protocol checks catch the broken streams served on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_client import StreamReading, read_stream

import claude_web
from claude_web.sse_encoder import SSE_HEADERS, encode_comment
from claude_web.web.aisdk import (
    DONE_FRAME,
    UI_MESSAGE_STREAM_HEADERS,
    UIMessageStreamTranslator,
    encode_chunk,
    parse_chat_request,
    ui_message_stream,
)
from claude_web.web_stream import browser_events

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded-streams"

Event = tuple[str, dict[str, Any]]
MODEL = "claude-sonnet-4-5"
OVERLOADED = "Claude is overloaded right now. Please try again in a moment."

USAGE_1 = {
    "input_tokens": 412,
    "output_tokens": 96,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 2048,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "service_tier": "standard",
}
USAGE_2 = {
    "input_tokens": 590,
    "output_tokens": 41,
    "cache_creation_input_tokens": 120,
    "cache_read_input_tokens": 2048,
    "cache_creation": {"ephemeral_5m_input_tokens": 120, "ephemeral_1h_input_tokens": 0},
    "service_tier": "standard",
}

# Thinking and text, a streamed tool input, two tool calls (one fails), a heartbeat, a second call answering.
FULL: list[Event] = [
    ("start", {"id": "msg_01", "model": MODEL}),
    ("thinking", {"thinking": "The user wants "}),
    ("thinking", {"thinking": "the weather and the time."}),
    ("text", {"text": "Let me "}),
    ("text", {"text": "check."}),
    ("tool_input_start", {"id": "toolu_1", "name": "get_weather"}),
    ("tool_input_delta", {"id": "toolu_1", "partial_json": '{"city": '}),
    ("tool_input_delta", {"id": "toolu_1", "partial_json": '"Oslo"}'}),
    ("tool_use", {"id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}),
    ("tool_use", {"id": "toolu_2", "name": "get_time", "input": {"zone": "Mars/Olympus"}}),
    ("done", {"stop_reason": "tool_use", "usage": USAGE_1, "cost": "0.0021"}),
    ("tool_result", {"tool_use_id": "toolu_1", "content": {"temp_c": 4, "sky": "snow"}, "is_error": False}),
    ("tool_result", {"tool_use_id": "toolu_2", "content": "unknown time zone: Mars/Olympus", "is_error": True}),
    ("heartbeat", {}),
    ("start", {"id": "msg_02", "model": MODEL}),
    ("text", {"text": "It is 4 °C and snowing in Oslo; "}),
    ("text", {"text": "I could not get the time on Mars."}),
    ("done", {"stop_reason": "end_turn", "usage": USAGE_2, "cost": "0.0034"}),
]
FULL_PARTS = [
    {"type": "step-start"},
    {"type": "reasoning", "id": "reasoning-0", "text": "The user wants the weather and the time.", "state": "done"},
    {"type": "text", "text": "Let me check.", "state": "done"},
    {
        "type": "tool-get_weather",
        "toolCallId": "toolu_1",
        "state": "output-available",
        "input": {"city": "Oslo"},
        "output": {"temp_c": 4, "sky": "snow"},
    },
    {
        "type": "tool-get_time",
        "toolCallId": "toolu_2",
        "state": "output-error",
        "input": {"zone": "Mars/Olympus"},
        "errorText": "unknown time zone: Mars/Olympus",
    },
    {"type": "step-start"},
    {"type": "text", "text": "It is 4 °C and snowing in Oslo; I could not get the time on Mars.", "state": "done"},
]
FULL_METADATA = {
    "conversation": 42,
    "model": MODEL,
    "stop_reason": "end_turn",
    "usage": {
        "input_tokens": 1002,
        "output_tokens": 137,
        "cache_creation_input_tokens": 120,
        "cache_read_input_tokens": 4096,
        "cache_creation": {"ephemeral_5m_input_tokens": 120, "ephemeral_1h_input_tokens": 0},
        "service_tier": "standard",
    },
    "cost": "0.0055",
}

ERROR: list[Event] = [
    ("start", {"id": "msg_e", "model": MODEL}),
    ("text", {"text": "Half an ans"}),
    ("error", {"type": "overloaded_error", "message": OVERLOADED}),
]
CANCELLED: list[Event] = [
    ("start", {"id": "msg_c", "model": MODEL}),
    ("text", {"text": "Stopped here"}),
    ("cancelled", {"reason": "user"}),
]
RESET: list[Event] = [
    ("start", {"id": "msg_r1", "model": MODEL}),
    ("text", {"text": "Partial ans"}),
    ("reset", {"attempt": 2}),
    ("start", {"id": "msg_r2", "model": MODEL}),
    ("text", {"text": "Full answer."}),
    ("done", {"stop_reason": "end_turn", "usage": {"input_tokens": 9, "output_tokens": 3}, "cost": "0.0001"}),
]
# A retried attempt that had already run a tool: its first step stays, the data-reset part marks the restart.
RESET_MULTISTEP: list[Event] = [
    ("start", {"id": "msg_m1", "model": MODEL}),
    ("tool_use", {"id": "toolu_9", "name": "lookup", "input": {"q": "x"}}),
    ("done", {"stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 2}}),
    ("tool_result", {"tool_use_id": "toolu_9", "content": "found", "is_error": False}),
    ("start", {"id": "msg_m2", "model": MODEL}),
    ("text", {"text": "Based on"}),
    ("reset", {"attempt": 2}),
    ("start", {"id": "msg_m3", "model": MODEL}),
    ("text", {"text": "Final."}),
    ("done", {"stop_reason": "end_turn", "usage": {"input_tokens": 7, "output_tokens": 1}}),
]

# A tool input cut off by an error: the part must not stay "input-streaming" forever.
TOOL_CUT: list[Event] = [
    ("start", {"id": "msg_t", "model": MODEL}),
    ("tool_input_start", {"id": "toolu_5", "name": "search"}),
    ("tool_input_delta", {"id": "toolu_5", "partial_json": '{"q": "sn'}),
    ("error", {"type": "stream_error", "message": "The answer stream broke off. Please try again."}),
]
TOOLS_ONLY: list[Event] = [
    ("start", {"id": "msg_d", "model": MODEL}),
    ("tool_use", {"id": "toolu_7", "name": "lookup", "input": {"q": "snow"}}),
    ("done", {"stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 2}, "cost": None}),
    ("tool_result", {"tool_use_id": "toolu_7", "content": [{"type": "text", "text": "found"}], "is_error": False}),
]


def recorded_events(name: str) -> list[Event]:
    """The browser events ``claude_web.web_stream`` makes of a real recorded Messages API stream."""
    body = (RECORDED / f"{name}.txt").read_bytes().rstrip(b"\n") + b"\n\n"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    client = claude_web.Anthropic(
        api_key="k", base_url="http://fake", max_retries=0, http_client=httpx.Client(transport=transport)
    )
    params: Any = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    with client.messages.stream(**params) as stream:
        return list(browser_events(stream))


class Harness:
    """The scenarios the server can stream, and what it saw."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.upstream_closed = threading.Event()
        self.scenarios: dict[str, Callable[[], Iterator[bytes]]] = {
            "full": lambda: ui_message_stream(FULL, UIMessageStreamTranslator(metadata={"conversation": 42})),
            "full-ids": lambda: frames_with_ids(FULL, UIMessageStreamTranslator(metadata={"conversation": 42})),
            "error": lambda: ui_message_stream(ERROR),
            "cancelled": lambda: ui_message_stream(CANCELLED),
            "reset": lambda: ui_message_stream(RESET, UIMessageStreamTranslator(reset_step=True)),
            "reset-marker": lambda: ui_message_stream(RESET),
            "reset-multistep": lambda: ui_message_stream(RESET_MULTISTEP, UIMessageStreamTranslator(reset_step=True)),
            "tool-cut": lambda: ui_message_stream(TOOL_CUT),
            "dynamic": lambda: ui_message_stream(TOOLS_ONLY, UIMessageStreamTranslator(dynamic_tools=True)),
            "slow": lambda: ui_message_stream(self.slow_events()),
            "bad-no-done": lambda: (frame for frame in ui_message_stream(CANCELLED) if frame != DONE_FRAME),
            "bad-delta": lambda: iter(
                [encode_chunk(c) for c in ({"type": "start"}, {"type": "text-delta", "id": "t", "delta": "x"})]
                + [DONE_FRAME]
            ),
            "bad-chunk": lambda: iter([encode_chunk({"type": "start"}), encode_chunk({"type": "text"}), DONE_FRAME]),
            "bad-header": lambda: ui_message_stream(CANCELLED),
            "bad-unclosed": lambda: iter(
                [encode_chunk(c) for c in ({"type": "start"}, {"type": "text-start", "id": "t"}, {"type": "finish"})]
                + [DONE_FRAME]
            ),
        }
        for name in ("basic_response", "tool_use_response", "server_tool_use_response", "refusal_response"):
            self.scenarios[f"recorded-{name}"] = lambda name=name: ui_message_stream(recorded_events(name))

    def slow_events(self) -> Iterator[Event]:
        """An answer that would take seconds; records when the server closes it (the browser went away)."""
        try:
            yield ("start", {"id": "msg_s", "model": MODEL})
            for _ in range(500):
                time.sleep(0.01)
                yield ("text", {"text": "x"})
            yield ("done", {"stop_reason": "end_turn", "usage": {}})
        finally:
            self.upstream_closed.set()


def frames_with_ids(events: list[Event], translator: UIMessageStreamTranslator) -> Iterator[bytes]:
    """What an SSE writer with resumable ids sends: each event's id on the last frame of its chunks, heartbeats
    as comments."""
    for number, (name, payload) in enumerate(events, start=1):
        if name == "heartbeat":
            yield encode_comment("heartbeat")
            continue
        chunks = translator.feed(name, payload)
        for index, chunk in enumerate(chunks):
            yield encode_chunk(chunk, id=number if index == len(chunks) - 1 else None)
    for chunk in translator.finish():
        yield encode_chunk(chunk)
    yield DONE_FRAME


def make_handler(harness: Harness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.serve()

        def do_GET(self) -> None:
            self.serve()

        def serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            harness.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            name = self.path.rstrip("/").rsplit("/", 1)[-1]
            if name == "none":
                self.send_response(204)
                self.end_headers()
                return
            frames = harness.scenarios[name]()
            self.send_response(200)
            headers = dict(SSE_HEADERS)
            if name != "bad-header":
                headers.update(UI_MESSAGE_STREAM_HEADERS)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for frame in frames:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                close = getattr(frames, "close", None)
                if close is not None:
                    close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    yield Harness()


@pytest.fixture(scope="module")
def base_url(harness: Harness) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(harness))
    thread = threading.Thread(target=server.serve_forever, name="aisdk-conformance", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/chat"
    finally:
        server.shutdown()
        server.server_close()


def clean(reading: StreamReading) -> dict[str, Any]:
    """The assembled message of a reading the reader found conformant."""
    assert reading.returncode == 0, reading.protocol_errors
    assert reading.protocol_errors == []
    assert reading.result["done"] is True
    assert reading.message is not None
    return reading.message


def after_last_reset(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rule a frontend that retries jobs applies: only the parts after the last data-reset part count."""
    marks = [i for i, part in enumerate(parts) if part["type"] == "data-reset"]
    return parts[marks[-1] + 1 :] if marks else parts


def test_full_answer_assembles_as_the_events_said(base_url: str, harness: Harness) -> None:
    reading = read_stream(
        f"{base_url}/full",
        text="What's the weather and the time?",
        chat_id="chat-conf",
        extra={"model": MODEL},
        headers={"X-CSRFToken": "token-1"},
        cookie="sessionid=abc",
    )
    message = clean(reading)
    assert message["id"] == "msg_01"
    assert message["role"] == "assistant"
    assert message["parts"] == FULL_PARTS
    assert message["metadata"] == FULL_METADATA
    assert reading.errors == []
    translator = UIMessageStreamTranslator(metadata={"conversation": 42})
    sent = [chunk for name, payload in FULL for chunk in translator.feed(name, payload)] + translator.finish()
    assert reading.chunks == sent  # the client got exactly the chunks the translator made, in order
    assert {"tool-input-start", "tool-input-delta", "message-metadata"} <= set(reading.chunk_types)
    assert reading.chunks[-1] == {
        "type": "finish",
        "finishReason": "stop",
        "messageMetadata": sent[-1]["messageMetadata"],
    }


def test_the_real_use_chat_body_parses_and_headers_arrive(base_url: str, harness: Harness) -> None:
    before = len(harness.requests)
    clean(
        read_stream(
            f"{base_url}/full",
            text="Is it snowing?",
            chat_id="chat-77",
            extra={"model": MODEL, "conversation": 42},
            headers={"X-CSRFToken": "token-1"},
            cookie="sessionid=abc",
        )
    )
    (seen,) = harness.requests[before:]
    assert seen["method"] == "POST"
    assert seen["headers"]["x-csrftoken"] == "token-1"
    assert seen["headers"]["cookie"] == "sessionid=abc"
    request = parse_chat_request(seen["body"])
    assert (request.chat_id, request.trigger, request.text) == ("chat-77", "submit-message", "Is it snowing?")
    assert request.extra == {"model": MODEL, "conversation": 42}
    assert request.user_message_id == "user-1"
    assert request.files == ()


def test_ids_and_heartbeat_comments_do_not_disturb_the_client(base_url: str) -> None:
    message = clean(read_stream(f"{base_url}/full-ids"))
    assert message["parts"] == FULL_PARTS
    assert message["metadata"] == FULL_METADATA


def test_an_error_event_reaches_the_client_as_an_error_chunk(base_url: str) -> None:
    reading = read_stream(f"{base_url}/error")
    message = clean(reading)
    assert reading.errors == [OVERLOADED]
    assert message["parts"] == [{"type": "step-start"}, {"type": "text", "text": "Half an ans", "state": "done"}]
    assert reading.chunk_types[-4:] == ["text-end", "error", "finish-step", "finish"]
    assert reading.chunks[-1]["finishReason"] == "error"


def test_cancelled_sends_abort_then_finish_with_the_stop_reason(base_url: str) -> None:
    reading = read_stream(f"{base_url}/cancelled")
    message = clean(reading)
    assert reading.chunk_types[-4:] == ["text-end", "finish-step", "abort", "finish"]
    assert reading.chunks[-2] == {"type": "abort", "reason": "user"}
    assert message["parts"][-1] == {"type": "text", "text": "Stopped here", "state": "done"}
    assert message["metadata"] == {"model": MODEL, "stop_reason": "cancelled", "usage": None, "cost": None}


def test_reset_step_drops_the_failed_attempt(base_url: str) -> None:
    message = clean(read_stream(f"{base_url}/reset"))
    assert message["id"] == "msg_r1"
    assert message["parts"] == [
        {"type": "step-start"},
        {"type": "data-reset", "data": {"attempt": 2}},
        {"type": "text", "text": "Full answer.", "state": "done"},
    ]
    assert message["metadata"]["usage"] == {"input_tokens": 9, "output_tokens": 3}
    assert message["metadata"]["cost"] == "0.0001"


def test_reset_by_default_leaves_a_marker_that_older_clients_accept(base_url: str) -> None:
    reading = read_stream(f"{base_url}/reset-marker")
    message = clean(reading)
    assert "reset-step" not in reading.chunk_types
    assert [part.get("text") for part in message["parts"] if part["type"] == "text"] == ["Partial ans", "Full answer."]
    assert after_last_reset(message["parts"]) == [{"type": "text", "text": "Full answer.", "state": "done"}]


def test_reset_after_a_tool_step_is_marked(base_url: str) -> None:
    message = clean(read_stream(f"{base_url}/reset-multistep"))
    assert "Based on" not in json.dumps(message["parts"])
    assert after_last_reset(message["parts"]) == [{"type": "text", "text": "Final.", "state": "done"}]
    assert message["metadata"]["usage"] == {"input_tokens": 7, "output_tokens": 1}


def test_a_cut_off_tool_input_ends_as_an_input_error(base_url: str) -> None:
    reading = read_stream(f"{base_url}/tool-cut")
    message = clean(reading)
    assert reading.errors == ["The answer stream broke off. Please try again."]
    assert "tool-input-error" in reading.chunk_types
    (part,) = [part for part in message["parts"] if part["type"] == "tool-search"]
    assert part["state"] == "output-error"
    assert part["errorText"] == "The tool call was cut off before its input was complete."


def test_dynamic_tools_become_dynamic_tool_parts(base_url: str) -> None:
    message = clean(read_stream(f"{base_url}/dynamic"))
    assert message["parts"][1:] == [
        {
            "type": "dynamic-tool",
            "toolName": "lookup",
            "toolCallId": "toolu_7",
            "state": "output-available",
            "input": {"q": "snow"},
            "output": [{"type": "text", "text": "found"}],
        }
    ]
    assert message["metadata"] == {
        "model": MODEL,
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 2},
        "cost": None,
    }


def test_abort_after_chunks_closes_the_upstream_events(base_url: str, harness: Harness) -> None:
    harness.upstream_closed.clear()
    reading = read_stream(f"{base_url}/slow", abort_after=6)
    assert reading.returncode == 0, reading.protocol_errors
    assert reading.result["aborted"] is True
    assert reading.result["done"] is False
    assert reading.chunk_types == ["start", "start-step", "text-start", "text-delta", "text-delta", "text-delta"]
    assert reading.message is not None and reading.message["parts"][-1]["text"] == "xxx"
    assert harness.upstream_closed.wait(10), "the server never closed the event source after the client left"


def test_resume_get_reads_the_same_stream_and_204_means_nothing(base_url: str, harness: Harness) -> None:
    message = clean(read_stream(f"{base_url}/full", resume=True))
    assert harness.requests[-1]["method"] == "GET"
    assert message["parts"] == FULL_PARTS
    nothing = read_stream(f"{base_url}/none", resume=True)
    assert (nothing.returncode, nothing.message, nothing.protocol_errors) == (0, None, [])
    assert nothing.result["status"] == 204


@pytest.mark.parametrize(
    "name", ["basic_response", "tool_use_response", "server_tool_use_response", "refusal_response"]
)
def test_real_recorded_streams_reach_the_client_intact(base_url: str, name: str) -> None:
    events = recorded_events(name)
    message = clean(read_stream(f"{base_url}/recorded-{name}"))
    (start,) = [payload for event, payload in events if event == "start"]
    (done,) = [payload for event, payload in events if event == "done"]
    assert message["id"] == start["id"]
    texts = [part["text"] for part in message["parts"] if part["type"] == "text"]
    assert "".join(texts) == "".join(payload["text"] for event, payload in events if event == "text")
    tools = [(p["toolCallId"], p["type"], p["state"], p["input"]) for p in message["parts"] if "toolCallId" in p]
    expected = [(p["id"], f"tool-{p['name']}", "input-available", p["input"]) for e, p in events if e == "tool_use"]
    assert tools == expected
    assert message["metadata"] == {
        "model": start["model"],
        "stop_reason": done["stop_reason"],
        "usage": done["usage"],
        "cost": done["cost"],
    }


@pytest.mark.parametrize(
    ("scenario", "problem"),
    [
        ("bad-no-done", "did not end with data: [DONE]"),
        ("bad-delta", "text-delta"),
        ("bad-chunk", "Type validation failed"),
        ("bad-header", "x-vercel-ai-ui-message-stream"),
        ("bad-unclosed", "never ended"),
    ],
)
def test_the_reader_fails_broken_streams(base_url: str, scenario: str, problem: str) -> None:
    reading = read_stream(f"{base_url}/{scenario}")
    assert reading.returncode == 2
    assert any(problem in error for error in reading.protocol_errors), reading.protocol_errors
