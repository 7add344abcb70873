"""Structured outputs in FakeClaude: a small example value that validates against a request's JSON Schema (pure).

A request with ``output_config: {"format": {"type": "json_schema", "schema": ...}}`` (or the earlier beta's
``output_format``) gets, when nothing is scripted, a JSON text built from the schema: every declared property, the
first of an ``enum``, ``const`` as given, arrays of one item (or ``minItems``; tuples by ``prefixItems``), numbers and strings within their
bounds, ``$ref`` into ``$defs``/``definitions``, the first branch of ``anyOf``/``oneOf`` that is not null.

>>> example_value({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3},
...                "tags": {"type": "array", "items": {"enum": ["a", "b"]}}}, "required": ["n"]})
{'n': 3, 'tags': ['a']}
"""

from __future__ import annotations

from typing import Any

__all__ = ["example_value", "requested_schema"]

_STRING_FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "12:00:00",
    "email": "someone@example.com",
    "uri": "https://example.com",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "ipv4": "192.0.2.1",
    "hostname": "example.com",
}


def requested_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema a request asks its answer to follow, or None."""
    config = body.get("output_config")
    found = config.get("format") if isinstance(config, dict) else None
    if found is None:
        found = body.get("output_format")
    if isinstance(found, dict) and found.get("type") == "json_schema" and isinstance(found.get("schema"), dict):
        schema: dict[str, Any] = found["schema"]
        return schema
    return None


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if low is not None:
        value = low + (1 if "minimum" not in schema else 0)
    if high is not None and value > high:
        value = high - (1 if "maximum" not in schema else 0)
    return int(value) if integer else float(value)


def _string(schema: dict[str, Any], name: str) -> str:
    value = _STRING_FORMATS.get(str(schema.get("format")), f"example {name}".strip())
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        value += "x" * (low - len(value))
    if isinstance(high, int):
        value = value[:high]
    return value


def example_value(schema: dict[str, Any], root: dict[str, Any] | None = None, name: str = "", depth: int = 0) -> Any:
    """A value that validates against ``schema`` (``root`` holds the definitions that ``$ref`` points into)."""
    root = schema if root is None else root
    if depth > 32:  # a recursive schema: stop where a null or empty value is fine
        return None
    if "$ref" in schema:
        return example_value(_resolve(str(schema["$ref"]), root), root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            chosen = next((b for b in branches if isinstance(b, dict) and b.get("type") != "null"), branches[0])
            return example_value(chosen, root, name, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_value(part, root, name, depth + 1) if isinstance(part, dict) else None
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        return {key: example_value(sub, root, key, depth + 1) for key, sub in props.items() if isinstance(sub, dict)}
    if kind == "array":
        prefix = schema.get("prefixItems")
        values = [example_value(p, root, name, depth + 1) for p in prefix if isinstance(p, dict)] if prefix else []
        items = schema.get("items")
        count = max(0 if values else 1, int(schema.get("minItems") or 0)) - len(values)
        if count > 0:
            item = example_value(items, root, name, depth + 1) if isinstance(items, dict) else "example"
            values.extend([item] * count)
        return values
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)
