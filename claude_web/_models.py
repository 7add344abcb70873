"""The base of every response type: a pydantic model that keeps what it does not know.

Responses from a newer API may carry fields and content-block types this package does not model yet;
they must parse and survive a round trip through :meth:`BaseModel.to_dict`, so every model allows extra
fields, and ``model_fields_set`` lists exactly which of its *fields* the server sent (extra keys are kept in
``model_extra``, as ``anthropic``'s models do).

>>> from claude_web.types import Usage
>>> usage = Usage.model_validate({"input_tokens": 1, "output_tokens": 2, "new_field": 3})
>>> usage.to_dict(), sorted(usage.model_fields_set)
({'input_tokens': 1, 'output_tokens': 2, 'new_field': 3}, ['input_tokens', 'output_tokens'])

``Model.construct(**data)`` (also ``model_construct``) builds without validating, as ``anthropic``'s does: nested
dicts become their typed models (a content block becomes its block class) where they fit, values that do not
fit are kept as they are, and a field not given reads as its default (``None`` for a required one).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import pydantic
from typing_extensions import Self

__all__ = ["BaseModel", "GenericModel", "construct_type"]

_M = TypeVar("_M", bound="BaseModel")


class _RequestIdSlot:
    """``_request_id`` as a plain class attribute: a pydantic private attribute would cost a Python-level
    ``model_post_init`` call on every model instance, which is most of the parse time of a stream event."""

    _request_id: str | None = None


class BaseModel(_RequestIdSlot, pydantic.BaseModel):
    """Response model: extra fields allowed and kept, ``to_dict`` / ``to_json`` as in ``anthropic``."""

    model_config = pydantic.ConfigDict(
        extra="allow",
        populate_by_name=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        defer_build=True,
    )

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, object]:
        """The model as a plain dict, by default only with the fields the server sent.

        ``mode="json"`` turns every value into a JSON-safe one (e.g. datetimes into strings).
        """
        return self.model_dump(
            mode=mode,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """The model as a JSON string (pretty-printed with ``indent=2`` unless told otherwise)."""
        return self.model_dump_json(
            indent=indent,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    def __str__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__repr_args__())
        return f"{type(self).__name__}({fields})"

    @property
    def model_fields_set(self) -> set[str]:
        """The fields given when the model was made (by the server, or the caller): unknown extra keys are not
        fields, so they are not listed here (see ``model_extra``)."""
        fields_set = self.__pydantic_fields_set__
        extra = self.__pydantic_extra__
        return fields_set - extra.keys() if extra else fields_set

    @classmethod
    def _construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        """Build without validation; nested values become their typed models where they fit (see the module)."""
        fields = cls.model_fields
        given: set[str] = set()
        data: dict[str, Any] = {}
        for name, field in fields.items():
            key = field.alias if field.alias is not None and field.alias in values else name
            if key in values and values[key] is not None:
                data[name] = _construct_field(cls, name, values[key])
                given.add(name)
            elif key in values:
                data[name] = None
                given.add(name)
            else:
                data[name] = None if field.is_required() else field.get_default(call_default_factory=True)
        extra = {k: v for k, v in values.items() if k not in fields and not _is_alias(fields, k)}
        model = cls.__new__(cls)
        object.__setattr__(model, "__dict__", data)
        object.__setattr__(model, "__pydantic_extra__", extra)
        object.__setattr__(model, "__pydantic_fields_set__", given if _fields_set is None else set(_fields_set))
        object.__setattr__(model, "__pydantic_private__", None)
        return model

    if not TYPE_CHECKING:  # statically, pydantic's own signatures (its mypy plugin writes them per model)
        model_construct = _construct
        construct = _construct  # the pydantic 1 name, as ``anthropic`` keeps it (without a deprecation warning)

    @classmethod
    def _build(cls, **values: Any) -> Self:
        """pydantic's plain ``model_construct``: no nesting, no defaults filled; for hot paths given exact values."""
        return cast(Self, pydantic.BaseModel.model_construct.__func__(cls, **values))  # type: ignore[attr-defined]


GenericModel = BaseModel


def _is_alias(fields: Mapping[str, Any], key: str) -> bool:
    return any(field.alias == key for field in fields.values())


def _construct_field(cls: type[pydantic.BaseModel], name: str, value: Any) -> Any:
    field = cls.model_fields[name]
    return _loose(field.annotation, value)


def _loose(annotation: Any, value: Any) -> Any:
    """``value`` shaped after ``annotation``: a model validates if it can and is built loosely if not; a union
    picks its member by the value's ``type`` tag; what fits nothing is returned as it is."""
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _loose(typing.get_args(annotation)[0], value)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if isinstance(value, annotation) or not isinstance(value, Mapping):
            return value
        try:
            return annotation.model_validate(value)
        except pydantic.ValidationError:
            return annotation.model_construct(**value)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(annotation) or (Any,)
        return [_loose(item, v) for v in value]
    if origin is dict and isinstance(value, Mapping):
        args = typing.get_args(annotation)
        return {k: _loose(args[1] if args else Any, v) for k, v in value.items()}
    if origin is typing.Union or origin is types.UnionType:
        return _loose_union(typing.get_args(annotation), value)
    if annotation is datetime and isinstance(value, str):
        try:
            return _DATETIME.validate_python(value)
        except pydantic.ValidationError:
            return value
    return value


_DATETIME: pydantic.TypeAdapter[datetime] = pydantic.TypeAdapter(datetime)


def _loose_union(members: tuple[Any, ...], value: Any) -> Any:
    """The member a value belongs to: the list member for a list; for a dict, the model whose ``type`` literal is
    the dict's ``type`` tag, else the first model it validates as, else the only model; otherwise as it is."""
    flat: list[Any] = []
    for member in members:
        if typing.get_origin(member) is typing.Annotated:
            member = typing.get_args(member)[0]
        inner = typing.get_origin(member)
        flat.extend(typing.get_args(member) if inner is typing.Union or inner is types.UnionType else [member])
    if isinstance(value, list):
        lists = [m for m in flat if typing.get_origin(m) is list]
        return _loose(lists[0], value) if lists else value
    if not isinstance(value, Mapping):
        return value
    models = [m for m in flat if isinstance(m, type) and issubclass(m, pydantic.BaseModel)]
    tag = value.get("type")
    for model in models:
        field = model.model_fields.get("type")
        if (
            field is not None
            and typing.get_origin(field.annotation) is Literal
            and tag in typing.get_args(field.annotation)
        ):
            return _loose(model, value)
    for model in models:
        try:
            return model.model_validate(value)
        except pydantic.ValidationError:
            continue
    return _loose(models[0], value) if len(models) == 1 else value


def construct_type(type_: type[_M], value: Any) -> _M:
    """Validate ``value`` as ``type_`` (a thin, typed wrapper used by the response parsers)."""
    return type_.model_validate(value)
