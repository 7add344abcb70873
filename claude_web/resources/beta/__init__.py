from .async_messages import AsyncBetaMessages
from .beta import AsyncBeta, Beta
from .messages import BetaMessages
from .models import AsyncBetaModels, BetaModels

__all__ = ["AsyncBeta", "AsyncBetaMessages", "AsyncBetaModels", "Beta", "BetaMessages", "BetaModels"]
