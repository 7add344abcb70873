"""Reading a tool's description and its parameters' descriptions from a docstring.

Google style (``Args:`` / ``Arguments:`` / ``Parameters:`` / ``Keyword Args:`` sections), reST (``:param x:``)
and numpydoc (``Parameters`` underlined with dashes) are understood. The description is the first line, then
(after a blank line) the rest of the text before the first section; a parameter's description keeps its
lines, without blank ones.

>>> parse_docstring('''Add two numbers.
...
... Args:
...     a: The first.
...     b: The second,
...         never negative.
... ''')
('Add two numbers.', {'a': 'The first.', 'b': 'The second,\\nnever negative.'})
"""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_PARAM_SECTIONS = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "other parameters"}
)
_OTHER_SECTIONS = frozenset(
    {
        "returns",
        "return",
        "yields",
        "yield",
        "raises",
        "raise",
        "except",
        "exceptions",
        "example",
        "examples",
        "note",
        "notes",
        "attributes",
        "todo",
        "warning",
        "warnings",
        "warns",
        "see also",
        "references",
        "methods",
    }
)
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(?:\([^)]*\))?\s*:(?P<text>.*)$")
_REST_PARAM = re.compile(r"^:(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(?P<name>\w+)\s*:(?P<text>.*)$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)(?:\s*:.*)?$")


def _heading(lines: list[str], index: int) -> tuple[str, bool] | None:
    """``(section name, is numpydoc)`` when a section starts at ``lines[index]``."""
    line = lines[index].strip()
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if line and following and set(following) == {"-"} and line.lower() in _PARAM_SECTIONS | _OTHER_SECTIONS:
        return line.lower(), True
    if line.endswith(":") and line[:-1].strip().lower() in _PARAM_SECTIONS | _OTHER_SECTIONS:
        return line[:-1].strip().lower(), False
    if line.startswith(":") and _REST_PARAM.match(line) or re.match(r"^:(returns?|rtype|raises?|type)\b", line):
        return "rest", False
    return None


def _join(lines: list[str]) -> str:
    return "\n".join(line.strip() for line in lines if line.strip())


def _entries(block: list[str], pattern: re.Pattern[str], *, numpy: bool = False) -> dict[str, str]:
    """Entries of a parameter section: an entry line at the section's least indentation, continuations deeper."""
    present = [line for line in block if line.strip()]
    if not present:
        return {}
    base = min(len(line) - len(line.lstrip()) for line in present)
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block:
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent == base:
            match = pattern.match(line.strip())
            current = None
            if match is not None:
                current = found.setdefault(match.group("name"), [])
                if not numpy and match.group("text").strip():
                    current.append(match.group("text"))
        elif current is not None:
            current.append(line)
    return {name: _join(lines) for name, lines in found.items()}


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """``(description, {parameter: description})`` of a docstring (``("", {})`` for none)."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    starts = [(i, heading) for i in range(len(lines)) if (heading := _heading(lines, i)) is not None]
    head = lines[: starts[0][0]] if starts else lines
    params: dict[str, str] = {}
    for number, (start, (name, numpy)) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        if name == "rest":
            params.update(_entries(lines[start:end], _REST_PARAM))
        elif name in _PARAM_SECTIONS:
            body = lines[start + (2 if numpy else 1) : end]
            params.update(_entries(body, _NUMPY_ENTRY if numpy else _GOOGLE_ENTRY, numpy=numpy))
    text = "\n".join(head).strip()
    if not text:
        return "", params
    first, _, rest = text.partition("\n")
    rest = rest.strip()
    return (f"{first.strip()}\n\n{rest}" if rest else first.strip()), params
