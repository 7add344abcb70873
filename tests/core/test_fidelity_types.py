"""Differential tests of the response types against anthropic==0.125.0: every server-tool result block is typed
all the way down, ``construct`` / ``model_construct`` build typed blocks, counts the API did not send stay ``None``,
and ``model_fields_set`` lists fields only."""

from __future__ import annotations

from typing import Any

import anthropic
import pydantic
import pytest

import claude_web
from claude_web.testing import FakeClaude, message

LIBS = (claude_web, anthropic)
USER = [{"role": "user", "content": "Search"}]

DOC = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "page"}, "title": "T"}
OUTPUT = {"type": "code_execution_output", "file_id": "file_1"}
BLOCKS: list[dict[str, Any]] = [
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://a",
                "title": "A",
                "encrypted_content": "e1",
                "page_age": "1d",
            },
            {"type": "web_search_result", "url": "https://b", "title": "B", "encrypted_content": "e2", "future": 1},
        ],
    },
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_2",
        "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"},
    },
    {
        "type": "web_fetch_tool_result",
        "tool_use_id": "srvtoolu_3",
        "content": {"type": "web_fetch_result", "url": "https://a", "content": DOC, "retrieved_at": "2025-01-01"},
        "caller": {"type": "direct"},
    },
    {
        "type": "web_fetch_tool_result",
        "tool_use_id": "srvtoolu_4",
        "content": {"type": "web_fetch_tool_result_error", "error_code": "url_not_accessible"},
    },
    {
        "type": "code_execution_tool_result",
        "tool_use_id": "srvtoolu_5",
        "content": {
            "type": "code_execution_result",
            "content": [OUTPUT],
            "return_code": 0,
            "stderr": "",
            "stdout": "4",
        },
    },
    {
        "type": "code_execution_tool_result",
        "tool_use_id": "srvtoolu_6",
        "content": {
            "type": "encrypted_code_execution_result",
            "content": [],
            "encrypted_stdout": "xx",
            "return_code": 1,
            "stderr": "err",
        },
    },
    {
        "type": "bash_code_execution_tool_result",
        "tool_use_id": "srvtoolu_7",
        "content": {
            "type": "bash_code_execution_result",
            "content": [{"type": "bash_code_execution_output", "file_id": "file_2"}],
            "return_code": 0,
            "stderr": "",
            "stdout": "ok",
        },
    },
    {
        "type": "bash_code_execution_tool_result",
        "tool_use_id": "srvtoolu_8",
        "content": {"type": "bash_code_execution_tool_result_error", "error_code": "unavailable"},
    },
    {
        "type": "text_editor_code_execution_tool_result",
        "tool_use_id": "srvtoolu_9",
        "content": {
            "type": "text_editor_code_execution_view_result",
            "content": "line",
            "file_type": "text",
            "num_lines": 1,
        },
    },
    {
        "type": "text_editor_code_execution_tool_result",
        "tool_use_id": "srvtoolu_10",
        "content": {"type": "text_editor_code_execution_str_replace_result", "lines": ["a"], "new_start": 3},
    },
    {
        "type": "text_editor_code_execution_tool_result",
        "tool_use_id": "srvtoolu_11",
        "content": {"type": "text_editor_code_execution_create_result", "is_file_update": False},
    },
    {
        "type": "text_editor_code_execution_tool_result",
        "tool_use_id": "srvtoolu_12",
        "content": {"type": "text_editor_code_execution_tool_result_error", "error_code": "file_not_found"},
    },
    {
        "type": "tool_search_tool_result",
        "tool_use_id": "srvtoolu_13",
        "content": {
            "type": "tool_search_tool_search_result",
            "tool_references": [{"type": "tool_reference", "tool_name": "get_weather"}],
        },
    },
    {
        "type": "tool_search_tool_result",
        "tool_use_id": "srvtoolu_14",
        "content": {"type": "tool_search_tool_result_error", "error_code": "unavailable", "error_message": "m"},
    },
    {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "f",
        "input": {},
        "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_5"},
    },
    {"type": "container_upload", "file_id": "file_3"},
    {"type": "text", "text": "Done.", "extra_key": True},
]
USAGE = {"server_tool_use": {"web_search_requests": 2}, "output_tokens_details": {}}


