"""The framework-free web layer under the Django app and the Flask extension, written once.

- :mod:`~claude_web.web.settings`: the one settings schema (Django ``CLAUDE_WEB``, Flask ``CLAUDE_WEB_*``,
  worker environment variables), parsed into frozen dataclasses;
- :mod:`~claude_web.web.clients`: the one client registry (sync per process, async per event loop), with
  connection pools sized for the stream capacity (:mod:`~claude_web.web.pool`);
- :mod:`~claude_web.web.streams`: the per-process stream cap and bodies that always give their slot back;
  :mod:`~claude_web.web.asgi`: the ASGI gate that refuses a full process's streams before the framework;
- :mod:`~claude_web.web.runtime`: one app's settings, clients, usage pipeline, quota and jobs;
- :mod:`~claude_web.web.sse` and :mod:`~claude_web.web.events`: the one SSE writer and event translator;
- :mod:`~claude_web.web.chat`: the chat rules; :mod:`~claude_web.web.errors`: the refusals;
- :mod:`~claude_web.web.http` and :mod:`~claude_web.web.handlers`: neutral requests, responses and handlers.

An adapter maps its settings keys, builds a :class:`WebRuntime`, and turns :class:`WebResponse` objects into its
framework's responses; nothing else.
"""

from typing import TYPE_CHECKING

from .errors import RequestError, WebError
from .http import Principal, WebRequest, WebResponse, request_id_from
from .settings import ConfigError, WebSettings, parse_settings, settings_from_env, settings_from_flat

__all__ = [
    "ConfigError",
    "Principal",
    "RequestError",
    "WebError",
    "WebRequest",
    "WebResponse",
    "WebRuntime",
    "WebSettings",
    "parse_settings",
    "request_id_from",
    "settings_from_env",
    "settings_from_flat",
]

if TYPE_CHECKING:
    from .runtime import WebRuntime


def __getattr__(name: str) -> object:
    if name == "WebRuntime":  # imported on use: the runtime pulls in jobs, which import this package
        from .runtime import WebRuntime

        return WebRuntime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
