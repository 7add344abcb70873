"""FakeBedrock and FakeVertex: the Bedrock and Vertex AI route shapes in front of a :class:`FakeClaude`.

::

    with FakeClaude() as fake, FakeBedrock(fake) as bedrock:
        fake.queue(text("Hi!"))
        client = AnthropicBedrock(aws_access_key=bedrock.access_key, aws_secret_key=bedrock.secret_key,
                                  aws_region=bedrock.region, base_url=bedrock.base_url)
        client.messages.create(model="anthropic.claude-sonnet-4-5-20250929-v1:0", max_tokens=64, messages=[...])
        assert bedrock.last_request.path.endswith("/invoke")

Each is a small threaded HTTP/1.1 server on a loopback port. It checks the platform's auth (Bedrock: a SigV4
``Authorization`` header whose signature it recomputes with botocore for its known test credentials; Vertex: a
bearer token), turns the platform request into a Messages API request answered by the FakeClaude in-process
(scripted replies, faults and all), and answers in the platform's format: Bedrock streams re-framed as AWS
eventstream messages, errors as AWS JSON with ``x-amzn-ErrorType``; Vertex passes JSON and SSE through.
"""

from __future__ import annotations

from ._bedrock import FakeBedrock
from ._vertex import FakeVertex

__all__ = ["FakeBedrock", "FakeVertex"]
