"""``client.beta.files``: upload, list, retrieve_metadata, download and delete files (the Files API beta).

>>> meta = client.beta.files.upload(file=pathlib.Path("report.pdf"))
>>> for f in client.beta.files.list():
...     print(f.id, f.filename, f.size_bytes)
>>> client.beta.files.download(meta.id).write_to_file("copy.pdf")
>>> client.beta.files.delete(meta.id)

Every call sends ``anthropic-beta: files-api-2025-04-14`` (after any ``betas=`` given). ``file=`` takes a path, an
open binary file, ``bytes``, or a ``(filename, content[, mime_type])`` tuple, and goes as the multipart field
``file``. ``download`` returns a :class:`~claude_web._response.BinaryAPIResponse` (``read()``, ``write_to_file()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ..._files import FileTypes, async_to_httpx_file, to_httpx_file
from ..._request_options import FinalRequestOptions, is_given, make_request_options
from ..._resource import AsyncAPIResource, SyncAPIResource
from ..._response import AsyncBinaryAPIResponse, BinaryAPIResponse
from ..._types import NOT_GIVEN, NotGiven, Omit, omit
from ...pagination import AsyncPage, AsyncPaginator, SyncPage
from ...types.beta import BetaDeletedFile, BetaFileMetadata

__all__ = ["FILES_BETA", "AsyncFiles", "Files"]

FILES_BETA = "files-api-2025-04-14"
Headers = Mapping[str, "str | Omit"]


def _headers(betas: Any, extra_headers: Headers | None, **more: str) -> dict[str, str | Omit]:
    """``anthropic-beta``: the caller's betas then the Files beta; then ``more``; the caller's headers win."""
    beta = ",".join([*(str(b) for b in betas), FILES_BETA]) if is_given(betas) else FILES_BETA
    return {"anthropic-beta": beta, **more, **(extra_headers or {})}


def _file_url(file_id: str, suffix: str = "") -> str:
    if not file_id:
        raise ValueError(f"Expected a non-empty value for `file_id` but received {file_id!r}")
    return f"/v1/files/{quote(file_id, safe='')}{suffix}?beta=true"


def _options(method: str, url: str, betas: Any, extra_headers: Headers | None, **extra: Any) -> FinalRequestOptions:
    accept = extra.pop("accept", None)
    files = extra.pop("files", None)
    query = extra.pop("query", None)
    headers = _headers(betas, extra_headers, **({"accept": accept} if accept else {}))
    return FinalRequestOptions(
        method=method,
        url=url,
        files=files,
        **make_request_options(extra_headers=headers, query=query, **extra),
    )


def _list_query(after_id: Any, before_id: Any, limit: Any, scope_id: Any) -> dict[str, object]:
    return {"after_id": after_id, "before_id": before_id, "limit": limit, "scope_id": scope_id}


class Files(SyncAPIResource):
    def upload(
        self,
        *,
        file: FileTypes,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaFileMetadata:
        """Upload a file (multipart field ``file``); returns its metadata."""
        options = _options(
            "post",
            "/v1/files?beta=true",
            betas,
            extra_headers,
            files={"file": to_httpx_file(file)},
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaFileMetadata = self._client.request(BetaFileMetadata, options)
        return result

    def list(
        self,
        *,
        after_id: str | Omit = omit,
        before_id: str | Omit = omit,
        limit: int | Omit = omit,
        scope_id: str | Omit = omit,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> SyncPage[BetaFileMetadata]:
        """The files of the workspace, newest first; iterating the page walks every page."""
        options = _options(
            "get",
            "/v1/files?beta=true",
            betas,
            extra_headers,
            query=_list_query(after_id, before_id, limit, scope_id),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: SyncPage[BetaFileMetadata] = self._client.request(SyncPage[BetaFileMetadata], options)
        return result

    def retrieve_metadata(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaFileMetadata:
        options = _options(
            "get",
            _file_url(file_id),
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaFileMetadata = self._client.request(BetaFileMetadata, options)
        return result

    def download(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BinaryAPIResponse:
        """The file's content as a binary response: ``.read()``, ``.write_to_file(path)``."""
        options = _options(
            "get",
            _file_url(file_id, "/content"),
            betas,
            extra_headers,
            accept="application/binary",
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BinaryAPIResponse = self._client.request(BinaryAPIResponse, options)
        return result

    def delete(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaDeletedFile:
        options = _options(
            "delete",
            _file_url(file_id),
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaDeletedFile = self._client.request(BetaDeletedFile, options)
        return result


class AsyncFiles(AsyncAPIResource):
    async def upload(
        self,
        *,
        file: FileTypes,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaFileMetadata:
        """Upload a file (a path is read without blocking the event loop); returns its metadata."""
        options = _options(
            "post",
            "/v1/files?beta=true",
            betas,
            extra_headers,
            files={"file": await async_to_httpx_file(file)},
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaFileMetadata = await self._client.request(BetaFileMetadata, options)
        return result

    def list(
        self,
        *,
        after_id: str | Omit = omit,
        before_id: str | Omit = omit,
        limit: int | Omit = omit,
        scope_id: str | Omit = omit,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[BetaFileMetadata]:
        """``await`` it for the first page, or ``async for`` every file."""
        options = _options(
            "get",
            "/v1/files?beta=true",
            betas,
            extra_headers,
            query=_list_query(after_id, before_id, limit, scope_id),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return AsyncPaginator(self._client, options, AsyncPage[BetaFileMetadata])

    async def retrieve_metadata(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaFileMetadata:
        options = _options(
            "get",
            _file_url(file_id),
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaFileMetadata = await self._client.request(BetaFileMetadata, options)
        return result

    async def download(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncBinaryAPIResponse:
        """The file's content: ``await (await client.beta.files.download(id)).read()``."""
        options = _options(
            "get",
            _file_url(file_id, "/content"),
            betas,
            extra_headers,
            accept="application/binary",
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: AsyncBinaryAPIResponse = await self._client.request(AsyncBinaryAPIResponse, options)
        return result

    async def delete(
        self,
        file_id: str,
        *,
        betas: Any = omit,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> BetaDeletedFile:
        options = _options(
            "delete",
            _file_url(file_id),
            betas,
            extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        result: BetaDeletedFile = await self._client.request(BetaDeletedFile, options)
        return result
