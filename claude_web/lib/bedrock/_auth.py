"""AWS credentials the way boto3 finds them, and SigV4 signing with botocore (imported only when needed)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import httpx

from ._platform import PlatformCredentialsError

__all__ = ["AwsAuth", "BedrockCredentialsError", "infer_region", "require_boto3"]

log = logging.getLogger("claude_web.bedrock")

DEFAULT_REGION = "us-east-1"
SERVICE = "bedrock"
_SIGNING_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})
INSTALL_HINT = 'AnthropicBedrock needs boto3 to sign requests: pip install "claude-web[bedrock]"'


class BedrockCredentialsError(PlatformCredentialsError):
    """No usable AWS credentials (none found, an unknown profile, a failed refresh...); nothing was sent."""


def require_boto3() -> Any:
    """The ``boto3`` module, or an ImportError that says which extra to install."""
    try:
        import boto3
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return boto3


def infer_region() -> str:
    """``AWS_REGION``, else the region of boto3's default session (config files, ``AWS_DEFAULT_REGION``), else
    us-east-1 with a warning (as anthropic does)."""
    region = os.environ.get("AWS_REGION")
    if not region:
        try:
            import boto3

            region = boto3.Session().region_name
        except ImportError:
            region = None
        except Exception as exc:  # e.g. AWS_PROFILE names a profile that does not exist
            log.debug("Could not read the region from the default boto3 session: %s", exc)
            region = None
    if not region:
        log.warning("No AWS region specified, defaulting to %s", DEFAULT_REGION)
        region = DEFAULT_REGION
    return region


class AwsAuth:
    """One boto3 Session built from the client's arguments (so profiles, env vars, SSO and role chains work as
    boto3 makes them), created on first use and shared by the copies ``with_options`` makes."""

    def __init__(
        self,
        *,
        access_key: str | None,
        secret_key: str | None,
        session_token: str | None,
        profile: str | None,
        region: str,
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.profile = profile
        self.region = region
        self._lock = threading.Lock()
        self._session: Any = None

    def same_as(self, **kwargs: Any) -> bool:
        return all(getattr(self, name) == value for name, value in kwargs.items())

    def _get_session(self, request: httpx.Request) -> Any:
        with self._lock:
            if self._session is not None:
                return self._session
            boto3 = require_boto3()
            from botocore.exceptions import BotoCoreError

            try:
                self._session = boto3.Session(
                    profile_name=self.profile,
                    region_name=self.region,
                    aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key,
                    aws_session_token=self.session_token,
                )
            except BotoCoreError as exc:
                raise BedrockCredentialsError(f"Could not set up AWS credentials: {exc}", request=request) from exc
            return self._session

    def _frozen_credentials(self, request: httpx.Request) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        session = self._get_session(request)
        try:
            credentials = session.get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        except (BotoCoreError, ClientError) as exc:
            raise BedrockCredentialsError(f"Could not load AWS credentials: {exc}", request=request) from exc
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise BedrockCredentialsError(
                "No AWS credentials found: pass aws_access_key= and aws_secret_key= (and aws_session_token=), "
                "aws_profile=, or api_key=; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                "or AWS_BEARER_TOKEN_BEDROCK.",
                request=request,
            )
        return frozen

    def sign(self, request: httpx.Request) -> None:
        """Add ``Authorization``, ``X-Amz-Date`` (and ``X-Amz-Security-Token``) to ``request``, signing its method,
        URL, body and every header but ``connection`` (a proxy may drop it)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        frozen = self._frozen_credentials(request)
        headers = {name: value for name, value in request.headers.items() if name.lower() != "connection"}
        aws_request = AWSRequest(
            method=request.method.upper(), url=str(request.url), headers=headers, data=request.read()
        )
        credentials = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
        SigV4Auth(credentials, SERVICE, self.region).add_auth(aws_request)
        before = {name.lower() for name in headers}
        for name, value in aws_request.headers.items():
            if name.lower() not in before or name.lower() in _SIGNING_HEADERS:
                request.headers[name] = value
