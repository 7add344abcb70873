"""Cursor pages (``data``, ``has_more``, ``first_id``, ``last_id``) that fetch the next page when iterated.

>>> for model in client.models.list(limit=10):   # walks every page
...     print(model.id)
>>> page = client.models.list(limit=10)
>>> page.has_next_page(), page.get_next_page()
>>> async for model in async_client.models.list():  # no await needed to iterate
...     ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import replace
from typing import Any, Generic, TypeVar

import pydantic

from ._models import BaseModel

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]

_T = TypeVar("_T")


class _CursorPage(BaseModel, Generic[_T]):
    data: list[_T]
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None

    _client: Any = pydantic.PrivateAttr(default=None)
    _options: Any = pydantic.PrivateAttr(default=None)
    _page_cls: Any = pydantic.PrivateAttr(default=None)

    def _set_page_context(self, client: Any, options: Any, page_cls: Any) -> None:
        self._client = client
        self._options = options
        self._page_cls = page_cls

    def has_next_page(self) -> bool:
        if self.has_more is False or not self.data:
            return False
        return self._next_params() is not None

    def _next_params(self) -> dict[str, object] | None:
        params = dict(self._options.params or {}) if self._options is not None else {}
        if params.get("before_id"):
            if not self.first_id:
                return None
            params["before_id"] = self.first_id
            return params
        if not self.last_id:
            return None
        params["after_id"] = self.last_id
        return params

    def _next_options(self) -> Any:
        params = self._next_params()
        if params is None or self._client is None:
            raise RuntimeError("No next page: check has_next_page() first.")
        return replace(self._options, params=params)


class SyncPage(_CursorPage[_T], Generic[_T]):
    def get_next_page(self) -> SyncPage[_T]:
        page: SyncPage[_T] = self._client.request(self._page_cls, self._next_options())
        return page

    def iter_pages(self) -> Iterator[SyncPage[_T]]:
        page: SyncPage[_T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[_T]:  # type: ignore[override]
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_CursorPage[_T], Generic[_T]):
    async def get_next_page(self) -> AsyncPage[_T]:
        page: AsyncPage[_T] = await self._client.request(self._page_cls, self._next_options())
        return page

    async def iter_pages(self) -> AsyncIterator[AsyncPage[_T]]:
        page: AsyncPage[_T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[_T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[_T]):
    """What ``async_client.models.list()`` returns: ``await`` it for the first page, or ``async for`` every item."""

    def __init__(self, client: Any, options: Any, page_cls: type[AsyncPage[_T]]) -> None:
        self._client = client
        self._options = options
        self._page_cls = page_cls

    async def _first(self) -> AsyncPage[_T]:
        page: AsyncPage[_T] = await self._client.request(self._page_cls, self._options)
        return page

    def __await__(self) -> Generator[Any, None, AsyncPage[_T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[_T]:
        page = await self._first()
        async for item in page:
            yield item
