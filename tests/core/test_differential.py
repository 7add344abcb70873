"""Differential tests: the same scenario through anthropic==0.125.0 and claude_web against one FakeClaude must
produce the same wire requests and the same parsed results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

import claude_web
from claude_web.testing import FakeClaude, error, text, tool_use

KEY = "sk-ant-diff-SECRET"
USER = [{"role": "user", "content": "Compare us"}]
LIBS = (claude_web, anthropic)
COMPARED_HEADERS = ("anthropic-version", "anthropic-beta", "content-type", "accept", "x-api-key", "x-custom")


def _wire(req: Any) -> dict[str, Any]:
    return {
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "json": req.json,
        "headers": {h: req.headers.get(h) for h in COMPARED_HEADERS},
    }


def _run_both(
    fake: FakeClaude,
    scenario: Callable[[Any, Any], Any],
    replies: Callable[[], list[Any]] | None = None,
    **client_kwargs: Any,
) -> tuple[list[Any], list[list[dict[str, Any]]]]:
    results, wires = [], []
    for lib in LIBS:
        fake.clear()
        if replies is not None:
            fake.queue(*replies())
        client = lib.Anthropic(api_key=KEY, base_url=fake.base_url, **{"max_retries": 0, **client_kwargs})
        try:
            results.append(("ok", scenario(lib, client)))
        except lib.APIStatusError as exc:
            results.append(("status_error", type(exc).__name__, exc.status_code, exc.body))
        except lib.APIError as exc:
            results.append(("api_error", type(exc).__name__))
        wires.append([_wire(r) for r in fake.requests])
    return results, wires


def _dump(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _strip_ids(value: Any) -> Any:
    """Replies carry random ids; requests are answered once per library, so ids differ by design."""
    if isinstance(value, dict):
        return {
            k: ("<id>" if k in ("id", "request_id") and isinstance(v, str) else _strip_ids(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_strip_ids(v) for v in value)
    return value


def test_create_same_wire_and_result(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        msg = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=300,
            messages=USER,
            system="Be brief.",
            temperature=0.2,
            top_p=0.9,
            stop_sequences=["END"],
            metadata={"user_id": "u1"},
            tools=[{"name": "t", "description": "d", "input_schema": {"type": "object"}}],
            tool_choice={"type": "auto"},
        )
        return _dump(msg)

    results, wires = _run_both(fake_claude, scenario, lambda: [text("Same answer for both.")])
    assert _strip_ids(results[0]) == _strip_ids(results[1])
    assert wires[0] == wires[1]
    assert results[0][0] == "ok"


def test_tool_use_result_same(fake_claude: FakeClaude) -> None:
    results, wires = _run_both(
        fake_claude,
        lambda lib, c: _dump(c.messages.create(model="m", max_tokens=10, messages=USER)),
        lambda: [tool_use("get_weather", {"city": "Oslo", "n": [1, 2]}, text="Checking", id="toolu_fixed")],
    )
    assert _strip_ids(results[0]) == _strip_ids(results[1])
    assert wires[0] == wires[1]


def test_extra_options_same_wire(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        return _dump(
            client.messages.create(
                model="m",
                max_tokens=10,
                messages=USER,
                extra_headers={"anthropic-beta": "b1,b2", "x-custom": "yes"},
                extra_query={"q": "1"},
                extra_body={"top_k": 5, "brand_new": [1]},
                timeout=30,
            )
        )

    results, wires = _run_both(fake_claude, scenario)
    assert wires[0] == wires[1]
    assert wires[0][0]["json"]["brand_new"] == [1] and wires[0][0]["query"] == {"q": "1"}


def test_count_tokens_and_models_same(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        count = client.messages.count_tokens(model="m", messages=USER, system="s")
        page = client.models.list(limit=4)
        every = [m.id for m in client.models.list(limit=10)]
        one = client.models.retrieve(every[3])
        return [_dump(count), _dump(page.data), page.has_more, page.first_id, page.last_id, every, _dump(one)]

    results, wires = _run_both(fake_claude, scenario)
    assert results[0] == results[1]
    assert wires[0] == wires[1]


def test_batches_same(fake_claude: FakeClaude) -> None:
    requests = [{"custom_id": f"c{i}", "params": {"model": "m", "max_tokens": 5, "messages": USER}} for i in range(2)]

    def scenario(lib: Any, client: Any) -> Any:
        batch = client.messages.batches.create(requests=requests)
        got = client.messages.batches.retrieve(batch.id)
        while got.processing_status != "ended":
            got = client.messages.batches.retrieve(batch.id)
        results = [r.custom_id for r in client.messages.batches.results(batch.id)]
        listed = [b.processing_status for b in client.messages.batches.list(limit=5)]
        deleted = client.messages.batches.delete(batch.id)
        return [batch.processing_status, got.request_counts.to_dict(), sorted(results), listed, deleted.type]

    results, wires = _run_both(fake_claude, scenario)
    assert results[0] == results[1]
    assert [(w["method"], w["path"].split("/msgbatch_")[0]) for w in wires[0]] == [
        (w["method"], w["path"].split("/msgbatch_")[0]) for w in wires[1]
    ]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 529])
def test_errors_same_class_and_body(fake_claude: FakeClaude, status: int) -> None:
    results, _ = _run_both(
        fake_claude,
        lambda lib, c: c.messages.create(model="m", max_tokens=5, messages=USER),
        lambda: [error(status, message=f"boom {status}")],
    )
    assert _strip_ids(results[0]) == _strip_ids(results[1])
    assert results[0][0] == "status_error" and results[0][2] == status


def test_retries_same_attempts_and_delays(fake_claude: FakeClaude) -> None:
    """Same number of attempts, and the waits between them within the documented jitter of each other."""
    timings: list[list[float]] = []
    for lib in LIBS:
        fake_claude.clear()
        fake_claude.queue(error(529), error(500), text("finally"))
        client = lib.Anthropic(api_key=KEY, base_url=fake_claude.base_url, max_retries=2)
        client.messages.create(model="m", max_tokens=5, messages=USER)
        stamps = [r.received_at for r in fake_claude.requests]
        timings.append([b - a for a, b in zip(stamps, stamps[1:], strict=False)])
    ours, theirs = timings
    assert len(ours) == len(theirs) == 2
    # backoff 0.5 * 2**n with jitter factor in [0.75, 1]: attempt gaps ~0.375-0.5 s then ~0.75-1 s
    for gap_ours, gap_theirs, (low, high) in zip(ours, theirs, [(0.37, 0.75), (0.74, 1.3)], strict=True):
        assert low <= gap_ours <= high and low <= gap_theirs <= high, (ours, theirs)


def test_retry_after_and_x_should_retry_same(fake_claude: FakeClaude) -> None:
    def replies() -> list[Any]:
        return [
            error(429, headers={"retry-after-ms": "50"}),
            error(400, headers={"x-should-retry": "true", "retry-after-ms": "10"}),
            error(529, headers={"x-should-retry": "false"}),
        ]

    results, wires = _run_both(
        fake_claude,
        lambda lib, c: c.messages.create(model="m", max_tokens=5, messages=USER),
        replies,
        max_retries=5,
    )
    assert len(wires[0]) == len(wires[1]) == 3
    assert results[0][:3] == results[1][:3] == ("status_error", "OverloadedError", 529)


def test_custom_requests_same(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        got = client.get("/v1/models", cast_to=object, options={"params": {"limit": 3}})
        posted = client.post("/v1/messages/count_tokens", cast_to=httpx.Response, body={"model": "m", "messages": USER})
        return [got, posted.json()]

    results, wires = _run_both(fake_claude, scenario)
    assert results[0] == results[1]
    assert wires[0] == wires[1]


def test_connection_errors_same(fake_claude: FakeClaude) -> None:
    from claude_web.testing import reset

    results, wires = _run_both(
        fake_claude,
        lambda lib, c: c.messages.create(model="m", max_tokens=5, messages=USER),
        lambda: [reset(), reset(), reset()],
        max_retries=1,
    )
    assert results[0] == results[1] == ("api_error", "APIConnectionError")
    assert len(wires[0]) == len(wires[1]) == 2


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # raised by anthropic's models
def test_same_parse_of_response_with_unknown_fields(fake_claude: FakeClaude) -> None:
    from claude_web.testing import message

    blocks = [{"type": "text", "text": "hi", "future_field": {"x": 1}}, {"type": "future_block", "data": [1, 2]}]
    results, _ = _run_both(
        fake_claude,
        lambda lib, c: _dump(c.messages.create(model="m", max_tokens=5, messages=USER)),
        lambda: [message(blocks)],
    )
    assert _strip_ids(results[0]) == _strip_ids(results[1])
    assert results[0][1]["content"] == blocks
