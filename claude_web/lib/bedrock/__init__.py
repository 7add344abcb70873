"""Claude on Amazon Bedrock: ``AnthropicBedrock`` / ``AsyncAnthropicBedrock`` (extra ``claude-web[bedrock]``).

>>> from claude_web.lib.bedrock import AnthropicBedrock
>>> client = AnthropicBedrock(aws_region="us-east-1")
"""

from ._auth import BedrockCredentialsError
from ._client import AnthropicBedrock, AsyncAnthropicBedrock
from ._eventstream import EventStreamBuffer, EventStreamDecoder, EventStreamError, EventStreamMessage, encode_message
from ._platform import (
    DeadlineExceededStatusError,
    OverloadedStatusError,
    PlatformCredentialsError,
    ServiceUnavailableStatusError,
)

__all__ = [
    "AnthropicBedrock",
    "AsyncAnthropicBedrock",
    "BedrockCredentialsError",
    "DeadlineExceededStatusError",
    "EventStreamBuffer",
    "EventStreamDecoder",
    "EventStreamError",
    "EventStreamMessage",
    "OverloadedStatusError",
    "PlatformCredentialsError",
    "ServiceUnavailableStatusError",
    "encode_message",
]
