"""File inputs, as ``anthropic`` accepts them: for base64 ``data`` in a request body, and for multipart uploads.

A file input is a path (``pathlib.Path`` or any ``os.PathLike``) or an open binary file (``open(p, "rb")``,
``io.BytesIO``). Where a request body has a base64 source (``{"type": "base64", "media_type": ..., "data": ...}``:
images and PDF documents) its ``data`` may be a file input, which is read and base64-encoded:

>>> import io
>>> encode_base64_source({"type": "base64", "media_type": "image/png", "data": io.BytesIO(b"png")})
{'type': 'base64', 'media_type': 'image/png', 'data': 'cG5n'}

An upload (``client.beta.files.upload(file=...)``) takes a file input, ``bytes``, or a tuple
``(filename, content)`` / ``(filename, content, mime_type)`` / ``(filename, content, mime_type, headers)``:

>>> to_httpx_file(("notes.txt", b"hello", "text/plain"))
('notes.txt', b'hello', 'text/plain')
"""

from __future__ import annotations

import base64
import io
import os
import pathlib
from collections.abc import Mapping
from typing import IO, Any, TypeAlias

import anyio

__all__ = [
    "FileContent",
    "FileTypes",
    "async_to_httpx_file",
    "encode_base64_source",
    "file_from_path",
    "is_file_content",
    "is_file_input",
    "read_file_bytes",
    "to_httpx_file",
]

FileContent: TypeAlias = "IO[bytes] | bytes | os.PathLike[str]"
FileTypes: TypeAlias = (
    "FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]"
    " | tuple[str | None, FileContent, str | None, Mapping[str, str]]"
)


def is_file_input(value: object) -> bool:
    """A path or an open file: what may stand for base64 ``data`` in a request body."""
    return isinstance(value, (io.IOBase, os.PathLike))


def is_file_content(value: object) -> bool:
    """What an upload may carry as its content: a file input or ``bytes``."""
    return isinstance(value, (bytes, io.IOBase, os.PathLike))


def read_file_bytes(value: Any) -> bytes:
    """The bytes of a file input (a path is read whole; an open file from where it stands)."""
    if isinstance(value, os.PathLike):
        return pathlib.Path(os.fspath(value)).read_bytes()
    data = value.read()
    if isinstance(data, str):  # a file opened in text mode: its text as UTF-8
        data = data.encode()
    if not isinstance(data, bytes):
        raise TypeError(f"could not read bytes from {value!r}: read() returned {type(data).__name__}")
    return data


def encode_base64_source(source: dict[str, Any]) -> dict[str, Any]:
    """``source`` with its ``data`` read and base64-encoded when it is a file input (in place; returned)."""
    data = source.get("data")
    if source.get("type") == "base64" and is_file_input(data):
        source["data"] = base64.b64encode(read_file_bytes(data)).decode("ascii")
    return source


def file_from_path(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the file at ``path``, ready for ``client.beta.files.upload(file=...)``."""
    return (os.path.basename(os.fspath(path)), pathlib.Path(os.fspath(path)).read_bytes())


def to_httpx_file(file: Any) -> Any:
    """An upload argument as httpx's ``files=`` wants it: a path becomes ``(its name, its bytes)``; the content of a
    tuple is read if it is a path; ``bytes`` and open files go as they are (httpx reads them)."""
    if is_file_content(file):
        if isinstance(file, os.PathLike):
            path = pathlib.Path(os.fspath(file))
            return (path.name, path.read_bytes())
        return file
    if isinstance(file, tuple) and 2 <= len(file) <= 4:
        name, content, *rest = file
        if isinstance(content, os.PathLike):
            content = pathlib.Path(os.fspath(content)).read_bytes()
        return (name, content, *rest)
    raise TypeError(
        f"Expected a file upload to be bytes, a path, an open binary file or a (filename, content[, mime_type]) "
        f"tuple, not {type(file).__name__}"
    )


async def async_to_httpx_file(file: Any) -> Any:
    """:func:`to_httpx_file` that reads a path without blocking the event loop."""
    if isinstance(file, os.PathLike):
        path = anyio.Path(os.fspath(file))
        return (path.name, await path.read_bytes())
    if isinstance(file, tuple) and 2 <= len(file) <= 4 and isinstance(file[1], os.PathLike):
        name, content, *rest = file
        return (name, await anyio.Path(os.fspath(content)).read_bytes(), *rest)
    return to_httpx_file(file)
