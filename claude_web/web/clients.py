"""The one client registry: one sync client per process and alias, one async client per event loop and alias.

Django, Flask and Celery workers all hold their clients here. A sync client owns the connection pool every
request shares (cheap per-request views come from ``with_options``). An ``httpx.AsyncClient``'s connections
belong to the event loop that opened them, so async clients are kept per running loop; they are closed when that
loop shuts down (``asyncio.run``, uvicorn and asgiref all run ``loop.shutdown_asyncgens()`` before closing a loop)
or by :meth:`ClientRegistry.aclose` at ASGI lifespan shutdown. After a ``fork`` the parent's clients are dropped.

>>> registry = ClientRegistry({"default": ClientSettings("default", "fake", {"base_url": "http://127.0.0.1:1"})})
>>> registry.get("default") is registry.get("default")
True
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .._client import Anthropic, AsyncAnthropic
from .._constants import DEFAULT_TIMEOUT
from ..usage import ModelPrice, UsageRecorder
from .errors import RequestError
from .pool import pooled_http_client
from .settings import BACKENDS, ClientSettings, ConfigError, settings_from_env

__all__ = ["ClientRegistry", "client_class", "import_string"]

log = logging.getLogger("claude_web.web")

_PLATFORM = {
    "bedrock": ("claude_web.lib.bedrock", "AnthropicBedrock", "AsyncAnthropicBedrock"),
    "vertex": ("claude_web.lib.vertex", "AnthropicVertex", "AsyncAnthropicVertex"),
}


def import_string(path: str) -> Any:
    """``"package.module:attr"`` or ``"package.module.attr"`` -> the object (``ImportError`` when it is not there).

    >>> import_string("decimal:Decimal").__name__
    'Decimal'
    """
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{path!r} is not a dotted path like 'myproject.claude:make_client'")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc
    return obj


def client_class(cfg: ClientSettings, *, asynchronous: bool) -> Any:
    """The client class of a backend; a missing extra or path is a :class:`ConfigError` saying what to install."""
    where = f"CLIENTS[{cfg.alias!r}]"
    if asynchronous and cfg.async_backend:
        return _import(cfg.async_backend, f"{where}['ASYNC_BACKEND']")
    if cfg.backend in ("anthropic", "fake"):
        return AsyncAnthropic if asynchronous else Anthropic
    if cfg.backend in _PLATFORM:
        module_name, sync_name, async_name = _PLATFORM[cfg.backend]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(
                f"{where} uses the {cfg.backend!r} backend, which needs an extra: "
                f"pip install 'claude-web[{cfg.backend}]' ({exc})"
            ) from exc
        return getattr(module, async_name if asynchronous else sync_name)
    if cfg.backend not in BACKENDS and asynchronous:
        raise ConfigError(f"{where}: a custom BACKEND needs ASYNC_BACKEND ('module:Class') for async views")
    return _import(cfg.backend, f"{where}['BACKEND']")


def _import(path: str, setting: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ConfigError(f"{setting}: cannot import {path!r} ({exc})") from exc


def _accepted_kwargs(cls: Any) -> set[str] | None:
    """The keyword arguments ``cls`` takes, or ``None`` when it takes any (``**kwargs``)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def _takes_http_client(cls: Any) -> bool:
    """Whether ``cls`` names ``http_client`` among its parameters (ours do; a ``**kwargs`` class is left alone)."""
    accepted = _accepted_kwargs(cls)
    return accepted is not None and "http_client" in accepted


async def _close_with_loop(clients: dict[str, Any]) -> AsyncIterator[None]:
    """An async generator kept suspended for the life of a loop: the loop's ``shutdown_asyncgens`` closes it,
    and its ``finally`` closes the loop's clients on that loop, before the loop itself is closed."""
    try:
        yield
    finally:
        for client in list(clients.values()):
            try:
                await client.close()
            except Exception:  # closing must never break a shutdown
                log.debug("closing an async client failed", exc_info=True)
        clients.clear()


class _LoopClients:
    __slots__ = ("clients", "closer")

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.closer: AsyncIterator[None] | None = None


