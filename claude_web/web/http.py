"""Framework-neutral requests and responses: what an adapter hands the handlers and gets back.

An adapter builds a :class:`WebRequest` from its framework's request (a few lines), calls a handler, and turns the
:class:`WebResponse` into ``JsonResponse`` / ``StreamingHttpResponse`` or a Flask ``Response``.

>>> request = WebRequest("POST", "/chat", b'{"messages": []}', content_type="application/json",
...                      principal=Principal(user_id=42))
>>> request.principal.owner, request.quota_key
('user:42', 'user:42')
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_REQUEST_ID_LENGTH", "Principal", "WebRequest", "WebResponse", "request_id_from"]

MAX_REQUEST_ID_LENGTH = 64
"""Request ids longer than this are cut (the ledger's column holds 64 characters)."""
_REQUEST_ID_SAFE = re.compile(r"[^A-Za-z0-9._:/+=@-]")


def request_id_from(header: str | None) -> str:
    """The request id: the incoming header's value, cleaned (printable, no spaces) and cut to 64 characters,
    or a new random one.

    >>> request_id_from("  abc 123 ")
    'abc123'
    >>> len(request_id_from(None))
    32
    """
    if header:
        cleaned = _REQUEST_ID_SAFE.sub("", header)[:MAX_REQUEST_ID_LENGTH]
        if cleaned:
            return cleaned
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user (``user_id``), an anonymous visitor with a session, or nobody known.

    ``owner`` is the key jobs, conversations and quotas are kept under: ``user:<id>`` or ``session:<key>``.
    ``user_id`` is kept as a string whatever the adapter passes (Django's integer ``pk``, a Flask loader's value),
    so usage records, reports and job owners name a user the same way under every framework.

    >>> Principal(user_id=42).user_id
    '42'
    """

    user_id: Any = None
    session_key: str | None = None

    def __post_init__(self) -> None:
        if self.user_id is not None and not isinstance(self.user_id, str):
            object.__setattr__(self, "user_id", str(self.user_id))

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def owner(self) -> str | None:
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.session_key:
            return f"session:{self.session_key}"
        return None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class WebRequest:
    """One HTTP request as the handlers see it.

    ``body_refused`` is set when the framework itself refused to read the body (Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, Flask's ``MAX_CONTENT_LENGTH``): ``(size, limit)`` in bytes, size may be -1.
    """

    method: str
    path: str
    body: bytes = b""
    content_type: str = ""
    principal: Principal = ANONYMOUS
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    remote_addr: str = ""
    last_event_id: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body_refused: tuple[int, int] | None = None

    @property
    def quota_key(self) -> str:
        """The key quotas count under: the owner, else the client address."""
        return self.principal.owner or f"ip:{self.remote_addr or 'unknown'}"

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()


@dataclass
class WebResponse:
    """A status, headers, and either a JSON body or an (async) iterator of bytes to stream."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    stream: Iterator[bytes] | None = None
    astream: AsyncIterator[bytes] | None = None

    @property
    def streaming(self) -> bool:
        return self.stream is not None or self.astream is not None
