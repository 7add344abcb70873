"""Every ``CLAUDE_WEB_*`` config key with its default, read by the web layer's one schema.

A key is ``CLAUDE_WEB_<SECTION>_<KEY>`` for one setting of a section (``CLAUDE_WEB_CHAT_MAX_TOKENS``) or
``CLAUDE_WEB_<SECTION>`` for a whole section as a dict (``CLAUDE_WEB_CLIENTS``, ``CLAUDE_WEB_QUOTAS``,
``CLAUDE_WEB_PRICING``, ``CLAUDE_WEB_JOBS``): the same settings as Django's ``CLAUDE_WEB`` dict and the workers'
environment (see :mod:`claude_web.web.settings`). ``init_app`` calls :func:`set_defaults` (``app.config.setdefault``
for each key of :data:`DEFAULTS`) and then :func:`read_settings`, which validates everything at start-up: a wrong
setting fails ``init_app`` with a :class:`ConfigError` that names the key and says what to write.

>>> app.config["CLAUDE_WEB_CLIENTS"] = {
...     "default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": os.environ["ANTHROPIC_API_KEY"]}},
...     "cheap": {"BACKEND": "anthropic", "OPTIONS": {"max_retries": 0, "timeout": 30}},
... }
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from claude_web.web import settings as schema
from claude_web.web.checks import check_settings
from claude_web.web.clients import import_string
from claude_web.web.settings import BACKENDS, ClientSettings, ConfigError, WebSettings

__all__ = ["BACKENDS", "DEFAULTS", "ClientSpec", "ConfigError", "Settings", "read_settings", "set_defaults"]

ClientSpec = ClientSettings
Settings = WebSettings

FLASK_DEFAULTS: dict[str, dict[str, Any]] = {"QUOTAS": {"STORE": "redis"}}
"""Where Flask's default differs from Django's: quotas count in Redis (Flask has no shared cache framework)."""

_NAMES = {
    ("STREAMING", "HEARTBEAT"): "CLAUDE_WEB_STREAM_HEARTBEAT",
    ("STREAMING", "REQUEST_ID_HEADER"): "CLAUDE_WEB_REQUEST_ID_HEADER",
}
_WHOLE_SECTIONS = ("PRICING", "JOBS", "CONVERSATIONS")
_LIMITS = (
    *schema.LIMIT_KEYS, "PER_ALIAS", "GLOBAL", "ON_EXHAUSTED", "ALERT_AT", "RESERVATION_TTL", "JOB_RESERVATION_TTL",
    "INPUT_TOKENS",
)  # fmt: skip
"""``QUOTAS`` keys left out of the flat defaults: they are read from ``CLAUDE_WEB_QUOTAS`` (or their own
``CLAUDE_WEB_QUOTA_<KEY>``) and defaulted by the schema, so a dict value is never overridden by a default."""


def flat_name(section: str, key: str) -> str:
    """The ``app.config`` key of one setting (``("CHAT", "MAX_TOKENS")`` -> ``CLAUDE_WEB_CHAT_MAX_TOKENS``)."""
    if (section, key) in _NAMES:
        return _NAMES[(section, key)]
    if section == "QUOTAS":
        return f"CLAUDE_WEB_QUOTA_{key}"
    if section == "STREAMING":
        return f"CLAUDE_WEB_STREAM_{key}"
    return f"CLAUDE_WEB_{section}_{key}"


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {
        "CLAUDE_WEB_CLIENTS": {"default": {"BACKEND": "anthropic", "OPTIONS": {}}},
        "CLAUDE_WEB_DEFAULT_CLIENT": "default",
        "CLAUDE_WEB_USER_LOADER": None,
        "CLAUDE_WEB_REGISTER_ERROR_HANDLERS": True,
        "CLAUDE_WEB_QUOTAS": {},
        "CLAUDE_WEB_PRICING": {},
        "CLAUDE_WEB_JOBS": {},
        "CLAUDE_WEB_ASSISTANTS": {},
        "CLAUDE_WEB_CONVERSATIONS": {},
    }
    for section, keys in schema.DEFAULTS.items():
        if section in _WHOLE_SECTIONS:
            continue
        for key, value in keys.items():
            if section == "QUOTAS" and key in _LIMITS:
                continue  # the limits and budget policy go in the CLAUDE_WEB_QUOTAS dict
            out[flat_name(section, key)] = FLASK_DEFAULTS.get(section, {}).get(key, value)
    return out


DEFAULTS: dict[str, Any] = _defaults()
"""Every key the extension reads, with its default. ``init_app`` sets each one with ``app.config.setdefault``."""


def _sections_of_defaults() -> dict[str, tuple[str, str]]:
    """Each defaulted single-setting key -> (its section, its key in the section dict)."""
    out: dict[str, tuple[str, str]] = {}
    for section, keys in schema.DEFAULTS.items():
        for key in keys:
            out[flat_name(section, key)] = (section, key)
    return out


_SECTION_OF = _sections_of_defaults()


def set_defaults(config: dict[str, Any]) -> None:
    """``config.setdefault`` for every key in :data:`DEFAULTS` (the one place defaults live).

    A setting the app gave inside a section dict (``CLAUDE_WEB_QUOTAS = {"STORE": "memory"}``), or under the
    section's other spelling (``CLAUDE_WEB_STREAMING_MAX_STREAMS`` for ``CLAUDE_WEB_STREAM_MAX_STREAMS``), is not
    defaulted under this key as well: the default would silently replace the app's value.
    """
    given = {schema.flat_place(name) for name in config if isinstance(name, str) and name.startswith("CLAUDE_WEB_")}
    for key, value in DEFAULTS.items():
        if key in config:
            continue
        place = _SECTION_OF.get(key)
        if place is not None and (
            place in given
            or any(
                isinstance(config.get(name), Mapping) and place[1] in config[name]
                for name in schema.section_keys(place[0])
            )
        ):
            continue
        config[key] = copy.deepcopy(value)  # never share a default dict between apps


def read_settings(config: Mapping[str, Any], *, testing: bool = False, debug: bool = False) -> WebSettings:
    """Validate every ``CLAUDE_WEB_*`` key of an app's config (call after :func:`set_defaults`).

    Outside testing, the deployment checks that are errors (no API key, a missing extra) fail here, and the
    ``fake`` backend is refused unless ``app.testing`` or ``app.debug`` is on.
    """
    settings = schema.settings_from_flat(config, defaults=FLASK_DEFAULTS, label='app.config["{}"]')
    if isinstance(settings.user_loader, str):
        try:
            import_string(settings.user_loader)
        except ImportError as exc:
            raise ConfigError(f'app.config["CLAUDE_WEB_USER_LOADER"]: {exc}') from None
    checks = check_settings(
        settings, debug=debug or testing, network=False, name="CLAUDE_WEB_CLIENTS", import_tools=False
    )
    for problem in checks:
        if problem.code == "W001":
            raise ConfigError(
                f"{problem.message} The 'fake' backend is only allowed when app.testing or app.debug is on; use "
                "BACKEND 'anthropic' in production"
            )
        if problem.level == "error" and not (testing and problem.code == "E002"):
            raise ConfigError(f"{problem.message} {problem.hint}")
    return settings
