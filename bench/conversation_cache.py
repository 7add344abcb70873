"""Conversations: prompt caching that pays, and the cost of a long history on the request path.

    python bench/conversation_cache.py [--turns 20] [--posts 30] [--postgres postgresql://postgres@127.0.0.1:5432/test]

1. Cache share. A 20-turn conversation through the conversation endpoints (neutral handlers, in-process jobs, a
   memory store) against FakeClaude, whose prompt cache follows the API's rules (breakpoints, prefixes, the
   minimum cacheable length, TTL). Per turn: the share of the prompt's input tokens read from the cache
   (``cache_read / (input + cache_read + cache_write)``), with ``CONVERSATIONS["CACHE"]`` on and off, and the
   cost of the whole conversation each way (claude-sonnet-4-5 list prices). Goal: >= 80 % read from turn 3 on.
2. Time to first byte. ``POST <id>/messages/`` to a Flask app (Flask-SQLAlchemy on PostgreSQL, a real socket,
   werkzeug's threaded server) for a conversation of 200 stored messages and for one of 1, ``--posts`` times each,
   alternating; median time to the first byte of the response and to the first ``text`` event. Goal: the
   200-message conversation adds <= 5 ms to the first byte.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claude_web.testing import FakeClaude, text  # noqa: E402
from claude_web.web.conversations import MemoryConversationStore  # noqa: E402
from claude_web.web.handlers import conversation_create, conversation_detail, conversation_post  # noqa: E402
from claude_web.web.http import Principal, WebRequest  # noqa: E402
from claude_web.web.runtime import WebRuntime  # noqa: E402
from claude_web.web.settings import parse_settings  # noqa: E402

MODEL = "claude-sonnet-4-5"
SYSTEM = (
    "You are the support assistant of Fjord Outdoor, a shop for hiking and camping gear in Norway. Answer in "
    "the customer's language, briefly and precisely; quote article numbers when you recommend a product; say so "
    "when you do not know. "
) * 20  # about 1,200 tokens: a realistic instruction block
QUESTION = "Turn {n}: which tent would you recommend for two people in the mountains in {month}, and why? " * 4
ANSWER = (
    "For two people in the mountains in {month} I would take the Fjellheim 2 (article 40211): it is a tunnel tent "
    "of 2.4 kg that stands well in wind, with two entrances and room for packs in the vestibules. "
) * 5
MONTHS = ["May", "June", "July", "August", "September"]


# -- 1. cache share ---------------------------------------------------------------------------------------------


def _request(method: str, body: Any = None) -> WebRequest:
    raw = b"" if body is None else json.dumps(body).encode()
    return WebRequest(method, "/bench/", raw, content_type="application/json", principal=Principal(user_id=1))


def conversation(fake: FakeClaude, turns: int, cache: bool) -> list[dict[str, Any]]:
    """Usage and cost of each turn of one conversation."""
    fake.clear()
    settings = parse_settings(
        {
            "CLIENTS": {"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake.base_url, "max_retries": 0}}},
            "ASSISTANTS": {"default": {"MODEL": MODEL, "SYSTEM": SYSTEM, "MAX_TOKENS": 1024}},
            "CONVERSATIONS": {"CACHE": cache},
        }
    )
    runtime = WebRuntime(settings, conversation_store=MemoryConversationStore())
    try:
        cid = conversation_create(runtime, _request("POST", {})).json["conversation"]["id"]
        for n in range(1, turns + 1):
            month = MONTHS[n % len(MONTHS)]
            fake.queue(text(ANSWER.format(month=month)))
            response = conversation_post(runtime, _request("POST", {"message": QUESTION.format(n=n, month=month)}), cid)
            assert response.stream is not None, response.json
            body = b"".join(response.stream)
            assert b"event: done" in body, body[-300:]
        detail = conversation_detail(runtime, _request("GET"), cid).json
    finally:
        runtime.close()
    out = []
    for message in (m for m in detail["messages"] if m["role"] == "assistant"):
        usage = message["usage"]
        prompt = usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
        out.append({**usage, "prompt": prompt, "share": usage["cache_read_input_tokens"] / prompt,
                    "cost": Decimal(message["cost"])})  # fmt: skip
    return out


def report_cache(turns: int) -> dict[str, Any]:
    with FakeClaude() as fake:
        on = conversation(fake, turns, True)
        off = conversation(fake, turns, False)
    print(f"\n1. Cache share of the prompt, {turns} turns on FakeClaude ({MODEL}):")
    print("turn  prompt tokens  read (on)  written (on)  share on  share off")
    for n, (a, b) in enumerate(zip(on, off, strict=True), 1):
        print(
            f"{n:>4}  {a['prompt']:>13,}  {a['cache_read_input_tokens']:>9,}  {a['cache_creation_input_tokens']:>12,}"
            f"  {a['share']:>8.1%}  {b['share']:>9.1%}"
        )
    cost_on, cost_off = sum(t["cost"] for t in on), sum(t["cost"] for t in off)
    from_three = min(t["share"] for t in on[2:]) if len(on) > 2 else 0.0
    print(f"lowest share from turn 3 on: {from_three:.1%} (goal >= 80%)")
    print(f"cost of the conversation: caching on ${cost_on:.4f}, off ${cost_off:.4f} "
          f"({(1 - cost_on / cost_off):.0%} less)")  # fmt: skip
    return {"min_share_from_3": from_three, "cost_on": cost_on, "cost_off": cost_off}


# -- 2. time to first byte on PostgreSQL -------------------------------------------------------------------------


def _flask_app(postgres: str, fake_url: str, prefix: str) -> Any:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from claude_web_flask import ClaudeWeb
    from claude_web_flask.conversations import conversations_blueprint

    app = Flask("bench_conversations")
    app.testing = True  # the fake backend
    app.config.update(
        SQLALCHEMY_DATABASE_URI=postgres.replace("postgresql://", "postgresql+psycopg://", 1),
        CLAUDE_WEB_CLIENTS={"default": {"BACKEND": "fake", "OPTIONS": {"base_url": fake_url, "max_retries": 0}}},
        CLAUDE_WEB_ASSISTANTS={"default": {"MODEL": MODEL, "SYSTEM": SYSTEM}},
        CLAUDE_WEB_CONVERSATIONS={"TABLE_PREFIX": prefix},
        CLAUDE_WEB_USAGE_STORAGE="none",
        CLAUDE_WEB_JOBS={"THREADS": 2},
    )
    SQLAlchemy(app)
    ClaudeWeb(app, user_loader=lambda: "1")
    app.register_blueprint(conversations_blueprint, url_prefix="/c")
    return app


def _timed_post(client: httpx.Client, url: str) -> tuple[float, float]:
    """(first byte, first text event) in ms after sending."""
    started = time.perf_counter()
    first_byte = first_text = 0.0
    with client.stream("POST", url, json={"message": "And one more question?"}) as response:
        assert response.status_code == 200, response.read()
        buffer = ""
        for chunk in response.iter_text():
            now = (time.perf_counter() - started) * 1000
            if not first_byte:
                first_byte = now
            buffer += chunk
            if not first_text and "event: text" in buffer:
                first_text = now
    return first_byte, first_text


def _prepare_ms(store: Any, cid: str) -> float:
    """Median ms to load a conversation's history and build its request (what a turn does before calling)."""
    from claude_web.web.conversations import api_messages, estimate_tokens, fit_messages, place_breakpoints

    times = []
    for _ in range(20):
        started = time.perf_counter()
        params = {"model": MODEL, "max_tokens": 1024, "system": SYSTEM, "messages": api_messages(store.messages(cid))}
        params["messages"] = fit_messages(params, 150_000, estimate_tokens)
        place_breakpoints(params)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report_ttfb(postgres: str, posts: int) -> dict[str, Any]:
    import logging

    import sqlalchemy as sa
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    prefix = f"bench{os.getpid()}_"
    with FakeClaude() as fake:
        app = _flask_app(postgres, fake.base_url, prefix)
        runtime = app.extensions["claude_web"].runtime
        store = runtime.conversation_store
        long = store.create_conversation(owner="user:1", user_id="1", assistant="default", model=MODEL, title="200")
        for i in range(100):
            store.add_message(
                long.id, role="user", content=[{"type": "text", "text": QUESTION.format(n=i, month="May")}]
            )
            store.add_message(long.id, role="assistant", content=[{"type": "text", "text": ANSWER.format(month="May")}])
        short = store.create_conversation(owner="user:1", user_id="1", assistant="default", model=MODEL, title="1")
        store.add_message(short.id, role="user", content=[{"type": "text", "text": "Hello"}])
        store.add_message(short.id, role="assistant", content=[{"type": "text", "text": "Hello!"}])
        assert len(store.messages(long.id)) == 200
        prepare = {"200": _prepare_ms(store, long.id), "1": _prepare_ms(store, short.id)}
        server = make_server("127.0.0.1", 0, app, threaded=True)
        import threading

        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/c/"
        results: dict[str, list[tuple[float, float]]] = {"200": [], "1": []}
        try:
            with httpx.Client(timeout=30) as client:
                for cid in (long.id, short.id):  # warm up: connections, imports, the job threads
                    _timed_post(client, f"{base}{cid}/messages/")
                for _ in range(posts):
                    for label, cid in (("200", long.id), ("1", short.id)):
                        results[label].append(_timed_post(client, f"{base}{cid}/messages/"))
        finally:
            server.shutdown()
            runtime.close()
            db = app.extensions["sqlalchemy"]
            with app.app_context(), db.engine.begin() as conn:
                for table in ("message", "conversation"):
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{prefix}{table}" CASCADE'))
    med = {k: (statistics.median(v[0] for v in r), statistics.median(v[1] for v in r)) for k, r in results.items()}
    print(f"\n2. POST a message, PostgreSQL, median of {posts} posts each (ms):")
    print("stored messages  first byte  first text event")
    for label in ("1", "200"):
        print(f"{label:>15}  {med[label][0]:>10.2f}  {med[label][1]:>16.2f}")
    added = med["200"][0] - med["1"][0]
    print(f"added by a 200-message history: first byte {added:+.2f} ms (goal <= 5 ms), "
          f"first text {med['200'][1] - med['1'][1]:+.2f} ms")  # fmt: skip
    print(f"of which loading and preparing the history in the turn (median): 200 messages {prepare['200']:.2f} ms, "
          f"1 message {prepare['1']:.2f} ms; the rest is the longer request FakeClaude reads and caches")  # fmt: skip
    return {"added_first_byte_ms": added, "medians": med}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument(
        "--postgres", default=os.environ.get("CLAUDE_WEB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    report_cache(args.turns)
    if not args.skip_postgres:
        report_ttfb(args.postgres, args.posts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
