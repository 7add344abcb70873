from .async_messages import AsyncBetaMessages
from .beta import AsyncBeta, Beta
from .files import AsyncFiles, Files
from .messages import BetaMessages
from .models import AsyncBetaModels, BetaModels

__all__ = [
    "AsyncBeta",
    "AsyncBetaMessages",
    "AsyncBetaModels",
    "AsyncFiles",
    "Beta",
    "BetaMessages",
    "BetaModels",
    "Files",
]
