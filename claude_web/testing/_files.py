"""The Files API routes of FakeClaude (beta ``files-api-2025-04-14``), kept in memory per fake.

``POST /v1/files`` (multipart, a ``file`` part) answers the file's metadata; ``GET /v1/files`` pages them newest
first; ``GET /v1/files/{id}`` and ``DELETE /v1/files/{id}``; ``GET /v1/files/{id}/content`` answers the bytes of a
downloadable file. As on the API, files you upload are not downloadable (only files a tool created are: add one with
``FakeClaude.add_file(..., downloadable=True)``). Every route needs the beta in ``anthropic-beta``; a Messages request
may then reference a stored file from a ``document`` or ``image`` block (``source: {"type": "file", ...}``).
"""

from __future__ import annotations

import mimetypes
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ._http import APIError, FakeResponse, api_headers, json_response, page
from ._multipart import parse_form
from ._replies import random_id
from ._wire import iso

__all__ = ["FILES_BETA", "Files", "StoredFile", "has_beta"]

FILES_BETA = "files-api-2025-04-14"
_SOURCE_TAGS = {"document": "'base64', 'content', 'text', 'url'", "image": "'base64', 'url'"}


def has_beta(headers: dict[str, str], beta: str) -> bool:
    """Whether the comma-separated ``anthropic-beta`` header (repeats already joined) names ``beta``."""
    return beta in (name.strip() for name in headers.get("anthropic-beta", "").split(","))


@dataclass(frozen=True)
class StoredFile:
    """A file the fake keeps: its bytes and the metadata the API answers."""

    id: str
    filename: str
    mime_type: str
    data: bytes
    created_at: datetime
    downloadable: bool = False

    def metadata(self) -> dict[str, Any]:
        """The API's FileMetadata object."""
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": len(self.data),
            "created_at": iso(self.created_at),
            "downloadable": self.downloadable,
        }


class Files:
    """The files of one fake API. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, StoredFile] = {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def add(self, data: bytes, filename: str, mime_type: str | None = None, downloadable: bool = False) -> StoredFile:
        """Store a file (``mime_type`` guessed from the name when not given)."""
        guessed = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(
            random_id("file_"), filename, guessed, bytes(data), datetime.now(timezone.utc), downloadable
        )
        with self._lock:
            self._items[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._items.get(file_id)

    def _require(self, file_id: str) -> StoredFile:
        stored = self.get(file_id)
        if stored is None:
            raise APIError(404, f"File not found: {file_id}")
        return stored

    # -- routes ------------------------------------------------------------------------------------------------

    def route(
        self, method: str, rest: list[str], query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> FakeResponse:
        """Answer ``/v1/files`` and below (``rest``: the path parts after ``files``)."""
        if not has_beta(headers, FILES_BETA):
            raise APIError(400, f"The Files API is in beta: add '{FILES_BETA}' to the anthropic-beta header to use it.")
        if not rest:
            if method == "POST":
                return json_response(200, self._upload(headers, body).metadata())
            if method == "GET":
                with self._lock:
                    items = [f.metadata() for f in reversed(self._items.values())]
                return json_response(200, page(items, query))
        elif len(rest) == 1 and method == "GET":
            return json_response(200, self._require(rest[0]).metadata())
        elif len(rest) == 1 and method == "DELETE":
            self._require(rest[0])
            with self._lock:
                self._items.pop(rest[0], None)
            return json_response(200, {"id": rest[0], "type": "file_deleted"})
        elif rest[1:] == ["content"] and method == "GET":
            stored = self._require(rest[0])
            if not stored.downloadable:
                raise APIError(400, f"File {stored.id} is not downloadable: only files created by tools can be.")
            return FakeResponse(200, api_headers(stored.mime_type), stored.data)
        raise APIError(404, "Not Found")

    def _upload(self, headers: dict[str, str], body: bytes) -> StoredFile:
        parts = parse_form(headers.get("content-type", ""), body)
        if parts is None:
            raise APIError(400, "The request body must be multipart/form-data with a 'file' part")
        found = [p for p in parts if p.name == "file" and p.filename is not None]
        if not found:
            raise APIError(400, "file: Field required")
        part = found[0]
        if not 1 <= len(part.filename or "") <= 500:
            raise APIError(400, "file: the filename must be 1 to 500 characters long")
        return self.add(part.data, part.filename or "", part.content_type)

    # -- references from Messages requests ---------------------------------------------------------------------

    def check_references(self, payload: dict[str, Any], headers: dict[str, str]) -> None:
        """Every ``document``/``image`` block with a file source must name a stored file, and the request must
        carry the Files beta (without it the API does not know the ``file`` source type)."""
        messages = payload.get("messages")
        for m, msg in enumerate(messages if isinstance(messages, list) else []):
            content = msg.get("content") if isinstance(msg, dict) else None
            for i, block in enumerate(content if isinstance(content, list) else []):
                kind = block.get("type") if isinstance(block, dict) else None
                source = block.get("source") if kind in _SOURCE_TAGS else None
                if not isinstance(source, dict) or source.get("type") != "file":
                    continue
                where = f"messages.{m}.content.{i}.{kind}.source"
                if not has_beta(headers, FILES_BETA):
                    raise APIError(
                        400,
                        f"{where}: Input tag 'file' found using 'type' does not match any of the expected tags: "
                        f"{_SOURCE_TAGS[str(kind)]}",
                    )
                file_id = source.get("file_id")
                if not isinstance(file_id, str) or self.get(file_id) is None:
                    raise APIError(400, f"{where}.file_id: File not found: {file_id}")
