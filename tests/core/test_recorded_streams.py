"""Differential tests on real recorded Messages API streams: claude_web and anthropic==0.125.0 must agree.

Each recorded stream (``../shared/fixtures/recorded-streams``) is served by an ``httpx.MockTransport`` to both
libraries; the raw events, the helper events and the final message must be the same (``to_dict()`` equal), and
a stream that one library rejects must be rejected by the other too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

import claude_web

# anthropic's own ParsedTextBlock trips pydantic serializer warnings on some fixtures; they are not ours
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

# a copy of ../shared/fixtures/recorded-streams (data recorded from the Messages API, MIT, see its README), kept
# in the repository so a clean clone tests the same streams wherever it is checked out
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recorded-streams"
STREAMS = sorted(FIXTURES.glob("*.txt"))
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def _wire(path: Path) -> bytes:
    """The recorded stream as the API sends it: the files stop right after the last ``data:`` line, while the API
    ends every event with a blank line."""
    return path.read_bytes().rstrip(b"\n") + b"\n\n"


def _transport(body: bytes, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream", "request-id": "req_rec"})

    return httpx.MockTransport(handler)


def _client(lib: Any, body: bytes, seen: list[httpx.Request] | None = None) -> Any:
    return lib.Anthropic(
        api_key="k", base_url="http://fake", max_retries=0, http_client=httpx.Client(transport=_transport(body, seen))
    )


def _aclient(lib: Any, body: bytes) -> Any:
    return lib.AsyncAnthropic(
        api_key="k", base_url="http://fake", max_retries=0, http_client=httpx.AsyncClient(transport=_transport(body))
    )


def _dump(event: Any) -> Any:
    return (event.type, event.to_dict() if hasattr(event, "to_dict") else repr(event))


def _raw_events(lib: Any, body: bytes) -> tuple[list[Any], str | None]:
    out: list[Any] = []
    try:
        with _client(lib, body).messages.create(**PARAMS, stream=True) as stream:
            for event in stream:
                out.append(_dump(event))
    except Exception as exc:
        return out, _kind(exc)
    return out, None


def _helper_events(lib: Any, body: bytes) -> tuple[list[Any], Any, str | None]:
    out: list[Any] = []
    final = None
    try:
        with _client(lib, body).messages.stream(**PARAMS) as stream:
            for event in stream:
                if event.type == "input_json":
                    out.append(("input_json", event.partial_json, event.snapshot))
                elif event.type in ("text", "thinking", "citation", "signature", "content_block_stop", "message_stop"):
                    out.append(_dump(event))
                else:
                    out.append(event.type)
            final = stream.get_final_message().to_dict()
    except Exception as exc:
        return out, final, _kind(exc)
    return out, final, None


def _kind(exc: Exception) -> str:
    # anthropic raises a plain ValueError for unparseable tool JSON at block stop; we raise the same ValueError
    return "ValueError" if isinstance(exc, ValueError) else type(exc).__name__


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_raw_events_match_anthropic(path: Path) -> None:
    body = _wire(path)
    ours, our_error = _raw_events(claude_web, body)
    theirs, their_error = _raw_events(anthropic, body)
    assert ours == theirs
    assert our_error == their_error
    assert ours, "no events were decoded"


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_stream_helpers_match_anthropic(path: Path) -> None:
    body = _wire(path)
    ours = _helper_events(claude_web, body)
    theirs = _helper_events(anthropic, body)
    if ours[2] is not None:
        # unparseable tool JSON: anthropic re-parses on every delta and raises before yielding the bad delta; we
        # parse lazily (linear time) and raise the same ValueError when the snapshot is read, one raw event later
        assert [e for e in ours[0] if e != "content_block_delta"] == [
            e for e in theirs[0] if e != "content_block_delta"
        ]
    else:
        assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert ours[2] == theirs[2]


def test_fixtures_are_present() -> None:
    assert len(STREAMS) >= 10, f"recorded streams missing under {FIXTURES}"


async def test_async_text_stream_and_final_usage() -> None:
    body = _wire(FIXTURES / "message_delta_omitted_usage_response.txt")
    results = []
    for lib in (claude_web, anthropic):
        async with _aclient(lib, body).messages.stream(**PARAMS) as stream:
            texts = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        results.append((texts, final.to_dict()))
    assert results[0] == results[1]
    texts, final = results[0]
    assert "".join(texts) == "Hello there!"
    usage = final["usage"]
    # input and cache tokens from message_start, output tokens from message_delta
    assert usage["input_tokens"] == 25 and usage["cache_read_input_tokens"] == 5 and usage["output_tokens"] == 8


def test_every_fixture_also_decodes_in_one_byte_chunks() -> None:
    from claude_web._sse import SSEDecoder

    for path in STREAMS:
        body = _wire(path)
        whole = SSEDecoder().feed(body)
        dec = SSEDecoder()
        split = [ev for i in range(len(body)) for ev in dec.feed(body[i : i + 1])]
        split += dec.flush()
        assert [(e.event, e.data) for e in split] == [(e.event, e.data) for e in whole], path.name


def test_request_wire_for_stream_is_identical() -> None:
    body = _wire(FIXTURES / "basic_response.txt")
    seen: dict[str, list[httpx.Request]] = {"ours": [], "theirs": []}
    for lib, key in ((claude_web, "ours"), (anthropic, "theirs")):
        with _client(lib, body, seen[key]).messages.stream(**PARAMS, extra_headers={"anthropic-beta": "x-1"}) as s:
            s.until_done()
    ours, theirs = seen["ours"][0], seen["theirs"][0]
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)
    import json

    assert json.loads(ours.content) == json.loads(theirs.content)
    for header in (
        "anthropic-version",
        "anthropic-beta",
        "content-type",
        "accept",
        "x-api-key",
        "x-stainless-helper-method",
    ):
        assert ours.headers.get(header) == theirs.headers.get(header), header


def test_stream_cut_before_its_last_blank_line_is_a_connection_error() -> None:
    """A deliberate difference: ``anthropic`` drops an unterminated last event silently and returns an incomplete
    message; we raise ``APIConnectionError`` and keep what arrived in ``current_message_snapshot``."""
    body = (FIXTURES / "basic_response.txt").read_bytes().rstrip(b"\n")
    with pytest.raises(claude_web.APIConnectionError, match="cut in the middle of an event"):
        with _client(claude_web, body).messages.stream(**PARAMS) as stream:
            stream.until_done()
    snapshot = stream.current_message_snapshot
    assert snapshot.content and snapshot.content[0].type == "text" and snapshot.stop_reason == "end_turn"
