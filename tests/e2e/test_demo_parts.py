"""The demo's own pieces without a browser: the calculator tool, the SVG chart, the demo FakeClaude, the choice
between FakeClaude and the real API, and ``run_demo.py``'s start-up checks."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from datetime import date
from types import ModuleType

import pytest
from e2e_helpers import EXAMPLE, ROOT

from claude_web import Anthropic
from claude_web.testing import text

sys.path.insert(0, str(EXAMPLE))

from chat.calculator import CalculatorError, evaluate, find_expression, format_number
from chat.charts import DayUsage, daily_series, usage_chart_svg
from demo_fake import start_demo_fake

CALCULATOR = [
    {
        "name": "calculator",
        "description": "arithmetic",
        "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
    }
]


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("(1234 + 4321) * 3 / 5", "3333"),
        ("2 ** 10", "1024"),
        ("7 // 2 + 7 % 2", "4"),
        ("-3 * -(2 + 1)", "9"),
        ("1 / 3", "0.3333333333"),
        ("2^8", "256"),
    ],
)
def test_calculator_values(expression: str, value: str) -> None:
    assert format_number(evaluate(expression)) == value


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("__import__('os').system('true')", "only numbers"),
        ("1 / 0", "division by zero"),
        ("10 ** 1000", "exponents above"),
        ("", "empty"),
        ("1 +", "not an arithmetic expression"),
        ("9" * 300, "longer than"),
    ],
)
def test_calculator_refuses(expression: str, problem: str) -> None:
    with pytest.raises(CalculatorError, match=problem):
        evaluate(expression)


def test_find_expression() -> None:
    assert find_expression("What is (12.5 + 7) * 3, roughly?") == "(12.5 + 7) * 3"
    assert find_expression("In 2024 I was 30") is None


def test_chart_series_and_svg() -> None:
    series = daily_series(
        [
            (date(2025, 3, 10), "ok", 100),
            (date(2025, 3, 10), "aborted", 20),
            (date(2025, 3, 8), "error", 5),
            (date(2025, 1, 1), "ok", 999),
        ],
        today=date(2025, 3, 10),
        days=3,
    )
    assert [d.day.day for d in series] == [8, 9, 10]
    assert [d.total for d in series] == [5, 0, 120]
    svg = usage_chart_svg(series)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bar ok"') == 1 and svg.count('class="bar aborted"') == 1
    assert svg.count('class="bar error"') == 1
    assert 'data-tokens="100"' in svg and 'data-tokens="999"' not in svg
    empty = usage_chart_svg([DayUsage(date(2025, 3, 10))])
    assert 'class="bar' not in empty


def test_demo_fake_calls_the_calculator_and_answers_from_the_result() -> None:
    fake = start_demo_fake(pace=0.0)
    try:
        with Anthropic(api_key="test", base_url=fake.base_url) as client:
            ask = [{"role": "user", "content": "What is 6 * 7?"}]
            first = client.messages.create(model="claude-haiku-4-5", max_tokens=100, tools=CALCULATOR, messages=ask)
            call = next(b for b in first.content if b.type == "tool_use")
            assert first.stop_reason == "tool_use" and call.input == {"expression": "6 * 7"}
            follow = [
                *ask,
                {"role": "assistant", "content": [b.to_dict() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "42"}]},
            ]
            final = client.messages.create(model="claude-haiku-4-5", max_tokens=100, tools=CALCULATOR, messages=follow)
            assert final.stop_reason == "end_turn" and final.content[0].text.startswith("6 * 7 = 42.")
            plain = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=ask)
            assert all(b.type == "text" for b in plain.content)  # no tools offered: no tool call
            long = client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=900,
                messages=ask,
                system="Write a long, detailed answer in several paragraphs.",
            )
            assert long.content[0].text.count("\n\n") == 4
            fake.queue(text("scripted"))  # scripted replies still win
            assert client.messages.create(model="m", max_tokens=5, messages=ask).content[0].text == "scripted"
    finally:
        fake.stop()


def test_demo_fake_paces_default_streams() -> None:
    fake = start_demo_fake(pace=0.05)
    try:
        with Anthropic(api_key="test", base_url=fake.base_url) as client:
            pieces = 0
            with client.messages.stream(
                model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "Hi there"}]
            ) as stream:
                started = time.monotonic()
                for _ in stream.text_stream:
                    pieces += 1
                elapsed = time.monotonic() - started
        assert pieces >= 5 and elapsed >= pieces * 0.04  # one event per pace interval, not all at once
    finally:
        fake.stop()


def _load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_WEB_FAKE_URL", "DEMO_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("demo_settings_probe", EXAMPLE / "demo_site" / "settings.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_choose_fake_or_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    offline = _load_settings(monkeypatch, CLAUDE_WEB_FAKE_URL="http://127.0.0.1:9999")
    assert offline.CLAUDE_MODE == "fake"
    assert offline.CLAUDE_WEB["CLIENTS"]["default"] == {
        "BACKEND": "fake",
        "OPTIONS": {"base_url": "http://127.0.0.1:9999"},
    }
    assert offline.DEMO_JOBS["REDIS_URL"] is None and offline.DEMO_JOBS["CELERY_APP"] is None
    live = _load_settings(monkeypatch, ANTHROPIC_API_KEY="sk-ant-test", DEMO_REDIS_URL="redis://127.0.0.1:6379/3")
    assert live.CLAUDE_MODE == "anthropic"
    assert live.CLAUDE_WEB["CLIENTS"]["default"]["BACKEND"] == "anthropic"
    assert live.DEMO_JOBS["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert live.DEMO_JOBS["CELERY_APP"] == "demo_site.celery.app"


def test_run_demo_refuses_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(EXAMPLE / "run_demo.py"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(ROOT),
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
