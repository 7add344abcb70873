"""``python -m claude_web.demo``: a smoke run of the client against FakeClaude (or the real API with a key).

Without ``ANTHROPIC_API_KEY`` it starts FakeClaude on a loopback port and talks to it; with the key it makes one
small real call. It prints a non-streamed answer, a streamed answer token by token, a tool call and the usage
records, so a newcomer sees the whole client working in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import Anthropic
from .usage import UsageRecord

__all__ = ["main"]


def _run(client: Anthropic, model: str, out: Any) -> list[UsageRecord]:
    records: list[UsageRecord] = []
    client = client.with_options(usage_recorder=records.append, usage_context={"user": "demo"})
    prompt = [{"role": "user", "content": "Say hello to a new claude-web user in two sentences."}]
    message = client.messages.create(model=model, max_tokens=200, messages=prompt)
    text = "".join(b.text for b in message.content if b.type == "text")
    out.write(f"create   -> {text}\n")
    out.write("stream   -> ")
    with client.messages.stream(model=model, max_tokens=200, messages=prompt) as stream:
        for piece in stream.text_stream:
            out.write(piece)
            out.flush()
    out.write("\n")
    tools = [
        {
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    tooled = client.messages.create(model=model, max_tokens=200, messages=ask, tools=tools)
    calls = [(b.name, b.input) for b in tooled.content if b.type == "tool_use"]
    out.write(f"tool use -> {calls or 'no tool call'}\n")
    for rec in records:
        cost = f"${rec.cost:.6f}" if rec.cost is not None else "unknown"
        out.write(
            f"usage    -> {rec.operation:<16} {rec.status:<6} in={rec.input_tokens} out={rec.output_tokens} "
            f"cost={cost}\n"
        )
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claude_web.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="claude-haiku-4-5")
    args = parser.parse_args(argv)
    if os.environ.get("ANTHROPIC_API_KEY"):
        print("claude-web demo: using the real Anthropic API (ANTHROPIC_API_KEY is set)")
        with Anthropic() as client:
            _run(client, args.model, sys.stdout)
        return 0
    from .testing import FakeClaude

    with FakeClaude() as fake:
        fake.default_event_delay = 0.03  # so the streamed answer visibly arrives token by token
        print(f"claude-web demo: no ANTHROPIC_API_KEY, using FakeClaude at {fake.base_url}")
        with Anthropic(api_key="fake-key", base_url=fake.base_url) as client:
            _run(client, args.model, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