def shape(value: Any) -> Any:
    """The class names of a parsed value, all the way down (plain values by their Python type)."""
    if isinstance(value, pydantic.BaseModel):
        fields = {name: shape(getattr(value, name)) for name in type(value).model_fields}
        return (type(value).__name__, fields, {k: shape(v) for k, v in (value.model_extra or {}).items()})
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


def _fetch(fake: FakeClaude) -> list[Any]:
    out = []
    for lib in LIBS:
        fake.clear()
        fake.queue(message(BLOCKS, usage=USAGE))
        client = lib.Anthropic(api_key="k", base_url=fake.base_url)
        out.append(client.messages.create(model="m", max_tokens=50, messages=USER))
    return out


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # raised by anthropic's models
def test_server_tool_results_are_typed_all_the_way_down(fake_claude: FakeClaude) -> None:
    ours, theirs = _fetch(fake_claude)
    assert [shape(b) for b in ours.content] == [shape(b) for b in theirs.content]
    assert ours.to_dict()["content"] == theirs.to_dict()["content"] == BLOCKS
    search = ours.content[1]
    assert isinstance(search, claude_web.types.WebSearchToolResultBlock)
    assert isinstance(search.content, list) and isinstance(search.content[0], claude_web.types.WebSearchResultBlock)
    assert search.content[0].url == "https://a"


def test_counts_not_sent_stay_none(fake_claude: FakeClaude) -> None:
    ours, theirs = _fetch(fake_claude)
    for msg in (ours, theirs):
        assert msg.usage.server_tool_use is not None and msg.usage.output_tokens_details is not None
    assert ours.usage.server_tool_use.web_search_requests == theirs.usage.server_tool_use.web_search_requests == 2
    assert ours.usage.server_tool_use.web_fetch_requests is None
    assert theirs.usage.server_tool_use.web_fetch_requests is None
    assert ours.usage.output_tokens_details.thinking_tokens is theirs.usage.output_tokens_details.thinking_tokens
    assert ours.usage.to_dict() == theirs.usage.to_dict()


def test_model_fields_set_lists_fields_not_extras(fake_claude: FakeClaude) -> None:
    data = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "usage": {"input_tokens": 1, "output_tokens": 2, "usage_extra": 3},
        "top_extra": "x",
    }
    ours = claude_web.types.Message.model_validate(data)
    theirs = anthropic._models.construct_type(type_=anthropic.types.Message, value=data)  # how anthropic parses
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.usage.model_fields_set == theirs.usage.model_fields_set == {"input_tokens", "output_tokens"}
    assert ours.to_dict() == theirs.to_dict() == data  # extras are still kept and dumped
    fetched = _fetch(fake_claude)[0]
    text_block = fetched.content[-1]
    assert "extra_key" not in text_block.model_fields_set and text_block.model_extra == {"extra_key": True}


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
@pytest.mark.parametrize("method", ["construct", "model_construct"])
def test_construct_builds_typed_blocks(method: str) -> None:
    data = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": BLOCKS,
        "usage": {"input_tokens": 1, "output_tokens": 2},
        "stop_reason": "end_turn",
    }
    ours = getattr(claude_web.types.Message, method)(**data)
    theirs = getattr(anthropic.types.Message, method)(**data)
    assert shape(ours) == shape(theirs)
    assert ours.to_dict() == theirs.to_dict()
    assert ours.model_fields_set == theirs.model_fields_set


def test_construct_is_loose_where_data_is_partial() -> None:
    data = {"id": "msg_1", "content": [{"type": "text"}, {"type": "tool_use", "id": "t", "name": "f"}], "usage": {}}
    ours = claude_web.types.Message.construct(**data)
    theirs = anthropic.types.Message.construct(**data)
    assert shape(ours) == shape(theirs)
    assert ours.model_fields_set == theirs.model_fields_set == {"id", "content", "usage"}
    assert ours.stop_reason is None and ours.role is None  # not given: the default, None for a required field
