"""FakeVertex: Vertex AI's ``:rawPredict`` / ``:streamRawPredict`` routes for Anthropic models, bearer auth and
Google-style errors; JSON and SSE pass through from FakeClaude."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from urllib.parse import unquote

import httpx

from .._fake import FakeClaude
from ._server import PASSED_HEADERS, CloudReply, CloudServer

__all__ = ["VERTEX_VERSION", "FakeVertex"]

VERTEX_VERSION = "vertex-2023-10-16"

_VERTEX_ROUTE = re.compile(
    r"/v1/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)"
)
_GOOGLE_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
}


def _google_error(status: int, message: str) -> CloudReply:
    body = {"error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}
    return CloudReply(status, [("content-type", "application/json")], json.dumps(body).encode())


class FakeVertex(CloudServer):
    """A fake Vertex AI endpoint for Anthropic models (``:rawPredict``, ``:streamRawPredict``, count-tokens).

    Its :attr:`base_url` ends in ``/v1`` like the real one. A request needs ``Authorization: Bearer <token>``
    (one of ``tokens`` when given); ``project`` / ``region``, when given, must match the URL.
    """

    _name = "vertex"

    def __init__(
        self,
        fake: FakeClaude,
        *,
        tokens: Collection[str] | None = None,
        project: str | None = None,
        region: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(fake, host=host, port=port)
        self.tokens = frozenset(tokens) if tokens is not None else None
        self.project = project
        self.region = region

    def __enter__(self) -> FakeVertex:
        started: FakeVertex = self.start()
        return started

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (as ``https://{region}-aiplatform.googleapis.com/v1``)."""
        return f"{self.origin}/v1"

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> CloudReply:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token or (self.tokens is not None and token not in self.tokens):
            return _google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )
        match = _VERTEX_ROUTE.fullmatch(unquote(path))
        if match is None or method != "POST":
            return _google_error(404, f"The requested URL {path} was not found on this server.")
        project, region, model, specifier = match.groups()
        if (self.project is not None and project != self.project) or (
            self.region is not None and region != self.region
        ):
            return _google_error(403, f"Permission denied on resource project {project} in {region}.")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _google_error(400, "Invalid JSON payload received.")
        if payload.get("anthropic_version") != VERTEX_VERSION:
            return _google_error(400, f"anthropic_version: must be {VERTEX_VERSION!r}")
        upstream = {k: v for k, v in payload.items() if k != "anthropic_version"}
        if model == "count-tokens":
            if specifier != "rawPredict" or "model" not in upstream:
                return _google_error(400, "count-tokens takes :rawPredict and a model in the body")
            path_up = "/v1/messages/count_tokens"
        else:
            if "model" in upstream:
                return _google_error(400, "model: Extra inputs are not permitted")
            upstream["model"] = model
            if specifier == "streamRawPredict":
                upstream["stream"] = True
            path_up = "/v1/messages"
        beta = headers.get("anthropic-beta")
        response = self._send_upstream(path_up, upstream, beta)
        headers_out = [(k, v) for k, v in response.headers.items() if k.lower() in (*PASSED_HEADERS, "content-type")]
        if "text/event-stream" not in response.headers.get("content-type", ""):
            content = response.read()
            response.close()
            return CloudReply(response.status_code, headers_out, content)
        return CloudReply(response.status_code, headers_out, chunks=self._passthrough(response))

    @staticmethod
    def _passthrough(response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_raw()
        finally:
            response.close()
