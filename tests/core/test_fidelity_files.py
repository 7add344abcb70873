"""Differential tests of ``client.beta.files`` against anthropic==0.125.0: the same calls through both libraries
reach the same Files API routes with the same requests (multipart field ``file``, the ``files-api-2025-04-14``
beta) and give the same results.

The Files API here is the ``files_api`` fixture: the routes FakeClaude serves (POST /v1/files, GET /v1/files,
GET /v1/files/{id}, GET /v1/files/{id}/content, DELETE /v1/files/{id}), answered in-process through an
``httpx.MockTransport``. To run these against FakeClaude, change only that fixture.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import json
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import pytest

import claude_web

LIBS = (claude_web, anthropic)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


@dataclass
class FilesAPI:
    """The Files API routes, with their state and every request they saw."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def reset(self) -> None:
        self.files.clear()
        self.contents.clear()
        self.requests.clear()
        self.counter = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        seen: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.url.params),
            "beta": request.headers.get("anthropic-beta"),
            "accept": request.headers.get("accept"),
        }
        self.requests.append(seen)
        path = request.url.path.rstrip("/")
        if path == "/v1/files" and request.method == "POST":
            seen["parts"] = _multipart(request.headers["content-type"], body)
            return self._upload(seen["parts"])
        if path == "/v1/files" and request.method == "GET":
            return self._list(request.url.params)
        parts = path.split("/")
        if len(parts) >= 4 and parts[1:3] == ["v1", "files"]:
            file_id = parts[3]
            if file_id not in self.files:
                error = {"type": "not_found_error", "message": f"File not found: {file_id}"}
                return httpx.Response(404, json={"type": "error", "error": error})
            if len(parts) == 5 and parts[4] == "content" and request.method == "GET":
                return httpx.Response(200, content=self.contents[file_id], headers={"content-type": "application/pdf"})
            if request.method == "GET":
                return httpx.Response(200, json=self.files[file_id])
            if request.method == "DELETE":
                del self.files[file_id]
                return httpx.Response(200, json={"id": file_id, "type": "file_deleted"})
        return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": "no route"}})

    def _upload(self, parts: list[dict[str, Any]]) -> httpx.Response:
        (part,) = [p for p in parts if p["name"] == "file"]
        self.counter += 1
        file_id = f"file_{self.counter:04d}"
        self.contents[file_id] = part["data"]
        self.files[file_id] = {
            "id": file_id,
            "type": "file",
            "filename": part["filename"],
            "mime_type": part["content_type"],
            "size_bytes": len(part["data"]),
            "created_at": f"2025-04-14T00:00:{self.counter:02d}Z",
            "downloadable": True,
        }
        return httpx.Response(200, json=self.files[file_id])

    def _list(self, params: httpx.QueryParams) -> httpx.Response:
        ordered = sorted(self.files, reverse=True)  # newest first
        if "after_id" in params:
            ordered = ordered[ordered.index(params["after_id"]) + 1 :]
        limit = int(params.get("limit", 20))
        page = ordered[:limit]
        return httpx.Response(
            200,
            json={
                "data": [self.files[i] for i in page],
                "has_more": len(ordered) > limit,
                "first_id": page[0] if page else None,
                "last_id": page[-1] if page else None,
            },
        )


def _multipart(content_type: str, body: bytes) -> list[dict[str, Any]]:
    assert content_type.startswith("multipart/form-data; boundary=")
    parser = email.parser.BytesParser(policy=email.policy.default)
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [
        {
            "name": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "data": part.get_payload(decode=True),
        }
        for part in message.iter_parts()
    ]


@pytest.fixture
def files_api() -> FilesAPI:
    return FilesAPI()


def _run_both(api: FilesAPI, scenario: Callable[[Any, Any], Any]) -> tuple[list[Any], list[list[dict[str, Any]]]]:
    results, wires = [], []
    for lib in LIBS:
        api.reset()
        http = httpx.Client(transport=httpx.MockTransport(api.handle))
        client = lib.Anthropic(api_key="k", base_url="http://files.test", http_client=http, max_retries=0)
        results.append(scenario(lib, client))
        wires.append(list(api.requests))
    return results, wires


def test_upload_every_kind_of_file(files_api: FilesAPI, tmp_path: pathlib.Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)

    def scenario(lib: Any, client: Any) -> Any:
        uploads = [
            report,
            PDF,
            io.BytesIO(PDF),
            ("named.pdf", PDF, "application/pdf"),
            ("from-path.pdf", report),
            ("notes.txt", b"plain words", "text/plain"),
            lib.file_from_path(str(report)),
        ]
        with report.open("rb") as opened:
            uploads.append(opened)
            return [client.beta.files.upload(file=f).to_dict() for f in uploads]

    results, wires = _run_both(files_api, scenario)
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    first = wires[0][0]
    assert (first["method"], first["path"], first["query"], first["beta"]) == (
        "POST",
        "/v1/files",
        {"beta": "true"},
        "files-api-2025-04-14",
    )
    assert [w["parts"][0]["filename"] for w in wires[0]] == [
        "report.pdf",
        "upload",
        "upload",
        "named.pdf",
        "from-path.pdf",
        "notes.txt",
        "report.pdf",
        "report.pdf",
    ]
    assert all(w["parts"][0]["data"] == PDF for w in wires[0][:5])


