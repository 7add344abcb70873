"""Result types of ``client.beta``: the ``Beta*`` models that carry fields the plain ones lack.

They subclass the plain types (a ``BetaMessage`` is a :class:`~claude_web.types.Message`), adding the beta-only
fields as optional; objects this library does not model field by field are open models that keep every field.
"""

from __future__ import annotations

from typing import Literal

from ..._models import BaseModel
from ..message import Message
from ..model_info import MessageTokensCount, ModelInfo
from ..usage import Usage

__all__ = [
    "BetaContextManagementResponse",
    "BetaCountTokensContextManagementResponse",
    "BetaDiagnostics",
    "BetaFallbackCreditUsage",
    "BetaMessage",
    "BetaMessageIterationUsage",
    "BetaMessageTokensCount",
    "BetaModelInfo",
    "BetaUsage",
]


class BetaContextManagementResponse(BaseModel):
    """What context management did to the request (``applied_edits``...); every field is kept."""


class BetaCountTokensContextManagementResponse(BaseModel):
    """Context management's effect on a token count (``original_input_tokens``...); every field is kept."""


class BetaDiagnostics(BaseModel):
    """Diagnostics the API attached to a response; every field is kept."""


class BetaFallbackCreditUsage(BaseModel):
    """Usage billed to a fallback credit; every field is kept."""


class BetaMessageIterationUsage(BaseModel):
    """Token usage of one iteration of a server-side loop (``type`` says which kind); every field is kept."""

    type: str
    input_tokens: int | None = None
    output_tokens: int | None = None


class BetaUsage(Usage):
    """:class:`~claude_web.types.Usage` plus the beta-only counters."""

    fallback_credit: BetaFallbackCreditUsage | None = None
    iterations: list[BetaMessageIterationUsage] | None = None
    speed: Literal["standard", "fast"] | str | None = None


class BetaMessage(Message):
    """A :class:`~claude_web.types.Message` from ``client.beta.messages``, with the beta-only fields."""

    context_management: BetaContextManagementResponse | None = None
    diagnostics: BetaDiagnostics | None = None
    usage: BetaUsage


class BetaMessageTokensCount(MessageTokensCount):
    context_management: BetaCountTokensContextManagementResponse | None = None


class BetaModelInfo(ModelInfo):
    allowed_fallback_models: list[str] | None = None
