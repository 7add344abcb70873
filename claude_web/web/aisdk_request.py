"""The request side of the AI SDK's ``useChat``: its default transport's JSON body, parsed and checked.

``useChat`` (the ``ai`` package's ``DefaultChatTransport``) posts ``{...body option fields, "id": chat id,
"messages": UIMessage[], "trigger": "submit-message" | "regenerate-message", "messageId"?: ...}``. A UIMessage is
``{"id", "role": "system" | "user" | "assistant", "metadata"?, "parts": [...]}`` with parts such as
``{"type": "text", "text"}`` and ``{"type": "file", "mediaType", "url", "filename"?}`` (``url`` often a ``data:``
URL). The browser sends its whole history every time: a server with a stored conversation takes only the last user
message from it (:func:`parse_chat_request`) and ignores the rest; without one, :func:`ui_messages_to_api` turns
the history into Messages API ``messages``. Bad input raises :class:`~claude_web.web.chat.ChatRequestError` naming the
field (``messages[2].role``), which a view answers with 400 and ``error.to_dict()``.

>>> body = {"id": "c1", "trigger": "submit-message", "model": "claude-haiku-4-5",
...         "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}]}
>>> request = parse_chat_request(body)
>>> request.chat_id, request.trigger, request.text, request.extra
('c1', 'submit-message', 'Hi', {'model': 'claude-haiku-4-5'})
>>> ui_messages_to_api(request.messages)
[{'role': 'user', 'content': 'Hi'}]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .chat import ChatRequestError

__all__ = ["TRIGGERS", "ChatRequestError", "UIChatRequest", "UIFilePart", "parse_chat_request", "ui_messages_to_api"]

TRIGGERS = ("submit-message", "regenerate-message")
"""The ``trigger`` values ``useChat`` sends: a new user message, or a new answer to the last one."""

_ROLES = ("system", "user", "assistant")
_TRANSPORT_FIELDS = ("id", "messages", "trigger", "messageId")


@dataclass(frozen=True)
class UIFilePart:
    """A file the user attached: ``url`` is a ``data:`` URL or a link (left out of the repr: it can be large)."""

    media_type: str
    url: str = field(repr=False)
    filename: str | None = None


@dataclass(frozen=True)
class UIChatRequest:
    """What a ``useChat`` request asks for.

    ``text`` joins the text parts of the last user message (one per line) and ``files`` holds its file parts;
    ``message_id`` is the body's ``messageId`` (for ``regenerate-message``: the assistant message to replace, if
    the client named one); ``extra`` holds every other body field (``useChat``'s ``body`` option); ``messages`` is
    the checked history as sent, for :func:`ui_messages_to_api`.
    """

    chat_id: str
    trigger: str
    text: str
    files: tuple[UIFilePart, ...] = ()
    message_id: str | None = None
    user_message_id: str | None = None
    messages: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def regenerate(self) -> bool:
        """True when the browser asks for a new answer to its last message instead of sending a new one."""
        return self.trigger == "regenerate-message"


def parse_chat_request(raw: bytes | str | Mapping[str, Any]) -> UIChatRequest:
    """Parse and check a ``useChat`` body (raw JSON or already decoded).

    ``trigger`` defaults to ``submit-message`` when absent (custom transports may drop it). The last message with
    role ``user`` must carry some text or a file.

    >>> parse_chat_request('{"id": "c1", "messages": []}')
    Traceback (most recent call last):
      ...
    claude_web.web.errors.RequestError: messages: must not be empty
    """
    data = _load(raw)
    chat_id = data.get("id")
    if not isinstance(chat_id, str) or not chat_id:
        raise ChatRequestError("id", "must be a non-empty string (the chat id)")
    trigger = data.get("trigger", "submit-message")
    if trigger not in TRIGGERS:
        raise ChatRequestError("trigger", f"must be one of: {', '.join(TRIGGERS)}")
    message_id = data.get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise ChatRequestError("messageId", "must be a string or null")
    messages = _check_messages(data.get("messages"))
    index = next((i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == "user"), None)
    if index is None:
        raise ChatRequestError("messages", "must contain a user message")
    user = messages[index]
    texts = [part["text"] for part in user["parts"] if part["type"] == "text"]
    files = tuple(
        UIFilePart(part["mediaType"], part["url"], part.get("filename"))
        for part in user["parts"]
        if part["type"] == "file"
    )
    text = "\n".join(t for t in texts if t)
    if not text.strip() and not files:
        raise ChatRequestError(f"messages[{index}].parts", "the last user message has no text and no file")
    return UIChatRequest(
        chat_id=chat_id,
        trigger=trigger,
        text=text,
        files=files,
        message_id=message_id,
        user_message_id=user.get("id"),
        messages=tuple(messages),
        extra={key: value for key, value in data.items() if key not in _TRANSPORT_FIELDS},
    )


def ui_messages_to_api(messages: Sequence[Mapping[str, Any]], *, allow_assistant: bool = False) -> list[dict[str, Any]]:
    """UI messages to Messages API ``messages``, for a chat without a stored conversation: text parts only.

    Other parts (files, reasoning, tool calls, step markers, data parts) are left out, and so is a message with no
    text left. System messages are refused (the site sets the system prompt), and so are assistant turns unless
    ``allow_assistant``; the first message kept must come from the user. One text part gives a string ``content``,
    several give a list of text blocks.

    >>> ui_messages_to_api([{"id": "a", "role": "assistant", "parts": [{"type": "text", "text": "Hello"}]}])
    Traceback (most recent call last):
      ...
    claude_web.web.errors.RequestError: messages[0].role: assistant turns are not accepted here
    """
    out: list[dict[str, Any]] = []
    for i, message in enumerate(_check_messages(messages)):
        role = message["role"]
        if role == "system":
            raise ChatRequestError(f"messages[{i}].role", "system messages are not accepted; the site sets the prompt")
        if role == "assistant" and not allow_assistant:
            raise ChatRequestError(f"messages[{i}].role", "assistant turns are not accepted here")
        texts = [part["text"] for part in message["parts"] if part["type"] == "text" and part["text"]]
        if not texts:
            continue
        if not out and role != "user":
            raise ChatRequestError(f"messages[{i}].role", "the first message must come from the user")
        content: str | list[dict[str, Any]] = (
            texts[0] if len(texts) == 1 else [{"type": "text", "text": text} for text in texts]
        )
        out.append({"role": role, "content": content})
    if not out:
        raise ChatRequestError("messages", "has no text to send")
    return out


def _load(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChatRequestError("body", f"is not valid JSON ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise ChatRequestError("body", "must be a JSON object")
    return data


def _check_messages(messages: Any) -> list[Mapping[str, Any]]:
    """The shape every UI message must have; the first problem raises, naming its field."""
    if messages is None:
        raise ChatRequestError("messages", "is required")
    if not isinstance(messages, (list, tuple)):
        raise ChatRequestError("messages", "must be a list")
    if not messages:
        raise ChatRequestError("messages", "must not be empty")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise ChatRequestError(where, "must be an object with id, role and parts")
        if "id" in message and not isinstance(message["id"], str):
            raise ChatRequestError(f"{where}.id", "must be a string")
        if message.get("role") not in _ROLES:
            raise ChatRequestError(f"{where}.role", f"must be one of: {', '.join(_ROLES)}")
        parts = message.get("parts")
        if not isinstance(parts, (list, tuple)):
            raise ChatRequestError(f"{where}.parts", "must be a list")
        for j, part in enumerate(parts):
            _check_part(part, f"{where}.parts[{j}]")
    return list(messages)


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, Mapping) or not isinstance(part.get("type"), str) or not part["type"]:
        raise ChatRequestError(f"{where}.type" if isinstance(part, Mapping) else where, "must be a part with a type")
    if part["type"] == "text" and not isinstance(part.get("text"), str):
        raise ChatRequestError(f"{where}.text", "must be a string")
    if part["type"] == "file":
        for key in ("mediaType", "url"):
            if not isinstance(part.get(key), str) or not part[key]:
                raise ChatRequestError(f"{where}.{key}", "must be a non-empty string")
        if part.get("filename") is not None and not isinstance(part["filename"], str):
            raise ChatRequestError(f"{where}.filename", "must be a string")