class ClientRegistry:
    """Clients built from :class:`ClientSettings`, each wired to ``recorder`` (one usage record per call).

    ``context`` is the base ``usage_context`` of every client (the alias and backend are added); ``factory``
    (``callable(alias) -> client``) replaces the settings for sync clients, as jobs' ``CLIENT_FACTORY`` does.
    ``stream_capacity`` (``STREAMING["MAX_STREAMS"]``) sizes the connection pool of every client built from settings
    (see :mod:`claude_web.web.pool`).
    """

    def __init__(
        self,
        clients: Mapping[str, ClientSettings] | Callable[[str], Any] | None = None,
        *,
        recorder: UsageRecorder | None = None,
        pricing: Mapping[str, ModelPrice] | None = None,
        factory: Callable[[str], Any] | None = None,
        aliases: tuple[str, ...] | None = None,
        environ: Mapping[str, str] | None = None,
        stream_capacity: int | None = None,
    ) -> None:
        if callable(clients) and not isinstance(clients, Mapping):
            factory, clients = clients, None
        if clients is None:
            clients = {} if factory is not None else settings_from_env(environ).clients
        self.settings = dict(clients)
        self._aliases = aliases
        self._recorder = recorder
        self._pricing = pricing
        self._factory = factory
        self._environ = environ
        self._capacity = stream_capacity
        self._lock = threading.RLock()  # get_async may build a factory client with get() while holding it
        self._pid = os.getpid()
        self._sync: dict[str, Any] = {}
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"<ClientRegistry aliases={sorted(self.settings)}>"

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self.settings)

    @property
    def recorder(self) -> UsageRecorder | None:
        """Where the clients' usage records go."""
        return self._recorder

    def known_aliases(self) -> tuple[str, ...] | None:
        """The aliases this registry can build, or ``None`` when only the factory knows."""
        if self._aliases is not None:
            return self._aliases
        if self._factory is not None and not self.settings:
            return None
        return tuple(self.settings)

    def validate(self, alias: Any) -> str:
        """``alias`` if a client can be built for it; :class:`~claude_web.web.errors.RequestError` (400) if not."""
        if not isinstance(alias, str) or not alias:
            raise RequestError("alias", "must be a client alias name")
        known = self.known_aliases()
        if known is not None:
            if alias not in known:
                raise RequestError("alias", f"unknown client alias {alias!r}")
            return alias
        try:
            self.get(alias)
        except Exception as exc:
            raise RequestError("alias", f"unknown client alias {alias!r}") from exc
        return alias

    def __contains__(self, alias: object) -> bool:
        return alias in self.settings

    def settings_for(self, alias: str) -> ClientSettings:
        try:
            return self.settings[alias]
        except KeyError:
            known = ", ".join(repr(a) for a in self.settings) or "none"
            raise KeyError(f"no Claude client {alias!r}; configured: {known}") from None

    def _kwargs(self, cfg: ClientSettings, cls: Any) -> dict[str, Any]:
        kwargs = cfg.client_kwargs(self._environ)
        context = dict(kwargs.pop("usage_context", None) or {})
        context.update({"alias": cfg.alias, "backend": cfg.backend})
        wiring: dict[str, Any] = {"usage_context": context}
        if self._recorder is not None:
            wiring["usage_recorder"] = self._recorder
        if self._pricing is not None:
            wiring["pricing"] = kwargs.pop("pricing", self._pricing)
        accepted = _accepted_kwargs(cls)
        missing = [name for name in wiring if accepted is not None and name not in accepted]
        if missing:
            log.warning(
                "%s does not take %s: calls through client %r are not recorded in the usage ledger",
                getattr(cls, "__name__", cls),
                ", ".join(missing),
                cfg.alias,
            )
        kwargs.update({k: v for k, v in wiring.items() if k not in missing})
        return kwargs

    def build(self, cfg: ClientSettings, *, asynchronous: bool = False) -> Any:
        """A new client for ``cfg``, wired to this registry's recorder and pricing (not kept: prefer :meth:`get`)."""
        cls = client_class(cfg, asynchronous=asynchronous)
        kwargs = self._kwargs(cfg, cls)
        if asynchronous:
            kwargs.pop("http_client", None)  # a sync httpx.Client (or another loop's) must not leak in here
        if "http_client" not in kwargs and _takes_http_client(cls):
            kwargs["http_client"] = pooled_http_client(
                cfg.pool, self._capacity, asynchronous=asynchronous, timeout=kwargs.get("timeout", DEFAULT_TIMEOUT)
            )
        try:
            return cls(**kwargs)
        except ImportError as exc:  # the platform clients import boto3 / google-auth when built
            raise ConfigError(
                f"CLIENTS[{cfg.alias!r}] uses the {cfg.backend!r} backend, which needs an extra: "
                f"pip install 'claude-web[{cfg.backend}]' ({exc})"
            ) from exc
        except TypeError as exc:
            name = getattr(cls, "__name__", "the client")
            raise ConfigError(f"CLIENTS[{cfg.alias!r}]['OPTIONS'] has an option {name} does not take: {exc}") from exc

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's connection pools are not ours
            self._pid = os.getpid()
            self._sync = {}
            self._async = weakref.WeakKeyDictionary()

    def get(self, alias: str = "default") -> Anthropic:
        """The process-wide sync client of ``alias`` (built on first use)."""
        client = self._sync.get(alias)
        if client is not None and self._pid == os.getpid():
            return client  # type: ignore[no-any-return]
        with self._lock:
            self._check_fork()
            client = self._sync.get(alias)
            if client is None:
                if self._factory is not None:
                    client = self._factory(alias)
                    if client is None:
                        raise KeyError(f"the client factory returned no client for alias {alias!r}")
                else:
                    client = self.build(self.settings_for(alias), asynchronous=False)
                self._sync[alias] = client
        return client  # type: ignore[no-any-return]

    def get_async(self, alias: str = "default") -> AsyncAnthropic:
        """The async client of ``alias`` for the running event loop (call it inside the loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "async clients must be taken inside a running event loop (an async view or coroutine); they "
                "cannot be shared across event loops. Use the sync client in sync code."
            ) from None
        entry = self._async.get(loop)
        if entry is not None and alias in entry.clients:
            return entry.clients[alias]  # type: ignore[no-any-return]
        cfg = self.settings.get(alias)
        if cfg is None and self._factory is None:
            cfg = self.settings_for(alias)  # raises KeyError naming the configured aliases
        with self._lock:
            self._check_fork()
            for old in [lp for lp in list(self._async.keys()) if lp.is_closed()]:
                self._async.pop(old, None)
            entry = self._async.get(loop)
            if entry is None:
                entry = self._async[loop] = _LoopClients()
            client = entry.clients.get(alias)
            if client is None:
                if cfg is not None:
                    client = self.build(cfg, asynchronous=True)
                else:
                    client = self._async_twin(self.get(alias))
                entry.clients[alias] = client
            if entry.closer is None:
                entry.closer = _close_with_loop(entry.clients)
                loop.create_task(_start(entry.closer))
        return client

    def async_client(self, alias: str = "default") -> AsyncAnthropic:
        """The same as :meth:`get_async` (the name jobs code used)."""
        return self.get_async(alias)

    async def aclose_loop_clients(self) -> None:
        """The same as :meth:`aclose`."""
        await self.aclose()

    def _async_twin(self, sync: Anthropic) -> AsyncAnthropic:
        """An async client with the options of a factory-made sync client (its public attributes)."""
        return AsyncAnthropic(
            api_key=sync.api_key,
            auth_token=sync.auth_token,
            base_url=sync.base_url,
            timeout=sync.timeout,
            max_retries=sync.max_retries,
            usage_recorder=self._recorder,
        )

    def loops(self) -> int:
        """How many open event loops hold clients (diagnostics and tests)."""
        with self._lock:
            return sum(1 for lp, entry in list(self._async.items()) if not lp.is_closed() and entry.clients)

    async def aclose(self) -> None:
        """Close the running loop's async clients (ASGI lifespan shutdown)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._async.pop(loop, None)
        if entry is not None:
            clients = list(entry.clients.values())
            entry.clients.clear()
            for client in clients:
                await client.close()

    def close(self) -> None:
        """Close the sync clients and forget every client (settings changed, or shutting down)."""
        with self._lock:
            clients = list(self._sync.values())
            self._sync.clear()
            self._async = weakref.WeakKeyDictionary()
        for client in clients:
            try:
                client.close()
            except Exception:  # closing must never fail a settings change
                log.debug("closing a client failed", exc_info=True)


async def _start(closer: AsyncIterator[None]) -> None:
    await closer.__anext__()  # now suspended: the loop's shutdown_asyncgens() will finish it
