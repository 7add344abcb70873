"""``client.beta``: the beta endpoints. This minimal namespace has ``files``; the full ``Beta`` adds the rest."""

from __future__ import annotations

from functools import cached_property

from ..._resource import AsyncAPIResource, SyncAPIResource
from .files import AsyncFiles, Files

__all__ = ["AsyncBeta", "AsyncFiles", "Beta", "Files"]


class Beta(SyncAPIResource):
    @cached_property
    def files(self) -> Files:
        return Files(self._client)


class AsyncBeta(AsyncAPIResource):
    @cached_property
    def files(self) -> AsyncFiles:
        return AsyncFiles(self._client)
