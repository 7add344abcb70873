"""Types of the beta endpoints, with the names ``anthropic.types.beta`` uses."""

from __future__ import annotations

from ._files import BetaDeletedFile, BetaFileMetadata, BetaFileScope

__all__ = ["BetaDeletedFile", "BetaFileMetadata", "BetaFileScope"]
