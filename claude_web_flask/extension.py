"""``ClaudeWeb``: the Flask extension object (app-factory friendly, several apps per process).

>>> from flask import Flask
>>> from claude_web_flask import ClaudeWeb
>>> claude = ClaudeWeb()
>>> def create_app():
...     app = Flask(__name__)
...     app.config["CLAUDE_WEB_CLIENTS"] = {"default": {"OPTIONS": {"api_key": "..."}}}
...     claude.init_app(app)
...     return app
>>> @app.post("/ask")
... def ask():
...     return claude.stream_response(model="claude-haiku-4-5", max_tokens=512,
...                                   messages=[{"role": "user", "content": request.json["q"]}])

The work is done by the web layer (:mod:`claude_web.web`): one :class:`~claude_web.web.runtime.WebRuntime` per app
holds the settings, clients, usage pipeline and quota; this module plugs in Flask's user, storage and signals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, has_request_context

from claude_web import Anthropic, AsyncAnthropic
from claude_web.quotas import QuotaExceeded
from claude_web.web.errors import RequestError, WebError
from claude_web.web.handlers import error_response, stream_response
from claude_web.web.http import WebRequest

from .cli import claude_cli
from .config import read_settings, set_defaults
from .http import flask_response, web_request
from .state import EXTENSION_KEY, UserLoader, _AppState, current_user_id, get_runtime, get_state

__all__ = ["EXTENSION_KEY", "ClaudeWeb", "QuotaUnavailable", "get_runtime", "get_state"]

QuotaUnavailable = WebError
"""The quota counters could not be read and ``CLAUDE_WEB_QUOTA_FAIL_OPEN`` is off (answered with 503)."""


class ClaudeWeb:
    """Claude for a Flask app: per-request clients, streamed responses, usage records, quotas and a CLI.

    ``ClaudeWeb(app)`` or ``claude = ClaudeWeb(); claude.init_app(app)`` (any number of apps). Settings are the
    ``CLAUDE_WEB_*`` keys of ``app.config`` (see :mod:`claude_web_flask.config`).
    """

    def __init__(self, app: Flask | None = None, *, user_loader: UserLoader | None = None) -> None:
        self._user_loader = user_loader
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read and check the settings, keep the state in ``app.extensions``, add error handlers and the CLI."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "claude_web_flask is already registered on this app: create one ClaudeWeb and call init_app once "
                "per app"
            )
        set_defaults(app.config)
        settings = read_settings(app.config, testing=app.testing, debug=app.debug)
        app.extensions[EXTENSION_KEY] = _AppState(app, settings, self)
        if settings.register_error_handlers:
            app.register_error_handler(QuotaExceeded, quota_response)
            app.register_error_handler(WebError, web_error_response)
        app.cli.add_command(claude_cli)

    def user_loader(self, func: UserLoader) -> UserLoader:
        """Decorator: ``func()`` returns the current user's id (or ``None``), for usage records and quotas."""
        self._user_loader = func
        return func

    # -- the current request ------------------------------------------------------------------------------------
    def web_request(self, *, read_body: bool = True, session: bool = False) -> WebRequest:
        """This request as the web layer sees it (kept on ``g``; the body is read once)."""
        key = ("_claude_web_request", read_body, session)
        cached: WebRequest | None = g.get(str(key))
        if cached is not None:
            return cached
        state = get_state()
        made = web_request(
            current_user_id(state),
            request_id_header=state.settings.streaming.request_id_header,
            read_body=read_body,
            session=session,
        )
        setattr(g, str(key), made)
        return made

    def request_metadata(self) -> dict[str, Any]:
        """The usage context of this request for the default client (alias, user id, request id, path...)."""
        state = get_state()
        return state.runtime.usage_context(self.web_request(read_body=False), state.settings.default_client)

    # -- clients ------------------------------------------------------------------------------------------------
    @property
    def client(self) -> Anthropic:
        """The default client for this request (see :meth:`get_client`)."""
        return self.get_client()

    def get_client(self, alias: str | None = None) -> Anthropic:
        """A cheap view of the app's process-wide client ``alias`` carrying this request's metadata.

        Inside a request it is kept on ``g`` (one view per alias per request); outside one (CLI, shell) the view
        carries only the alias.
        """
        state = get_state()
        name = alias or state.settings.default_client
        base = state.runtime.clients.get(name)
        if not has_request_context():
            return base
        views: dict[str, Anthropic] = g.setdefault("_claude_web_clients", {})
        view = views.get(name)
        if view is None:
            context = state.runtime.usage_context(self.web_request(read_body=False), name)
            view = views[name] = base.with_options(usage_context=context)
        return view

    @property
    def async_client(self) -> AsyncAnthropic:
        """The default async client for this request and event loop (see :meth:`get_async_client`)."""
        return self.get_async_client()

    def get_async_client(self, alias: str | None = None) -> AsyncAnthropic:
        """An async client for ``async def`` views: one per event loop (Flask gives each async view its own)."""
        state = get_state()
        name = alias or state.settings.default_client
        try:
            base = state.runtime.clients.get_async(name)
        except RuntimeError:
            raise RuntimeError(
                "the async Claude client is for async views (a running event loop); use claude.client in sync code"
            ) from None
        if not has_request_context():
            return base
        loop = asyncio.get_running_loop()
        views: dict[tuple[str, asyncio.AbstractEventLoop], AsyncAnthropic] = g.setdefault(
            "_claude_web_async_clients", {}
        )
        view = views.get((name, loop))
        if view is None:
            context = state.runtime.usage_context(self.web_request(read_body=False), name)
            view = views[(name, loop)] = base.with_options(usage_context=context)
        return view

    # -- quotas -------------------------------------------------------------------------------------------------
    def check_quota(self) -> None:
        """Raise :class:`~claude_web.quotas.QuotaExceeded` if this request's user is over a limit (counts it)."""
        get_state().runtime.check_quota(self.web_request(read_body=False).quota_key)

    # -- chat and streaming -------------------------------------------------------------------------------------
    def validate_chat(self, body: bytes | str | dict[str, Any] | None = None) -> dict[str, Any]:
        """Check a chat body (default: this request's) against the ``CLAUDE_WEB_CHAT_*`` rules.

        Raises :class:`~claude_web.web.errors.RequestError` (answered with 400 JSON naming the field).
        """
        raw = self.web_request().body if body is None else body
        params: dict[str, Any] = get_state().runtime.chat_policy.validate(raw)
        return params

    def stream_response(
        self, *, alias: str | None = None, check_quota: bool = True, protocol: str | None = None, **params: Any
    ) -> Response:
        """A streamed ``text/event-stream`` response of ``messages.stream(**params)``.

        The budgets admit it first (its worst case is reserved; ``QuotaExceeded`` -> 429 before any upstream
        call; ``check_quota=False`` skips them). The upstream call starts
        when the response body is sent; an upstream failure becomes an SSE ``error`` event; a browser that goes
        away closes the upstream stream (usage ``aborted``). ``protocol="ai-sdk"``: the AI SDK's UI message stream.

        >>> return claude.stream_response(model="claude-haiku-4-5", max_tokens=512, messages=messages)
        """
        state = get_state()
        neutral = self.web_request(read_body=False)
        name = alias or state.settings.default_client
        admitted = state.runtime.admit(neutral.quota_key, params, alias=name) if check_quota else {}
        try:
            out = stream_response(state.runtime, neutral, params, alias=name, usage_context=admitted, protocol=protocol)
        except WebError as exc:
            out = error_response(exc)
        return flask_response(out)


def quota_response(exc: QuotaExceeded) -> Response:
    """429 JSON with ``Retry-After`` (the error handler the extension registers for ``QuotaExceeded``)."""
    return flask_response(error_response(exc))


def web_error_response(exc: WebError) -> Response:
    """The JSON refusal (400 naming the field, 401, 404, 503...) for a web-layer error."""
    return flask_response(error_response(exc))


chat_error_response: Callable[[RequestError], Response] = web_error_response
