"""The ``Beta*`` types of ``client.beta``, under the names ``anthropic.types.beta`` uses.

Where a beta type has exactly the fields of its plain twin it *is* that type (``BetaTextBlock is TextBlock``),
so ``isinstance`` works across both namespaces; :class:`BetaMessage`, :class:`BetaUsage`,
:class:`BetaMessageTokensCount` and :class:`BetaModelInfo` subclass their twins and add the beta-only fields.

>>> from claude_web.types.beta import BetaMessage, BetaMessageParam, BetaTextBlock
"""

from __future__ import annotations

from typing import TypeAlias

from .. import _blocks, _events, message, usage
from ._files import BetaDeletedFile, BetaFileMetadata, BetaFileScope
from ._message import (
    BetaContextManagementResponse,
    BetaCountTokensContextManagementResponse,
    BetaDiagnostics,
    BetaFallbackCreditUsage,
    BetaMessage,
    BetaMessageIterationUsage,
    BetaMessageTokensCount,
    BetaModelInfo,
    BetaUsage,
)
from ._params import (
    AnthropicBetaParam,
    BetaBase64ImageSourceParam,
    BetaCacheControlEphemeralParam,
    BetaCitationsConfigParam,
    BetaContentBlockParam,
    BetaImageBlockParam,
    BetaJSONOutputFormatParam,
    BetaMessageParam,
    BetaMetadataParam,
    BetaOutputConfigParam,
    BetaRedactedThinkingBlockParam,
    BetaRequestDocumentBlockParam,
    BetaTextBlockParam,
    BetaTextCitationParam,
    BetaThinkingBlockParam,
    BetaThinkingConfigAdaptiveParam,
    BetaThinkingConfigDisabledParam,
    BetaThinkingConfigEnabledParam,
    BetaThinkingConfigParam,
    BetaToolChoiceAnyParam,
    BetaToolChoiceAutoParam,
    BetaToolChoiceNoneParam,
    BetaToolChoiceParam,
    BetaToolChoiceToolParam,
    BetaToolParam,
    BetaToolResultBlockParam,
    BetaToolUnionParam,
    BetaToolUseBlockParam,
    BetaURLImageSourceParam,
)

# content blocks and citations: the same classes as the plain namespace
BetaTextBlock = _blocks.TextBlock
BetaThinkingBlock = _blocks.ThinkingBlock
BetaRedactedThinkingBlock = _blocks.RedactedThinkingBlock
BetaToolUseBlock = _blocks.ToolUseBlock
BetaServerToolUseBlock = _blocks.ServerToolUseBlock
BetaWebSearchToolResultBlock = _blocks.WebSearchToolResultBlock
BetaWebFetchToolResultBlock = _blocks.WebFetchToolResultBlock
BetaCodeExecutionToolResultBlock = _blocks.CodeExecutionToolResultBlock
BetaBashCodeExecutionToolResultBlock = _blocks.BashCodeExecutionToolResultBlock
BetaTextEditorCodeExecutionToolResultBlock = _blocks.TextEditorCodeExecutionToolResultBlock
BetaToolSearchToolResultBlock = _blocks.ToolSearchToolResultBlock
BetaContainerUploadBlock = _blocks.ContainerUploadBlock
BetaContentBlock: TypeAlias = _blocks.ContentBlock
BetaTextCitation: TypeAlias = _blocks.TextCitation
BetaCitationCharLocation = _blocks.CitationCharLocation
BetaCitationPageLocation = _blocks.CitationPageLocation
BetaCitationContentBlockLocation = _blocks.CitationContentBlockLocation
BetaCitationsWebSearchResultLocation = _blocks.CitationsWebSearchResultLocation
BetaCitationSearchResultLocation = _blocks.CitationsSearchResultLocation
BetaDirectCaller = _blocks.DirectCaller
BetaServerToolCaller = _blocks.ServerToolCaller

