"""Differential tests of request building against anthropic==0.125.0 on FakeClaude: ``omit`` / ``NOT_GIVEN``
left out everywhere, any iterable where ``anthropic`` takes one, file inputs read and base64-encoded, and
``user_profile_id`` and the stream helper as headers."""

from __future__ import annotations

import base64
import io
import pathlib
from collections.abc import Callable
from typing import Any

import anthropic
import pytest

import claude_web
from claude_web.testing import FakeClaude

KEY = "sk-ant-requests"
LIBS = (claude_web, anthropic)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n" + b"x" * 40
OPTIONAL = (
    "cache_control",
    "container",
    "inference_geo",
    "metadata",
    "output_config",
    "service_tier",
    "stop_sequences",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
    "user_profile_id",
)
COUNT_OPTIONAL = ("cache_control", "output_config", "system", "thinking", "tool_choice", "tools", "user_profile_id")
HEADERS = ("anthropic-user-profile-id", "x-stainless-helper-method", "x-stainless-stream-helper", "anthropic-beta")


def _wire(req: Any) -> dict[str, Any]:
    return {
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "json": req.json,
        "headers": {h: req.headers.get(h) for h in HEADERS},
    }


def _both(fake: FakeClaude, scenario: Callable[[Any, Any], Any]) -> list[list[dict[str, Any]]]:
    wires = []
    for lib in LIBS:
        fake.clear()
        client = lib.Anthropic(api_key=KEY, base_url=fake.base_url, max_retries=0)
        scenario(lib, client)
        wires.append([_wire(r) for r in fake.requests])
    return wires


def _user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


@pytest.mark.parametrize("marker", ["omit", "NOT_GIVEN", "not_given"])
def test_left_out_arguments_in_create_stream_and_count(fake_claude: FakeClaude, marker: str) -> None:
    def scenario(lib: Any, client: Any) -> None:
        left_out = {name: getattr(lib, marker) for name in OPTIONAL}
        client.messages.create(model="m", max_tokens=5, messages=_user("hi"), stream=getattr(lib, marker), **left_out)
        with client.messages.stream(model="m", max_tokens=5, messages=_user("hi"), **left_out) as stream:
            stream.until_done()
        client.messages.create(model="m", max_tokens=5, messages=_user("hi"), stream=True, **left_out).close()
        counted = {name: getattr(lib, marker) for name in COUNT_OPTIONAL}
        client.messages.count_tokens(model="m", messages=_user("hi"), **counted)

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    assert ours[0]["json"] == {"model": "m", "max_tokens": 5, "messages": _user("hi")}


def test_left_out_arguments_in_lists_and_batches(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> None:
        client.models.list(limit=lib.omit, after_id=lib.omit, before_id=lib.omit)
        batch = client.messages.batches.create(
            requests=[{"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": _user("hi")}}],
            user_profile_id=lib.omit,
        )
        client.messages.batches.list(limit=lib.omit, after_id=lib.omit)
        client.messages.batches.retrieve(batch.id)

    ours, theirs = _both(fake_claude, scenario)
    for wire in (ours, theirs):
        wire[3]["path"] = wire[3]["path"].split("/msgbatch_")[0]
    assert ours == theirs


