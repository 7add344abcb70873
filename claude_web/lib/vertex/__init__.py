"""Claude on Google Cloud Vertex AI: ``AnthropicVertex`` / ``AsyncAnthropicVertex`` (extra ``claude-web[vertex]``).

>>> from claude_web.lib.vertex import AnthropicVertex
>>> client = AnthropicVertex(region="us-east5", project_id="my-project")
"""

from ._auth import VertexCredentialsError
from ._client import AnthropicVertex, AsyncAnthropicVertex, VertexConfigError

__all__ = ["AnthropicVertex", "AsyncAnthropicVertex", "VertexConfigError", "VertexCredentialsError"]
