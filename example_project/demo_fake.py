"""FakeClaude for the demo: paced default replies, long answers on request, and calculator tool calls.

``python example_project/demo_fake.py --port 0 --pace 0.06`` prints ``FakeClaude listening on http://HOST:PORT``
(like ``python -m claude_web.testing``) and serves until SIGINT/SIGTERM. Scripted replies queued through the
control API (``FakeClaude.connect(url).queue(...)``) still win; only unscripted requests get the demo behaviour:

- every default answer streams one event per ``--pace`` seconds (FakeClaude's ``default_event_delay``), so the
  browser visibly fills in token by token;
- a system prompt that asks for paragraphs gets a several-paragraph answer (the long-task page asks for one);
- a request offering the ``calculator`` tool whose question contains arithmetic gets a ``tool_use`` call, and the
  follow-up request carrying the ``tool_result`` gets a final answer quoting the result.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat.calculator import find_expression

from claude_web.testing import FakeApp, FakeClaude, MessageReply, text, tool_use

__all__ = ["DemoFakeApp", "main", "start_demo_fake"]

_PARAGRAPHS = [
    "To begin with, it helps to pin down what {topic} actually involves. Most of the confusion around it comes "
    "from mixing up the goal with the method, so it is worth naming both before going any further.",
    "Next, consider the practical side. A small, concrete example usually reveals the trade-offs faster than any "
    "amount of theory: start with the simplest version that works, measure it, and only then refine it.",
    "There are also a few common pitfalls. People tend to optimise too early, skip writing down their "
    "assumptions, and underestimate how much a clear name or a short note saves them a month later.",
    "Finally, keep the feedback loop short. Whatever you decide about {topic}, revisit it once you have real "
    "results; the second version is almost always better than the first, and much cheaper than a third.",
]


def _last_user(body: dict[str, Any]) -> dict[str, Any] | None:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return None


def _plain_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _tool_results(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def _offers_calculator(body: dict[str, Any]) -> bool:
    return any(isinstance(t, dict) and t.get("name") == "calculator" for t in body.get("tools") or [])


def _expression_of(body: dict[str, Any], tool_use_id: str) -> str:
    for message in body.get("messages") or []:
        if (
            isinstance(message, dict)
            and message.get("role") == "assistant"
            and isinstance(message.get("content"), list)
        ):
            for block in message["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("id") == tool_use_id:
                    return str((block.get("input") or {}).get("expression", "the expression"))
    return "the expression"


class DemoFakeApp(FakeApp):
    """FakeClaude's app with the demo's default behaviour (see the module docstring)."""

    def __init__(self, pace: float = 0.06) -> None:
        super().__init__()
        self.default_event_delay = pace  # also settable later: FakeClaude.connect(url).set_default_event_delay()

    def build_message(self, body: dict[str, Any], reply: MessageReply | None) -> tuple[dict[str, Any], MessageReply]:
        if reply is None:
            reply = self.demo_reply(body)
        return super().build_message(body, reply)

    def demo_reply(self, body: dict[str, Any]) -> MessageReply:
        last = _last_user(body) or {}
        results = _tool_results(last.get("content"))
        if results and _offers_calculator(body):
            first = results[0]
            value = _plain_text(first.get("content")) or str(first.get("content", ""))
            expression = _expression_of(body, str(first.get("tool_use_id", "")))
            if first.get("is_error"):
                answer = f"The calculator could not evaluate {expression}: {value}"
            else:
                answer = f"{expression} = {value}. The calculator worked that out exactly, so you can rely on it."
            return text(answer, event_delay=self.default_event_delay)
        question = _plain_text(last.get("content"))
        expression = find_expression(question) if _offers_calculator(body) else None
        if expression:
            return tool_use(
                "calculator",
                {"expression": expression},
                text="Let me work that out with the calculator.",
                event_delay=self.default_event_delay,
            )
        default, _ = super().build_message(body, None)
        answer = "".join(b.get("text", "") for b in default["content"] if b.get("type") == "text")
        system = body.get("system")
        if isinstance(system, str) and "paragraph" in system.lower():
            topic = " ".join(question.split()[:8]).rstrip("?.!") or "this"
            if topic[:1].isupper() and not topic[1:2].isupper():
                topic = topic[0].lower() + topic[1:]
            answer = "\n\n".join([answer, *(p.format(topic=topic) for p in _PARAGRAPHS)])
        return text(answer, event_delay=self.default_event_delay)


def start_demo_fake(host: str = "127.0.0.1", port: int = 0, pace: float = 0.06) -> FakeClaude:
    """A started FakeClaude serving :class:`DemoFakeApp` (stop it with ``.stop()``)."""
    fake = FakeClaude(host, port)
    fake.app = DemoFakeApp(pace)
    return fake.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="FakeClaude with the demo's paced replies and calculator calls.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    parser.add_argument("--pace", type=float, default=0.06, help="seconds between stream events (default 0.06)")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake = start_demo_fake(args.host, args.port, args.pace)
    try:
        print(f"FakeClaude listening on {fake.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
