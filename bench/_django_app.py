"""A minimal Django project for bench/django_stream.py: the chat views, no login, no CSRF, usage rows on SQLite.

Configured from the environment: ``BENCH_FAKE_URL`` (FakeClaude), ``BENCH_DB`` (SQLite file), ``BENCH_MAX_STREAMS``
(``STREAMING["MAX_STREAMS"]``, unset: no cap), ``BENCH_NO_GATE`` (plain Django ASGI, without claude-web's capacity
gate). ``application`` is the ASGI app, ``wsgi_application`` the WSGI one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "claude_web_django"],
        MIDDLEWARE=["claude_web_django.middleware.ClaudeMiddleware"],
        ROOT_URLCONF="claude_web_django.urls",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ["BENCH_DB"],
                "OPTIONS": {"timeout": 30},
            }
        },
        CLAUDE_WEB={
            "CLIENTS": {
                "default": {"BACKEND": "fake", "OPTIONS": {"base_url": os.environ["BENCH_FAKE_URL"], "max_retries": 0}}
            },
            "CHAT": {"LOGIN_REQUIRED": False, "MODELS": ["claude-haiku-4-5"], "DEFAULT_MODEL": "claude-haiku-4-5"},
            "STREAMING": {
                "HEARTBEAT": 15.0,
                "MAX_STREAMS": int(os.environ["BENCH_MAX_STREAMS"]) if os.environ.get("BENCH_MAX_STREAMS") else None,
            },
        },
        SILENCED_SYSTEM_CHECKS=["claude_web.W001"],
        LOGGING_CONFIG=None,
    )
    django.setup()
    # a 503 for a full process is the designed answer: keep Django from logging each one as an error
    logging.getLogger("django.request").setLevel(logging.CRITICAL)

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

if os.environ.get("BENCH_NO_GATE"):
    django_asgi = get_asgi_application()
else:  # what the README recommends: a full process refuses streams before Django's request machinery
    from claude_web_django.asgi import get_asgi_application as gated_asgi_application

    django_asgi = gated_asgi_application(paths=["/chat/", "/achat/"])  # the URLconf is claude_web_django.urls
wsgi_application = get_wsgi_application()


def _watch_lag(loop: asyncio.AbstractEventLoop) -> None:
    """Every 5 s, print how late the serving loop ran a callback (every 0.1 s) in that window."""
    lags: list[float] = []
    window = time.monotonic()
    while True:
        sent = time.monotonic()
        ran = threading.Event()
        loop.call_soon_threadsafe(ran.set)
        ran.wait()
        lags.append(time.monotonic() - sent)
        if time.monotonic() - window >= 5 and lags:
            lags.sort()
            print(
                f"server loop lag: p50 {lags[len(lags) // 2] * 1000:.0f} ms, p99 "
                f"{lags[int(len(lags) * 0.99)] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
            lags, window = [], time.monotonic()
        time.sleep(0.1)


_lag_watch: list[threading.Thread] = []


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Django's ASGI app; with ``BENCH_LAG`` set, the first request starts the loop-lag watch."""
    if os.environ.get("BENCH_LAG") and not _lag_watch:
        _lag_watch.append(threading.Thread(target=_watch_lag, args=(asyncio.get_running_loop(),), daemon=True))
        _lag_watch[0].start()
    await django_asgi(scope, receive, send)


if os.environ.get("BENCH_GC_THRESHOLD"):  # e.g. "50000": fewer collections of a young generation full of streams
    import gc

    gc.freeze()  # the objects of a started app live as long as the process: out of every collection
    gc.set_threshold(int(os.environ["BENCH_GC_THRESHOLD"]), 20, 100)
