"""A minimal Django project for bench/relay_readers.py: the jobs views on the Redis relay, owner from ``X-User``.

Configured from the environment: ``BENCH_REDIS_URL``, ``BENCH_PREFIX`` (the relay's key prefix),
``BENCH_HEARTBEAT`` (seconds), ``BENCH_GC_LOG`` (see the end) and ``BENCH_READER`` (``loop``: the relay read on the event loop, what the library
does; ``thread``: each event pulled through the default thread pool, as before, for comparison).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import django
from django.conf import settings


def owner(request: Any) -> str | None:
    return request.headers.get("X-User") or None


if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "claude_web_django"],
        MIDDLEWARE=[],
        ROOT_URLCONF="claude_web_django.jobs",
        DATABASES={},
        CLAUDE_WEB={
            "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": "http://127.0.0.1:9"}}},
            "CHAT": {"LOGIN_REQUIRED": False},
            "JOBS": {
                "REDIS_URL": os.environ["BENCH_REDIS_URL"],
                "KEY_PREFIX": os.environ["BENCH_PREFIX"],
                "HEARTBEAT": float(os.environ.get("BENCH_HEARTBEAT", "5")),
                "OWNER": "_relay_app.owner",
            },
        },
        SILENCED_SYSTEM_CHECKS=["claude_web.W001"],
        LOGGING_CONFIG=None,
    )
    django.setup()

if os.environ.get("BENCH_READER") == "thread":
    from claude_web.jobs import JobService
    from claude_web.web.handlers.common import iterate_in_thread

    def _threaded_asse(self: JobService, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        return iterate_in_thread(self.sse(*args, **kwargs))  # the reader before: a pool thread per next()

    JobService.asse = _threaded_asse  # type: ignore[method-assign]

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()


# the bench's instruments: full (generation 2) GC pauses are written to BENCH_GC_LOG, one "<end time> <ms>" line
# each; SIGUSR1 runs a full collection now; SIGUSR2 freezes the objects alive now (gc.freeze(): later full
# collections skip them)
_gc_log = os.environ.get("BENCH_GC_LOG")
if _gc_log:
    import gc
    import signal
    import time

    _gc_started = [0.0]
    _gc_path: str = _gc_log

    def _gc_timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            _gc_started[0] = time.perf_counter()
        elif info.get("generation") == 2:
            with open(_gc_path, "a") as fh:
                fh.write(f"{time.time():.3f} {(time.perf_counter() - _gc_started[0]) * 1000:.1f}\n")

    gc.callbacks.append(_gc_timer)
    signal.signal(signal.SIGUSR1, lambda signum, frame: gc.collect())
    signal.signal(signal.SIGUSR2, lambda signum, frame: gc.freeze())
