"""FakeClaude's Files API (beta files-api-2025-04-14): upload, list with cursors, metadata, content, delete, the beta
header, file references from Messages requests, recording; and anthropic 0.125.0's beta.files client against it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import anthropic
import httpx
import pytest
from fake_helpers import HEADERS, body

from claude_web.testing import FakeClaude, RemoteFakeClaude

BETA = {**HEADERS, "anthropic-beta": "files-api-2025-04-14"}


def _upload(http: httpx.Client, data: bytes, filename: str, content_type: str | None = "text/plain") -> Any:
    part = (filename, data, content_type) if content_type else (filename, data)
    response = http.post("/v1/files", files={"file": part}, headers=BETA)
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_answers_file_metadata(http: httpx.Client) -> None:
    meta = _upload(http, b"Quarterly numbers\n", "report.txt")
    assert set(meta) == {"id", "type", "filename", "mime_type", "size_bytes", "created_at", "downloadable"}
    assert re.fullmatch(r"file_[A-Za-z0-9]{24}", meta["id"])
    assert (meta["type"], meta["filename"], meta["mime_type"], meta["size_bytes"]) == (
        "file",
        "report.txt",
        "text/plain",
        18,
    )
    assert meta["created_at"].endswith("Z") and datetime.fromisoformat(meta["created_at"].replace("Z", "+00:00"))
    assert meta["downloadable"] is False  # uploads are not downloadable on the API either
    assert http.get(f"/v1/files/{meta['id']}", headers=BETA).json() == meta


def test_mime_type_is_guessed_without_a_part_content_type(http: httpx.Client) -> None:
    assert _upload(http, b"%PDF-1.4", "paper.pdf", content_type=None)["mime_type"] == "application/pdf"


def test_list_pages_newest_first(http: httpx.Client) -> None:
    ids = [_upload(http, f"file {i}".encode(), f"f{i}.txt")["id"] for i in range(5)]
    newest_first = ids[::-1]
    first = http.get("/v1/files", params={"limit": 2}, headers=BETA).json()
    assert [f["id"] for f in first["data"]] == newest_first[:2]
    assert (first["has_more"], first["first_id"], first["last_id"]) == (True, newest_first[0], newest_first[1])
    rest = http.get("/v1/files", params={"after_id": first["last_id"]}, headers=BETA).json()
    assert [f["id"] for f in rest["data"]] == newest_first[2:] and rest["has_more"] is False
    before = http.get("/v1/files", params={"before_id": newest_first[3], "limit": 2}, headers=BETA).json()
    assert [f["id"] for f in before["data"]] == newest_first[1:3] and before["has_more"] is True
    bad = http.get("/v1/files", params={"limit": 0}, headers=BETA)
    assert bad.status_code == 400


def test_delete_then_unknown_ids_are_404(http: httpx.Client) -> None:
    file_id = _upload(http, b"x", "x.txt")["id"]
    deleted = http.delete(f"/v1/files/{file_id}", headers=BETA)
    assert deleted.json() == {"id": file_id, "type": "file_deleted"}
    for response in (
        http.get(f"/v1/files/{file_id}", headers=BETA),
        http.get(f"/v1/files/{file_id}/content", headers=BETA),
        http.delete(f"/v1/files/{file_id}", headers=BETA),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error" and file_id in response.json()["error"]["message"]


def test_content_of_a_tool_made_file_and_not_of_an_upload(fake_claude: FakeClaude, http: httpx.Client) -> None:
    made = fake_claude.add_file(b"a,b\n1,2\n", "table.csv")
    assert made["downloadable"] is True and made["mime_type"] == "text/csv"
    content = http.get(f"/v1/files/{made['id']}/content", headers=BETA)
    assert content.status_code == 200 and content.content == b"a,b\n1,2\n"
    assert content.headers["content-type"] == "text/csv"
    uploaded = _upload(http, b"secret", "mine.txt")
    refused = http.get(f"/v1/files/{uploaded['id']}/content", headers=BETA)
    assert refused.status_code == 400 and "not downloadable" in refused.json()["error"]["message"]


@pytest.mark.parametrize("beta", [None, "other-beta-2025-01-01"])
def test_the_files_beta_is_required(http: httpx.Client, beta: str | None) -> None:
    headers = {**HEADERS, "anthropic-beta": beta} if beta else HEADERS
    for response in (
        http.get("/v1/files", headers=headers),
        http.post("/v1/files", files={"file": ("a.txt", b"a")}, headers=headers),
    ):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "files-api-2025-04-14" in response.json()["error"]["message"]
    combined = http.get("/v1/files", headers={**HEADERS, "anthropic-beta": "other-beta, files-api-2025-04-14"})
    assert combined.status_code == 200


def test_upload_needs_a_file_part(http: httpx.Client) -> None:
    no_file = http.post("/v1/files", files={"other": ("a.txt", b"a")}, headers=BETA)
    assert no_file.status_code == 400 and "file" in no_file.json()["error"]["message"]
    not_multipart = http.post("/v1/files", json={"file": "a"}, headers=BETA)
    assert not_multipart.status_code == 400


def test_messages_may_reference_stored_files(fake_claude: FakeClaude, http: httpx.Client) -> None:
    file_id = _upload(http, b"%PDF-1.4", "paper.pdf", "application/pdf")["id"]

    def ask(source_id: str, kind: str = "document", headers: dict[str, str] = BETA) -> httpx.Response:
        block = {"type": kind, "source": {"type": "file", "file_id": source_id}}
        return http.post("/v1/messages", json=body([block, {"type": "text", "text": "Summarise"}]), headers=headers)

    assert ask(file_id).status_code == 200
    assert ask(file_id, "image").status_code == 200
    missing = ask("file_doesnotexist")
    assert missing.status_code == 400 and missing.json()["error"]["type"] == "invalid_request_error"
    assert "file_doesnotexist" in missing.json()["error"]["message"]
    without_beta = ask(file_id, headers=HEADERS)
    assert without_beta.status_code == 400
    assert "messages.0.content.0.document.source" in without_beta.json()["error"]["message"]
    counted = http.post(
        "/v1/messages/count_tokens",
        json={
            k: v for k, v in body([{"type": "document", "source": {"type": "file", "file_id": "file_nope"}}]).items()
        },
        headers=BETA,
    )
    assert counted.status_code == 400


def test_uploads_are_recorded_with_a_summary(fake_claude: FakeClaude, http: httpx.Client) -> None:
    _upload(http, b"x" * 5000, "big.txt")
    recorded = fake_claude.last_request
    assert (recorded.method, recorded.path, recorded.json) == ("POST", "/v1/files", None)
    form = recorded.form
    assert form is not None and [(p.name, p.filename, len(p.data)) for p in form] == [("file", "big.txt", 5000)]
    assert recorded.summary() == "multipart: file=big.txt (text/plain, 5000 bytes)"
    assert "xxxxx" not in repr(recorded) and "big.txt" in repr(recorded)


def test_clear_forgets_files(fake_claude: FakeClaude, http: httpx.Client) -> None:
    file_id = _upload(http, b"x", "x.txt")["id"]
    fake_claude.clear()
    assert http.get(f"/v1/files/{file_id}", headers=BETA).status_code == 404
    assert http.get("/v1/files", headers=BETA).json()["data"] == []


def test_remote_fake_records_uploads_too() -> None:
    with FakeClaude() as fake, RemoteFakeClaude(fake.base_url) as remote, httpx.Client(base_url=fake.base_url) as http:
        _upload(http, b"hello", "hello.txt")
        assert remote.last_request.summary() == "multipart: file=hello.txt (text/plain, 5 bytes)"


def test_anthropic_beta_files_client_round_trip(fake_claude: FakeClaude) -> None:
    """The official SDK's Files client (anthropic 0.125.0) reads every answer of the fake."""
    client = anthropic.Anthropic(api_key="sk-test", base_url=fake_claude.base_url, max_retries=0)
    uploaded = client.beta.files.upload(file=("notes.md", b"# Notes\n", "text/markdown"))
    assert (uploaded.filename, uploaded.size_bytes, uploaded.downloadable) == ("notes.md", 8, False)
    assert "files-api-2025-04-14" in fake_claude.last_request.headers["anthropic-beta"]
    assert client.beta.files.retrieve_metadata(uploaded.id) == uploaded
    made = fake_claude.add_file(b"\x89PNG data", "chart.png")
    listed = client.beta.files.list(limit=1)
    assert [f.id for f in listed.data] == [made["id"]] and listed.has_more
    assert [f.id for f in listed] == [made["id"], uploaded.id]  # the SDK follows the cursor across pages
    assert client.beta.files.download(made["id"]).read() == b"\x89PNG data"
    with pytest.raises(anthropic.BadRequestError):
        client.beta.files.download(uploaded.id)
    assert client.beta.files.delete(uploaded.id).type == "file_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.beta.files.retrieve_metadata(uploaded.id)
    client.close()
