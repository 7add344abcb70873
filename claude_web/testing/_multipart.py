r"""A small ``multipart/form-data`` reader for FakeClaude's upload route and request summaries (pure, no I/O).

>>> body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
>>> body += b'Content-Type: text/plain\r\n\r\nhello\r\n--b--\r\n'
>>> [(p.name, p.filename, p.content_type, p.data) for p in parse_form("multipart/form-data; boundary=b", body)]
[('file', 'a.txt', 'text/plain', b'hello')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FormPart", "parse_form", "summarise_form"]

_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))')


@dataclass(frozen=True)
class FormPart:
    """One part of a form: its field ``name``, the ``filename`` of a file part, its content type and bytes."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes = b""


def _params(value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, quoted, bare in _PARAM.findall(value):
        found[key.lower()] = quoted.replace('\\"', '"') if quoted or not bare else bare
    return found


def parse_form(content_type: str, body: bytes) -> list[FormPart] | None:
    """The parts of a ``multipart/form-data`` body, or None when the content type is not that (or has no
    boundary) or the body is not well formed."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    boundary = _params(content_type).get("boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        return None
    parts: list[FormPart] = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            return None
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            head, data = head.rstrip(b"\r\n"), b""
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _params(headers.get("content-disposition", ""))
        parts.append(
            FormPart(disposition.get("name", ""), disposition.get("filename"), headers.get("content-type"), data)
        )
    return parts


def summarise_form(parts: list[FormPart]) -> str:
    """A one-line account of a form, file contents left out: ``file=report.pdf (application/pdf, 1234 bytes)``."""
    shown = []
    for part in parts:
        if part.filename is not None:
            kind = part.content_type or "no content type"
            shown.append(f"{part.name}={part.filename} ({kind}, {len(part.data)} bytes)")
        else:
            value = part.data[:40].decode("utf-8", "replace")
            shown.append(f"{part.name}={value!r}" + ("..." if len(part.data) > 40 else ""))
    return ", ".join(shown)