def test_omit_inside_a_nested_parameter(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> None:
        client.messages.create(
            model="m",
            max_tokens=5,
            messages=_user([{"type": "text", "text": "hi", "cache_control": lib.omit}]),
            metadata={"user_id": lib.omit},
            tool_choice={"type": "auto", "disable_parallel_tool_use": lib.omit},
        )

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    assert ours[0]["json"]["metadata"] == {} and ours[0]["json"]["messages"][0]["content"] == [
        {"type": "text", "text": "hi"}
    ]


def test_any_iterable_where_anthropic_takes_one(fake_claude: FakeClaude) -> None:
    tool = {"name": "t", "description": "d", "input_schema": {"type": "object"}}

    def scenario(lib: Any, client: Any) -> None:
        blocks = ({"type": "text", "text": word} for word in ("one", "two"))
        client.messages.create(
            model="m",
            max_tokens=5,
            messages=iter([{"role": "user", "content": blocks}]),
            system=({"type": "text", "text": s} for s in ("be", "brief")),
            tools=(t for t in [tool]),
            stop_sequences=("END", "STOP"),
        )
        client.messages.count_tokens(
            model="m",
            messages=(m for m in _user("hi")),
            tools=iter([tool]),
            system=iter([{"type": "text", "text": "s"}]),
        )
        with client.messages.stream(
            model="m", max_tokens=5, messages=(m for m in _user(iter([{"type": "text", "text": "x"}])))
        ) as stream:
            stream.until_done()

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    assert ours[0]["json"]["messages"][0]["content"] == [
        {"type": "text", "text": "one"},
        {"type": "text", "text": "two"},
    ]


def _files(tmp_path: pathlib.Path) -> dict[str, Callable[[], Any]]:
    png, pdf = tmp_path / "pixel.png", tmp_path / "doc.pdf"
    png.write_bytes(PNG)
    pdf.write_bytes(PDF)
    return {
        "path": lambda: png,
        "open file": lambda: png.open("rb"),
        "BytesIO": lambda: io.BytesIO(PNG),
        "pdf path": lambda: pdf,
    }


@pytest.mark.parametrize("kind", ["path", "open file", "BytesIO", "pdf path"])
def test_file_inputs_are_base64_encoded(fake_claude: FakeClaude, tmp_path: pathlib.Path, kind: str) -> None:
    make = _files(tmp_path)[kind]
    is_pdf = kind == "pdf path"

    def block() -> dict[str, Any]:
        if is_pdf:
            return {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": make()}}
        return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": make()}}

    def scenario(lib: Any, client: Any) -> None:
        client.messages.create(model="m", max_tokens=5, messages=_user([block(), {"type": "text", "text": "what?"}]))
        client.messages.count_tokens(model="m", messages=_user([block()]))
        tool_result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": [block()]}
        client.messages.create(model="m", max_tokens=5, messages=_user([tool_result]))
        client.messages.batches.create(
            requests=[{"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": _user([block()])}}]
        )

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    sent = ours[0]["json"]["messages"][0]["content"][0]["source"]["data"]
    assert base64.b64decode(sent) == (PDF if is_pdf else PNG)
    assert ours[3]["json"]["requests"][0]["params"]["messages"][0]["content"][0]["source"]["data"] == sent


def test_a_path_elsewhere_is_still_refused(fake_claude: FakeClaude, tmp_path: pathlib.Path) -> None:
    client = claude_web.Anthropic(api_key=KEY, base_url=fake_claude.base_url)
    with pytest.raises(TypeError, match="not JSON serializable"):
        client.messages.create(model="m", max_tokens=5, messages=_user("hi"), metadata={"user_id": tmp_path})
    assert fake_claude.requests == []


def test_user_profile_id_is_a_header(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> None:
        client.messages.create(model="m", max_tokens=5, messages=_user("hi"), user_profile_id="up_1")
        with client.messages.stream(model="m", max_tokens=5, messages=_user("hi"), user_profile_id="up_2") as s:
            s.until_done()
        client.messages.count_tokens(model="m", messages=_user("hi"), user_profile_id="up_3")
        client.messages.batches.create(
            requests=[{"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": _user("hi")}}],
            user_profile_id="up_4",
        )
        client.messages.create(
            model="m",
            max_tokens=5,
            messages=_user("hi"),
            user_profile_id="up_5",
            extra_headers={"anthropic-user-profile-id": "from-extra"},
        )

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    assert [w["headers"]["anthropic-user-profile-id"] for w in ours] == ["up_1", "up_2", "up_3", "up_4", "from-extra"]
    assert all("user_profile_id" not in w["json"] for w in ours)


def test_stream_helper_headers(fake_claude: FakeClaude) -> None:
    def scenario(lib: Any, client: Any) -> None:
        with client.messages.stream(model="m", max_tokens=5, messages=_user("hi")) as s:
            s.until_done()
        client.messages.create(model="m", max_tokens=5, messages=_user("hi"), stream=True).close()

    ours, theirs = _both(fake_claude, scenario)
    assert ours == theirs
    assert ours[0]["headers"]["x-stainless-stream-helper"] == "messages"
    assert ours[1]["headers"]["x-stainless-stream-helper"] is None
