"""OpenTelemetry in the client: one GenAI span per usage record with the same counts and ids, retries and the
first token as span events, the GenAI client metrics with exemplars of the same span, content only on opt-in,
and nothing at all while no provider is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from claude_web import Anthropic, AsyncAnthropic, BadRequestError
from claude_web import otel as cw_otel
from claude_web.testing import error, text, tool_use
from claude_web.usage import UsageRecord

ROOT = Path(__file__).resolve().parents[2]
MODEL = "claude-haiku-4-5"
HI = [{"role": "user", "content": "Hello there"}]
# long enough to be cached by FakeClaude for this model (4 characters a token)
CACHED_SYSTEM = [{"type": "text", "text": "Rules of the house. " * 900, "cache_control": {"type": "ephemeral"}}]


def _client(fake: Any, records: list[UsageRecord] | None, **options: Any) -> Anthropic:
    recorder = records.append if records is not None else None
    return Anthropic(api_key="sk-test", base_url=fake.base_url, usage_recorder=recorder, **options)


def _span_of(harness: Any, record: UsageRecord) -> Any:
    spans = [s for s in harness.call_spans() if s.attributes["claude_web.usage.record_id"] == record.id]
    assert len(spans) == 1, f"{len(spans)} spans for record {record.id}"
    return spans[0]


def _assert_same_counts(span: Any, record: UsageRecord) -> None:
    attrs = span.attributes
    cached = record.cache_creation_input_tokens + record.cache_read_input_tokens
    assert attrs["gen_ai.usage.input_tokens"] == record.input_tokens + cached
    assert attrs["gen_ai.usage.output_tokens"] == record.output_tokens
    # cache counts are there when not 0 (absent means 0)
    assert attrs.get("gen_ai.usage.cache_creation.input_tokens", 0) == record.cache_creation_input_tokens
    assert attrs.get("gen_ai.usage.cache_read.input_tokens", 0) == record.cache_read_input_tokens
    for name, count in (("creation", record.cache_creation_input_tokens), ("read", record.cache_read_input_tokens)):
        assert (f"gen_ai.usage.cache_{name}.input_tokens" in attrs) is (count > 0)
    # the status is there when not ok (absent means ok)
    assert attrs.get("claude_web.usage.status", "ok") == record.status
    assert ("claude_web.usage.status" in attrs) is (record.status != "ok")
    assert record.context["trace_id"] == format(span.context.trace_id, "032x")
    assert record.context["span_id"] == format(span.context.span_id, "016x")


def test_every_record_has_exactly_one_span_with_its_counts(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records, max_retries=0)
    client.messages.create(model=MODEL, max_tokens=64, system=CACHED_SYSTEM, messages=HI)  # writes the cache
    client.messages.create(model=MODEL, max_tokens=64, system=CACHED_SYSTEM, messages=HI)  # reads it
    with client.messages.stream(model=MODEL, max_tokens=64, messages=HI) as stream:
        stream.until_done()
    for _ in client.messages.create(model=MODEL, max_tokens=64, messages=HI, stream=True):
        pass
    with client.messages.stream(model=MODEL, max_tokens=400, messages=HI) as stream:
        next(iter(stream.text_stream))  # closed early: aborted, output estimated
    client.messages.count_tokens(model=MODEL, messages=HI)
    client.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HI).parse()
    fake_claude.queue(error(400, message="bad"))
    with pytest.raises(BadRequestError):
        client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "x"}])

    assert len(records) == 8
    assert len(otel.call_spans()) == len(records)
    for record in records:
        span = _span_of(otel, record)
        _assert_same_counts(span, record)
        assert span.attributes.get("claude_web.usage.estimated", False) is record.estimated
    statuses = [r.status for r in records]
    assert statuses.count("aborted") == 1 and statuses.count("error") == 1
    assert records[1].cache_read_input_tokens > 0 and records[0].cache_creation_input_tokens > 0


def test_span_follows_the_conventions(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    fake_claude.queue(tool_use("get_weather", {"city": "Paris"}, text="Let me look."))
    message = client.messages.create(
        model=MODEL,
        max_tokens=300,
        temperature=0.5,
        top_p=0.9,
        top_k=5,
        stop_sequences=["END"],
        messages=HI,
        tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
    )
    span = _span_of(otel, records[0])
    attrs = span.attributes
    assert span.name == f"chat {MODEL}"
    assert span.kind.name == "CLIENT"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.system"] == "anthropic" and "gen_ai.provider.name" not in attrs
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.response.model"] == message.model
    assert attrs["gen_ai.request.max_tokens"] == 300
    assert attrs["gen_ai.request.temperature"] == 0.5
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.top_k"] == 5
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.response.id"] == message.id
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == int(fake_claude.base_url.rsplit(":", 1)[1].strip("/"))
    assert attrs["claude_web.operation"] == "messages.create"
    assert attrs["claude_web.upstream.request_id"] == records[0].request_id
    assert attrs["claude_web.usage.cost"] == pytest.approx(float(records[0].cost))
    assert span.status.is_ok
    # prompts and answers stay out unless the user opts in
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output")) for key in attrs)
    assert not [e for e in span.events if e.name.startswith("gen_ai.")]


def test_retries_are_events_on_the_one_span(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records, max_retries=2)
    fake_claude.queue(error(529, headers={"retry-after-ms": "5"}), error(429, headers={"retry-after-ms": "5"}))
    client.messages.create(model=MODEL, max_tokens=32, messages=HI)
    span = _span_of(otel, records[0])
    retries = [e for e in span.events if e.name == "claude_web.retry"]
    assert [e.attributes["http.response.status_code"] for e in retries] == [529, 429]
    assert [e.attributes["claude_web.retry.number"] for e in retries] == [1, 2]
    assert retries[0].attributes["claude_web.retry.delay_s"] == pytest.approx(0.005)
    assert span.attributes["claude_web.retry.count"] == 2


def test_error_sets_status_and_error_type(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records, max_retries=0)
    fake_claude.queue(error(529))
    with pytest.raises(Exception, match="529|overloaded"):
        client.messages.create(model=MODEL, max_tokens=32, messages=HI)
    span = _span_of(otel, records[0])
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == records[0].error_type == "overloaded_error"
    assert "gen_ai.response.id" not in span.attributes
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "overloaded_error"


def test_stream_has_first_token_event_and_metric(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    fake_claude.queue(text("one two three four", chunks=4))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=HI) as stream:
        stream.until_done()
    client.messages.create(model=MODEL, max_tokens=64, messages=HI)  # not a stream: no first-chunk point
    span = _span_of(otel, records[0])
    (first,) = [e for e in span.events if e.name == "claude_web.first_token"]
    assert first.attributes["claude_web.time_to_first_token_ms"] == pytest.approx(records[0].time_to_first_token_ms)
    (ttfc,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1
    assert ttfc.sum == pytest.approx(records[0].time_to_first_token_ms / 1000)


def test_metrics_carry_the_span_ids_as_exemplars(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    client.messages.create(model=MODEL, max_tokens=64, messages=HI)
    record = records[0]
    span = _span_of(otel, record)
    metrics = otel.metrics()  # one collection: each carries the exemplars gathered since the last
    tokens = {p.attributes["gen_ai.token.type"]: p for p in metrics["gen_ai.client.token.usage"]}
    assert tokens["input"].sum == span.attributes["gen_ai.usage.input_tokens"]
    assert tokens["output"].sum == record.output_tokens
    assert tokens["input"].attributes["gen_ai.system"] == "anthropic"
    assert tokens["input"].attributes["gen_ai.request.model"] == MODEL
    (duration,) = metrics["gen_ai.client.operation.duration"]
    assert duration.sum == pytest.approx(record.latency_ms / 1000)
    assert "error.type" not in duration.attributes
    (cost,) = metrics["claude_web.usage.cost"]
    assert cost.value == pytest.approx(float(record.cost))
    for point in (tokens["input"], tokens["output"], duration, cost):
        (exemplar,) = point.exemplars
        assert format(exemplar.trace_id, "032x") == record.context["trace_id"]
        assert format(exemplar.span_id, "016x") == record.context["span_id"]


def test_call_nests_under_the_current_span_or_the_carried_one(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    with otel.tracer.start_as_current_span("POST /chat") as request_span:
        client.messages.create(model=MODEL, max_tokens=16, messages=HI)
        carried = cw_otel.carrier()
    # later, outside the request's context (a streamed WSGI body): the carrier in the usage context is the parent
    client.with_options(usage_context={cw_otel.PARENT_KEY: carried}).messages.create(
        model=MODEL, max_tokens=16, messages=HI
    )
    first, second = (_span_of(otel, r) for r in records)
    assert first.parent.span_id == request_span.get_span_context().span_id
    assert second.parent.span_id == request_span.get_span_context().span_id
    assert second.context.trace_id == request_span.get_span_context().trace_id
    assert all(cw_otel.PARENT_KEY not in r.context for r in records)


def test_calls_sharing_a_shape_keep_their_own_attributes(
    otel: Any, fake_claude: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What calls of one operation, model and endpoint share is built once: one call's per-call attributes (the
    request's, the usage context's, the answer's) never show on the next, and a change of model or conventions
    gets its own name and keys."""
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    client.with_options(usage_context={"alias": "support", "job_id": "job-1"}).messages.create(
        model=MODEL, max_tokens=16, temperature=0.2, messages=HI
    )
    client.messages.create(model=MODEL, max_tokens=32, messages=HI)
    client.messages.create(model="claude-haiku-4-5", max_tokens=16, messages=HI)
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    cw_otel.refresh()
    client.messages.create(model=MODEL, max_tokens=16, messages=HI)
    first, second, other_model, latest = (_span_of(otel, r) for r in records)
    assert first.attributes["claude_web.alias"] == "support" and first.attributes["claude_web.job_id"] == "job-1"
    assert first.attributes["gen_ai.request.temperature"] == 0.2
    assert not {"claude_web.alias", "claude_web.job_id", "gen_ai.request.temperature"} & set(second.attributes)
    assert (first.attributes["gen_ai.request.max_tokens"], second.attributes["gen_ai.request.max_tokens"]) == (16, 32)
    assert first.attributes[cw_otel.RECORD_ID] != second.attributes[cw_otel.RECORD_ID]
    assert (first.name, other_model.name) == (f"chat {MODEL}", "chat claude-haiku-4-5")
    assert other_model.attributes["gen_ai.request.model"] == "claude-haiku-4-5"
    assert latest.attributes["gen_ai.provider.name"] == "anthropic" and "gen_ai.system" not in latest.attributes
    assert second.attributes["gen_ai.system"] == "anthropic" and "gen_ai.provider.name" not in second.attributes
    assert second.attributes["server.address"] == "127.0.0.1"
    # the endpoint follows the client's base URL when it is changed
    client.base_url = fake_claude.base_url.replace("127.0.0.1", "localhost")
    client.messages.create(model=MODEL, max_tokens=16, messages=HI)
    moved = _span_of(otel, records[-1])
    assert moved.attributes["server.address"] == "localhost"
    assert moved.attributes["server.port"] == second.attributes["server.port"]


