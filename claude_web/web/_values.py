"""Reading settings values: where a value came from, and the checks that say what to write instead.

Shared by the settings schema (:mod:`claude_web.web.settings`) and the sections parsed beside it
(:mod:`claude_web.web.assistants`); they re-export :class:`ConfigError` and :class:`Where`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["ConfigError", "Where"]


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it as its source spells it and says what to write."""


# -- where a value came from --------------------------------------------------------------------------------


class Where:
    """The name of a setting as the user wrote it: ``CLAUDE_WEB['CHAT']['MAX_TOKENS']`` or
    ``app.config["CLAUDE_WEB_CHAT_MAX_TOKENS"]``; ``overrides`` name children that came from their own key."""

    __slots__ = ("_overrides", "text")

    def __init__(self, text: str, overrides: Mapping[str, str] | None = None) -> None:
        self.text = text
        self._overrides = dict(overrides or {})

    def __getitem__(self, key: Any) -> Where:
        if isinstance(key, str) and key in self._overrides:
            return Where(self._overrides[key])
        return Where(f"{self.text}[{key!r}]")

    def __str__(self) -> str:
        return self.text


def _fail(where: Where, problem: str, example: str) -> ConfigError:
    return ConfigError(f"{where} {problem}. Write it like: {where} = {example}")


def _mapping(value: Any, where: Where, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a dict, not {type(value).__name__}", example)
    return value


def _check_keys(data: Mapping[str, Any], known: Sequence[str], where: Where) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(repr(k) for k in unknown)}; "
            f"known keys: {', '.join(repr(k) for k in known)}"
        )


def _bool(value: Any, where: Where) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"must be True or False, not {value!r}", "True")
    return value


def _positive_int(value: Any, where: Where, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"must be a positive integer, not {value!r}", repr(example))
    return value


def _positive_number(value: Any, where: Where, example: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _fail(where, f"must be a positive number of seconds, not {value!r}", repr(example))
    return float(value)


def _str(value: Any, where: Where, example: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, f"must be a non-empty string, not {value!r}", repr(example))
    return value


def _optional_str(value: Any, where: Where, example: str) -> str | None:
    return None if value is None else _str(value, where, example)


def _decimal(value: Any, where: Where) -> Decimal:
    if isinstance(value, bool):
        raise _fail(where, f"must be a number, not {value!r}", "'3.00'")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _fail(where, f"must be a number, not {value!r}", "'3.00'") from None
    if not result.is_finite() or result < 0:
        raise _fail(where, f"must be a non-negative number, not {value!r}", "'3.00'")
    return result
