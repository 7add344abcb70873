"""``Secret``: a credential that never shows itself in a repr, a str, a log line or a debug page.

The clients keep API keys and bearer tokens in ``Secret`` values and reveal them only when they put them on an
outgoing request, so a traceback rendered with its frame locals (Django's ``DEBUG=True`` page, Sentry, ``pytest
--showlocals``) shows ``Secret('<redacted>')`` where the key would have been.

>>> key = Secret("sk-ant-123")
>>> key, str(key), f"{key}"
(Secret('<redacted>'), '<redacted>', '<redacted>')
>>> key.reveal()
'sk-ant-123'
>>> Secret.wrap(None) is None, Secret.wrap(key) is key
(True, True)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Secret"]

REDACTED = "<redacted>"


class Secret:
    """A string that is redacted everywhere except :meth:`reveal`."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a str, not {type(value).__name__}")
        self.__value = value

    @classmethod
    def wrap(cls, value: str | Secret | None) -> Secret | None:
        """``value`` as a ``Secret`` (``None`` stays ``None``, a ``Secret`` is returned as it is)."""
        if value is None or isinstance(value, Secret):
            return value
        return cls(value)

    def reveal(self) -> str:
        """The plain value: call it only where it leaves the process (an HTTP header)."""
        return self.__value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.__value == self.__value

    def __hash__(self) -> int:
        return hash(self.__value)

    def __bool__(self) -> bool:
        return bool(self.__value)

    def __copy__(self) -> Secret:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled: pass the credential itself where it is needed")
