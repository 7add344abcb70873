"""Test-side helpers of the adapter parity test: start the live servers of ``parity_server.py``, act as a browser
against them, and bring their answers into a form that compares across frameworks.

Normalising removes only what is random per call (message ids, job ids, timestamps) and heartbeat comments
(timing); it never drops an event, a field or a header that both servers are expected to send alike.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from parity_server import PASSWORD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

IGNORED_HEADERS = frozenset(
    {
        "date",  # the clock
        "server",  # uvicorn / Werkzeug
        "connection",  # the server's keep-alive policy (Werkzeug says "close", uvicorn nothing)
        "content-length",  # JSON spacing differs (Django's JsonResponse puts spaces after separators)
        "set-cookie",  # each framework's own session and CSRF cookies
    }
)
"""Response headers that belong to the framework or server, not to claude-web; every other header must match."""

_GENERATED_ID = re.compile(r"[0-9a-f]{32}")
_MSG_ID = re.compile(r"\bmsg_[A-Za-z0-9]+")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")


# -- servers -----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    """One live server: its kind, URL and the paths where it mounts claude-web's endpoints."""

    kind: str
    url: str
    proc: subprocess.Popen[str] = field(repr=False)

    @property
    def slash(self) -> str:
        """Django's URLconfs end in a slash, the Flask blueprint's chat and usage routes do not."""
        return "" if self.kind == "flask" else "/"

    @property
    def chat_paths(self) -> list[str]:
        paths = [f"/claude/chat{self.slash}"]
        if self.kind == "django-asgi":
            paths.append("/claude/achat/")  # the async view, ASGI only
        return paths

    @property
    def usage_path(self) -> str:
        return f"/claude/usage{self.slash}"

    jobs_path = "/claude/jobs/"

    def rows(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/parity/rows/", timeout=15)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def start_servers(
    kinds: list[str], claude_web: Mapping[str, Any], tmp: Path, *, body_limit: int, redis_prefix: str | None = None
) -> list[Server]:
    """Start one subprocess per kind (in parallel), each with its own SQLite file; wait until all answer.

    With ``redis_prefix`` each server runs its jobs on Celery under ``<redis_prefix>-<kind>``."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # another test directory may have set it in this process
    env.pop("ANTHROPIC_API_KEY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    env["PARITY_CLAUDE_WEB"] = json.dumps(claude_web)
    env["PARITY_BODY_LIMIT"] = str(body_limit)
    procs: list[tuple[str, subprocess.Popen[str]]] = []
    for kind in kinds:
        proc_env = {**env, "PARITY_DB": str(tmp / f"{kind}.sqlite3")}
        if redis_prefix:
            proc_env["PARITY_PREFIX"] = f"{redis_prefix}-{kind}"
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "parity_server.py"), kind],
            cwd=str(HERE),
            env=proc_env,
            stdout=subprocess.PIPE,
            stderr=open(tmp / f"{kind}.log", "w"),  # the child owns it until it exits
            text=True,
        )
        procs.append((kind, proc))
    servers: list[Server] = []
    try:
        for kind, proc in procs:
            servers.append(Server(kind, f"http://127.0.0.1:{_read_port(proc, tmp / f'{kind}.log')}", proc))
        for server in servers:
            _wait_until_up(server, tmp / f"{server.kind}.log")
    except BaseException:
        for _, proc in procs:
            proc.kill()
        raise
    return servers


def _read_port(proc: subprocess.Popen[str], log: Path, timeout: float = 30.0) -> int:
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(timeout)
    line = found[0] if found else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}\n{log.read_text()}")
    return int(line.split()[1])


def _wait_until_up(server: Server, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{server.url}/accounts/login/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.proc.poll() is not None:
            raise RuntimeError(f"{server.kind} server is not answering\n{log.read_text()}")
        time.sleep(0.05)


# -- a browser ---------------------------------------------------------------------------------------------------


@contextmanager
def browser(server: Server, user: str | None = None) -> Iterator[httpx.Client]:
    """An httpx client acting as a browser on ``server``: it holds the site's cookies, sends the CSRF token
    the way a page's script would (``X-CSRFToken`` from the ``csrftoken`` cookie, where the site sets one),
    and, with ``user``, has logged in with that user's password."""
    with httpx.Client(base_url=server.url, timeout=20.0) as http:
        http.get("/accounts/login/").raise_for_status()
        _send_csrf(http)
        if user is not None:
            response = http.post("/accounts/login/", data={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
            _send_csrf(http)  # Django rotates the token at login
        yield http


def _send_csrf(http: httpx.Client) -> None:
    token = http.cookies.get("csrftoken")
    if token:
        http.headers["X-CSRFToken"] = token


# -- what comes back, normalised ---------------------------------------------------------------------------------


def headers_that_matter(response: httpx.Response) -> dict[str, str]:
    """Every response header except the framework's own (:data:`IGNORED_HEADERS`), names lower-cased; a request
    id the server made up (32 hex digits, when the request sent none) becomes ``<generated>``."""
    out = {k.lower(): v for k, v in response.headers.items() if k.lower() not in IGNORED_HEADERS}
    if _GENERATED_ID.fullmatch(out.get("x-request-id", "")):
        out["x-request-id"] = "<generated>"
    return out


def scrub(value: Any, ids: Mapping[str, str] | None = None) -> Any:
    """``value`` with random parts replaced: message ids -> ``<msg>``, ISO timestamps -> ``<ts>``, and each
    string of ``ids`` (job ids...) -> its placeholder, inside any string. Shapes and keys stay as they are."""
    if isinstance(value, dict):
        return {k: scrub(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, ids) for v in value]
    if isinstance(value, str):
        for raw, placeholder in (ids or {}).items():
            value = value.replace(raw, placeholder)
        return _TIMESTAMP.sub("<ts>", _MSG_ID.sub("<msg>", value))
    return value


def sse_frames(raw: str, ids: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """An SSE body as its frames, in order: each frame's fields as sent (``comment``, ``event``, ``id``,
    ``retry``, ``data`` parsed as JSON and scrubbed). Heartbeat comments (timing) are left out; a body that does
    not end with a blank line keeps its incomplete tail as ``{"partial": ...}`` so that it cannot go unnoticed."""
    frames: list[dict[str, Any]] = []
    blocks = raw.split("\n\n")
    tail = blocks.pop()
    for block in blocks:
        frame: dict[str, Any] = {}
        for line in block.split("\n"):
            name, _, val = line.partition(":")
            val = val[1:] if val.startswith(" ") else val
            key = "comment" if name == "" else name
            frame[key] = f"{frame[key]}\n{val}" if key in frame else val
        if frame == {"comment": "heartbeat"}:
            continue
        if "data" in frame:
            frame["data"] = scrub(json.loads(frame["data"]), ids)
        frames.append(frame)
    if tail:
        frames.append({"partial": tail})
    return frames


def renumber(frames: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    """Frames with each event id replaced by its place in ``order`` (``0-1``, ``0-2``...): the in-memory relay's
    ids already are that, Redis stream ids are times."""
    places = {event_id: f"0-{n}" for n, event_id in enumerate(order, 1)}
    return [{**frame, "id": places[frame["id"]]} if "id" in frame else frame for frame in frames]


def read_stream(response: httpx.Response, *, stop_after: int | None = None) -> str:
    """The text of an SSE body; with ``stop_after``, only its frames up to the end of that many events, and then
    hang up (the caller leaves the ``stream`` block), as a browser that loses its connection does."""
    if stop_after is None:
        return response.read().decode("utf-8")
    text = ""
    for chunk in response.iter_text():
        text += chunk
        blocks = text.split("\n\n")[:-1]
        events = [i for i, block in enumerate(blocks) if any(line.startswith("event:") for line in block.split("\n"))]
        if len(events) >= stop_after:
            return "\n\n".join(blocks[: events[stop_after - 1] + 1]) + "\n\n"
    return text


def usage_tuple(row: Mapping[str, Any], ids: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What must be the same about one stored usage row, whichever framework stored it."""
    context = row["context"]
    keep = ("alias", "backend", "user_id", "request_id", "path", "owner", "quota_key", "job_id", "job_kind")
    return {
        **{k: row[k] for k in ("operation", "model", "status", "input_tokens", "output_tokens", "estimated")},
        "cache_creation_input_tokens": row["cache_creation_input_tokens"],
        "cache_read_input_tokens": row["cache_read_input_tokens"],
        "cost": row["cost"],
        "user": row["user"],
        "context": scrub({k: context.get(k) for k in keep if k in context}, ids),
        "context_keys": sorted(context),
    }


def wait_for_rows(server: Server, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The server's rows once there are at least ``count`` (usage is stored when a stream ends)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = server.rows()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


# -- comparing ----------------------------------------------------------------------------------------------------


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON-like values differ, one line per difference (``rows[0].context.user_id: 1 != '1'``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(
                    f"{where}.{key}: {'missing' if key not in a else repr(a[key])} != "
                    f"{'missing' if key not in b else repr(b[key])}"
                )
            else:
                out += differences(a[key], b[key], f"{where}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b, strict=True)) for line in differences(x, y, f"{where}[{i}]")]
    if a == b and type(a) is type(b):
        return []
    return [f"{where}: {a!r} != {b!r}"]


def assert_same(results: dict[str, Any]) -> None:
    """Every result equals the first one (Flask's), types included (``1`` is not ``"1"``)."""
    labels = list(results)
    reference = results[labels[0]]
    problems = [
        f"{label} vs {labels[0]}: {line}" for label in labels[1:] for line in differences(results[label], reference)
    ]
    assert not problems, "\n".join(problems)


def delete_keys(redis_url: str, prefix: str) -> None:
    """Delete every Redis key under ``prefix`` (a test's own)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
