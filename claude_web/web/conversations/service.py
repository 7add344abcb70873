"""The web side of conversations: every rule about who may do what, written once for Django and Flask.

:class:`ConversationService` checks ownership (somebody else's conversation, a deleted one and a missing one
all look the same: 404), validates what the browser sends (in words its user understands), and starts each
assistant turn as a ``conversation`` job through the app's :class:`~claude_web.jobs.JobService` (threads of this
process, or Celery workers with the Redis relay): so the answer survives a reload (``Last-Event-ID``), Stop
reaches the upstream call, and a second question while one is being answered is refused (409), in both modes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ...jobs import JobNotFound
from ...jobs._service import new_job_id
from ...relay import InvalidEventId, RelayEvent
from ...usage import json_safe
from ..assistants import AssistantSettings
from ..budgets import estimate_prompt_tokens
from ..errors import Conflict, NotFound, RequestError
from ..http import WebRequest
from .records import ChatMessage, Conversation, ConversationStore
from .turn import CALL_DONE

if TYPE_CHECKING:
    from ...jobs import Job, JobService

__all__ = ["MAX_TITLE_CHARS", "ConversationService", "export", "export_conversation", "title_from"]

log = logging.getLogger("claude_web.conversations")

MAX_TITLE_CHARS = 200
_AUTO_TITLE_CHARS = 60
_NOT_FOUND = "This conversation does not exist, or it was deleted."
_CHAT_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_BUSY = "Claude is still answering in this conversation. Wait for the answer, or stop it first."


def title_from(text: str) -> str:
    """A title from the first question: its first line, whitespace collapsed, at most 60 characters.

    >>> title_from("  What is   the capital\\nof Norway?")
    'What is the capital'
    """
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    if len(line) <= _AUTO_TITLE_CHARS:
        return line
    return line[: _AUTO_TITLE_CHARS - 1].rstrip() + "…"


def export_conversation(conv: Conversation, messages: list[ChatMessage]) -> dict[str, Any]:
    """One conversation and its messages as JSON (what ``claude_conversations`` / ``flask claude conversations``
    print): the public fields plus owner and usage ids, for an operator."""
    data = conv.to_dict()
    data["owner"] = conv.owner
    data["deleted"] = conv.deleted
    data["messages"] = [{**m.to_dict(), "usage_ids": list(m.usage_ids)} for m in messages]
    return data


def export(
    store: ConversationStore, *, conversation_id: str | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """Conversations as JSON for an operator (the CLI commands): one by id (deleted ones too), or every
    conversation ``owner`` (``user:42``) still has. ``LookupError`` when the id does not exist.

    >>> export(store, owner="user:42")[0]["messages"][0]["role"]
    'user'
    """
    if conversation_id is not None:
        conv = store.get_conversation(conversation_id)
        if conv is None:
            raise LookupError(f"no conversation {conversation_id!r}")
        return [export_conversation(conv, store.messages(conv.id))]
    if not owner:
        raise ValueError("give a conversation id or an owner")
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = store.list_conversations(owner, offset=offset, limit=100)
        found.extend(export_conversation(conv, store.messages(conv.id)) for conv in page)
        if len(page) < 100:
            return found
        offset += 100


class ConversationService:
    """Conversations of one app (a :class:`~claude_web.web.runtime.WebRuntime`)."""

    def __init__(self, runtime: Any) -> None:  # the app's WebRuntime (not imported: the runtime imports this)
        self.runtime = runtime

    @property
    def store(self) -> ConversationStore:
        store: ConversationStore = self.runtime.conversation_store
        return store

    @property
    def jobs(self) -> JobService:
        service: JobService = self.runtime.job_service()
        return service

    # -- lookups ------------------------------------------------------------------------------------------
    def assistant(self, name: Any) -> AssistantSettings:
        """The assistant called ``name`` (``None``: the default one); 400 in plain words when there is none."""
        assistants = self.runtime.settings.assistants
        if name is None:
            name = self.runtime.settings.conversations.default_assistant
        if not isinstance(name, str) or name not in assistants:
            known = ", ".join(sorted(assistants))
            raise RequestError("assistant", f"There is no assistant called {name!r}. Choose one of: {known}.")
        found: AssistantSettings = assistants[name]
        return found

    def get(self, conversation_id: Any, owner: str) -> Conversation:
        """``owner``'s conversation; 404 for anybody else's, a deleted one or a missing one."""
        if not isinstance(conversation_id, str) or not conversation_id or len(conversation_id) > 64:
            raise NotFound(_NOT_FOUND)
        conv = self.store.get_conversation(conversation_id)
        if conv is None or conv.deleted or conv.owner != owner:
            raise NotFound(_NOT_FOUND)
        return conv

    def running(self, conv: Conversation) -> Job | None:
        """The job answering in ``conv`` right now, or ``None``."""
        if not conv.turn_job_id:
            return None
        try:
            job = self.jobs.get(conv.turn_job_id, conv.owner)
        except JobNotFound:
            return None
        return None if job.state in ("done", "error", "cancelled") else job

    # -- conversations ------------------------------------------------------------------------------------
    def create(self, owner: str, user_id: Any, *, assistant: Any = None, title: Any = None) -> Conversation:
        chosen = self.assistant(assistant)
        return self.store.create_conversation(
            owner=owner,
            user_id=None if user_id is None else str(user_id),
            assistant=chosen.name,
            model=chosen.model,
            title=self.clean_title(title, required=False),
        )

    def page(self, owner: str, page: int) -> tuple[list[Conversation], bool]:
        """Page ``page`` (from 1) of ``owner``'s conversations, and whether there are more."""
        size = self.runtime.settings.conversations.page_size
        found = self.store.list_conversations(owner, offset=(page - 1) * size, limit=size + 1)
        return found[:size], len(found) > size

    def clean_title(self, title: Any, *, required: bool = True) -> str:
        if title is None and not required:
            return ""
        if not isinstance(title, str):
            raise RequestError("title", "The title must be text.")
        cleaned = " ".join(title.split())
        if required and not cleaned:
            raise RequestError("title", "The title is empty.")
        if len(cleaned) > MAX_TITLE_CHARS:
            raise RequestError(
                "title", f"The title is too long ({len(cleaned):,} characters; at most {MAX_TITLE_CHARS})."
            )
        return cleaned

    def rename(self, conversation_id: Any, owner: str, title: Any) -> Conversation:
        conv = self.get(conversation_id, owner)
        self.store.update_conversation(conv.id, title=self.clean_title(title))
        return self.get(conv.id, owner)

    def delete(self, conversation_id: Any, owner: str) -> None:
        """Delete (for its owner: the rows stay for the usage ledger and the admin); an answer in progress stops."""
        conv = self.get(conversation_id, owner)
        if self.running(conv) is not None:
            self.jobs.cancel(str(conv.turn_job_id), owner)
        self.store.update_conversation(conv.id, deleted=True)

    def detail(self, conversation_id: Any, owner: str) -> tuple[Conversation, list[ChatMessage], Job | None]:
        conv = self.get(conversation_id, owner)
        return conv, self.store.messages(conv.id), self.running(conv)

    # -- turns --------------------------------------------------------------------------------------------
    def clean_message(self, text: Any) -> str:
        """The user's new message, or a 400 that says what is wrong with it."""
        if text is None:
            raise RequestError("message", "Write a message first.")
        if not isinstance(text, str):
            raise RequestError("message", "Your message must be text.")
        if not text.strip():
            raise RequestError("message", "Your message is empty.")
        limit = self.runtime.settings.conversations.max_message_chars
        if len(text) > limit:
            raise RequestError(
                "message", f"Your message is too long ({len(text):,} characters; the limit is {limit:,})."
            )
        from ..chat import check_json_value

        check_json_value(text, "message")
        return text

    def open_chat(self, chat_id: Any, owner: str, user_id: Any, *, assistant: Any = None) -> Conversation:
        """The conversation an AI SDK chat id names: ``owner``'s, or a new one of ``owner`` with that id (with
        ``assistant``, default the default one); 404 for somebody else's or a deleted one, 400 for an id that is
        not 8-32 letters, digits, ``_`` or ``-``."""
        if not isinstance(chat_id, str) or not _CHAT_ID.match(chat_id):
            raise RequestError("id", "The chat id must be 8-32 letters, digits, '_' or '-'.")
        if self.store.get_conversation(chat_id) is not None:
            return self.get(chat_id, owner)
        chosen = self.assistant(assistant)
        try:
            self.store.create_conversation(
                owner=owner,
                user_id=None if user_id is None else str(user_id),
                assistant=chosen.name,
                model=chosen.model,
                title="",
                conversation_id=chat_id,
            )
        except Exception:  # taken in the meantime: by this owner (a race of two first posts) or by another one
            log.info("chat id %s was created by a concurrent request", chat_id, exc_info=True)
        return self.get(chat_id, owner)

    def post(self, request: WebRequest, conversation_id: Any, owner: str, text: Any) -> tuple[Conversation, str]:
        """Store the user's message and start the turn that answers it; the conversation and the turn's job id.

        Refusals, each before any upstream call: 404 (not yours / deleted / missing), 400 (empty, too long), 409
        (an answer is still running), the admission's (429 quota...), 503 (jobs unavailable).
        """
        conv = self.get(conversation_id, owner)
        text = self.clean_message(text)
        return conv, self._start_turn(request, conv, owner, [{"type": "text", "text": text}])

    def regenerate(
        self, request: WebRequest, conversation_id: Any, owner: str, answer_id: str | None = None
    ) -> tuple[Conversation, str]:
        """Answer the latest question again (the AI SDK's ``regenerate-message``): the messages of its earlier
        answer are kept for the ledger and the admin but marked ``error``, so they leave the prompt and the page,
        and a new turn answers the question. ``answer_id`` (the UI message to replace, if the client names one)
        must be the latest answer's turn: only the latest answer can be replaced (400 otherwise). Refusals as for
        :meth:`post`; 400 when there is no question yet.
        """
        conv = self.get(conversation_id, owner)
        if self.running(conv) is not None:
            raise Conflict(_BUSY)
        stored = self.store.messages(conv.id)
        index = next(
            (i for i in range(len(stored) - 1, -1, -1) if stored[i].role == "user" and not stored[i].is_tool_results),
            None,
        )
        if index is None:
            raise RequestError("messages", "There is no question to answer again yet.")
        question, answer = stored[index], stored[index + 1 :]
        turns = {m.job_id for m in answer if m.status != "error" and m.job_id}
        if answer_id is not None and turns and answer_id not in turns:
            raise RequestError("messageId", "Only the latest answer can be generated again.")
        retired = [m for m in answer if m.status != "error"] + ([question] if question.status == "error" else [])

        def retire() -> None:  # after the turn is claimed, before it starts (it reads the history at once)
            for message in retired:
                self.store.update_message(message.id, status="complete" if message is question else "error")

        try:
            turn = self._start_turn(request, conv, owner, None, question_id=question.id, before_start=retire)
        except Exception:
            for message in retired:
                self.store.update_message(message.id, status=message.status)
            raise
        return conv, turn

    def _start_turn(
        self,
        request: WebRequest,
        conv: Conversation,
        owner: str,
        question: list[dict[str, Any]] | None,
        *,
        question_id: int | None = None,
        before_start: Callable[[], None] | None = None,
    ) -> str:
        """Admit, claim and start the turn that answers ``question`` (stored now) or the stored question
        ``question_id``; the turn's job id. ``before_start`` runs once the turn is claimed."""
        assistant = self.runtime.settings.assistants.get(conv.assistant)
        if assistant is None:
            raise RequestError("conversation", "This conversation's assistant is no longer available.")
        jobs = self.jobs
        if self.running(conv) is not None:
            raise Conflict(_BUSY)
        asked = question or [{"type": "text", "text": "(asked again)"}]
        call = {
            "model": conv.model,
            "max_tokens": assistant.max_tokens,
            "system": assistant.system,
            "messages": [{"role": "user", "content": asked}],
        }
        # The turn's worst case, reserved before anything runs and held until the turn ends (each call's record
        # counts against it): the prompt is at most the stored history, which every earlier call of this
        # conversation already sent (so its token totals bound it), plus the system prompt, tools and the new
        # question, and never more than the prompt budget the context rules trim to.
        history = (
            conv.input_tokens + conv.cache_creation_input_tokens + conv.cache_read_input_tokens + conv.output_tokens
        )
        prompt = min(
            self.runtime.settings.conversations.prompt_budget,
            history + estimate_prompt_tokens(call) + 400 * len(assistant.tools),
        )
        admitted = self.runtime.admit(owner, call, alias=assistant.client, job=True, prompt_tokens=prompt)
        job_id = new_job_id()
        if not self.store.claim_turn(conv.id, job_id, conv.turn_job_id):
            self.runtime.release(admitted, force=True)
            raise Conflict(_BUSY)  # another post won the race
        if question is not None:
            if not conv.title:
                self.store.update_conversation(conv.id, title=title_from(str(question[0]["text"])))
            question_id = self.store.add_message(conv.id, role="user", content=question, job_id=job_id).id
        if before_start is not None:
            before_start()
        context = {**self.runtime.usage_context(request, assistant.client), **admitted}
        params = {"conversation_id": conv.id, "message_id": question_id, "context": json_safe(context)}
        try:
            jobs.start("conversation", params, owner=owner, alias=assistant.client, job_id=job_id, context=admitted)
        except Exception:
            if question is not None and question_id is not None:
                self.store.update_message(question_id, status="error")
            self.runtime.release(admitted, force=True)
            raise
        return job_id

    def stop(self, conversation_id: Any, owner: str) -> dict[str, Any]:
        """Stop the answer in progress (its upstream call is closed; the answer so far is kept as ``partial``)."""
        conv = self.get(conversation_id, owner)
        if not conv.turn_job_id:
            return {"turn": None, "state": "idle"}
        try:
            status = self.runtime.cancel_job(conv.turn_job_id, owner)
        except JobNotFound:
            return {"turn": conv.turn_job_id, "state": "idle"}
        return {"turn": conv.turn_job_id, "state": status.get("state")}

    def events(self, turn: str | None, owner: str, last_event_id: str | None) -> Iterator[RelayEvent]:
        """The browser events of turn ``turn`` (a conversation's ``turn_job_id``) after ``last_event_id``,
        heartbeats included; each upstream call ends with ``done``, and the stream with the turn's last ``done``
        (or ``error`` / ``cancelled``)."""
        if not turn:
            raise NotFound("There is no answer to follow in this conversation.")
        try:
            events = self.jobs.events(turn, owner, last_event_id, heartbeats=True)
        except JobNotFound:
            raise NotFound("The answer has expired; reload the conversation.") from None
        except InvalidEventId:
            raise RequestError("Last-Event-ID", "is not an event id of this conversation's answer") from None
        return _renamed(events)


def _renamed(events: Iterator[RelayEvent]) -> Iterator[RelayEvent]:
    try:
        for event in events:
            yield RelayEvent(event.id, "done", event.data) if event.event == CALL_DONE else event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
