"""Batch results are priced at the batch rate with the configured table (the job client's, or the runner's own).

The Message Batches API is served by an ``httpx.MockTransport``; the job runs in a thread with the memory relay.
Expected costs are worked out by hand and written out.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from claude_web import Anthropic
from claude_web.jobs import ClientRegistry, JobRunner, JobService, ThreadExecutor
from claude_web.pricing import ModelPrice, PriceTable
from claude_web.relay import MemoryRelay
from claude_web.usage import UsageRecord

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}
RESULT_USAGE = {
    "input_tokens": 10_000,
    "output_tokens": 2000,
    "cache_creation_input_tokens": 4000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 3000},
    "cache_read_input_tokens": 1000,
    "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 0},
}


def _batch(ended: bool) -> dict[str, Any]:
    return {
        "id": "msgbatch_p",
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": {
            "processing": 0 if ended else 1,
            "succeeded": int(ended),
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        },
        "created_at": "2026-11-30T00:00:00Z",
        "expires_at": "2026-12-01T00:00:00Z",
        "results_url": "http://batches.test/v1/messages/batches/msgbatch_p/results" if ended else None,
    }


def _api(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "POST" and path == "/v1/messages/batches":
        return httpx.Response(200, json=_batch(False))
    if path == "/v1/messages/batches/msgbatch_p":
        return httpx.Response(200, json=_batch(True))
    if path.endswith("/results"):
        message = {
            "id": "msg_p",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "batched"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": RESULT_USAGE,
        }
        line = {"custom_id": "a", "result": {"type": "succeeded", "message": message}}
        return httpx.Response(200, content=json.dumps(line).encode())
    return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})


def _run_batch(client_pricing: Any, runner_pricing: Any) -> UsageRecord:
    records: list[UsageRecord] = []
    http = httpx.Client(transport=httpx.MockTransport(_api))

    def factory(alias: str) -> Anthropic:
        return Anthropic(api_key="k", base_url="http://batches.test", http_client=http, pricing=client_pricing)

    relay = MemoryRelay()
    clients = ClientRegistry(factory)
    runner = JobRunner(relay, clients, recorder=records.append, batch_poll_interval=0.02, pricing=runner_pricing)
    service = JobService(relay, ThreadExecutor(runner), clients=clients)
    try:
        job = service.start("batch", {"requests": [{"custom_id": "a", "params": PARAMS}]}, owner="alice")
        assert [e.event for e in service.events(job.id, "alice", None, timeout=20)][-1] == "done"
    finally:
        service.close()
    (result,) = [r for r in records if r.operation == "batches.result"]
    return result


@pytest.mark.parametrize("where", ["client", "runner"])
def test_batch_results_use_the_configured_table_at_the_batch_rate(where: str) -> None:
    # a contract price for Sonnet 4.5 with a 40% batch discount and $20 per 1,000 searches
    table = PriceTable(
        {
            "claude-sonnet-4-5": ModelPrice.of(
                "2", "10", "2.5", "0.2", cache_write_1h="4", batch_discount="0.4", web_search_per_1k="20"
            )
        }
    )
    record = _run_batch(table if where == "client" else None, table if where == "runner" else None)
    # 60% of: 10,000 x $2 = $0.012; 2000 x $10 = $0.012; 1000 x $2.50 + 3000 x $4 = $0.0087; 1000 x $0.20 =
    # $0.00012. Searches are not discounted: 3 x $0.02 = $0.06
    assert record.cost_input == Decimal("0.012")
    assert record.cost_output == Decimal("0.012")
    assert record.cost_cache_write == Decimal("0.0087")
    assert record.cost_cache_read == Decimal("0.00012")
    assert record.cost_tools == Decimal("0.06")
    assert record.cost == Decimal("0.09282")
    assert (record.cache_creation_1h_input_tokens, record.web_search_requests) == (3000, 3)


def test_batch_results_use_the_list_prices_by_default() -> None:
    record = _run_batch(None, None)
    # half of: 10,000 x $3 = $0.015; 2000 x $15 = $0.015; 1000 x $3.75 + 3000 x $6 = $0.010875; 1000 x $0.30 =
    # $0.00015; plus 3 searches at $0.01
    assert record.cost_breakdown is not None
    assert (record.cost_input, record.cost_output, record.cost_cache_write) == (
        Decimal("0.015"),
        Decimal("0.015"),
        Decimal("0.010875"),
    )
    assert (record.cost_cache_read, record.cost_tools, record.cost) == (
        Decimal("0.00015"),
        Decimal("0.03"),
        Decimal("0.071025"),
    )
