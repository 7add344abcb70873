"""One benchmark measurement in a fresh process; prints one JSON line.

Run by ``bench/run.py`` with the Python of whichever environment holds the library under test (the latest
``anthropic`` lives in its own venv). Only the standard library, httpx and the library under test are used here.

    python bench/_worker.py LIB SCENARIO BASE_URL N
    LIB: claude_web | anthropic | floor
    SCENARIO: create | stream_events | text_stream | tool_final | concurrent
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

MSG = [{"role": "user", "content": "bench"}]


def client_for(lib: str, base_url: str, async_: bool = False) -> Any:
    if lib == "claude_web":
        import claude_web as mod
    elif lib == "anthropic":
        import anthropic as mod  # type: ignore[no-redef]
    else:
        raise ValueError(lib)
    cls = mod.AsyncAnthropic if async_ else mod.Anthropic
    return cls(api_key="bench-key", base_url=base_url, max_retries=0)


HEADERS = {"x-api-key": "bench-key", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def bench_create(lib: str, base_url: str, n: int) -> dict[str, Any]:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": MSG}
    if lib == "floor":
        import httpx

        http = httpx.Client(base_url=base_url)

        def call() -> Any:
            return json.loads(http.post("/v1/messages", json=body, headers=HEADERS).content)
    else:
        client = client_for(lib, base_url)

        def call() -> Any:
            return client.messages.create(**body)

    for _ in range(50):  # warm up the pool and lazy imports
        call()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        call()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"calls_per_s": n / wall, "cpu_ms_per_call": cpu * 1000 / n}


def _stream_body(marker: str) -> dict[str, Any]:
    # FakeClaude scripts are queued by run.py; the body only has to be valid.
    # max_tokens above any scripted answer: FakeClaude, like the API, cuts an answer at max_tokens
    return {"model": "claude-sonnet-4-5", "max_tokens": 1_000_000, "messages": [{"role": "user", "content": marker}]}


def bench_stream(lib: str, base_url: str, scenario: str) -> dict[str, Any]:
    """run.py queues a small warm-up reply before the measured one: the first call pays one-time costs (pool,
    lazy imports, schema building) for every library alike and is not measured."""
    body = _stream_body("stream")
    if lib == "floor":
        import httpx

        http = httpx.Client(base_url=base_url)

        def once() -> int:
            count = 0
            with http.stream("POST", "/v1/messages", json={**body, "stream": True}, headers=HEADERS) as response:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        json.loads(line[5:])
                        count += 1
            return count
    else:
        client = client_for(lib, base_url)

        def once() -> int:
            count = 0
            if scenario == "stream_events":
                for _event in client.messages.create(**body, stream=True):
                    count += 1
            elif scenario == "text_stream":
                with client.messages.stream(**body) as stream:
                    for _text in stream.text_stream:
                        count += 1
            elif scenario == "tool_final":
                with client.messages.stream(**body) as stream:
                    message = stream.get_final_message()
                count = len(json.dumps(message.content[-1].input))
            return count

    once()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    count = once()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"events": count, "cpu_s": cpu, "wall_s": wall, "events_per_s_cpu": count / cpu if cpu else 0.0}


async def _concurrent(lib: str, base_url: str, streams: int) -> dict[str, Any]:
    body = _stream_body("concurrent")
    errors: list[str] = []
    counts: list[int] = []

    if lib == "floor":
        import httpx

        http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(600, connect=5.0),
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
        )

        async def one() -> None:
            n = 0
            try:
                async with http.stream(
                    "POST", "/v1/messages", json={**body, "stream": True}, headers=HEADERS
                ) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            json.loads(line[5:])
                            n += 1
                counts.append(n)
            except Exception as exc:
                errors.append(type(exc).__name__)
    else:
        client = client_for(lib, base_url, async_=True)

        async def one() -> None:
            n = 0
            try:
                stream = await client.messages.create(**body, stream=True)
                async for _event in stream:
                    n += 1
                counts.append(n)
            except Exception as exc:
                errors.append(type(exc).__name__)

    wall0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    wall = time.perf_counter() - wall0
    return {
        "wall_s": wall,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "completed": len(counts),
        "events": sum(counts),
    }


def main() -> None:
    lib, scenario, base_url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if scenario == "create":
        result = bench_create(lib, base_url, n)
    elif scenario == "concurrent":
        result = asyncio.run(_concurrent(lib, base_url, n))
    else:
        result = bench_stream(lib, base_url, scenario)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
