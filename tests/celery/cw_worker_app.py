"""The Celery app the tests start real workers with: ``celery -A cw_worker_app worker ...``.

Everything comes from the environment the test sets: ``CW_TEST_REDIS_URL`` (broker and relay), ``CW_TEST_PREFIX``
(the relay's key prefix, the broker's key prefix and the queue name, so concurrent test runs never meet) and
``CLAUDE_WEB_CLIENTS`` (the FakeClaude URL and a test key that must never leak into a job's data).
"""

from __future__ import annotations

import json
import os
from typing import Any

import redis
from celery import Celery

from claude_web.celery import async_client, register_tasks, run_async
from claude_web.jobs import JobsConfig
from claude_web.usage import UsageRecord

REDIS_URL = os.environ.get("CW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PREFIX = os.environ.get("CW_TEST_PREFIX", "cwtest")


def make_app(redis_url: str, prefix: str) -> Celery:
    app = Celery(f"cw-{prefix}", broker=redis_url, backend=redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{prefix}-queue",
        broker_transport_options={"global_keyprefix": f"{prefix}:broker:", "visibility_timeout": 3600},
        result_backend_transport_options={"global_keyprefix": f"{prefix}:results:"},
        result_expires=600,
        broker_connection_retry_on_startup=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
    )
    return app


def jobs_config(redis_url: str, prefix: str) -> JobsConfig:
    return JobsConfig(
        redis_url=redis_url,
        key_prefix=prefix,
        usage_recorder=record_usage,
        max_retries=4,
        retry_backoff=0.05,
        retry_backoff_max=0.5,
        batch_poll_interval=0.1,
        ttl=120,
    )


_redis: dict[int, Any] = {}


def record_usage(record: UsageRecord) -> None:
    """The project's recorder in these tests: every record becomes one entry of a Redis list."""
    client = _redis.get(os.getpid())
    if client is None:
        client = _redis[os.getpid()] = redis.Redis.from_url(REDIS_URL)
    client.rpush(f"{PREFIX}:usage", json.dumps(record.to_dict(), default=str))


app = make_app(REDIS_URL, PREFIX)
register_tasks(app, config=lambda: jobs_config(REDIS_URL, PREFIX))


@app.task(name="cw_test.async_twice")
def async_twice() -> dict[str, Any]:
    """Two ``asyncio.run`` calls in one task (and one worker process), each using ``async_client()``."""

    async def once() -> tuple[str, int]:
        client = async_client()
        message = await client.messages.create(
            model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
        return message.content[0].text, id(client)  # type: ignore[union-attr]

    first = run_async(once)
    second = run_async(once)
    return {"pid": os.getpid(), "texts": [first[0], second[0]], "distinct_clients": first[1] != second[1]}


@app.task(name="cw_test.pid")
def pid() -> int:
    return os.getpid()
