"""The one settings schema of the web layer, parsed once into frozen dataclasses.

Three sources produce the same :class:`WebSettings`:

- Django's ``settings.CLAUDE_WEB`` dict, shaped like ``DATABASES`` (:func:`parse_settings`);
- Flask's flat ``app.config["CLAUDE_WEB_*"]`` keys (:func:`settings_from_flat`);
- a worker's ``CLAUDE_WEB_*`` environment variables (:func:`settings_from_env`).

The nested shape is the canonical one; a flat key is ``CLAUDE_WEB_<SECTION>`` (a whole section as a dict) or
``CLAUDE_WEB_<SECTION>_<KEY>`` (one key of it), e.g. ``CLAUDE_WEB_CHAT_MAX_TOKENS`` is ``CHAT["MAX_TOKENS"]``.
Every error is a :class:`ConfigError` that names the setting the way its source spells it and says what to write.

The schema (sections, keys, defaults, dataclasses) is in ``_schema``, the nested parser in ``_parse``, the flat
sources in ``_flat``; import them from here.

>>> cfg = parse_settings({"CHAT": {"MAX_TOKENS": 512}})
>>> cfg.chat.max_tokens, cfg.clients["default"].backend
(512, 'anthropic')
>>> settings_from_flat({"CLAUDE_WEB_CHAT_MAX_TOKENS": 256}).chat.max_tokens
256
"""

from .._values import (
    ConfigError,
    Where,
)
from ..assistants import (
    AssistantSettings,
    ConversationSettings,
)
from ..pool import (
    PoolSettings,
)
from ._flat import (
    flat_place,
    section_keys,
    settings_from_env,
    settings_from_flat,
)
from ._parse import (
    parse_jobs_section,
    parse_settings,
)
from ._schema import (
    BACKENDS,
    DEFAULT_CHAT_MODELS,
    DEFAULTS,
    FAKE_API_KEY,
    INPUT_TOKEN_MODES,
    LIMIT_KEYS,
    ON_EXHAUSTED,
    QUOTA_STORES,
    SECTIONS,
    TOP_LEVEL,
    USAGE_STORAGES,
    ChatSettings,
    ClientSettings,
    JobsSettings,
    PricingSettings,
    QuotaSettings,
    StreamingSettings,
    UsageSettings,
    WebSettings,
    is_secret_option,
    redact,
)

__all__ = [
    "AssistantSettings",
    "BACKENDS",
    "ChatSettings",
    "ClientSettings",
    "ConfigError",
    "ConversationSettings",
    "DEFAULTS",
    "DEFAULT_CHAT_MODELS",
    "FAKE_API_KEY",
    "INPUT_TOKEN_MODES",
    "JobsSettings",
    "LIMIT_KEYS",
    "ON_EXHAUSTED",
    "PoolSettings",
    "PricingSettings",
    "QUOTA_STORES",
    "QuotaSettings",
    "SECTIONS",
    "StreamingSettings",
    "TOP_LEVEL",
    "USAGE_STORAGES",
    "UsageSettings",
    "WebSettings",
    "Where",
    "flat_place",
    "is_secret_option",
    "parse_jobs_section",
    "parse_settings",
    "redact",
    "section_keys",
    "settings_from_env",
    "settings_from_flat",
]
