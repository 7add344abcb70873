"""The flat sources: Flask's ``app.config["CLAUDE_WEB_*"]`` keys and a worker's environment variables, nested
and parsed as the nested shape is."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from .._values import (
    ConfigError,
    Where,
)
from ._parse import (
    _JOB_TYPES,
    parse_settings,
)
from ._schema import (
    SECTIONS,
    TOP_LEVEL,
    WebSettings,
)

# -- flat sources: Flask's app.config and environment variables ---------------------------------------------

_SECTION_NAMES = {"QUOTA": "QUOTAS", "STREAM": "STREAMING", **{s: s for s in SECTIONS}}


def section_keys(section: str) -> tuple[str, ...]:
    """The flat keys that hold ``section`` as one dict: ``CLAUDE_WEB_QUOTAS`` and ``CLAUDE_WEB_QUOTA`` for
    ``QUOTAS``, ``CLAUDE_WEB_CHAT`` for ``CHAT``..."""
    return tuple(f"CLAUDE_WEB_{name}" for name, target in _SECTION_NAMES.items() if target == section)


# keys of the first release that do not follow CLAUDE_WEB_<SECTION>_<KEY>
_RENAMED = {"REQUEST_ID_HEADER": ("STREAMING", "REQUEST_ID_HEADER")}


def flat_place(name: str) -> tuple[str, str | None] | None:
    """``"CLAUDE_WEB_STREAM_MAX_STREAMS"`` -> ``("STREAMING", "MAX_STREAMS")``: the setting a flat key names,
    whichever spelling of its section it uses (``None`` for a key that names none)."""
    return _split_flat(name[len("CLAUDE_WEB_") :]) if name.startswith("CLAUDE_WEB_") else None


def _split_flat(name: str) -> tuple[str, str | None] | None:
    """``"CHAT_MAX_TOKENS"`` -> ``("CHAT", "MAX_TOKENS")``; ``"QUOTAS"`` -> ``("QUOTAS", None)``."""
    if name in _RENAMED:
        return _RENAMED[name]
    if name in TOP_LEVEL:
        return (name, None)
    for prefix, section in sorted(_SECTION_NAMES.items(), key=lambda kv: -len(kv[0])):
        if name == prefix:
            return (section, None)
        if name.startswith(prefix + "_") and section not in ("CLIENTS", "ASSISTANTS"):
            return (section, name[len(prefix) + 1 :])
    return None


def _nest(
    flat: Mapping[str, Any], name_of: Any, *, strict: bool, from_env: bool
) -> tuple[dict[str, Any], dict[str, Where]]:
    nested: dict[str, Any] = {}
    overrides: dict[str, dict[str, str]] = {}
    roots: dict[str, str] = {}
    for full, value in flat.items():
        name = full[len("CLAUDE_WEB_") :]
        split = _split_flat(name)
        known = split is not None and (split[1] is None or split[1] in SECTIONS.get(split[0], ()))
        if not known and from_env and name in SECTIONS["JOBS"]:
            split, known = ("JOBS", name), True  # workers: CLAUDE_WEB_REDIS_URL, CLAUDE_WEB_USAGE_RECORDER, ...
        if split is None or not known:
            if strict:
                raise ConfigError(
                    f"{name_of(full)} is not a claude-web setting; known: CLAUDE_WEB_<SECTION> or "
                    f"CLAUDE_WEB_<SECTION>_<KEY> with sections {', '.join(SECTIONS)}"
                )
            continue
        section, key = split
        if from_env:
            value = _from_env_string(section, key, value, name_of(full))
        if key is None:
            roots[section] = name_of(full)
            if section in nested and isinstance(nested[section], dict) and isinstance(value, Mapping):
                nested[section] = {**value, **nested[section]}  # single keys win over the section dict
            else:  # a copy: the single keys below must not write into the app's own dict
                nested[section] = dict(value) if isinstance(value, Mapping) else value
        else:
            current = nested.setdefault(section, {})
            if isinstance(current, dict):
                current[key] = value
            overrides.setdefault(section, {})[key] = name_of(full)
    wheres = {s: Where(roots.get(s, name_of(f"CLAUDE_WEB_{s}")), overrides.get(s)) for s in SECTIONS}
    return nested, wheres


_ENV_INTS = {"MAX_TOKENS", "MAX_MESSAGES", "MAX_CHARS", "MAX_IMAGE_BYTES", "MAX_DOCUMENT_BYTES", "REQUESTS_PER_MINUTE", "TOKENS_PER_DAY", "TOKENS_PER_MONTH",
             "RETRY", "MAX_STREAMS", "PAGE_SIZE", "MAX_MESSAGE_CHARS", "CONTEXT_WINDOW"}  # fmt: skip
_ENV_FLOATS = {"HEARTBEAT", "CONTEXT_SHARE", "RESERVATION_TTL", "JOB_RESERVATION_TTL"}
_ENV_BOOLS = {"ENABLED", "STORE_CONTEXT", "CREATE_TABLE", "ALLOW_SYSTEM", "ALLOW_ASSISTANT_TURNS", "LOGIN_REQUIRED",
              "FAIL_OPEN", "INCLUDE_DEFAULTS", "REGISTER_ERROR_HANDLERS", "CACHE", "CREATE_TABLES"}  # fmt: skip


def _from_env_string(section: str, key: str | None, value: str, name: str) -> Any:
    """An environment string as the type the schema wants: JSON for dicts and lists, numbers, booleans."""
    if key is None or section in ("CLIENTS", "ASSISTANTS") or key in ("MODELS", "PER_ALIAS", "GLOBAL", "ALERT_AT"):
        if key is None and section in TOP_LEVEL:
            return value
        try:
            return json.loads(value)
        except ValueError:
            if key == "MODELS":
                return [m.strip() for m in value.split(",") if m.strip()]
            raise ConfigError(f"{name} must be JSON (a {section} dict), e.g. {name}='{{...}}'") from None
    kind = _JOB_TYPES.get(key) if section == "JOBS" else None
    try:
        if key in _ENV_BOOLS:
            lowered = value.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return lowered in ("1", "true", "yes", "on")
        if kind is int or key in _ENV_INTS:
            return int(value)
        if kind == (int, float) or key in _ENV_FLOATS:
            return float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a valid value for {section}['{key}']") from None
    return value


def settings_from_flat(
    config: Mapping[str, Any],
    *,
    strict: bool = True,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    label: str = 'app.config["{}"]',
) -> WebSettings:
    """Parse flat ``CLAUDE_WEB_*`` keys (Flask's ``app.config``); other keys are ignored.

    ``strict`` refuses unknown ``CLAUDE_WEB_*`` keys (a typo would otherwise be silently ignored).
    """
    flat = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith("CLAUDE_WEB_")}
    nested, wheres = _nest(flat, label.format, strict=strict, from_env=False)
    return _parse_flat(nested, wheres, defaults, label)


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, defaults: Mapping[str, Mapping[str, Any]] | None = None
) -> WebSettings:
    """Parse ``CLAUDE_WEB_*`` environment variables (Celery workers without a web framework).

    Dict-valued settings are JSON (``CLAUDE_WEB_CLIENTS='{"default": {"BACKEND": "anthropic",
    "API_KEY_ENV": "MY_KEY"}}'``); jobs keys may drop their section (``CLAUDE_WEB_REDIS_URL``).
    """
    env = os.environ if environ is None else environ
    flat = {k: v for k, v in env.items() if k.startswith("CLAUDE_WEB_")}
    nested, wheres = _nest(flat, lambda n: f"the environment variable {n}", strict=False, from_env=True)
    return _parse_flat(nested, wheres, defaults, "the environment variable {}")


class _FlatWhere(Where):
    """The root of a flat source: a section is named by its own key, a top-level key likewise."""

    def __init__(self, sections: Mapping[str, Where], label: str) -> None:
        super().__init__(label.format("CLAUDE_WEB_*"))
        self._sections = sections
        self._label = label

    def __getitem__(self, key: Any) -> Where:
        if key in self._sections:
            return self._sections[key]
        return Where(self._label.format(f"CLAUDE_WEB_{key}"))


def _parse_flat(
    nested: dict[str, Any], wheres: Mapping[str, Where], defaults: Mapping[str, Mapping[str, Any]] | None, label: str
) -> WebSettings:
    return parse_settings(nested, where=_FlatWhere(wheres, label), defaults=defaults)
