"""Where one event loop's time goes when it holds thousands of upstream streams: httpcore's pool bookkeeping.

    python bench/upstream_pool.py [--streams 2000] [--pool default|sized|sharded] [--events 30] [--delay 0.5]

``--streams`` streams from ONE ``httpx.AsyncClient`` to FakeClaude (its own process), all at once. ``--pool``:
``default`` is the library's default pool (1000 connections: the surplus streams queue inside httpcore),
``sized`` one pool with room for every stream, ``sharded`` what the web layer's registry builds
(:func:`claude_web.web.pool.pooled_http_client`: shards of 128). Reports errors, wall time, the time spent in
``AsyncConnectionPool._assign_requests_to_connections`` (httpcore rescans its connections there each time a
request starts or ends), and the CPU time of both processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from httpcore._async.connection_pool import AsyncConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _crowd import ROOT, queue_replies, start_fake, stop

from claude_web._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from claude_web.web.pool import PoolSettings, pooled_http_client

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "x"}]}

spent = [0.0, 0]
_assign = AsyncConnectionPool._assign_requests_to_connections


def _timed(self: AsyncConnectionPool) -> list:  # type: ignore[type-arg]
    started = time.perf_counter()
    try:
        return _assign(self)
    finally:
        spent[0] += time.perf_counter() - started
        spent[1] += 1


AsyncConnectionPool._assign_requests_to_connections = _timed  # type: ignore[method-assign]


def client(kind: str, streams: int) -> httpx.AsyncClient:
    if kind == "default":
        return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=DEFAULT_CONNECTION_LIMITS)
    if kind == "sized":
        return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=PoolSettings().limits(streams))
    made = pooled_http_client(PoolSettings(), streams, asynchronous=True)
    assert isinstance(made, httpx.AsyncClient)
    return made


async def crowd(url: str, kind: str, streams: int, errors: Counter[str]) -> float:
    async def one(http: httpx.AsyncClient) -> None:
        try:
            async with http.stream("POST", f"{url}/v1/messages", json=BODY, headers=HEADERS) as response:
                async for _ in response.aiter_bytes():
                    pass
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1

    async with client(kind, streams) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(http) for _ in range(streams)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--pool", choices=["default", "sized", "sharded"], default="sharded")
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    fake_proc, url, fake = start_fake(env)
    try:
        queue_replies(fake, args.streams, args.events, args.delay)
        errors: Counter[str] = Counter()
        wall = asyncio.run(crowd(url, args.pool, args.streams, errors))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        fields = Path(f"/proc/{fake_proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        fake_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        print(
            f"{args.streams} streams, pool {args.pool}: errors {dict(errors) or 0}, wall {wall:.1f} s "
            f"(each stream {(args.events + 7) * args.delay:.1f} s at FakeClaude's pace); "
            f"{spent[0]:.1f} s in httpcore's pool bookkeeping ({spent[1]} calls); client CPU "
            f"{usage.ru_utime + usage.ru_stime:.1f} s, FakeClaude CPU {fake_cpu:.1f} s"
        )
    finally:
        stop(fake_proc)


if __name__ == "__main__":
    main()
