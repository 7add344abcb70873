"""Bearer tokens for Vertex AI: a fixed ``access_token``, or google-auth credentials refreshed when expired.

google-auth is imported only when it is needed; its calls block (they may do HTTP), so the async client runs
them in a worker thread. One lock per credentials holder makes a refresh happen once, however many threads
find the token expired at the same moment.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from ..bedrock._platform import PlatformCredentialsError

__all__ = ["CLOUD_PLATFORM_SCOPE", "GoogleAuth", "VertexCredentialsError", "require_google_auth"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
INSTALL_HINT = 'AnthropicVertex needs google-auth for credentials: pip install "claude-web[vertex]"'


class VertexCredentialsError(PlatformCredentialsError):
    """Google credentials could not be found or refreshed; nothing was sent."""


def require_google_auth() -> Any:
    """The ``google.auth`` module, or an ImportError that says which extra to install."""
    try:
        import google.auth
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return google.auth


def _transport_request() -> Any:
    try:
        from google.auth.transport.requests import Request
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return Request()


class GoogleAuth:
    """Where a Vertex client's token comes from; shared by the copies ``with_options`` makes."""

    def __init__(self, *, access_token: str | None, credentials: Any) -> None:
        self.access_token = access_token
        self.credentials = credentials
        self.default_project: str | None = None
        self.default_error: str | None = None
        self._lock = threading.Lock()

    def needs_io(self) -> bool:
        """True when getting a token may block (credentials to load, or an expired token to refresh)."""
        if self.access_token is not None:
            return False
        credentials = self.credentials
        return credentials is None or bool(credentials.expired) or not credentials.token

    def can_find_project(self) -> bool:
        """True when Application Default Credentials are still to be loaded (they may name a project)."""
        return self.access_token is None and self.credentials is None

    def load_default(self) -> None:
        """Load Application Default Credentials (blocking). A failure is remembered in ``default_error`` for the
        error messages, and the next call tries again (the cause may have been transient)."""
        with self._lock:
            if self.credentials is not None:
                return
            google_auth = require_google_auth()
            from google.auth.exceptions import GoogleAuthError

            try:
                credentials, project = google_auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
            except GoogleAuthError as exc:
                self.default_error = str(exc)
                return
            self.credentials = credentials
            self.default_project = project or None
            self.default_error = None

    def token(self, request: httpx.Request) -> str:
        """The bearer token for ``request`` (blocking: may load or refresh credentials)."""
        if self.access_token is not None:
            return self.access_token
        if self.credentials is None:
            self.load_default()
        with self._lock:
            credentials = self.credentials
            if credentials is None:
                raise VertexCredentialsError(
                    "No Google credentials found: pass access_token= or credentials= to the client, or set up "
                    f"Application Default Credentials ({self.default_error})",
                    request=request,
                )
            if credentials.expired or not credentials.token:
                self._refresh(credentials, request)
            token = credentials.token
        if not isinstance(token, str) or not token:
            raise VertexCredentialsError("The Google credentials gave no access token", request=request)
        return token

    @staticmethod
    def _refresh(credentials: Any, request: httpx.Request) -> None:
        transport = _transport_request()
        from google.auth.exceptions import GoogleAuthError

        try:
            credentials.refresh(transport)
        except GoogleAuthError as exc:
            raise VertexCredentialsError(f"Could not refresh the Google credentials: {exc}", request=request) from exc