def test_a_client_without_a_recorder_is_traced_too(otel: Any, fake_claude: Any) -> None:
    client = _client(fake_claude, None)
    client.messages.create(model=MODEL, max_tokens=16, messages=HI)
    (span,) = otel.call_spans()
    assert span.attributes["gen_ai.usage.output_tokens"] > 0


async def test_async_client(otel: Any, fake_claude: Any) -> None:
    records: list[UsageRecord] = []
    async with AsyncAnthropic(api_key="sk-test", base_url=fake_claude.base_url, usage_recorder=records.append) as c:
        await c.messages.create(model=MODEL, max_tokens=16, messages=HI)
        async with c.messages.stream(model=MODEL, max_tokens=16, messages=HI) as stream:
            await stream.until_done()
    assert len(records) == 2
    for record in records:
        _assert_same_counts(_span_of(otel, record), record)


def test_content_on_opt_in_v1_36(otel: Any, fake_claude: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    cw_otel.refresh()
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    fake_claude.queue(text("Bonjour"), text("Salut"))
    client.messages.create(model=MODEL, max_tokens=16, system="Be brief.", messages=HI)
    with client.messages.stream(model=MODEL, max_tokens=16, messages=HI) as stream:
        stream.until_done()
    for record, answer in zip(records, ("Bonjour", "Salut"), strict=True):
        events = {e.name: e.attributes for e in _span_of(otel, record).events}
        assert events["gen_ai.user.message"]["content"] == "Hello there"
        assert events["gen_ai.user.message"]["gen_ai.system"] == "anthropic"
        choice = events["gen_ai.choice"]
        assert json.loads(choice["message"]) == {"role": "assistant", "content": answer}
        assert choice["finish_reason"] == "stop"
    assert {e.name: e.attributes for e in _span_of(otel, records[0]).events}["gen_ai.system.message"][
        "content"
    ] == "Be brief."


def test_latest_conventions_on_opt_in(otel: Any, fake_claude: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai_latest_experimental")
    cw_otel.refresh()
    records: list[UsageRecord] = []
    client = _client(fake_claude, records)
    client.messages.create(model=MODEL, max_tokens=16, messages=HI)
    attrs = _span_of(otel, records[0]).attributes
    assert attrs["gen_ai.provider.name"] == "anthropic" and "gen_ai.system" not in attrs
    assert "gen_ai.input.messages" not in attrs  # still no content without the content opt-in
    (point,) = otel.points("gen_ai.client.operation.duration")
    assert point.attributes["gen_ai.provider.name"] == "anthropic"

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    cw_otel.refresh()
    fake_claude.queue(tool_use("get_weather", {"city": "Paris"}, text="Checking."))
    history = [
        *HI,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]},
    ]
    with client.messages.stream(model=MODEL, max_tokens=200, system="Be brief.", messages=history) as stream:
        stream.until_done()
    attrs = _span_of(otel, records[1]).attributes
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    inputs = json.loads(attrs["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[1]["parts"] == [{"type": "tool_call", "id": "toolu_1", "name": "f", "arguments": {"a": 1}}]
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": "toolu_1", "response": "42"}]
    (output,) = json.loads(attrs["gen_ai.output.messages"])
    assert output["finish_reason"] == "tool_call"
    assert output["parts"][0] == {"type": "text", "content": "Checking."}
    assert output["parts"][1]["type"] == "tool_call" and output["parts"][1]["arguments"] == {"city": "Paris"}


def test_telemetry_that_fails_never_breaks_the_call(otel: Any, fake_claude: Any) -> None:
    class Broken:
        def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
            return self

        def start_span(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("exporter misconfigured")

    cw_otel.configure(tracer_provider=Broken())
    records: list[UsageRecord] = []
    message = _client(fake_claude, records).messages.create(model=MODEL, max_tokens=16, messages=HI)
    assert message.content and records[0].status == "ok"
    assert "span_id" not in records[0].context


_NO_PROVIDER = """
import json, sys, time
{block}
import claude_web
from claude_web import otel
records = []
client = claude_web.Anthropic(api_key="k", base_url=sys.argv[1], usage_recorder=records.append)
client.messages.create(model="claude-haiku-4-5", max_tokens=16, messages=[{{"role": "user", "content": "hi"}}])
with client.messages.stream(model="claude-haiku-4-5", max_tokens=16, messages=[{{"role": "user", "content": "hi"}}]) as s:
    s.until_done()
out = {{"enabled": otel.enabled(), "contexts": [r.context for r in records], "statuses": [r.status for r in records]}}
{after}
print(json.dumps(out))
"""

_SDK_AFTER = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)   # installed only after the calls
out["exported_before"] = len(exporter.get_finished_spans())
time.sleep(1.1)                       # the next call looks at the providers again
client.messages.create(model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
out["exported_after"] = [s.attributes["claude_web.usage.record_id"] == records[-1].id for s in exporter.get_finished_spans()]
"""


def _run(fake: Any, block: str = "", after: str = "") -> dict[str, Any]:
    code = _NO_PROVIDER.format(block=block, after=after)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", code, fake.base_url], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_nothing_is_recorded_or_exported_without_a_provider(fake_claude: Any) -> None:
    result = _run(fake_claude, after=_SDK_AFTER)
    assert result["enabled"] is False
    assert result["statuses"] == ["ok", "ok"]
    assert result["contexts"] == [{}, {}]  # no trace ids: no span was made
    assert result["exported_before"] == 0
    assert result["exported_after"] == [True]  # a provider set later is picked up, for new calls only


def test_without_opentelemetry_installed(fake_claude: Any) -> None:
    block = "sys.modules['opentelemetry'] = None  # as if the package were not installed"
    result = _run(fake_claude, block=block)
    assert result == {"enabled": False, "contexts": [{}, {}], "statuses": ["ok", "ok"]}


def test_import_claude_web_does_not_import_opentelemetry() -> None:
    code = textwrap.dedent(
        """
        import sys, claude_web, claude_web.otel, claude_web.web.runtime, claude_web.jobs
        print("opentelemetry" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr
