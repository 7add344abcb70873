"""Sentinels and small shared types.

``NOT_GIVEN`` means "use the client's default", which is different from ``None`` (e.g. ``timeout=None``
disables the timeout, ``timeout=NOT_GIVEN`` keeps the client's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import httpx
from typing_extensions import TypedDict, override

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "NotGiven",
    "Omit",
    "Query",
    "RequestOptions",
    "Timeout",
    "not_given",
    "omit",
]

_T = TypeVar("_T")


class NotGiven:
    """The "argument not given" marker; falsy, a singleton in practice.

    >>> def f(timeout: float | None | NotGiven = NOT_GIVEN) -> bool:
    ...     return isinstance(timeout, NotGiven)
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    @override
    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()
not_given = NOT_GIVEN


class Omit:
    """Marks a default header to be removed: ``extra_headers={"anthropic-beta": Omit()}``."""

    def __bool__(self) -> Literal[False]:
        return False

    @override
    def __repr__(self) -> str:
        return "omit"


omit = Omit()

Timeout = float | httpx.Timeout | None
Headers = Mapping[str, str | Omit]
Query = Mapping[str, object]
Body = object


class RequestOptions(TypedDict, total=False):
    headers: Headers
    max_retries: int
    timeout: float | httpx.Timeout | None
    params: Query
    extra_json: Mapping[str, Any]
    idempotency_key: str


def is_given(value: _T | NotGiven) -> bool:
    return not isinstance(value, NotGiven)
