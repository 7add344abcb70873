"""``transform_schema``: a JSON schema rewritten into the subset structured outputs accept.

Keywords the API enforces stay where they are; every other keyword moves, as readable text, into the
``description`` (so the model still sees the constraint, and the pydantic validator still checks it):

>>> from claude_web import transform_schema
>>> transform_schema({"type": "string", "minLength": 2, "format": "email"})
{'type': 'string', 'format': 'email', 'description': '{minLength: 2}'}
>>> transform_schema({"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}})
{'type': 'object', 'properties': {'n': {'type': 'integer', 'description': '{maximum: 9}'}}, 'additionalProperties': False}

What stays: ``$defs``/``$ref`` (a ``$ref`` drops its siblings), ``anyOf`` (``oneOf`` becomes ``anyOf``), ``allOf``,
``type``, ``enum`` (a list), ``title``, ``description``; for objects ``properties`` and ``required`` with
``additionalProperties: false`` always set; for arrays ``items`` and ``minItems`` of 0 or 1; for strings the
``format`` values listed in :data:`SUPPORTED_STRING_FORMATS`. The input is never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

__all__ = ["SUPPORTED_STRING_FORMATS", "transform_schema"]

_TYPES = frozenset({"string", "integer", "number", "boolean", "null", "array", "object"})
SUPPORTED_STRING_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)


def transform_schema(json_schema: type[pydantic.BaseModel] | Mapping[str, Any]) -> dict[str, Any]:
    """The structured-outputs form of ``json_schema`` (a JSON schema dict, or a pydantic model class).

    Raises ``ValueError`` for a (sub)schema with none of ``type``, ``anyOf``, ``oneOf``, ``allOf`` or ``$ref``.
    """
    if isinstance(json_schema, type) and issubclass(json_schema, pydantic.BaseModel):
        return _transform(json_schema.model_json_schema())
    if not isinstance(json_schema, Mapping):
        raise TypeError(f"transform_schema() takes a JSON schema dict or a pydantic model class, not {json_schema!r}")
    return _transform(json_schema)


def _transform(schema: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise TypeError(f"Expected a JSON schema object, got {type(schema).__name__}: {schema!r}")
    rest = dict(schema)
    out: dict[str, Any] = {}
    defs = rest.pop("$defs", None)
    if defs is not None:
        out["$defs"] = {name: _transform(sub) for name, sub in defs.items()}
    ref = rest.pop("$ref", None)
    if ref is not None:
        out["$ref"] = ref
        return out

    kind = rest.pop("type", None)
    any_of, one_of, all_of = rest.pop("anyOf", None), rest.pop("oneOf", None), rest.pop("allOf", None)
    composite = True
    if any_of is not None or one_of is not None:
        out["anyOf"] = [_transform(sub) for sub in (any_of if any_of is not None else one_of)]
    elif all_of is not None:
        out["allOf"] = [_transform(sub) for sub in all_of]
    elif kind is None:
        raise ValueError("Schema must have a 'type', 'anyOf', 'oneOf', or 'allOf' field.")
    else:
        composite = False
    if kind is not None:
        if not isinstance(kind, str) or kind not in _TYPES:
            raise ValueError(f"Unsupported schema type {kind!r}: use one of {', '.join(sorted(_TYPES))}")
        if not composite:  # next to anyOf/allOf the type is dropped, but its keywords are still handled below
            out["type"] = kind

    enum = rest.pop("enum", None)
    if isinstance(enum, list):
        out["enum"] = enum
    for keyword in ("description", "title"):
        value = rest.pop(keyword, None)
        if value is not None:
            out[keyword] = value
    unsupported: dict[str, Any] = {}  # type-specific keywords the API does not take; noted after the others
    if kind == "object":
        properties = rest.pop("properties", None) or {}
        out["properties"] = {name: _transform(sub) for name, sub in properties.items()}
        rest.pop("additionalProperties", None)
        out["additionalProperties"] = False
        required = rest.pop("required", None)
        if required is not None:
            out["required"] = required
    elif kind == "string":
        fmt = rest.pop("format", None)
        if fmt in SUPPORTED_STRING_FORMATS:
            out["format"] = fmt
        elif fmt:
            unsupported["format"] = fmt
    elif kind == "array":
        items = rest.pop("items", None)
        if items is not None:
            out["items"] = _transform(items)
        min_items = rest.pop("minItems", None)
        if min_items is not None:
            if min_items in (0, 1):
                out["minItems"] = min_items
            else:
                unsupported["minItems"] = min_items

    leftovers = {**rest, **unsupported}
    if leftovers:
        note = "{" + ", ".join(f"{key}: {value}" for key, value in leftovers.items()) + "}"
        described = out.get("description")
        out["description"] = note if described is None else f"{described}\n\n{note}"
    return out
