"""Files API types (``client.beta.files``), named as in ``anthropic.types.beta``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..._models import BaseModel

__all__ = ["BetaDeletedFile", "BetaFileMetadata", "BetaFileScope"]


class BetaFileScope(BaseModel):
    """What a file belongs to besides the workspace (e.g. a session)."""

    id: str
    type: str
    """``session``."""


class BetaFileMetadata(BaseModel):
    """An uploaded file, as ``upload``, ``list`` and ``retrieve_metadata`` return it."""

    id: str
    type: Literal["file"]
    filename: str
    mime_type: str
    size_bytes: int
    created_at: datetime
    downloadable: bool | None = None
    scope: BetaFileScope | None = None


class BetaDeletedFile(BaseModel):
    id: str
    type: Literal["file_deleted"] | None = None
