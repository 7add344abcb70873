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

import base64
import datetime
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

from .._sse import ServerSentEvent, SSEDecoder
from ..lib.bedrock._eventstream import encode_message
from ._app import RecordedRequest
from ._server import FakeClaude, TrackedConnections

__all__ = ["FakeBedrock", "FakeVertex"]

TEST_ACCESS_KEY = "AKIDEXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
BEDROCK_VERSION = "bedrock-2023-05-31"
VERTEX_VERSION = "vertex-2023-10-16"
_MAX_SKEW = datetime.timedelta(minutes=15)
_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PASSED_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry", "request-id")


@dataclass
class _Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: Iterator[bytes] | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: this is a test server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            reply = self.server.owner._handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the fake: answer 500 rather than hang the client
            reply = _Reply(
                500,
                [("content-type", "application/json")],
                json.dumps({"message": f"fake server error: {type(exc).__name__}: {exc}"}).encode(),
            )
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.chunks is None:
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for chunk in reply.chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
        except Exception:  # the upstream stream broke (e.g. a scripted drop): cut the connection, no end chunk
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _HTTPServer(TrackedConnections, ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: _CloudServer) -> None:
        self.owner = owner
        self.init_tracking()
        super().__init__(address, _Handler)


class _CloudServer:
    """The loopback server and request log both fakes share; subclasses translate requests in ``_route``."""

    _name = "fake"

    def __init__(self, fake: FakeClaude, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self._address = (host, port)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._upstream_client: httpx.Client | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    @property
    def _upstream(self) -> httpx.Client:
        """The in-process client to the FakeClaude app (no socket), opened by ``start()``."""
        client = self._upstream_client
        if client is None:
            client = self._upstream_client = httpx.Client(
                transport=self.fake.transport(), base_url="http://fakeclaude.invalid", timeout=30.0
            )
        return client

    def start(self) -> Any:
        if self._server is None:
            server = _HTTPServer(self._address, self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"{type(self).__name__}:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(5)
        if self._upstream_client is not None:
            self._upstream_client.close()
            self._upstream_client = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use it as a context manager or start() it")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        host = self._address[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- what was received ----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (a copy); ``path`` is the raw request path, still percent-encoded."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        found = self.requests
        if not found:
            raise AssertionError(f"{type(self).__name__} has not received any request yet")
        return found[-1]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        path, _, qs = target.partition("?")
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        with self._lock:
            self._requests.append(RecordedRequest(method, path, query, headers, body, time.time()))
        return self._route(method, target, path, headers, body)

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        raise NotImplementedError

    def _send_upstream(self, path: str, payload: dict[str, Any], beta: str | None) -> httpx.Response:
        headers = {
            "x-api-key": f"{self._name}-upstream",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        }
        if beta:
            headers["anthropic-beta"] = beta
        request = self._upstream.build_request("POST", path, content=json.dumps(payload).encode(), headers=headers)
        return self._upstream.send(request, stream=True)

    def __repr__(self) -> str:
        where = self.origin if self._server is not None else "not running"
        return f"<{type(self).__name__} {where}>"


# -- Bedrock ---------------------------------------------------------------------------------------------------

_AWS_ERROR_NAMES: dict[int, str] = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    413: "ValidationException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
    529: "ServiceUnavailableException",
}
_STREAM_EXCEPTIONS: dict[str, str] = {
    "invalid_request_error": "validationException",
    "rate_limit_error": "throttlingException",
    "overloaded_error": "serviceUnavailableException",
    "api_error": "internalServerException",
    "permission_error": "accessDeniedException",
    "not_found_error": "resourceNotFoundException",
}
_AUTH_FIELDS = re.compile(r"(\w+)=([^,\s]+)")
_BEDROCK_ROUTE = re.compile(r"/model/([^/]+)/(invoke|invoke-with-response-stream)")


def _aws_error(status: int, name: str, message: str, extra: list[tuple[str, str]] | None = None) -> _Reply:
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-requestid", str(uuid.uuid4())),
        ("x-amzn-ErrorType", f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ]
    return _Reply(status, headers + list(extra or []), json.dumps({"message": message}).encode())


class FakeBedrock(_CloudServer):
    """A fake Bedrock runtime endpoint: ``POST /model/{model}/invoke`` and ``/invoke-with-response-stream``.

    ``credentials`` maps each known access key to ``(secret_key, session_token or None)``; the default knows
    ``AKIDEXAMPLE`` (see :attr:`access_key` / :attr:`secret_key`). ``api_keys`` are accepted as bearer tokens.
    A signature that does not verify gets AWS's 403 ``InvalidSignatureException``.
    """

    _name = "bedrock"

    def __init__(
        self,
        fake: FakeClaude,
        *,
        region: str = "us-east-1",
        credentials: Mapping[str, tuple[str, str | None]] | None = None,
        api_keys: Collection[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(fake, host=host, port=port)
        self.region = region
        self.credentials = dict(credentials) if credentials is not None else {TEST_ACCESS_KEY: (TEST_SECRET_KEY, None)}
        self.api_keys = frozenset(api_keys)
        self.signatures_verified = 0
        """How many SigV4 signatures were recomputed and matched."""

    def __enter__(self) -> FakeBedrock:
        started: FakeBedrock = self.start()
        return started

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (as ``https://bedrock-runtime.{region}.amazonaws.com``)."""
        return self.origin

    @property
    def access_key(self) -> str:
        return next(iter(self.credentials))

    @property
    def secret_key(self) -> str:
        return self.credentials[self.access_key][0]

    # -- auth -------------------------------------------------------------------------------------------------

    def _check_auth(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply | None:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            if auth[7:].strip() in self.api_keys:
                return None
            return _aws_error(
                403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix"
            )
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return _aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        fields = dict(_AUTH_FIELDS.findall(auth))
        scope = fields.get("Credential", "").split("/")
        signed = fields.get("SignedHeaders", "").split(";")
        signature = fields.get("Signature", "")
        amz_date = headers.get("x-amz-date", "")
        if len(scope) != 5 or scope[4] != "aws4_request" or not signature or not amz_date:
            return _aws_error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires Credential, "
                "SignedHeaders and Signature, and the request an X-Amz-Date header",
            )
        access_key, date, region, service, _ = scope
        known = self.credentials.get(access_key)
        if known is None:
            return _aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        if service != "bedrock" or region != self.region or not amz_date.startswith(date):
            return _aws_error(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region and service 'bedrock' ({region!r}/{service!r}).",
            )
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return _aws_error(403, "IncompleteSignatureException", f"Bad X-Amz-Date {amz_date!r}")
        if abs(datetime.datetime.now(datetime.timezone.utc) - when) > _MAX_SKEW:
            return _aws_error(403, "InvalidSignatureException", "Signature expired: the request time is too skewed")
        secret_key, session_token = known
        if session_token is not None and (
            headers.get("x-amz-security-token") != session_token or "x-amz-security-token" not in signed
        ):
            return _aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        if "host" not in signed or any(name not in headers for name in signed):
            return _aws_error(403, "InvalidSignatureException", "Signed headers are missing from the request")
        expected = self._signature(
            method,
            target,
            {name: headers[name] for name in signed},
            body,
            amz_date,
            access_key,
            secret_key,
            session_token,
        )
        if not hmac.compare_digest(expected, signature):
            return _aws_error(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.",
            )
        with self._lock:
            self.signatures_verified += 1
        return None

    def _signature(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        amz_date: str,
        access_key: str,
        secret_key: str,
        session_token: str | None,
    ) -> str:
        """Recompute the SigV4 signature with botocore from what was received."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=f"http://{headers['host']}{target}", headers=headers, data=body)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(access_key, secret_key, session_token), "bedrock", self.region)
        canonical = signer.canonical_request(request)
        result: str = signer.signature(signer.string_to_sign(request, canonical), request)
        return result

    # -- routing ----------------------------------------------------------------------------------------------

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        denied = self._check_auth(method, target, headers, body)
        if denied is not None:
            return denied
        match = _BEDROCK_ROUTE.fullmatch(path)
        if match is None or method != "POST":
            return _aws_error(404, "UnknownOperationException", f"No operation for {method} {path}")
        model, streaming = unquote(match[1]), match[2] != "invoke"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _aws_error(400, "ValidationException", "Malformed input request, please reformat your input")
        if payload.get("anthropic_version") != BEDROCK_VERSION:
            return _aws_error(
                400,
                "ValidationException",
                f"anthropic_version: must be {BEDROCK_VERSION!r}, got {payload.get('anthropic_version')!r}",
            )
        for key in ("model", "stream"):
            if key in payload:
                return _aws_error(400, "ValidationException", f"extraneous key [{key}] is not permitted")
        betas = payload.get("anthropic_beta")
        upstream = {k: v for k, v in payload.items() if k not in ("anthropic_version", "anthropic_beta")}
        upstream["model"] = model
        if streaming:
            upstream["stream"] = True
        beta = ",".join(betas) if isinstance(betas, list) else None
        response = self._send_upstream("/v1/messages", upstream, beta)
        request_id = str(uuid.uuid4())
        if response.status_code >= 400:
            return self._error_reply(response)
        if not streaming:
            content = response.read()
            response.close()
            return _Reply(200, [("content-type", "application/json"), ("x-amzn-requestid", request_id)], content)
        headers_out = [
            ("content-type", "application/vnd.amazon.eventstream"),
            ("x-amzn-requestid", request_id),
            ("x-amzn-bedrock-content-type", "application/json"),
        ]
        return _Reply(200, headers_out, chunks=self._frames(response))

    @staticmethod
    def _error_reply(response: httpx.Response) -> _Reply:
        response.read()
        response.close()
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = response.text
        status = response.status_code
        name = _AWS_ERROR_NAMES.get(status, "InternalServerException" if status >= 500 else "ValidationException")
        passed = [(k, v) for k, v in response.headers.items() if k.lower() in _PASSED_HEADERS[:3]]
        return _aws_error(503 if status == 529 else status, name, message, passed)

    def _frames(self, response: httpx.Response) -> Iterator[bytes]:
        decoder = SSEDecoder()
        try:
            for chunk in response.iter_bytes():
                for sse in decoder.feed(chunk):
                    yield self._frame(sse)
                    if sse.event == "error":
                        return
        finally:
            response.close()

    @staticmethod
    def _frame(sse: ServerSentEvent) -> bytes:
        if sse.event == "error":
            try:
                error = json.loads(sse.data)["error"]
                kind, message = str(error.get("type")), str(error.get("message"))
            except (ValueError, KeyError, TypeError, AttributeError):
                kind, message = "api_error", sse.data
            name = _STREAM_EXCEPTIONS.get(kind, "modelStreamErrorException")
            return encode_message(
                {":exception-type": name, ":content-type": "application/json", ":message-type": "exception"},
                json.dumps({"message": message}).encode(),
            )
        data = sse.data
        if sse.event == "message_stop":
            try:
                stop = json.loads(data)
                stop["amazon-bedrock-invocationMetrics"] = {
                    "inputTokenCount": 0,
                    "outputTokenCount": 0,
                    "invocationLatency": 1,
                    "firstByteLatency": 1,
                }
                data = json.dumps(stop)
            except ValueError:
                pass
        raw = data.encode()
        payload = {"bytes": base64.b64encode(raw).decode("ascii"), "p": _PADDING[: 1 + len(raw) % len(_PADDING)]}
        return encode_message(
            {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
            json.dumps(payload).encode(),
        )


# -- Vertex ----------------------------------------------------------------------------------------------------

_VERTEX_ROUTE = re.compile(
    r"/v1/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)"
)
_GOOGLE_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
}


def _google_error(status: int, message: str) -> _Reply:
    body = {"error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}
    return _Reply(status, [("content-type", "application/json")], json.dumps(body).encode())


class FakeVertex(_CloudServer):
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

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
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
        headers_out = [(k, v) for k, v in response.headers.items() if k.lower() in (*_PASSED_HEADERS, "content-type")]
        if "text/event-stream" not in response.headers.get("content-type", ""):
            content = response.read()
            response.close()
            return _Reply(response.status_code, headers_out, content)
        return _Reply(response.status_code, headers_out, chunks=self._passthrough(response))

    @staticmethod
    def _passthrough(response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_raw()
        finally:
            response.close()
