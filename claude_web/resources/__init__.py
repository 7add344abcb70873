from .messages import AsyncBatches, AsyncMessages, Batches, Messages
from .models import AsyncModels, Models

__all__ = ["AsyncBatches", "AsyncMessages", "AsyncModels", "Batches", "Messages", "Models"]
