"""The core never needs django, flask, celery (or the official SDK) to import or to make a call."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)


def test_core_imports_with_frameworks_blocked() -> None:
    result = _run(
        """
        import sys
        for name in ("django", "flask", "celery", "redis", "anthropic", "boto3", "botocore", "google"):
            sys.modules[name] = None  # any import of these now raises ImportError
        import claude_web
        from claude_web import Anthropic, AsyncAnthropic
        from claude_web.types import Message
        from claude_web.lib.streaming import MessageStream
        client = Anthropic(api_key="k", base_url="http://127.0.0.1:9")
        print(type(client).__name__, Message.__name__, MessageStream.__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Anthropic", "Message", "MessageStream"]


def test_import_does_not_load_heavy_optional_modules() -> None:
    result = _run(
        """
        import sys
        import claude_web
        loaded = sorted(m for m in ("django", "flask", "celery", "redis", "boto3", "google.auth", "anthropic")
                        if m in sys.modules)
        print(loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
