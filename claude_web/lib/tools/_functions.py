"""``beta_tool`` / ``beta_async_tool``: a tool definition built from a typed Python function.

The input schema comes from the signature (through pydantic, so defaults, ``Literal``, models, ``Annotated[...,
Field(...)]`` all work) and the parameters' descriptions from the docstring; the tool's description is the
docstring's text before its sections. Calling the tool validates the model's input against the signature.

>>> from claude_web import beta_tool
>>> @beta_tool
... def get_weather(city: str, unit: str = "c") -> str:
...     '''The weather in a city.
...
...     Args:
...         city: The city name, e.g. Oslo.
...     '''
...     return f"12 degrees in {city}"
>>> get_weather.to_dict()["input_schema"]["required"]
['city']

claude-web extension (beyond ``anthropic`` 0.125.0): a keyword-only parameter named ``context`` is left out of
the schema; the tool runner passes its ``tool_context=`` there (e.g. the signed-in user and the conversation):

>>> @beta_tool
... def my_notes(query: str, *, context: SiteContext) -> str: ...
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast, overload

import pydantic
from pydantic import Field, TypeAdapter
from pydantic.fields import FieldInfo

from ._docstring import parse_docstring
from ._support import caller_locals

__all__ = [
    "BaseFunctionTool",
    "BetaAsyncFunctionTool",
    "BetaFunctionTool",
    "beta_async_tool",
    "beta_tool",
]

CONTEXT_PARAMETER = "context"
_F = TypeVar("_F", bound=Callable[..., Any])
_AF = TypeVar("_AF", bound=Callable[..., Awaitable[Any]])
_OPTIONS = ("defer_loading", "cache_control", "allowed_callers", "eager_input_streaming", "input_examples", "strict")


def _type_hints(func: Callable[..., Any], localns: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, include_extras=True)
    except NameError:  # a forward reference to a name local to where the tool was defined
        return typing.get_type_hints(func, localns=dict(localns or {}), include_extras=True)


def _described(annotation: Any, default: Any, text: str | None) -> Any:
    """``annotation`` carrying the docstring's description, unless a ``Field`` already describes it."""
    if not text:
        return annotation
    if isinstance(default, FieldInfo) and default.description:
        return annotation
    if typing.get_origin(annotation) is typing.Annotated:
        if any(isinstance(meta, FieldInfo) and meta.description for meta in typing.get_args(annotation)[1:]):
            return annotation
    base = Any if annotation is inspect.Parameter.empty else annotation
    return typing.Annotated[base, Field(description=text)]


