from .batches import AsyncBatches, Batches
from .messages import AsyncMessages, Messages

__all__ = ["AsyncBatches", "AsyncMessages", "Batches", "Messages"]
