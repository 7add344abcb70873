"""``client.beta``: the beta namespace (``messages``, ``models``, ``files``).

>>> client.beta.messages.create(model=..., max_tokens=1024, messages=[...], betas=["some-beta-2025-01-01"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._resource import AsyncAPIResource, SyncAPIResource
from .async_messages import AsyncBetaMessages
from .files import AsyncFiles, Files
from .messages import BetaMessages
from .models import AsyncBetaModels, BetaModels

if TYPE_CHECKING:
    from ..._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncBeta", "Beta"]


class Beta(SyncAPIResource):
    """``client.beta``."""

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self.messages = BetaMessages(client)
        self.models = BetaModels(client)
        self.files = Files(client)


class AsyncBeta(AsyncAPIResource):
    """``AsyncAnthropic().beta``."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self.messages = AsyncBetaMessages(client)
        self.models = AsyncBetaModels(client)
        self.files = AsyncFiles(client)
