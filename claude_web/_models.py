"""The base of every response type: a pydantic model that keeps what it does not know.

Responses from a newer API may carry fields and content-block types this package does not model yet;
they must parse and survive a round trip through :meth:`BaseModel.to_dict`, so every model allows extra
fields and ``model_fields_set`` records exactly which fields the server sent.

>>> from claude_web.types import Usage
>>> Usage.model_validate({"input_tokens": 1, "output_tokens": 2, "new_field": 3}).to_dict()
{'input_tokens': 1, 'output_tokens': 2, 'new_field': 3}
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import pydantic

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


GenericModel = BaseModel


def construct_type(type_: type[_M], value: Any) -> _M:
    """Validate ``value`` as ``type_`` (a thin, typed wrapper used by the response parsers)."""
    return type_.model_validate(value)