def test_list_retrieve_download_delete(files_api: FilesAPI, tmp_path: pathlib.Path) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        ids = [client.beta.files.upload(file=(f"f{i}.pdf", PDF + bytes([i]), "application/pdf")).id for i in range(5)]
        page = client.beta.files.list(limit=2)
        every = [f.id for f in client.beta.files.list(limit=2)]
        meta = client.beta.files.retrieve_metadata(ids[2])
        download = client.beta.files.download(ids[2])
        target = tmp_path / f"{lib.__name__}.pdf"
        download.write_to_file(target)
        deleted = client.beta.files.delete(ids[0])
        with pytest.raises(lib.NotFoundError):
            client.beta.files.retrieve_metadata(ids[0])
        return [
            [f.to_dict() for f in page.data],
            page.has_more,
            page.first_id,
            page.last_id,
            every,
            meta.to_dict(),
            type(download).__name__,
            download.read() == PDF + bytes([2]),
            target.read_bytes() == PDF + bytes([2]),
            deleted.to_dict(),
        ]

    results, wires = _run_both(files_api, scenario)
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert results[0][4] == ["file_0005", "file_0004", "file_0003", "file_0002", "file_0001"]
    assert results[0][6:] == ["BinaryAPIResponse", True, True, {"id": "file_0001", "type": "file_deleted"}]
    download_wire = next(w for w in wires[0] if w["path"].endswith("/content"))
    assert download_wire["accept"] == "application/binary" and download_wire["query"] == {"beta": "true"}


def test_betas_and_extra_headers(files_api: FilesAPI) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        client.beta.files.upload(file=PDF, betas=["other-2025-01-01"])
        client.beta.files.list(betas=["a", "b"], limit=lib.omit)
        client.beta.files.list(extra_headers={"anthropic-beta": "mine"})
        return None

    _, wires = _run_both(files_api, scenario)
    assert wires[0] == wires[1]
    assert [w["beta"] for w in wires[0]] == [
        "other-2025-01-01,files-api-2025-04-14",
        "a,b,files-api-2025-04-14",
        "mine",
    ]


def test_raw_and_streaming_download(files_api: FilesAPI, tmp_path: pathlib.Path) -> None:
    def scenario(lib: Any, client: Any) -> Any:
        file_id = client.beta.files.upload(file=("x.pdf", PDF, "application/pdf")).id
        raw = client.beta.files.with_raw_response.download(file_id)
        target = tmp_path / f"streamed-{lib.__name__}.pdf"
        with client.beta.files.with_streaming_response.download(file_id) as response:
            response.stream_to_file(target)
            streamed_name = type(response).__name__
        meta = client.beta.files.with_raw_response.retrieve_metadata(file_id)
        return [type(raw).__name__, raw.read() == PDF, streamed_name, target.read_bytes() == PDF, meta.parse().id]

    results, _ = _run_both(files_api, scenario)
    assert results[0] == results[1]


def test_async_files(files_api: FilesAPI, tmp_path: pathlib.Path) -> None:
    report = tmp_path / "a.pdf"
    report.write_bytes(PDF)

    async def scenario(lib: Any) -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(files_api.handle))
        client = lib.AsyncAnthropic(api_key="k", base_url="http://files.test", http_client=http)
        meta = await client.beta.files.upload(file=report)
        listed = [f.id async for f in client.beta.files.list(limit=1)]
        first = await client.beta.files.list()
        download = await client.beta.files.download(meta.id)
        target = tmp_path / f"async-{lib.__name__}.pdf"
        await download.write_to_file(target)
        deleted = await client.beta.files.delete(meta.id)
        return [
            meta.to_dict(),
            listed,
            [f.id for f in first.data],
            type(download).__name__,
            await download.read() == PDF,
            target.read_bytes() == PDF,
            deleted.to_dict(),
        ]

    results, wires = [], []
    for lib in LIBS:
        files_api.reset()
        results.append(asyncio.run(scenario(lib)))
        wires.append(json.loads(json.dumps(files_api.requests, default=str)))
    assert results[0] == results[1]
    assert wires[0] == wires[1]
    assert results[0][3] == "AsyncBinaryAPIResponse"
