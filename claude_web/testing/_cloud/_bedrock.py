"""FakeBedrock: the Bedrock runtime's ``invoke`` routes with SigV4 checking, AWS errors and eventstream framing."""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import re
import uuid
from collections.abc import Collection, Iterator, Mapping
from urllib.parse import unquote

import httpx

from ..._sse import ServerSentEvent, SSEDecoder
from ...lib.bedrock import encode_message
from .._fake import FakeClaude
from ._server import PASSED_HEADERS, CloudReply, CloudServer

__all__ = ["BEDROCK_VERSION", "TEST_ACCESS_KEY", "TEST_SECRET_KEY", "FakeBedrock"]

TEST_ACCESS_KEY = "AKIDEXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
BEDROCK_VERSION = "bedrock-2023-05-31"
_MAX_SKEW = datetime.timedelta(minutes=15)
_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


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


def _aws_error(status: int, name: str, message: str, extra: list[tuple[str, str]] | None = None) -> CloudReply:
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-requestid", str(uuid.uuid4())),
        ("x-amzn-ErrorType", f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ]
    return CloudReply(status, headers + list(extra or []), json.dumps({"message": message}).encode())


class FakeBedrock(CloudServer):
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

    def _check_auth(self, method: str, target: str, headers: dict[str, str], body: bytes) -> CloudReply | None:
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

    def _route(self, method: str, target: str, path: str, headers: dict[str, str], body: bytes) -> CloudReply:
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
            return CloudReply(200, [("content-type", "application/json"), ("x-amzn-requestid", request_id)], content)
        headers_out = [
            ("content-type", "application/vnd.amazon.eventstream"),
            ("x-amzn-requestid", request_id),
            ("x-amzn-bedrock-content-type", "application/json"),
        ]
        return CloudReply(200, headers_out, chunks=self._frames(response))

    @staticmethod
    def _error_reply(response: httpx.Response) -> CloudReply:
        response.read()
        response.close()
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = response.text
        status = response.status_code
        name = _AWS_ERROR_NAMES.get(status, "InternalServerException" if status >= 500 else "ValidationException")
        passed = [(k, v) for k, v in response.headers.items() if k.lower() in PASSED_HEADERS[:3]]
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
