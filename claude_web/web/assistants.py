"""Server-owned prompts: the ``ASSISTANTS`` and ``CONVERSATIONS`` sections of the one settings schema.

An *assistant* is a named, server-side bundle of model, system prompt, tools and limits. The browser only ever
names one (or a conversation that already has one); it never sends a system prompt or a tool list::

    CLAUDE_WEB = {
        "ASSISTANTS": {
            "default": {"MODEL": "claude-haiku-4-5", "SYSTEM": "You are the help desk of Example Ltd."},
            "calculator": {
                "MODEL": "claude-sonnet-4-5",
                "SYSTEM": "Use the calculator for any arithmetic.",
                "TOOLS": ["myapp.tools.calculator"],      # dotted paths of @tool functions
                "MAX_TOKENS": 1024, "MAX_ITERATIONS": 6, "TOOL_TIMEOUT": 10,
            },
        },
        "CONVERSATIONS": {"DEFAULT_ASSISTANT": "default", "CONTEXT_SHARE": 0.8, "CACHE": True},
    }

Without ``ASSISTANTS`` there is one ``default`` assistant: ``CHAT``'s default model, no system prompt, no tools.

>>> from claude_web.web.settings import parse_settings
>>> cfg = parse_settings({"ASSISTANTS": {"helper": {"MODEL": "claude-haiku-4-5", "SYSTEM": "Be brief."}},
...                       "CONVERSATIONS": {"DEFAULT_ASSISTANT": "helper"}})
>>> cfg.assistants["helper"].system, cfg.conversations.default_assistant
('Be brief.', 'helper')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ._values import Where


class ChatDefaults(Protocol):
    """What an assistant takes from the ``CHAT`` settings when it does not say (the schema's ``ChatSettings``)."""

    @property
    def client(self) -> str: ...

    @property
    def default_model(self) -> str: ...

    @property
    def max_tokens(self) -> int: ...


__all__ = [
    "ASSISTANT_KEYS",
    "CACHE_TTLS",
    "CONVERSATION_KEYS",
    "CONVERSATION_STORAGES",
    "STRATEGIES",
    "TOKEN_COUNTERS",
    "AssistantSettings",
    "ConversationSettings",
    "parse_assistants",
    "parse_conversations",
]

ASSISTANT_KEYS = (
    "MODEL", "SYSTEM", "TOOLS", "MAX_TOKENS", "MAX_ITERATIONS", "TOOL_TIMEOUT", "CLIENT", "TEMPERATURE", "TITLE",
    "DESCRIPTION",
)  # fmt: skip
CONVERSATION_KEYS = (
    "DEFAULT_ASSISTANT", "PAGE_SIZE", "MAX_MESSAGE_CHARS", "CONTEXT_WINDOW", "CONTEXT_SHARE", "STRATEGY",
    "TOKEN_COUNTER", "CACHE", "CACHE_TTL", "CONVERSATION_MODEL", "MESSAGE_MODEL", "DATABASE", "STORAGE",
    "TABLE_PREFIX", "CREATE_TABLES",
)  # fmt: skip
CONVERSATION_DEFAULTS: dict[str, Any] = {
    "DEFAULT_ASSISTANT": "default", "PAGE_SIZE": 20, "MAX_MESSAGE_CHARS": 20_000, "CONTEXT_WINDOW": 200_000,
    "CONTEXT_SHARE": 0.8, "STRATEGY": "drop_oldest", "TOKEN_COUNTER": "estimate", "CACHE": True, "CACHE_TTL": "5m",
    "CONVERSATION_MODEL": "claude_web.Conversation", "MESSAGE_MODEL": "claude_web.ChatMessage", "DATABASE": "default",
    "STORAGE": "auto", "TABLE_PREFIX": "claude_web_", "CREATE_TABLES": True,
}  # fmt: skip
STRATEGIES = ("drop_oldest",)
"""Built-in context strategies; a ``"package.module:function"`` path names your own (see
:mod:`claude_web.web.conversations.context`)."""
TOKEN_COUNTERS = ("estimate", "count_tokens")
CACHE_TTLS = ("5m", "1h")
CONVERSATION_STORAGES = ("auto", "sqlalchemy", "memory")


@dataclass(frozen=True)
class AssistantSettings:
    """One entry of ``ASSISTANTS``: what the server sends for a conversation with this assistant.

    ``tools`` holds dotted paths (``"myapp.tools:calculator"``) or tool objects made with
    :func:`claude_web.web.tools.tool`; they are imported where the turn runs (a web process or a worker).
    """

    name: str
    model: str
    system: str = ""
    tools: tuple[Any, ...] = ()
    max_tokens: int = 1024
    max_iterations: int = 8
    tool_timeout: float = 30.0
    client: str = "default"
    temperature: float | None = None
    title: str = ""
    description: str = ""

    @property
    def label(self) -> str:
        """What a person sees: ``TITLE``, else the name."""
        return self.title or self.name

    def public(self) -> dict[str, Any]:
        """What the browser may know of it (never the system prompt)."""
        names = [t if isinstance(t, str) else getattr(t, "name", repr(t)) for t in self.tools]
        return {
            "name": self.name,
            "title": self.label,
            "description": self.description,
            "model": self.model,
            "tools": [n.replace(":", ".").rsplit(".", 1)[-1] for n in names],
        }


@dataclass(frozen=True)
class ConversationSettings:
    """The ``CONVERSATIONS`` section: storage, paging, the context window and prompt caching.

    ``context_share`` of ``context_window`` tokens is what a request's prompt may use (the answer's
    ``max_tokens`` comes out of it); past it, ``strategy`` drops older turns. ``token_counter`` ``"estimate"``
    counts about 4 characters a token; ``"count_tokens"`` asks the API. ``conversation_model`` /
    ``message_model`` are read by Django, ``storage`` / ``table_prefix`` / ``create_tables`` by Flask.
    """

    default_assistant: str = "default"
    page_size: int = 20
    max_message_chars: int = 20_000
    context_window: int = 200_000
    context_share: float = 0.8
    strategy: str = "drop_oldest"
    token_counter: str = "estimate"
    cache: bool = True
    cache_ttl: str = "5m"
    conversation_model: str = "claude_web.Conversation"
    message_model: str = "claude_web.ChatMessage"
    database: str = "default"
    storage: str = "auto"
    table_prefix: str = "claude_web_"
    create_tables: bool = True

    @property
    def prompt_budget(self) -> int:
        """The tokens a request (prompt and answer) may use: ``context_share`` of ``context_window``."""
        return int(self.context_window * self.context_share)


def parse_assistants(
    raw: Any, where: Where, chat: ChatDefaults, clients: Mapping[str, Any]
) -> dict[str, AssistantSettings]:
    """The ``ASSISTANTS`` section; without it (or empty) one ``default`` assistant built from ``CHAT``."""
    from ._values import _check_keys, _fail, _mapping, _positive_int, _str

    example = "{'default': {'MODEL': 'claude-haiku-4-5', 'SYSTEM': 'You are ...', 'TOOLS': ['myapp.tools.search']}}"
    data = {} if raw is None else _mapping(raw, where, example)
    if not data:
        return {
            "default": AssistantSettings("default", chat.default_model, max_tokens=chat.max_tokens, client=chat.client)
        }
    parsed: dict[str, AssistantSettings] = {}
    for name, entry in data.items():
        if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
            raise _fail(where, f"has the name {name!r}; use letters, digits, '-' and '_'", example)
        at = where[name]
        entry = _mapping(entry, at, "{'MODEL': 'claude-haiku-4-5', 'SYSTEM': '...'}")
        _check_keys(entry, ASSISTANT_KEYS, at)
        model = _str(entry.get("MODEL") or chat.default_model, at["MODEL"], "claude-haiku-4-5")
        system = entry.get("SYSTEM", "")
        if not isinstance(system, str):
            raise _fail(at["SYSTEM"], f"must be a string, not {type(system).__name__}", "'You are a helpful ...'")
        tools = entry.get("TOOLS", ())
        if isinstance(tools, str) or not isinstance(tools, (list, tuple)):
            raise _fail(at["TOOLS"], f"must be a list of dotted paths, not {tools!r}", "['myapp.tools.calculator']")
        for i, item in enumerate(tools):
            if isinstance(item, str):
                if "." not in item and ":" not in item:
                    raise _fail(at["TOOLS"][i], f"is {item!r}, not a dotted path", "'myapp.tools.calculator'")
            elif not hasattr(item, "to_dict") or not hasattr(item, "name"):
                raise _fail(at["TOOLS"][i], f"must be a dotted path or a @tool function, not {item!r}", "'a.b.c'")
        client = _str(entry.get("CLIENT") or chat.client, at["CLIENT"], "default")
        if client not in clients:
            raise _fail(at["CLIENT"], f"is {client!r}, which is not in CLIENTS", repr(next(iter(clients))))
        temperature = entry.get("TEMPERATURE")
        if temperature is not None and (
            isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1
        ):
            raise _fail(at["TEMPERATURE"], f"must be a number between 0 and 1, not {temperature!r}", "0.2")
        parsed[name] = AssistantSettings(
            name=name,
            model=model,
            system=system,
            tools=tuple(tools),
            max_tokens=_positive_int(entry.get("MAX_TOKENS", chat.max_tokens), at["MAX_TOKENS"], 1024),
            max_iterations=_positive_int(entry.get("MAX_ITERATIONS", 8), at["MAX_ITERATIONS"], 8),
            tool_timeout=_seconds(entry.get("TOOL_TIMEOUT", 30.0), at["TOOL_TIMEOUT"]),
            client=client,
            temperature=None if temperature is None else float(temperature),
            title=_text(entry.get("TITLE", ""), at["TITLE"]),
            description=_text(entry.get("DESCRIPTION", ""), at["DESCRIPTION"]),
        )
    return parsed


def _seconds(value: Any, where: Where) -> float:
    from ._values import _positive_number

    return _positive_number(value, where, 30.0)


def _text(value: Any, where: Where) -> str:
    from ._values import _fail

    if not isinstance(value, str):
        raise _fail(where, f"must be a string, not {value!r}", "'Calculator'")
    return value


def _choice(value: Any, choices: tuple[str, ...], where: Where, *, dotted: bool = False) -> str:
    from ._values import _fail

    if isinstance(value, str) and (value in choices or (dotted and (":" in value or "." in value))):
        return value
    extra = " or a 'package.module:function' path" if dotted else ""
    raise _fail(where, f"must be one of {', '.join(map(repr, choices))}{extra}, not {value!r}", repr(choices[0]))


def parse_conversations(
    data: Mapping[str, Any], where: Where, assistants: Mapping[str, AssistantSettings]
) -> ConversationSettings:
    """The ``CONVERSATIONS`` section (already merged with its defaults)."""
    from ._values import _bool, _check_keys, _fail, _positive_int, _str

    _check_keys(data, CONVERSATION_KEYS, where)
    default = _str(data["DEFAULT_ASSISTANT"], where["DEFAULT_ASSISTANT"], "default")
    if default == CONVERSATION_DEFAULTS["DEFAULT_ASSISTANT"] and default not in assistants:
        default = next(iter(assistants))  # not chosen: the first one configured
    if default not in assistants:
        raise _fail(
            where["DEFAULT_ASSISTANT"],
            f"is {default!r}, which is not in ASSISTANTS ({', '.join(map(repr, assistants))})",
            repr(next(iter(assistants))),
        )
    share = data["CONTEXT_SHARE"]
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise _fail(where["CONTEXT_SHARE"], f"must be a fraction above 0 and at most 1, not {share!r}", "0.8")
    prefix = data["TABLE_PREFIX"]
    if not isinstance(prefix, str) or not prefix.replace("_", "").isalnum():
        raise _fail(where["TABLE_PREFIX"], f"must be letters, digits and _, not {prefix!r}", "'claude_web_'")
    for key in ("CONVERSATION_MODEL", "MESSAGE_MODEL"):
        value = data[key]
        if not isinstance(value, str) or value.count(".") != 1:
            raise _fail(where[key], f"must be 'app_label.ModelName', not {value!r}", repr(CONVERSATION_DEFAULTS[key]))
    return ConversationSettings(
        default_assistant=default,
        page_size=_positive_int(data["PAGE_SIZE"], where["PAGE_SIZE"], 20),
        max_message_chars=_positive_int(data["MAX_MESSAGE_CHARS"], where["MAX_MESSAGE_CHARS"], 20_000),
        context_window=_positive_int(data["CONTEXT_WINDOW"], where["CONTEXT_WINDOW"], 200_000),
        context_share=float(share),
        strategy=_choice(data["STRATEGY"], STRATEGIES, where["STRATEGY"], dotted=True),
        token_counter=_choice(data["TOKEN_COUNTER"], TOKEN_COUNTERS, where["TOKEN_COUNTER"]),
        cache=_bool(data["CACHE"], where["CACHE"]),
        cache_ttl=_choice(data["CACHE_TTL"], CACHE_TTLS, where["CACHE_TTL"]),
        conversation_model=data["CONVERSATION_MODEL"],
        message_model=data["MESSAGE_MODEL"],
        database=_str(data["DATABASE"], where["DATABASE"], "default"),
        storage=_choice(data["STORAGE"], CONVERSATION_STORAGES, where["STORAGE"]),
        table_prefix=prefix,
        create_tables=_bool(data["CREATE_TABLES"], where["CREATE_TABLES"]),
    )