class _Arguments:
    """The signature of a tool function as pydantic sees it: what the model may pass, validated."""

    def __init__(
        self, func: Callable[..., Any], descriptions: Mapping[str, str], localns: Mapping[str, Any] | None
    ) -> None:
        signature = inspect.signature(func)
        hints = _type_hints(func, localns)
        visible: list[inspect.Parameter] = []
        self.positional: list[str] = []
        self.takes_context = False
        for param in signature.parameters.values():
            if param.kind is param.KEYWORD_ONLY and param.name == CONTEXT_PARAMETER:
                self.takes_context = True
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(
                    f"tool function {func.__name__!r} takes *{param.name}: a tool's parameters must be named, "
                    "so the model can be told about them"
                )
            if param.kind is param.POSITIONAL_ONLY:
                self.positional.append(param.name)
                param = param.replace(kind=param.POSITIONAL_OR_KEYWORD)
            annotation = hints.get(param.name, inspect.Parameter.empty)
            annotation = _described(annotation, param.default, descriptions.get(param.name))
            visible.append(param.replace(annotation=annotation))

        def bound(**kwargs: Any) -> dict[str, Any]:
            return kwargs

        bound.__signature__ = inspect.Signature(visible)  # type: ignore[attr-defined]
        bound.__annotations__ = {p.name: p.annotation for p in visible if p.annotation is not p.empty}
        bound.__name__ = getattr(func, "__name__", "tool")
        bound.__qualname__ = getattr(func, "__qualname__", bound.__name__)
        bound.__module__ = getattr(func, "__module__", __name__)
        self._adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(cast(Any, bound))

    def json_schema(self) -> dict[str, Any]:
        return self._adapter.json_schema()

    def validate(self, name: str, arguments: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """``(args, kwargs)`` for the function; ``ValueError`` when the model's input does not fit."""
        if not isinstance(arguments, Mapping):
            raise ValueError(f"Invalid arguments for function {name}")
        try:
            kwargs = self._adapter.validate_python(dict(arguments))
        except pydantic.ValidationError as exc:
            raise ValueError(f"Invalid arguments for function {name}") from exc
        args = [kwargs.pop(param) for param in self.positional]
        return args, kwargs


class BaseFunctionTool(Generic[_F]):
    """What both function tools share: the definition (``name``, ``description``, ``input_schema``)."""

    func: _F
    name: str
    description: str
    input_schema: dict[str, Any]

    def __init__(
        self,
        func: _F,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: Mapping[str, Any] | type[pydantic.BaseModel] | None = None,
        defer_loading: bool | None = None,
        cache_control: Mapping[str, Any] | None = None,
        allowed_callers: list[str] | None = None,
        eager_input_streaming: bool | None = None,
        input_examples: Iterable[Mapping[str, object]] | None = None,
        strict: bool | None = None,
        _localns: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"a tool needs a function, got {func!r}")
        self.func = func
        self.name = name or func.__name__
        summary, param_docs = parse_docstring(func.__doc__)
        self.description = summary if description is None else description
        self._arguments = _Arguments(func, param_docs, _localns)
        if input_schema is None:
            self.input_schema = self._arguments.json_schema()
        elif isinstance(input_schema, type) and issubclass(input_schema, pydantic.BaseModel):
            self.input_schema = input_schema.model_json_schema()
        else:
            self.input_schema = dict(input_schema)
        examples = None if input_examples is None else [dict(example) for example in input_examples]
        values = (defer_loading, cache_control, allowed_callers, eager_input_streaming, examples, strict)
        self._options = {key: value for key, value in zip(_OPTIONS, values, strict=True) if value is not None}

    @property
    def takes_context(self) -> bool:
        """Whether the function declares the keyword-only ``context`` parameter (claude-web extension)."""
        return self._arguments.takes_context

    def to_dict(self) -> dict[str, Any]:
        """The tool definition sent in ``tools=[...]``."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema, **self._options}

    def _bind(self, input: Mapping[str, Any], context: Any) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = self._arguments.validate(self.name, input)
        if self._arguments.takes_context:
            kwargs[CONTEXT_PARAMETER] = context
        return args, kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly (no validation)."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class BetaFunctionTool(BaseFunctionTool[_F]):
    """A tool run by a synchronous function (``@beta_tool``)."""

    def call(self, input: Mapping[str, Any], *, context: Any = None) -> Any:
        """Validate the model's ``input`` against the signature and run the function.

        Raises ``ValueError("Invalid arguments for function <name>")`` when the input does not fit.
        """
        args, kwargs = self._bind(input, context)
        return self.func(*args, **kwargs)


class BetaAsyncFunctionTool(BaseFunctionTool[_AF]):
    """A tool run by an ``async def`` function (``@beta_async_tool``)."""

    async def call(self, input: Mapping[str, Any], *, context: Any = None) -> Any:
        """Validate the model's ``input`` against the signature and await the function."""
        args, kwargs = self._bind(input, context)
        return await self.func(*args, **kwargs)


@overload
def beta_tool(func: _F) -> BetaFunctionTool[_F]: ...


@overload
def beta_tool(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: Mapping[str, Any] | type[pydantic.BaseModel] | None = None,
    defer_loading: bool | None = None,
    cache_control: Mapping[str, Any] | None = None,
    allowed_callers: list[str] | None = None,
    eager_input_streaming: bool | None = None,
    input_examples: Iterable[Mapping[str, object]] | None = None,
    strict: bool | None = None,
) -> Callable[[_F], BetaFunctionTool[_F]]: ...


def beta_tool(func: _F | None = None, **options: Any) -> BetaFunctionTool[_F] | Callable[[_F], BetaFunctionTool[_F]]:
    """Make a tool of a function: ``@beta_tool`` or ``@beta_tool(name=..., description=..., strict=True)``."""
    localns = caller_locals(__name__)
    if func is not None:
        return BetaFunctionTool(func, _localns=localns, **options)

    def make(inner: _F) -> BetaFunctionTool[_F]:
        return BetaFunctionTool(inner, _localns=localns, **options)

    return make


@overload
def beta_async_tool(func: _AF) -> BetaAsyncFunctionTool[_AF]: ...


@overload
def beta_async_tool(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: Mapping[str, Any] | type[pydantic.BaseModel] | None = None,
    defer_loading: bool | None = None,
    cache_control: Mapping[str, Any] | None = None,
    allowed_callers: list[str] | None = None,
    eager_input_streaming: bool | None = None,
    input_examples: Iterable[Mapping[str, object]] | None = None,
    strict: bool | None = None,
) -> Callable[[_AF], BetaAsyncFunctionTool[_AF]]: ...


def beta_async_tool(
    func: _AF | None = None, **options: Any
) -> BetaAsyncFunctionTool[_AF] | Callable[[_AF], BetaAsyncFunctionTool[_AF]]:
    """Make a tool of an ``async def`` function: ``@beta_async_tool`` or ``@beta_async_tool(name=...)``."""
    localns = caller_locals(__name__)
    if func is not None:
        return BetaAsyncFunctionTool(func, _localns=localns, **options)

    def make(inner: _AF) -> BetaAsyncFunctionTool[_AF]:
        return BetaAsyncFunctionTool(inner, _localns=localns, **options)

    return make