# stream events and deltas
BetaRawMessageStreamEvent: TypeAlias = _events.RawMessageStreamEvent
BetaRawMessageStartEvent = _events.RawMessageStartEvent
BetaRawMessageDeltaEvent = _events.RawMessageDeltaEvent
BetaRawMessageStopEvent = _events.RawMessageStopEvent
BetaRawContentBlockStartEvent = _events.RawContentBlockStartEvent
BetaRawContentBlockDeltaEvent = _events.RawContentBlockDeltaEvent
BetaRawContentBlockStopEvent = _events.RawContentBlockStopEvent
BetaRawContentBlockDelta: TypeAlias = _events.RawContentBlockDelta
BetaTextDelta = _events.TextDelta
BetaInputJSONDelta = _events.InputJSONDelta
BetaThinkingDelta = _events.ThinkingDelta
BetaSignatureDelta = _events.SignatureDelta
BetaCitationsDelta = _events.CitationsDelta

# message parts
BetaContainer = message.Container
BetaRefusalStopDetails = message.RefusalStopDetails
BetaStopReason: TypeAlias = message.StopReason
BetaCacheCreation = usage.CacheCreation
BetaServerToolUsage = usage.ServerToolUsage
BetaOutputTokensDetails = usage.OutputTokensDetails
BetaMessageDeltaUsage = usage.MessageDeltaUsage
BetaIterationsUsage: TypeAlias = list[BetaMessageIterationUsage]

__all__ = [
    "BetaDeletedFile",
    "BetaFileMetadata",
    "BetaFileScope",
    "AnthropicBetaParam",
    "BetaBase64ImageSourceParam",
    "BetaBashCodeExecutionToolResultBlock",
    "BetaCacheControlEphemeralParam",
    "BetaCacheCreation",
    "BetaCitationCharLocation",
    "BetaCitationContentBlockLocation",
    "BetaCitationPageLocation",
    "BetaCitationSearchResultLocation",
    "BetaCitationsConfigParam",
    "BetaCitationsDelta",
    "BetaCitationsWebSearchResultLocation",
    "BetaCodeExecutionToolResultBlock",
    "BetaContainer",
    "BetaContainerUploadBlock",
    "BetaContentBlock",
    "BetaContentBlockParam",
    "BetaContextManagementResponse",
    "BetaCountTokensContextManagementResponse",
    "BetaDiagnostics",
    "BetaDirectCaller",
    "BetaFallbackCreditUsage",
    "BetaImageBlockParam",
    "BetaInputJSONDelta",
    "BetaIterationsUsage",
    "BetaJSONOutputFormatParam",
    "BetaMessage",
    "BetaMessageDeltaUsage",
    "BetaMessageIterationUsage",
    "BetaMessageParam",
    "BetaMessageTokensCount",
    "BetaMetadataParam",
    "BetaModelInfo",
    "BetaOutputConfigParam",
    "BetaOutputTokensDetails",
    "BetaRawContentBlockDelta",
    "BetaRawContentBlockDeltaEvent",
    "BetaRawContentBlockStartEvent",
    "BetaRawContentBlockStopEvent",
    "BetaRawMessageDeltaEvent",
    "BetaRawMessageStartEvent",
    "BetaRawMessageStopEvent",
    "BetaRawMessageStreamEvent",
    "BetaRedactedThinkingBlock",
    "BetaRedactedThinkingBlockParam",
    "BetaRefusalStopDetails",
    "BetaRequestDocumentBlockParam",
    "BetaServerToolCaller",
    "BetaServerToolUsage",
    "BetaServerToolUseBlock",
    "BetaSignatureDelta",
    "BetaStopReason",
    "BetaTextBlock",
    "BetaTextBlockParam",
    "BetaTextCitation",
    "BetaTextCitationParam",
    "BetaTextDelta",
    "BetaTextEditorCodeExecutionToolResultBlock",
    "BetaThinkingBlock",
    "BetaThinkingBlockParam",
    "BetaThinkingConfigAdaptiveParam",
    "BetaThinkingConfigDisabledParam",
    "BetaThinkingConfigEnabledParam",
    "BetaThinkingConfigParam",
    "BetaThinkingDelta",
    "BetaToolChoiceAnyParam",
    "BetaToolChoiceAutoParam",
    "BetaToolChoiceNoneParam",
    "BetaToolChoiceParam",
    "BetaToolChoiceToolParam",
    "BetaToolParam",
    "BetaToolResultBlockParam",
    "BetaToolSearchToolResultBlock",
    "BetaToolUnionParam",
    "BetaToolUseBlock",
    "BetaToolUseBlockParam",
    "BetaURLImageSourceParam",
    "BetaUsage",
    "BetaWebFetchToolResultBlock",
    "BetaWebSearchToolResultBlock",
]
