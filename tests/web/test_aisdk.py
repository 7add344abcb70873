"""claude_web.web.aisdk: the UI message stream translator, its SSE frames, and the ``useChat`` request side.

The real ``ai`` client reads the translator's output in ``tests/aisdk``; here every rule is checked directly,
including on random event sequences (hypothesis) and on the events of real recorded Messages API streams.
"""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claude_web
from claude_web._sse import SSEDecoder
from claude_web.web import aisdk, aisdk_request
from claude_web.web.aisdk import (
    DONE_FRAME,
    UI_MESSAGE_STREAM_HEADERS,
    ChatRequestError,
    UIFilePart,
    UIMessageStreamTranslator,
    encode_chunk,
    parse_chat_request,
    ui_message_stream,
    ui_messages_to_api,
)
from claude_web.web_stream import browser_events

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded-streams"
USAGE = {"input_tokens": 10, "output_tokens": 5}


def feed_all(translator: UIMessageStreamTranslator, events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [chunk for name, payload in events for chunk in translator.feed(name, payload)] + translator.finish()


def types(chunks: list[dict[str, Any]]) -> list[str]:
    return [chunk["type"] for chunk in chunks]


def check_protocol(chunks: list[dict[str, Any]]) -> None:
    """What any stream the translator makes must satisfy for the client (the rules read_stream.mjs checks, and
    those the client enforces itself)."""
    assert chunks[0]["type"] == "start" and types(chunks).count("start") == 1
    assert chunks[-1]["type"] == "finish" and types(chunks).count("finish") == 1
    open_parts: set[tuple[str, str]] = set()
    step_open = False
    partial_tools: set[str] = set()
    tools: set[str] = set()
    for chunk in chunks:
        kind = chunk["type"]
        json.dumps(chunk)  # JSON all the way down
        if kind == "start-step":
            assert not step_open
            step_open = True
        elif kind == "finish-step":
            assert step_open and not open_parts
            step_open = False
        elif kind in ("reset-step", "finish", "abort", "error"):
            assert not open_parts
        if kind.endswith(("-start", "-delta", "-end")) and kind.split("-")[0] in ("text", "reasoning"):
            assert step_open
            key = (kind.split("-")[0], chunk["id"])
            if kind.endswith("-start"):
                assert key not in open_parts
                open_parts.add(key)
            else:
                assert key in open_parts, chunk
                if kind.endswith("-end"):
                    open_parts.remove(key)
        if kind == "tool-input-start":
            partial_tools.add(chunk["toolCallId"])
        elif kind == "tool-input-delta":
            assert chunk["toolCallId"] in partial_tools
        elif kind == "tool-input-available":
            assert step_open
            partial_tools.discard(chunk["toolCallId"])
            tools.add(chunk["toolCallId"])
        elif kind == "tool-input-error":
            partial_tools.discard(chunk["toolCallId"])
        elif kind in ("tool-output-available", "tool-output-error"):
            assert chunk["toolCallId"] in tools
        elif kind == "data-reset":
            tools.clear()
    assert not open_parts and not step_open and not partial_tools


# -- the documented examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [aisdk, aisdk_request], ids=lambda m: m.__name__)
def test_docstring_examples_hold(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# -- the translator --------------------------------------------------------------------------------------------


def test_text_and_tool_answer_gives_the_documented_sequence() -> None:
    chunks = feed_all(
        UIMessageStreamTranslator(),
        [
            ("start", {"id": "msg_1", "model": "claude-sonnet-4-5"}),
            ("text", {"text": "Let me look."}),
            ("tool_use", {"id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}),
            ("done", {"stop_reason": "tool_use", "usage": USAGE, "cost": "0.0010"}),
            ("tool_result", {"tool_use_id": "toolu_1", "content": {"temp_c": 4}, "is_error": False}),
            ("start", {"id": "msg_2", "model": "claude-sonnet-4-5"}),
            ("text", {"text": "4 °C."}),
            ("done", {"stop_reason": "end_turn", "usage": USAGE, "cost": "0.0005"}),
        ],
    )
    total = {"stop_reason": "end_turn", "usage": {"input_tokens": 20, "output_tokens": 10}, "cost": "0.0015"}
    assert chunks == [
        {"type": "start", "messageId": "msg_1", "messageMetadata": {"model": "claude-sonnet-4-5"}},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-0"},
        {"type": "text-delta", "id": "text-0", "delta": "Let me look."},
        {"type": "text-end", "id": "text-0"},
        {"type": "tool-input-available", "toolCallId": "toolu_1", "toolName": "weather", "input": {"city": "Oslo"}},
        {
            "type": "message-metadata",
            "messageMetadata": {"stop_reason": "tool_use", "usage": USAGE, "cost": "0.0010"},
        },
        {"type": "tool-output-available", "toolCallId": "toolu_1", "output": {"temp_c": 4}},
        {"type": "finish-step"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-1"},
        {"type": "text-delta", "id": "text-1", "delta": "4 °C."},
        {"type": "text-end", "id": "text-1"},
        {"type": "message-metadata", "messageMetadata": total},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop", "messageMetadata": total},
    ]
    check_protocol(chunks)


def test_thinking_then_text_switches_parts_and_deltas_share_a_part() -> None:
    t = UIMessageStreamTranslator("ui-1", metadata={"conversation": 3})
    chunks = feed_all(
        t,
        [
            ("start", {"id": "msg_1", "model": "m"}),
            ("thinking", {"thinking": "a"}),
            ("thinking", {"thinking": "b"}),
            ("text", {"text": "c"}),
            ("text", {"text": ""}),  # nothing to send
            ("text", {"text": "d"}),
            ("thinking", {"thinking": "e"}),
        ],
    )
    assert chunks[0] == {"type": "start", "messageId": "ui-1", "messageMetadata": {"conversation": 3, "model": "m"}}
    assert types(chunks)[1:] == [
        "start-step",
        "reasoning-start",
        "reasoning-delta",
        "reasoning-delta",
        "reasoning-end",
        "text-start",
        "text-delta",
        "text-delta",
        "text-end",
        "reasoning-start",
        "reasoning-delta",
        "reasoning-end",
        "finish-step",
        "finish",
    ]
    assert [c["id"] for c in chunks if c["type"].endswith("-start") and "id" in c] == [
        "reasoning-0",
        "text-0",
        "reasoning-1",
    ]
    assert t.message_id == "ui-1"
    check_protocol(chunks)


def test_content_before_any_start_event_still_opens_the_message_and_a_step() -> None:
    t = UIMessageStreamTranslator()
    assert t.feed("text", {"text": "Hi"}) == [
        {"type": "start"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-0"},
        {"type": "text-delta", "id": "text-0", "delta": "Hi"},
    ]
    assert t.message_id is None


def test_an_empty_stream_still_finishes_well_formed() -> None:
    chunks = UIMessageStreamTranslator().finish()
    assert chunks == [
        {"type": "start"},
        {
            "type": "finish",
            "finishReason": "other",
            "messageMetadata": {"stop_reason": None, "usage": None, "cost": None},
        },
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool-calls"),
        ("refusal", "content-filter"),
        ("pause_turn", "other"),
        ("something_new", "other"),
        (None, "other"),
    ],
)
def test_finish_reason_follows_the_last_stop_reason(stop_reason: str | None, finish_reason: str) -> None:
    t = UIMessageStreamTranslator()
    t.feed("start", {"id": "m", "model": "x"})
    t.feed("done", {"stop_reason": stop_reason, "usage": USAGE})
    (finish,) = [c for c in t.finish() if c["type"] == "finish"]
    assert finish["finishReason"] == finish_reason
    assert finish["messageMetadata"]["stop_reason"] == stop_reason


def test_usage_and_cost_add_up_over_calls() -> None:
    t = UIMessageStreamTranslator()
    first = {
        "input_tokens": 3,
        "output_tokens": 1,
        "cache_creation": {"ephemeral_5m_input_tokens": 2, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
    }
    second = {
        "input_tokens": 4,
        "output_tokens": 2,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 8},
        "server_tool_use": {"web_search_requests": 1},
        "service_tier": "priority",
    }
    t.feed("done", {"stop_reason": "tool_use", "usage": first, "cost": "0.25"})
    t.feed("done", {"stop_reason": "end_turn", "usage": second, "cost": Decimal("1E-7")})
    metadata = t.finish()[-1]["messageMetadata"]
    assert metadata["usage"] == {
        "input_tokens": 7,
        "output_tokens": 3,
        "cache_creation": {"ephemeral_5m_input_tokens": 2, "ephemeral_1h_input_tokens": 8},
        "server_tool_use": {"web_search_requests": 1},
        "service_tier": "priority",
    }
    assert metadata["cost"] == "0.2500001"  # plain notation, never 1E-7


@pytest.mark.parametrize("unknown", [None, "n/a", "NaN", True])
def test_one_unknown_cost_makes_the_total_unknown(unknown: Any) -> None:
    t = UIMessageStreamTranslator()
    t.feed("done", {"stop_reason": "tool_use", "usage": USAGE, "cost": "0.5"})
    t.feed("done", {"stop_reason": "end_turn", "usage": USAGE, "cost": unknown})
    t.feed("done", {"stop_reason": "end_turn", "usage": USAGE, "cost": "0.5"})
    assert t.finish()[-1]["messageMetadata"]["cost"] is None


def test_a_missing_cost_field_is_unknown() -> None:
    t = UIMessageStreamTranslator()
    t.feed("done", {"stop_reason": "end_turn", "usage": USAGE})
    assert t.finish()[-1]["messageMetadata"] == {"stop_reason": "end_turn", "usage": USAGE, "cost": None}


def test_error_event_ends_the_stream_and_everything_after_is_ignored() -> None:
    t = UIMessageStreamTranslator()
    t.feed("start", {"id": "m", "model": "x"})
    t.feed("text", {"text": "Half"})
    chunks = t.feed("error", {"type": "overloaded_error", "message": "Busy, try again."})
    assert chunks == [
        {"type": "text-end", "id": "text-0"},
        {"type": "error", "errorText": "Busy, try again."},
        {"type": "finish-step"},
        {
            "type": "finish",
            "finishReason": "error",
            "messageMetadata": {"stop_reason": None, "usage": None, "cost": None},
        },
    ]
    assert t.finished
    assert t.feed("text", {"text": "more"}) == []
    assert t.finish() == [] and t.fail("x") == [] and t.abort() == []


def test_fail_is_the_server_side_error_ending() -> None:
    t = UIMessageStreamTranslator()
    t.feed("thinking", {"thinking": "hm"})
    chunks = t.fail("Something went wrong.")
    assert types(chunks) == ["reasoning-end", "error", "finish-step", "finish"]
    check_protocol(
        [{"type": "start"}, {"type": "start-step"}, {"type": "reasoning-start", "id": "reasoning-0"}] + chunks
    )


def test_cancelled_becomes_abort_then_finish_with_the_usage_so_far() -> None:
    t = UIMessageStreamTranslator()
    t.feed("start", {"id": "m", "model": "x"})
    t.feed("done", {"stop_reason": "tool_use", "usage": USAGE, "cost": "0.01"})
    chunks = t.feed("cancelled", {"reason": "user"})
    assert chunks == [
        {"type": "finish-step"},
        {"type": "abort", "reason": "user"},
        {
            "type": "finish",
            "finishReason": "other",
            "messageMetadata": {"stop_reason": "cancelled", "usage": USAGE, "cost": "0.01"},
        },
    ]
    assert UIMessageStreamTranslator().feed("cancelled", {})[1] == {"type": "abort"}


def test_reset_sends_a_marker_and_forgets_the_failed_attempt() -> None:
    t = UIMessageStreamTranslator()
    t.feed("start", {"id": "m1", "model": "x"})
    t.feed("tool_use", {"id": "toolu_1", "name": "f", "input": {}})
    t.feed("done", {"stop_reason": "tool_use", "usage": USAGE, "cost": "1"})
    t.feed("text", {"text": "par"})
    assert t.feed("reset", {"attempt": 2}) == [
        {"type": "text-end", "id": "text-0"},
        {"type": "data-reset", "data": {"attempt": 2}},
    ]
    # the old attempt's tool call is gone: its late result would break the client
    assert t.feed("tool_result", {"tool_use_id": "toolu_1", "content": "x", "is_error": False}) == []
    assert t.feed("start", {"id": "m2", "model": "x"}) == []  # the attempt continues in the open step
    t.feed("text", {"text": "Full."})
    chunks = t.finish()
    assert chunks[-1]["messageMetadata"] == {"stop_reason": None, "usage": None, "cost": None}
    assert t.message_id == "m1"


def test_reset_step_is_sent_only_when_asked() -> None:
    t = UIMessageStreamTranslator(reset_step=True)
    t.feed("start", {"id": "m1", "model": "x"})
    t.feed("text", {"text": "par"})
    assert types(t.feed("reset", {"attempt": 3})) == ["text-end", "reset-step", "data-reset"]
    assert t.feed("start", {"id": "m2", "model": "x"}) == []
    before_any_step = UIMessageStreamTranslator(reset_step=True)
    assert types(before_any_step.feed("reset", {"attempt": 2})) == ["start", "data-reset"]


def test_tool_input_streaming_and_its_loose_ends() -> None:
    t = UIMessageStreamTranslator()
    t.feed("start", {"id": "m", "model": "x"})
    t.feed("text", {"text": "Looking"})
    assert t.feed("tool_input_start", {"id": "t1", "name": "search"}) == [
        {"type": "text-end", "id": "text-0"},
        {"type": "tool-input-start", "toolCallId": "t1", "toolName": "search"},
    ]
    assert t.feed("tool_input_start", {"id": "t1", "name": "search"}) == []  # announced once
    assert t.feed("tool_input_delta", {"id": "t1", "partial_json": '{"q":'}) == [
        {"type": "tool-input-delta", "toolCallId": "t1", "inputTextDelta": '{"q":'}
    ]
    assert t.feed("tool_input_delta", {"id": "nope", "partial_json": "1"}) == []
    assert t.feed("tool_input_delta", {"id": "t1", "partial_json": ""}) == []
    t.feed("tool_input_start", {"id": "t2", "name": "fetch"})
    assert t.feed("tool_use", {"id": "t1", "name": "search", "input": {"q": 1}}) == [
        {"type": "tool-input-available", "toolCallId": "t1", "toolName": "search", "input": {"q": 1}}
    ]
    chunks = t.finish()
    assert chunks[0] == {
        "type": "tool-input-error",
        "toolCallId": "t2",
        "toolName": "fetch",
        "input": None,
        "errorText": "The tool call was cut off before its input was complete.",
    }


@pytest.mark.parametrize(
    ("content", "error_text"),
    [
        ("plain words", "plain words"),
        ([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "a\nb"),
        ({"code": 7, "why": "é"}, '{"code": 7, "why": "é"}'),
        (None, "null"),
    ],
)
def test_tool_errors_carry_their_content_as_text(content: Any, error_text: str) -> None:
    t = UIMessageStreamTranslator(dynamic_tools=True)
    t.feed("tool_use", {"id": "t", "name": "f", "input": {}})
    assert t.feed("tool_result", {"tool_use_id": "t", "content": content, "is_error": True}) == [
        {"type": "tool-output-error", "toolCallId": "t", "errorText": error_text, "dynamic": True}
    ]


def test_results_for_unannounced_tools_and_unknown_events_give_nothing() -> None:
    t = UIMessageStreamTranslator()
    assert t.feed("tool_result", {"tool_use_id": "ghost", "content": 1, "is_error": False}) == []
    assert t.feed("heartbeat", {}) == []
    assert t.feed("citations", {"x": 1}) == []
    assert t.feed("tool_use", {"id": 3, "name": "f"}) == []  # malformed: no id
    assert "new" in repr(t)


event_strategy = st.one_of(
    st.tuples(st.just("start"), st.fixed_dictionaries({"id": st.sampled_from(["m1", "m2"]), "model": st.just("x")})),
    st.tuples(st.just("text"), st.fixed_dictionaries({"text": st.text(max_size=3)})),
    st.tuples(st.just("thinking"), st.fixed_dictionaries({"thinking": st.text(max_size=3)})),
    st.tuples(
        st.just("tool_input_start"),
        st.fixed_dictionaries({"id": st.sampled_from(["t1", "t2"]), "name": st.just("f")}),
    ),
    st.tuples(
        st.just("tool_input_delta"),
        st.fixed_dictionaries({"id": st.sampled_from(["t1", "t2", "t3"]), "partial_json": st.text(max_size=3)}),
    ),
    st.tuples(
        st.just("tool_use"),
        st.fixed_dictionaries({"id": st.sampled_from(["t1", "t2", "t3"]), "name": st.just("f"), "input": st.just({})}),
    ),
    st.tuples(
        st.just("tool_result"),
        st.fixed_dictionaries(
            {"tool_use_id": st.sampled_from(["t1", "t2", "t3"]), "content": st.just("r"), "is_error": st.booleans()}
        ),
    ),
    st.tuples(
        st.just("done"),
        st.fixed_dictionaries(
            {"stop_reason": st.sampled_from(["end_turn", "tool_use"]), "usage": st.just(USAGE), "cost": st.just("0.1")}
        ),
    ),
    st.tuples(st.just("reset"), st.fixed_dictionaries({"attempt": st.integers(2, 4)})),
    st.tuples(st.just("heartbeat"), st.just({})),
)
ending = st.sampled_from(["finish", "fail", "abort", "error-event", "cancelled-event"])


@settings(max_examples=300, deadline=None)
@given(events=st.lists(event_strategy, max_size=25), end=ending, reset_step=st.booleans())
def test_any_event_sequence_gives_a_valid_stream(events: list[Any], end: str, reset_step: bool) -> None:
    t = UIMessageStreamTranslator(reset_step=reset_step)
    chunks = [chunk for name, payload in events for chunk in t.feed(name, payload)]
    if end == "finish":
        chunks += t.finish()
    elif end == "fail":
        chunks += t.fail("boom")
    elif end == "abort":
        chunks += t.abort("user")
    elif end == "error-event":
        chunks += t.feed("error", {"type": "api_error", "message": "boom"})
    else:
        chunks += t.feed("cancelled", {"reason": "user"})
    check_protocol(chunks)
    assert t.finished and t.finish() == []


def recorded_events(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], Exception | None]:
    """The browser events of a recorded stream, and the exception that ended them early (a stream whose tool
    JSON is invalid raises ValueError out of ``browser_events``: the SSE writer must then call ``fail()``)."""
    body = path.read_bytes().rstrip(b"\n") + b"\n\n"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    client = claude_web.Anthropic(
        api_key="k", base_url="http://fake", max_retries=0, http_client=httpx.Client(transport=transport)
    )
    params: Any = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    events: list[tuple[str, dict[str, Any]]] = []
    with client.messages.stream(**params) as stream:
        try:
            for event in browser_events(stream):
                events.append(event)
        except ValueError as exc:
            return events, exc
    return events, None


@pytest.mark.parametrize("path", sorted(RECORDED.glob("*.txt")), ids=lambda p: p.stem)
def test_recorded_streams_translate_to_what_their_events_said(path: Path) -> None:
    events, failure = recorded_events(path)
    translator = UIMessageStreamTranslator()
    chunks = [chunk for name, payload in events for chunk in translator.feed(name, payload)]
    chunks += translator.fail("The answer failed.") if failure is not None else translator.finish()
    check_protocol(chunks)
    text = "".join(p["text"] for name, p in events if name == "text")
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == text
    thinking = "".join(p["thinking"] for name, p in events if name == "thinking")
    assert "".join(c["delta"] for c in chunks if c["type"] == "reasoning-delta") == thinking
    tools = [(p["id"], p["name"], p["input"]) for name, p in events if name == "tool_use"]
    assert [
        (c["toolCallId"], c["toolName"], c["input"]) for c in chunks if c["type"] == "tool-input-available"
    ] == tools
    errors = [p["message"] for name, p in events if name == "error"]
    finish = chunks[-1]
    if failure is not None or errors:
        assert finish["finishReason"] == "error"
        assert [c["errorText"] for c in chunks if c["type"] == "error"] == (errors or ["The answer failed."])
    else:
        ((_, last),) = [(name, p) for name, p in events if name == "done"]
        assert finish["messageMetadata"]["usage"] == last["usage"]
        assert finish["messageMetadata"]["stop_reason"] == last["stop_reason"]


# -- frames ----------------------------------------------------------------------------------------------------


def test_frames_are_single_data_lines_that_decode_back() -> None:
    chunk = {"type": "text-delta", "id": "text-0", "delta": "line one\nline two\r\n€ \u2028"}
    frame = encode_chunk(chunk, id=12)
    assert frame.count(b"\n") == 3 and frame.startswith(b"id: 12\ndata: {")
    (event,) = SSEDecoder().feed(frame)
    assert (event.event, event.id, json.loads(event.data)) == (None, "12", chunk)
    assert encode_chunk({"type": "finish"}) == b'data: {"type":"finish"}\n\n'
    assert DONE_FRAME == b"data: [DONE]\n\n"
    assert UI_MESSAGE_STREAM_HEADERS == {"x-vercel-ai-ui-message-stream": "v1"}


def test_ui_message_stream_is_the_whole_body() -> None:
    body = b"".join(
        ui_message_stream([("start", {"id": "m", "model": "x"}), ("heartbeat", {}), ("text", {"text": "Hi"})])
    )
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.flush()
    assert [e.data for e in events][-1] == "[DONE]"
    assert [json.loads(e.data)["type"] for e in events[:-1]] == [
        "start",
        "start-step",
        "text-start",
        "text-delta",
        "text-end",
        "finish-step",
        "finish",
    ]
    assert b": heartbeat\n\n" in body


def test_closing_the_body_early_closes_the_event_source() -> None:
    closed: list[bool] = []

    def events() -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            yield ("start", {"id": "m", "model": "x"})
            while True:
                yield ("text", {"text": "x"})
        finally:
            closed.append(True)

    body = ui_message_stream(events())
    for _ in range(5):
        next(body)
    body.close()
    assert closed == [True]


# -- the request side ------------------------------------------------------------------------------------------


def use_chat_body(**overrides: Any) -> dict[str, Any]:
    """A body as DefaultChatTransport sends it (ai 7.0.173): body option fields first, then the transport's."""
    body: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "id": "chat-1",
        "messages": [
            {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]},
            {
                "id": "a1",
                "role": "assistant",
                "metadata": {"model": "x"},
                "parts": [{"type": "step-start"}, {"type": "text", "text": "Hello!", "state": "done"}],
            },
            {
                "id": "u2",
                "role": "user",
                "parts": [
                    {"type": "text", "text": "What is in"},
                    {
                        "type": "file",
                        "mediaType": "image/png",
                        "filename": "a.png",
                        "url": "data:image/png;base64,AAAA",
                    },
                    {"type": "text", "text": "this picture?"},
                ],
            },
        ],
        "trigger": "submit-message",
    }
    body.update(overrides)
    return body


def test_parse_takes_the_last_user_message_and_keeps_extra_fields() -> None:
    request = parse_chat_request(json.dumps(use_chat_body()).encode())
    assert request.chat_id == "chat-1"
    assert request.trigger == "submit-message" and not request.regenerate
    assert request.text == "What is in\nthis picture?"
    assert request.files == (UIFilePart("image/png", "data:image/png;base64,AAAA", "a.png"),)
    assert request.user_message_id == "u2"
    assert request.message_id is None
    assert request.extra == {"model": "claude-haiku-4-5"}
    assert len(request.messages) == 3
    assert "base64" not in repr(request)  # neither the history nor file contents in the repr


def test_parse_regenerate_and_defaults() -> None:
    messages = use_chat_body()["messages"][:1]
    request = parse_chat_request(use_chat_body(messages=messages, trigger="regenerate-message", messageId="a1"))
    assert request.regenerate and request.message_id == "a1" and request.text == "Hi"
    no_trigger = use_chat_body(messages=messages)
    del no_trigger["trigger"]
    assert parse_chat_request(no_trigger).trigger == "submit-message"


def test_a_last_assistant_turn_does_not_hide_the_user_message() -> None:
    body = use_chat_body()
    body["messages"] = body["messages"][:2]
    assert parse_chat_request(body).text == "Hi"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{nope", "body"),
        (b"[1]", "body"),
        (use_chat_body(id=""), "id"),
        (use_chat_body(id=5), "id"),
        (use_chat_body(trigger="submit-user-message"), "trigger"),
        (use_chat_body(messageId=3), "messageId"),
        (use_chat_body(messages=None), "messages"),
        (use_chat_body(messages={"a": 1}), "messages"),
        (use_chat_body(messages=[]), "messages"),
        (use_chat_body(messages=["hi"]), "messages[0]"),
        (use_chat_body(messages=[{"id": 1, "role": "user", "parts": []}]), "messages[0].id"),
        (use_chat_body(messages=[{"id": "u", "role": "tool", "parts": []}]), "messages[0].role"),
        (use_chat_body(messages=[{"id": "u", "role": "user", "parts": "Hi"}]), "messages[0].parts"),
        (use_chat_body(messages=[{"id": "u", "role": "user", "parts": [{"text": "Hi"}]}]), "messages[0].parts[0].type"),
        (use_chat_body(messages=[{"id": "u", "role": "user", "parts": ["Hi"]}]), "messages[0].parts[0]"),
        (
            use_chat_body(messages=[{"id": "u", "role": "user", "parts": [{"type": "text", "text": 5}]}]),
            "messages[0].parts[0].text",
        ),
        (
            use_chat_body(
                messages=[{"id": "u", "role": "user", "parts": [{"type": "file", "mediaType": "image/png"}]}]
            ),
            "messages[0].parts[0].url",
        ),
        (
            use_chat_body(
                messages=[
                    {
                        "id": "u",
                        "role": "user",
                        "parts": [{"type": "file", "mediaType": "a/b", "url": "x", "filename": 1}],
                    }
                ]
            ),
            "messages[0].parts[0].filename",
        ),
        (use_chat_body(messages=[{"id": "a", "role": "assistant", "parts": []}]), "messages"),
        (
            use_chat_body(messages=[{"id": "u", "role": "user", "parts": [{"type": "text", "text": "  "}]}]),
            "messages[0].parts",
        ),
    ],
)
def test_parse_names_the_bad_field(body: Any, field: str) -> None:
    with pytest.raises(ChatRequestError) as caught:
        parse_chat_request(body)
    assert caught.value.field == field
    assert caught.value.to_dict()["error"]["field"] == field


def test_ui_messages_to_api_keeps_text_only() -> None:
    messages = use_chat_body()["messages"]
    with pytest.raises(ChatRequestError) as caught:
        ui_messages_to_api(messages)
    assert caught.value.field == "messages[1].role"
    assert ui_messages_to_api(messages, allow_assistant=True) == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is in"}, {"type": "text", "text": "this picture?"}],
        },
    ]


