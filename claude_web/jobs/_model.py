"""Job kinds, the errors and signals of the jobs API, and validation of a job's parameters."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..web.errors import RequestError

if TYPE_CHECKING:
    from .._client import Anthropic
    from ..usage import UsageRecord

log = logging.getLogger("claude_web.jobs")


JOB_KINDS = ("create", "stream", "batch", "conversation")
PUBLIC_JOB_KINDS = ("create", "stream", "batch")
"""The kinds a browser may start through the jobs endpoints (``conversation`` turns start from a conversation)."""
TASK_NAMES = {
    "create": "claude_web.create_message",
    "stream": "claude_web.stream_message",
    "batch": "claude_web.run_batch",
    "conversation": "claude_web.run_conversation_turn",
    "poll": "claude_web.poll_batch",
}
"""The Celery task name of each job kind (``poll`` checks a submitted batch)."""
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PARAMS = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_k",
        "top_p",
        "stop_sequences",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
        "output_config",
        "container",
        "inference_geo",
        "cache_control",
    }
)
_MAX_PARAMS_BYTES = 8 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------------------
# errors and signals


class JobNotFound(LookupError):
    """No such job for this owner (a missing job and somebody else's job look the same: 404)."""


JobRequestError = RequestError
"""A job the service refuses at enqueue time (400): the web layer's one request-error class."""


class RetryJob(Exception):
    """Raised by :class:`JobRunner` when the attempt failed in a retryable way: run again in ``countdown`` s."""

    def __init__(self, countdown: float, cause: BaseException | None = None) -> None:
        super().__init__(f"retry in {countdown:.3f}s")
        self.countdown = countdown
        self.cause = cause


class Signal:
    """A tiny signal: ``@batch_completed.connect`` a receiver; receivers get keyword arguments only.

    Receivers run in the process that ran the job (a Celery worker, or the web process in in-process mode);
    an exception in one is logged and does not stop the others.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Callable[..., Any]] = []
        self._lock = threading.Lock()

    def connect(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        with self._lock:
            if receiver not in self._receivers:
                self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable[..., Any]) -> None:
        with self._lock:
            if receiver in self._receivers:
                self._receivers.remove(receiver)

    def send(self, **kwargs: Any) -> None:
        for receiver in list(self._receivers):
            try:
                receiver(**kwargs)
            except Exception:
                log.exception("receiver %r of signal %s failed", receiver, self.name)


job_finished = Signal("job_finished")
"""Sent once per job when it ends: ``job_id``, ``kind``, ``state`` (done/error/cancelled), ``owner``."""
batch_completed = Signal("batch_completed")
"""Sent when a batch job's Message Batch has ended: ``job_id``, ``batch`` (dict), ``results`` (list of dicts)."""


# ---------------------------------------------------------------------------------------------------------------
# validation


def validate_params(kind: str, params: Any) -> dict[str, Any]:
    """Check a job's parameters before anything is enqueued; raises :class:`JobRequestError`."""
    if kind not in JOB_KINDS:
        raise JobRequestError("kind", f"must be one of {', '.join(JOB_KINDS)}")
    if not isinstance(params, dict):
        raise JobRequestError("params", "must be a JSON object")
    try:
        size = len(json.dumps(params, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise JobRequestError("params", "must be JSON (strings, numbers, lists, objects)") from exc
    if size > _MAX_PARAMS_BYTES:
        raise JobRequestError("params", "is too large")
    if kind == "batch":
        return {"requests": _validate_batch(params)}
    if kind == "conversation":
        return _validate_turn(params)
    return _validate_message(params, "params")


_TURN_PARAMS = frozenset({"conversation_id", "message_id", "context"})


def _validate_turn(params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - _TURN_PARAMS)
    if unknown:
        raise JobRequestError(f"params.{unknown[0]}", "is not a parameter of a conversation turn")
    if not isinstance(params.get("conversation_id"), str) or not params["conversation_id"]:
        raise JobRequestError("params.conversation_id", "is required (a conversation id)")
    if not isinstance(params.get("context", {}), dict):
        raise JobRequestError("params.context", "must be an object")
    return dict(params)


def _validate_message(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise JobRequestError(f"{where}.{unknown[0]}", "is not a parameter a job accepts")
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise JobRequestError(f"{where}.model", "is required (a model id)")
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise JobRequestError(f"{where}.max_tokens", "must be a positive integer")
    messages = params.get("messages")
    if not isinstance(messages, list) or not messages:
        raise JobRequestError(f"{where}.messages", "must be a non-empty list")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise JobRequestError(f"{where}.messages[{i}]", "must be an object")
        if message.get("role") not in ("user", "assistant"):
            raise JobRequestError(f"{where}.messages[{i}].role", "must be 'user' or 'assistant'")
        if not isinstance(message.get("content"), (str, list)):
            raise JobRequestError(f"{where}.messages[{i}].content", "must be a string or a list of blocks")
    return dict(params)


def _validate_batch(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    if set(params) - {"requests"}:
        raise JobRequestError("params", "a batch takes only 'requests'")
    requests = params.get("requests")
    if not isinstance(requests, list) or not requests:
        raise JobRequestError("params.requests", "must be a non-empty list")
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, item in enumerate(requests):
        where = f"params.requests[{i}]"
        if not isinstance(item, dict) or set(item) != {"custom_id", "params"}:
            raise JobRequestError(where, "must be {'custom_id': ..., 'params': {...}}")
        custom_id = item["custom_id"]
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
            raise JobRequestError(f"{where}.custom_id", "must be 1-64 letters, digits, '_' or '-'")
        if custom_id in seen:
            raise JobRequestError(f"{where}.custom_id", "is used twice")
        seen.add(custom_id)
        if not isinstance(item["params"], dict):
            raise JobRequestError(f"{where}.params", "must be an object")
        out.append({"custom_id": custom_id, "params": _validate_message(item["params"], f"{where}.params")})
    return out


# ---------------------------------------------------------------------------------------------------------------
# conversation turns: what the job runner hands the conversation code


@dataclass
class TurnJob:
    """One attempt of a ``conversation`` job, as the runner hands it to :class:`TurnRunnerProtocol`.

    ``client`` carries the job's usage context; give it ``usage_recorder=`` a function that passes each record to
    ``record`` (the job's exactly-once guard, ``True`` when the record was delivered for the first time).
    ``mark_started`` is called before each upstream call (so a lost worker's call is settled later), ``publish``
    appends a browser event to the job's stream and ``cancelled`` says whether Stop was pressed.
    """

    job_id: str
    owner: str
    attempt: int
    params: dict[str, Any]
    client: Anthropic
    record: Callable[[UsageRecord], bool]
    mark_started: Callable[[], None]
    publish: Callable[[str, Mapping[str, Any]], object]
    cancelled: Callable[[], bool]


class TurnRunnerProtocol(Protocol):
    """Runs one conversation turn (see :class:`claude_web.web.conversations.TurnRunner`); returns the job's final
    event and its payload: ``("done", {...})``, ``("cancelled", {...})`` or ``("error", {"type", "message"})``."""

    def run_turn(self, job: TurnJob) -> tuple[str, dict[str, Any]]: ...
