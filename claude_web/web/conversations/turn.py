"""The worker side of a conversation: one assistant turn, tool loop included, run as a ``conversation`` job.

:class:`TurnRunner` loads the stored history, fits it to the context window, and drives the tool runner
(:class:`~claude_web.lib.tools.BetaStreamingToolRunner`, one stream per upstream call). As it goes it

- publishes browser events to the job's stream: ``start`` (with the stored ``message_id``), ``text``,
  ``thinking``, ``tool_use``, ``tool_result {tool_use_id, name, content, is_error}``, and one ``done`` per
  upstream call with that call's usage and cost. The last call's ``done`` ends the job (adding the
  conversation's new totals); the others travel as ``call_done`` and are renamed ``done`` for the browser;
- stores each assistant message (``partial`` while it streams, ``complete`` at its end) and each message of tool
  results, exactly as the API saw them;
- adds every usage record to the conversation's and the message's totals once (after the job's exactly-once
  claim), and stamps it with ``conversation_id`` and ``message_id``.

Stop (the job's cancel flag) closes the upstream stream at once: the message so far is kept as ``partial`` and
the call's usage record says ``aborted``. A turn is never re-run: its tools may have acted. If its worker died
(a redelivered attempt), the turn ends with an error and the user may ask again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..._exceptions import APIError
from ...lib.tools import BetaStreamingToolRunner, ToolCallResult
from ...lib.tools._core import assistant_message
from ...usage import UsageRecord
from ..events import safe_error, translate
from ..settings import ConfigError, WebSettings
from ..tools import Tool, ToolContext, ToolRegistry, finish_result
from .caching import place_breakpoints
from .context import api_counter, estimate_tokens, fit_messages, strategy_for
from .history import api_messages
from .records import ConversationStore

if TYPE_CHECKING:
    from ...jobs import TurnJob

__all__ = ["CALL_DONE", "TurnRunner"]

log = logging.getLogger("claude_web.conversations")

CALL_DONE = "call_done"
"""The relay name of a ``done`` that is not the turn's last (``done`` itself ends a job's stream)."""
_CANCEL_CHECK = 0.25
_MAX_PARALLEL_TOOLS = 8


class _Stopped(Exception):
    """Stop was pressed between two upstream calls."""


class _ParallelStreamingRunner(BetaStreamingToolRunner[Any]):
    """The streaming tool runner, running the tool calls of one message in parallel threads (results keep the
    order of the ``tool_use`` blocks)."""

    def generate_tool_call_response(self) -> dict[str, Any] | None:
        self._finish_current()
        pending = self._pending_tool_uses()
        if pending is None:
            return self._response
        if len(pending) < 2:
            return self._store_response([self._call(block) for block in pending])
        with ThreadPoolExecutor(max_workers=min(len(pending), _MAX_PARALLEL_TOOLS)) as pool:
            results = list(pool.map(self._call, pending))
        return self._store_response(results)


@dataclass
class _Turn:
    """What one running turn knows."""

    job: TurnJob
    conversation_id: str
    user_message_id: int | None
    tool_timeout: float
    max_iterations: int
    calls: int = 0
    current: int | None = None  # the assistant message being written
    stream: Any = None
    produced: bool = False  # any assistant text the user saw
    final_done: dict[str, Any] | None = None
    last_message: Any = None
    message_ids: list[int] = field(default_factory=list)
    timeouts: dict[str, float | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _user_id(owner: str, context: Any) -> str | None:
    if isinstance(context, dict) and context.get("user_id") is not None:
        return str(context["user_id"])
    return owner[5:] if owner.startswith("user:") else None


class TurnRunner:
    """Runs conversation turns for one app: its settings (assistants, ``CONVERSATIONS``), store and tools.

    ``store`` is a :class:`~claude_web.web.conversations.records.ConversationStore` or a function returning one
    (resolved on first use, e.g. once the app's database is set up).
    """

    def __init__(
        self,
        settings: WebSettings,
        store: ConversationStore | Callable[[], ConversationStore],
        tools: ToolRegistry | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self.tools = tools or ToolRegistry()

    @property
    def store(self) -> ConversationStore:
        store = self._store
        if callable(store) and not hasattr(store, "get_conversation"):
            store = self._store = store()
        return store  # type: ignore[return-value]

    # -- the turn ---------------------------------------------------------------------------------------
    def run_turn(self, job: TurnJob) -> tuple[str, dict[str, Any]]:
        """Run one turn; the job's final event and payload (see :class:`~claude_web.jobs.TurnRunnerProtocol`)."""
        store = self.store
        cid = str(job.params["conversation_id"])
        message_id = job.params.get("message_id")
        conv = store.get_conversation(cid)
        if conv is None or conv.deleted:
            return "error", {"type": "not_found", "message": "This conversation was deleted."}
        assistant = self.settings.assistants.get(conv.assistant)
        turn = _Turn(
            job,
            cid,
            message_id if isinstance(message_id, int) else None,
            assistant.tool_timeout if assistant else 30.0,
            assistant.max_iterations if assistant else 1,
        )
        if job.attempt > 1:
            log.warning("conversation %s: turn %s lost its worker; not running it again", cid, job.job_id)
            self._unanswered(turn)
            return "error", {
                "type": "api_error",
                "message": "The answer was interrupted on the server. Please send your message again.",
            }
        if assistant is None:
            self._unanswered(turn)
            return "error", {"type": "invalid_request_error", "message": "This conversation's assistant is gone."}
        try:
            tools = [
                t.with_timeout(assistant.tool_timeout)
                for t in self.tools.resolve(assistant.tools, where=f"ASSISTANTS[{assistant.name!r}]['TOOLS']")
            ]
            turn.timeouts = {t.name: t.timeout for t in tools}
        except ConfigError:
            log.exception("conversation %s: the tools of assistant %r cannot be loaded", cid, assistant.name)
            self._unanswered(turn)
            return "error", {"type": "api_error", "message": "The assistant's tools are not set up correctly."}
        history = api_messages(store.messages(cid))
        if not history or history[-1]["role"] != "user":
            return "error", {"type": "invalid_request_error", "message": "There is no question to answer."}
        params: dict[str, Any] = {"model": conv.model, "max_tokens": assistant.max_tokens, "messages": history}
        if assistant.system:
            params["system"] = assistant.system
        if assistant.temperature is not None:
            params["temperature"] = assistant.temperature
        client = job.client.with_options(usage_recorder=self._recorder(turn))
        context = ToolContext(
            owner=job.owner,
            user_id=_user_id(job.owner, job.params.get("context")),
            conversation_id=cid,
            assistant=assistant.name,
            job_id=job.job_id,
        )
        runner = _ParallelStreamingRunner(
            self._opener(turn, client, tools),
            params,
            tools=tools,
            max_iterations=assistant.max_iterations,
            tool_context=context,
            tool_timeout=None,  # each Tool keeps its own limit
            on_tool_result=lambda result: self._tool_result(turn, result),
        )
        return self._drive(turn, runner, client.pricing)

    def _drive(self, turn: _Turn, runner: _ParallelStreamingRunner, pricing: Any) -> tuple[str, dict[str, Any]]:
        store = self.store
        iterator: Iterator[Any] = iter(runner)
        try:
            for stream in iterator:
                turn.stream = stream
                if not self._relay(turn, stream, pricing, runner):
                    return self._stopped(turn)
                message = stream.get_final_message()
                turn.last_message = message
                store.update_message(
                    turn.current,  # type: ignore[arg-type]
                    content=assistant_message(message)["content"],
                    status="complete",
                    stop_reason=message.stop_reason,
                )
                turn.produced = True
                turn.stream = None
            self._close_unanswered(turn)
        except _Stopped:
            return self._stopped(turn)
        except APIError as exc:
            log.warning("conversation %s: upstream call failed: %s", turn.conversation_id, type(exc).__name__)
            self._broken(turn)
            return "error", safe_error(exc)
        except Exception as exc:
            log.exception("conversation %s: the turn crashed", turn.conversation_id)
            self._broken(turn)
            return "error", safe_error(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("closing the tool runner failed")
        conv = store.get_conversation(turn.conversation_id)
        payload = dict(turn.final_done or {"stop_reason": None, "usage": {}, "cost": None})
        payload["message_ids"] = turn.message_ids
        if conv is not None:
            payload["conversation"] = conv.to_dict()
        return "done", payload

    # -- one upstream call ------------------------------------------------------------------------------
    def _opener(self, turn: _Turn, client: Any, tools: list[Tool]) -> Callable[[dict[str, Any]], Any]:
        cfg = self.settings.conversations
        count = api_counter(client) if cfg.token_counter == "count_tokens" else estimate_tokens
        strategy = strategy_for(cfg.strategy)
        store = self.store

        def open_stream(request: dict[str, Any]) -> Any:
            if turn.calls:  # the runner appended [assistant, tool results]: store the results as the API got them
                results = request["messages"][-1]
                store.add_message(turn.conversation_id, role="user", content=results["content"], job_id=turn.job.job_id)
            if turn.job.cancelled():
                raise _Stopped
            turn.calls += 1
            message = store.add_message(
                turn.conversation_id, role="assistant", content=[], status="partial", job_id=turn.job.job_id,
                model=request.get("model"),
            )  # fmt: skip
            turn.current = message.id
            turn.message_ids.append(message.id)
            turn.job.mark_started()
            prepared = {k: v for k, v in request.items() if not (k == "tools" and not v)}
            budget = max(cfg.prompt_budget - int(prepared.get("max_tokens") or 0), 1)
            prepared["messages"] = fit_messages(prepared, budget, count, strategy)
            if cfg.cache:
                prepared = place_breakpoints(prepared, ttl=cfg.cache_ttl)
            return client.messages.stream(**prepared)

        return open_stream

    def _relay(self, turn: _Turn, stream: Any, pricing: Any, runner: _ParallelStreamingRunner) -> bool:
        """Publish the call's events; ``False`` when Stop closed it."""
        publish = turn.job.publish
        checked = time.monotonic()
        for raw in stream:
            out = translate(raw, pricing=pricing)
            if out is not None:
                name, payload = out
                if name == "start":
                    publish("start", {**payload, "message_id": turn.current})
                elif name == "done":
                    snapshot = stream.current_message_snapshot
                    calls_tools = any(getattr(b, "type", None) == "tool_use" for b in snapshot.content)
                    if (
                        payload.get("stop_reason") == "tool_use"
                        and calls_tools
                        and runner.iteration < turn.max_iterations
                    ):
                        publish(CALL_DONE, payload)
                    else:
                        turn.final_done = payload  # ends the job
                else:
                    publish(name, payload)
            elif time.monotonic() - checked < _CANCEL_CHECK:
                continue
            checked = time.monotonic()
            if turn.final_done is None and turn.job.cancelled():
                stream.close()  # the connection goes at once; the call's usage record says "aborted"
                return False
        return True

    def _tool_result(self, turn: _Turn, result: ToolCallResult) -> None:
        finish_result(result, turn.timeouts.get(result.name, turn.tool_timeout))
        payload = {
            "tool_use_id": result.tool_use_id,
            "name": result.name,
            "content": result.content,
            "is_error": result.is_error,
        }
        with turn.lock:
            turn.job.publish("tool_result", payload)

    # -- usage ------------------------------------------------------------------------------------------
    def _recorder(self, turn: _Turn) -> Callable[[UsageRecord], None]:
        store = self.store

        def record(rec: UsageRecord) -> None:
            counted = rec.operation != "messages.count_tokens"
            message_id = turn.current if counted else None
            rec.context["conversation_id"] = turn.conversation_id
            if message_id is not None:
                rec.context["message_id"] = message_id
            if not turn.job.record(rec):
                return  # recorded before (a duplicate): the totals have it already
            try:
                store.add_usage(turn.conversation_id, message_id, rec)
            except Exception:
                log.exception("could not add usage record %s to conversation %s", rec.id, turn.conversation_id)

        return record

    # -- endings ----------------------------------------------------------------------------------------
    def _snapshot_content(self, turn: _Turn) -> list[dict[str, Any]]:
        stream = turn.stream
        snapshot = getattr(stream, "current_message_snapshot", None) if stream is not None else None
        if snapshot is None:
            return []
        try:
            return list(assistant_message(snapshot)["content"])
        except Exception:
            log.exception("could not read the partial answer")
            return []

    def _stopped(self, turn: _Turn) -> tuple[str, dict[str, Any]]:
        if turn.stream is not None and turn.current is not None:
            content = self._snapshot_content(turn)
            self.store.update_message(turn.current, content=content, status="partial")
        return "cancelled", {"reason": "cancelled", "message_id": turn.current}

    def _broken(self, turn: _Turn) -> None:
        if turn.current is not None and turn.stream is not None:
            content = self._snapshot_content(turn)
            has_text = any(b.get("type") == "text" and b.get("text") for b in content)
            self.store.update_message(turn.current, content=content, status="partial" if has_text else "error")
            turn.produced = turn.produced or has_text
        elif turn.current is not None and not turn.produced:
            self.store.update_message(turn.current, status="error")
        if not turn.produced:
            self._unanswered(turn)

    def _unanswered(self, turn: _Turn) -> None:
        """The question got no answer the user saw: leave it out of later prompts."""
        if turn.user_message_id is not None:
            self.store.update_message(turn.user_message_id, status="error")

    def _close_unanswered(self, turn: _Turn) -> None:
        """After ``max_iterations`` the last message may still call tools: answer those calls with an error, so
        the stored history stays a valid prompt, and tell the browser."""
        message = turn.last_message
        calls = [b for b in getattr(message, "content", ()) if getattr(b, "type", None) == "tool_use"]
        if not calls or message.stop_reason != "tool_use":
            return
        text = (
            f"Not run: the assistant reached its limit of {turn.max_iterations} model calls for one answer. "
            "Ask again to continue."
        )
        results = [{"type": "tool_result", "tool_use_id": b.id, "content": text, "is_error": True} for b in calls]
        self.store.add_message(turn.conversation_id, role="user", content=results, job_id=turn.job.job_id)
        for block in calls:
            turn.job.publish(
                "tool_result", {"tool_use_id": block.id, "name": block.name, "content": text, "is_error": True}
            )