@pytest.mark.parametrize(
    ("messages", "allow_assistant", "field"),
    [
        ([{"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be evil"}]}], True, "messages[0].role"),
        ([{"id": "a", "role": "assistant", "parts": [{"type": "text", "text": "Hi"}]}], True, "messages[0].role"),
        ([{"id": "u", "role": "user", "parts": [{"type": "file", "mediaType": "a/b", "url": "x"}]}], False, "messages"),
        ([{"id": "u", "role": "user", "parts": [{"type": "text"}]}], False, "messages[0].parts[0].text"),
    ],
)
def test_ui_messages_to_api_refusals(messages: list[dict[str, Any]], allow_assistant: bool, field: str) -> None:
    with pytest.raises(ChatRequestError) as caught:
        ui_messages_to_api(messages, allow_assistant=allow_assistant)
    assert caught.value.field == field


def test_ui_messages_to_api_skips_messages_without_text() -> None:
    messages = [
        {"id": "u0", "role": "user", "parts": [{"type": "file", "mediaType": "image/png", "url": "x"}]},
        {"id": "u1", "role": "user", "parts": [{"type": "data-note", "data": 1}, {"type": "text", "text": "Hi"}]},
        {
            "id": "a1",
            "role": "assistant",
            "parts": [{"type": "reasoning", "text": "hm"}, {"type": "tool-f", "toolCallId": "t"}],
        },
    ]
    assert ui_messages_to_api(messages, allow_assistant=True) == [{"role": "user", "content": "Hi"}]
